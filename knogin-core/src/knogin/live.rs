//! What every instance must agree on, reloaded from the store on an interval: the key ring and
//! the revoked tokens. Reads on the request path are lock-free; the reload is lazy (the first
//! request after the interval makes it, once, while the others keep using what is loaded), so an
//! embedder runs no background task.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use arc_swap::ArcSwap;

use super::Knogin;
use crate::clock::Timestamp;
use crate::id::KeyId;
use crate::keys::{KeyRing, KeyRingError, NewKey, Schedule, SigningAlgorithm};

/// The reloadable state.
pub(crate) struct Live {
    ring: ArcSwap<KeyRing>,
    revoked: ArcSwap<HashSet<String>>,
    /// Unix second from which the next request reloads.
    next_refresh: AtomicI64,
    /// Whether a reload is under way (the others do not wait for it).
    refreshing: AtomicBool,
}

impl Live {
    pub(crate) fn new(ring: KeyRing, revoked: HashSet<String>, next_refresh: Timestamp) -> Self {
        Self {
            ring: ArcSwap::from_pointee(ring),
            revoked: ArcSwap::from_pointee(revoked),
            next_refresh: AtomicI64::new(next_refresh.unix()),
            refreshing: AtomicBool::new(false),
        }
    }

    pub(crate) fn ring(&self) -> Arc<KeyRing> {
        self.ring.load_full()
    }

    pub(crate) fn is_revoked(&self, jti: &str) -> bool {
        self.revoked.load().contains(jti)
    }

    pub(crate) fn add_revoked(&self, jti: &str) {
        self.revoked.rcu(|set| {
            let mut set = HashSet::clone(set);
            set.insert(jti.to_owned());
            set
        });
    }
}

/// Clears the `refreshing` flag however the reload ends (also if its request is dropped).
struct Refreshing<'a>(&'a AtomicBool);

impl Drop for Refreshing<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Knogin {
    /// Reloads the signing keys and the revoked tokens from the store now. The handle does this
    /// by itself every key-refresh interval; call it after changing keys from another process if
    /// you cannot wait.
    pub async fn refresh(&self) -> Result<(), KeyRingError> {
        let inner = &self.0;
        let now = inner.clock.now();
        inner
            .live
            .next_refresh
            .store(now.plus(inner.keys.refresh).unix(), Ordering::Release);
        let stored = inner.store.signing_keys().await?;
        let revoked = inner.store.revoked_tokens(now).await?;
        let ring = KeyRing::open(&stored, &inner.master_key, now)?;
        inner.live.ring.store(Arc::new(ring));
        inner
            .live
            .revoked
            .store(Arc::new(revoked.into_iter().collect()));
        Ok(())
    }

    /// The key ring, reloaded first if the refresh interval has passed (by one request at a
    /// time; a failed reload keeps the loaded ring and is logged).
    pub(crate) async fn live_keys(&self) -> Arc<KeyRing> {
        let live = &self.0.live;
        let due = self.0.clock.now().unix() >= live.next_refresh.load(Ordering::Acquire);
        if due && !live.refreshing.swap(true, Ordering::AcqRel) {
            let _refreshing = Refreshing(&live.refreshing);
            if let Err(e) = self.refresh().await {
                tracing::warn!(error = %e, "cannot reload signing keys and revocations; keeping the loaded ones");
            }
        }
        live.ring()
    }

    /// Adds a new signing key of the handle's algorithm (see
    /// [`Builder::signing_algorithm`](crate::Builder::signing_algorithm)). It is published at
    /// once and signs from the activation lead (the JWKS `max-age` plus the key-refresh interval,
    /// or more) on, so every verifier has seen it first; the keys it replaces retire then and
    /// leave the JWKS once every token they signed has expired. Every instance on the store
    /// follows within its refresh interval. Returns the new key's `kid`.
    pub async fn rotate_signing_key(&self) -> Result<KeyId, KeyRingError> {
        self.rotate_signing_key_to(self.0.keys.algorithm).await
    }

    /// Like [`Knogin::rotate_signing_key`], with a key of `algorithm`: the way to move the issuer
    /// from one algorithm to another without a token being refused.
    pub async fn rotate_signing_key_to(
        &self,
        algorithm: SigningAlgorithm,
    ) -> Result<KeyId, KeyRingError> {
        self.rotate_signing_key_with(NewKey::Generate(algorithm))
            .await
    }

    pub(crate) async fn rotate_signing_key_with(
        &self,
        new_key: NewKey<'_>,
    ) -> Result<KeyId, KeyRingError> {
        let inner = &self.0;
        let schedule = Schedule {
            lead: inner.keys.lead,
            token_lifetime: inner.keys.token_lifetime,
        };
        let kid = KeyRing::rotate(
            &*inner.store,
            &inner.master_key,
            inner.clock.now(),
            schedule,
            new_key,
        )
        .await?;
        self.refresh().await?;
        Ok(kid)
    }
}
