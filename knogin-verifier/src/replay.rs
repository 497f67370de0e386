//! Remembering which DPoP proofs were used, so each is taken once (RFC 9449 §11.1).

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use aws_lc_rs::digest::{SHA256, digest};
use knogin_time::Timestamp;

/// Records the DPoP proofs a resource server took. The default, [`MemoryProofReplay`], is one
/// process's memory: with several instances behind a load balancer, implement it on a store they
/// share (an atomic insert-if-absent with an expiry) so a proof replayed to another instance is
/// refused too.
#[async_trait]
pub trait ProofReplay: Send + Sync {
    /// Records, at `now`, the proof `jti` made by the key `jkt`, to be remembered until `until`
    /// (after which the proof is too old to be taken anyway): `Ok(false)` if it was recorded
    /// already.
    async fn first_use(
        &self,
        jkt: &str,
        jti: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool, Box<dyn std::error::Error + Send + Sync>>;
}

/// The default number of proofs a [`MemoryProofReplay`] remembers.
pub const DEFAULT_PROOF_REPLAY_CAPACITY: usize = 100_000;

/// Used proofs in this process's memory, at most `capacity` at a time: when full, expired
/// entries are dropped, and if none has expired the proof is refused (a flood cannot make it
/// forget a proof that could still be replayed).
#[derive(Debug)]
pub struct MemoryProofReplay {
    seen: Mutex<HashMap<[u8; 32], Timestamp>>,
    capacity: usize,
}

impl Default for MemoryProofReplay {
    fn default() -> Self {
        Self::new(DEFAULT_PROOF_REPLAY_CAPACITY)
    }
}

impl MemoryProofReplay {
    /// Remembers at most `capacity` proofs.
    pub fn new(capacity: usize) -> Self {
        Self {
            seen: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// Records a proof, dropping expired ones when full: `None` when full of live proofs.
    fn record(&self, key: [u8; 32], until: Timestamp, now: Timestamp) -> Option<bool> {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(expiry) = seen.get(&key)
            && *expiry > now
        {
            return Some(false);
        }
        if seen.len() >= self.capacity {
            seen.retain(|_, expiry| *expiry > now);
            if seen.len() >= self.capacity {
                return None;
            }
        }
        seen.insert(key, until);
        Some(true)
    }
}

/// The proof replay store is full of proofs that could still be replayed.
#[derive(Debug, thiserror::Error)]
#[error("too many DPoP proofs in flight to remember another")]
struct Full;

#[async_trait]
impl ProofReplay for MemoryProofReplay {
    async fn first_use(
        &self,
        jkt: &str,
        jti: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
        let mut key = [0u8; 32];
        key.copy_from_slice(digest(&SHA256, format!("{jkt}\0{jti}").as_bytes()).as_ref());
        self.record(key, until, now).ok_or_else(|| Full.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_is_taken_once_until_it_expires_and_a_full_store_refuses() {
        let replay = MemoryProofReplay::new(2);
        let t = |s| Timestamp::from_unix(s);
        assert_eq!(replay.record([1; 32], t(100), t(0)), Some(true));
        assert_eq!(replay.record([1; 32], t(100), t(50)), Some(false));
        assert_eq!(replay.record([2; 32], t(100), t(50)), Some(true));
        assert_eq!(
            replay.record([3; 32], t(100), t(50)),
            None,
            "full of live proofs"
        );
        assert_eq!(
            replay.record([3; 32], t(300), t(150)),
            Some(true),
            "expired ones go"
        );
        assert_eq!(replay.record([1; 32], t(300), t(150)), Some(true));
    }
}
