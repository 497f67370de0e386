//! What every instance must agree on, reloaded from the store on an interval: the key ring, the
//! revoked tokens and the cut-offs. Reads on the request path are lock-free; the reload is lazy (the first
//! request after the interval makes it, once, while the others keep using what is loaded), so an
//! embedder runs no background task.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;

use super::Core;
use crate::audit::{Actor, AuditKind};
use crate::clock::Timestamp;
use crate::id::KeyId;
use crate::keys::{KeyRing, KeyRingError, NewKey, Schedule, SigningAlgorithm};
use crate::token::AccessClaims;

/// The reloadable state.
pub(crate) struct Live {
    ring: ArcSwap<KeyRing>,
    revoked: ArcSwap<HashSet<String>>,
    /// Not-before times of apps and tenants.
    cutoffs: ArcSwap<Cutoffs>,
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
            cutoffs: ArcSwap::from_pointee(Cutoffs::default()),
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

    /// Whether a token with `claims` was issued at or before a cut-off of its app or tenant.
    /// No allocation: it runs on every bearer check.
    pub(crate) fn is_cut_off(&self, claims: &AccessClaims) -> bool {
        let cutoffs = self.cutoffs.load();
        let cut =
            |map: &HashMap<String, i64>, id: &str| map.get(id).is_some_and(|at| claims.iat <= *at);
        cut(&cutoffs.apps, &claims.client_id) || cut(&cutoffs.tenants, &claims.tenant)
    }

    pub(crate) fn add_cutoff(&self, key: &str, at: Timestamp) {
        self.cutoffs.rcu(|cutoffs| {
            let mut cutoffs = Cutoffs::clone(cutoffs);
            cutoffs.raise(key, at.unix());
            cutoffs
        });
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

/// The signing keys, for one handle ([`Knogin::keys`](crate::Knogin::keys)): what is published, rotation,
/// withdrawal, and reloading what other instances changed. The private keys never leave the
/// core.
#[derive(Debug, Clone, Copy)]
pub struct Keys<'a> {
    pub(crate) knogin: &'a Core,
}

impl Core {
    /// The key ring, reloaded first if the refresh interval has passed (by one request at a
    /// time; a failed reload keeps the loaded ring and is logged).
    pub(crate) async fn live_keys(&self) -> Arc<KeyRing> {
        let live = &self.0.live;
        let due = self.0.clock.now().unix() >= live.next_refresh.load(Ordering::Acquire);
        if due && !live.refreshing.swap(true, Ordering::AcqRel) {
            let _refreshing = Refreshing(&live.refreshing);
            if let Err(e) = self.keys().reload().await {
                tracing::warn!(error = %e, "cannot reload signing keys and revocations; keeping the loaded ones");
            }
        }
        live.ring()
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
        self.keys().reload().await?;
        Ok(kid)
    }
}

/// The key of a cut-off for `kind` (`app` or `tenant`) `id`, as the store keeps it.
pub(crate) fn cutoff_key(kind: &str, id: &str) -> String {
    format!("{kind}:{id}")
}

/// Not-before times in unix seconds: of apps by client id, and of tenants by id.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cutoffs {
    apps: HashMap<String, i64>,
    tenants: HashMap<String, i64>,
}

impl Cutoffs {
    /// The map and id a stored key (see [`cutoff_key`]) names; `None` for another kind.
    fn place(&mut self, key: &str) -> Option<(&mut HashMap<String, i64>, String)> {
        match key.split_once(':')? {
            ("app", id) => Some((&mut self.apps, id.to_owned())),
            ("tenant", id) => Some((&mut self.tenants, id.to_owned())),
            _ => None,
        }
    }

    /// Moves the cut-off of `key` to `at`, if that is later.
    fn raise(&mut self, key: &str, at: i64) {
        if let Some((map, id)) = self.place(key) {
            let entry = map.entry(id).or_insert(at);
            *entry = (*entry).max(at);
        }
    }

    /// The cut-off of `key`, if there is one.
    fn at(&self, key: &str) -> Option<i64> {
        match key.split_once(':')? {
            ("app", id) => self.apps.get(id).copied(),
            ("tenant", id) => self.tenants.get(id).copied(),
            _ => None,
        }
    }

    /// Every cut-off with its stored key.
    fn entries(&self) -> impl Iterator<Item = (String, i64)> + '_ {
        let apps = self
            .apps
            .iter()
            .map(|(id, at)| (cutoff_key("app", id), *at));
        let tenants = self
            .tenants
            .iter()
            .map(|(id, at)| (cutoff_key("tenant", id), *at));
        apps.chain(tenants)
    }
}

/// The revoked set after a reload that read `loaded` from the store: that, and every `jti` this
/// instance revoked while the reload ran (in `current` but not in `before`, what was known when
/// it started), which the store's read may have missed.
fn with_local_revocations(
    loaded: &HashSet<String>,
    before: &HashSet<String>,
    current: &HashSet<String>,
) -> HashSet<String> {
    let mut merged = loaded.clone();
    merged.extend(current.difference(before).cloned());
    merged
}

impl Keys<'_> {
    /// The RFC 7517 JWK set of every published key, as served at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> bytes::Bytes {
        self.knogin.0.live.ring().jwks().clone()
    }

    /// The `kid` and algorithm of the key signing now.
    pub fn signing_key(&self) -> (KeyId, crate::keys::SigningAlgorithm) {
        let ring = self.knogin.0.live.ring();
        let (kid, algorithm) = ring.signing_key(self.knogin.0.clock.now());
        (kid.clone(), algorithm)
    }

    /// Every key's `kid`: published, pending and retired.
    pub fn kids(&self) -> Vec<KeyId> {
        self.knogin.0.live.ring().kids().cloned().collect()
    }

    /// Reloads the signing keys and the revoked tokens from the store now. The handle does this
    /// by itself every key-refresh interval; call it after changing keys from another process if
    /// you cannot wait.
    pub async fn reload(&self) -> Result<(), KeyRingError> {
        let reloaded = self.reload_from_store().await;
        self.record_loaded(reloaded.is_ok());
        reloaded
    }

    /// Records a load of the keys in the metrics.
    pub(crate) fn record_loaded(self, ok: bool) {
        crate::metrics::keys_reloaded(ok, self.signing_key_age());
    }

    /// How long the key signing now has been signing.
    fn signing_key_age(self) -> std::time::Duration {
        let inner = &self.knogin.0;
        let now = inner.clock.now();
        crate::clock::between(inner.live.ring().signing_since(now), now)
    }

    async fn reload_from_store(&self) -> Result<(), KeyRingError> {
        let inner = &self.knogin.0;
        let now = inner.clock.now();
        inner
            .live
            .next_refresh
            .store(now.plus(inner.keys.refresh).unix(), Ordering::Release);
        // What was known before the reads: a revocation or cut-off made here while they run
        // is not in what they return, and must not be lost.
        let (revoked_before, cutoffs_before) = (
            inner.live.revoked.load_full(),
            inner.live.cutoffs.load_full(),
        );
        let stored = inner.store.signing_keys().await?;
        let revoked: HashSet<String> = inner.store.revoked_tokens(now).await?.into_iter().collect();
        let cutoffs = inner.store.token_cutoffs().await?;
        let ring = KeyRing::open(&stored, &inner.master_key, now)?;
        inner.live.ring.store(Arc::new(ring));
        inner
            .live
            .revoked
            .rcu(|current| with_local_revocations(&revoked, &revoked_before, current));
        inner.live.cutoffs.rcu(|current| {
            let mut merged = Cutoffs::default();
            for (key, at) in &cutoffs {
                merged.raise(key, at.unix());
            }
            for (key, at) in current.entries() {
                if cutoffs_before.at(&key) != Some(at) {
                    merged.raise(&key, at);
                }
            }
            merged
        });
        Ok(())
    }

    /// Adds a new signing key of the handle's algorithm (see
    /// [`SigningKeySettings::algorithm`](crate::keys::SigningKeySettings::algorithm)). It is published at
    /// once and signs from the activation lead (the JWKS `max-age` plus the key-refresh interval,
    /// or more) on, so every verifier has seen it first; the keys it replaces retire then and
    /// leave the JWKS once every token they signed has expired. Every instance on the store
    /// follows within its refresh interval. Returns the new key's `kid`.
    pub async fn rotate(&self) -> Result<KeyId, KeyRingError> {
        self.rotate_to(self.knogin.0.keys.algorithm).await
    }

    /// Like [`Keys::rotate`](crate::Keys::rotate), with a key of `algorithm`: the way to move the issuer
    /// from one algorithm to another without a token being refused.
    pub async fn rotate_to(&self, algorithm: SigningAlgorithm) -> Result<KeyId, KeyRingError> {
        let kid = self
            .knogin
            .rotate_signing_key_with(NewKey::Generate(algorithm))
            .await?;
        self.knogin
            .audit(AuditKind::KeyRotated, Actor::Operator)
            .detail("kid", kid.as_str())
            .detail("alg", algorithm.as_str())
            .record();
        Ok(kid)
    }

    /// Withdraws signing key `kid` at once, after a leak: it leaves the JWKS, and no token it
    /// signed verifies here any more; every other instance on the store follows within its
    /// key-refresh interval. If it was signing, a new key of the handle's algorithm replaces it
    /// and signs immediately (verifiers that cached the JWKS fetch it on the unknown `kid`).
    /// Returns the `kid` that signs from now on, or `None` for an unknown or already withdrawn
    /// `kid` (nothing changes then).
    pub async fn withdraw(&self, kid: &KeyId) -> Result<Option<KeyId>, KeyRingError> {
        let inner = &self.knogin.0;
        let now = inner.clock.now();
        let known = inner
            .store
            .signing_keys()
            .await?
            .into_iter()
            .any(|k| k.kid == *kid && k.removed_at.is_none_or(|t| t > now));
        if !known {
            return Ok(None);
        }
        let ring = self.knogin.live_keys().await;
        let signing = ring.signer(now).kid() == kid;
        let replacement = if signing {
            let immediate = Schedule {
                lead: Duration::ZERO,
                token_lifetime: inner.keys.token_lifetime,
            };
            let new_key = NewKey::Generate(inner.keys.algorithm);
            Some(KeyRing::rotate(&*inner.store, &inner.master_key, now, immediate, new_key).await?)
        } else {
            None
        };
        inner.store.withdraw_signing_key(kid, now).await?;
        tracing::warn!(%kid, replacement = ?replacement, "withdrew a signing key");
        let mut audit = self
            .knogin
            .audit(AuditKind::KeyWithdrawn, Actor::Operator)
            .detail("kid", kid.as_str());
        if let Some(replacement) = &replacement {
            audit = audit.detail("replacement", replacement.as_str());
        }
        audit.record();
        self.reload().await?;
        Ok(replacement.or_else(|| Some(ring.signer(now).kid().clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> HashSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_reload_keeps_a_revocation_made_while_it_ran() {
        // Known before: a and b. The store's read saw b and c (a expired). Meanwhile this
        // instance revoked d, which the read missed.
        let merged =
            with_local_revocations(&set(&["b", "c"]), &set(&["a", "b"]), &set(&["a", "b", "d"]));
        assert_eq!(merged, set(&["b", "c", "d"]));
    }
}
