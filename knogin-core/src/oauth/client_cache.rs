//! Authenticated clients held in memory for a short time, so a busy client's token requests do
//! not each read the store. Only a lookup whose secret matched is held; a secret that does not
//! match a held one is looked up again, so a new secret works at once everywhere. A rotation or
//! governance change through this handle drops the client here at once; other instances on the
//! same store see it when their entry ends, within the configured time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use super::client_auth::any_matches;
use crate::apps::App;
use crate::clock::Timestamp;
use crate::secret::SecretHash;
use crate::store::ClientLookup;

/// How long, by default, an instance holds a client it authenticated: what another instance
/// changed (a revoked secret, new governance) takes effect here within this time.
pub const DEFAULT_CLIENT_CACHE: Duration = Duration::from_secs(1);

/// At most this many clients are held; past it, ended entries are dropped first, and a new
/// client is not held while every held one is current.
const MAX_HELD: usize = 10_000;

/// One held client.
struct Held {
    app: App,
    secrets: Vec<SecretHash>,
    until: Timestamp,
}

/// The clients an instance authenticated recently.
pub(crate) struct ClientCache {
    ttl: Duration,
    held: RwLock<HashMap<String, Held>>,
    /// Counts the clients dropped, so a lookup read before a drop is not held after it.
    generation: AtomicU64,
}

/// What a lookup saw of the cache before reading the store: hold it only if nothing was
/// dropped since.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket(u64);

impl ClientCache {
    /// A cache holding each client for `ttl` (nothing when it is zero).
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            held: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
        }
    }

    /// The held app `id`, if `hash` is one of its secrets and the entry is current at `now`.
    /// Every held secret is compared, each in constant time.
    pub(crate) fn authenticate(&self, id: &str, hash: &SecretHash, now: Timestamp) -> Option<App> {
        if self.ttl.is_zero() {
            return None;
        }
        let held = self.held.read().unwrap_or_else(PoisonError::into_inner);
        let entry = held.get(id).filter(|e| now < e.until)?;
        any_matches(&entry.secrets, hash).then(|| entry.app.clone())
    }

    /// Taken before reading the store, for [`ClientCache::hold`].
    pub(crate) fn ticket(&self) -> Ticket {
        Ticket(self.generation.load(Ordering::Acquire))
    }

    /// Holds `lookup`, read at `now` after `ticket` was taken, unless a client was dropped
    /// since. It ends after the cache's time or when its first secret expires.
    pub(crate) fn hold(&self, ticket: Ticket, lookup: &ClientLookup, now: Timestamp) {
        let Some(app) = lookup.app.as_ref().filter(|_| !self.ttl.is_zero()) else {
            return;
        };
        let until = match lookup.valid_until {
            Some(expiry) => expiry.min(now.plus(self.ttl)),
            None => now.plus(self.ttl),
        };
        let mut held = self.held.write().unwrap_or_else(PoisonError::into_inner);
        if self.generation.load(Ordering::Acquire) != ticket.0 {
            return;
        }
        if held.len() >= MAX_HELD && !held.contains_key(app.client_id.as_str()) {
            held.retain(|_, e| now < e.until);
            if held.len() >= MAX_HELD {
                return;
            }
        }
        held.insert(
            app.client_id.as_str().to_owned(),
            Held {
                app: app.clone(),
                secrets: lookup.secrets.clone(),
                until,
            },
        );
    }

    /// Drops client `id`: its secrets or governance changed.
    pub(crate) fn forget(&self, id: &str) {
        let mut held = self.held.write().unwrap_or_else(PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::AcqRel);
        held.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::TenantId;
    use crate::apps::{GovernancePatch, PreviousSecrets};
    use crate::clock::ManualClock;
    use crate::keys::MasterKey;
    use crate::secret::ClientSecret;
    use crate::shared::Core;
    use crate::store::memory::MemoryStore;
    use crate::testing::{app_with_scopes, builder, registration};

    const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

    /// Two instances on one store and clock, holding clients for `ttl`, and an app registered
    /// through the first with its secret.
    struct Instances {
        clock: Arc<ManualClock>,
        here: Core,
        there: Core,
        id: String,
        secret: ClientSecret,
    }

    async fn instances(ttl: Duration) -> Instances {
        let clock = Arc::new(ManualClock::new(T0));
        let store = Arc::new(MemoryStore::new());
        let master = MasterKey::generate().to_base64();
        let instance = || async {
            let master = MasterKey::from_base64(&master).unwrap();
            builder(store.clone(), master, clock.clone())
                .client_cache(ttl)
                .secret_rotation_grace(Duration::from_secs(30))
                .build()
                .await
                .unwrap()
                .core()
                .clone()
        };
        let here = instance().await;
        let there = instance().await;
        let (app, secret) = here
            .apps()
            .register(&tenant(), registration())
            .await
            .unwrap();
        Instances {
            clock,
            here,
            there,
            id: app.client_id.to_string(),
            secret: secret.unwrap(),
        }
    }

    fn tenant() -> TenantId {
        TenantId::parse("t1").unwrap()
    }

    impl Instances {
        async fn passes(&self, secret: &ClientSecret) -> bool {
            self.here
                .apps()
                .authenticate(&self.id, secret.expose(), None)
                .await
                .is_ok()
        }

        async fn rotate(&self, on: &Core, previous: PreviousSecrets) -> ClientSecret {
            let id = crate::id::AppId::parse(&self.id).unwrap();
            on.apps()
                .rotate_secret(&tenant(), &id, previous)
                .await
                .unwrap()
        }
    }

    #[tokio::test]
    async fn a_secret_revoked_elsewhere_stops_working_here_within_the_cache_time() {
        let f = instances(Duration::from_secs(5)).await;
        assert!(f.passes(&f.secret).await);
        f.rotate(&f.there, PreviousSecrets::RevokeNow).await;
        // The old secret is held here until the entry ends.
        f.clock.advance(Duration::from_secs(4));
        assert!(f.passes(&f.secret).await);
        f.clock.advance(Duration::from_secs(1));
        assert!(!f.passes(&f.secret).await);
    }

    #[tokio::test]
    async fn a_secret_new_elsewhere_works_here_at_once_and_refreshes_what_is_held() {
        let f = instances(Duration::from_secs(5)).await;
        assert!(f.passes(&f.secret).await);
        let new = f.rotate(&f.there, PreviousSecrets::RevokeNow).await;
        assert!(f.passes(&new).await);
        assert!(
            !f.passes(&f.secret).await,
            "the new read replaced the held one"
        );
    }

    #[tokio::test]
    async fn a_rotation_or_governance_change_here_takes_effect_here_at_once() {
        let f = instances(Duration::from_secs(5)).await;
        assert!(f.passes(&f.secret).await);
        let new = f.rotate(&f.here, PreviousSecrets::RevokeNow).await;
        assert!(!f.passes(&f.secret).await);
        assert!(f.passes(&new).await);

        let id = crate::id::AppId::parse(&f.id).unwrap();
        let patch = GovernancePatch {
            allow_service_tokens: Some(true),
            ..GovernancePatch::default()
        };
        f.here
            .apps()
            .update_governance(&tenant(), &id, patch)
            .await
            .unwrap();
        let app = f
            .here
            .apps()
            .authenticate(&f.id, new.expose(), None)
            .await
            .unwrap();
        assert!(app.governance.allow_service_tokens);
    }

    #[tokio::test]
    async fn a_held_client_ends_when_its_first_secret_expires() {
        let f = instances(Duration::from_secs(60)).await;
        // Rotated with the 30 s grace: the old secret is held only until that ends.
        let new = f.rotate(&f.here, PreviousSecrets::KeepForGrace).await;
        assert!(f.passes(&f.secret).await && f.passes(&new).await);
        f.clock.advance(Duration::from_secs(29));
        assert!(f.passes(&f.secret).await);
        f.clock.advance(Duration::from_secs(1));
        assert!(!f.passes(&f.secret).await);
        assert!(f.passes(&new).await);
    }

    #[tokio::test]
    async fn without_a_cache_time_every_request_reads_the_store() {
        let f = instances(Duration::ZERO).await;
        assert!(f.passes(&f.secret).await);
        f.rotate(&f.there, PreviousSecrets::RevokeNow).await;
        assert!(!f.passes(&f.secret).await);
    }

    fn lookup(app: &App, secret: &ClientSecret) -> ClientLookup {
        ClientLookup {
            app: Some(app.clone()),
            secrets: vec![secret.hash()],
            valid_until: None,
        }
    }

    #[test]
    fn a_lookup_read_before_a_client_was_dropped_is_not_held() {
        let cache = ClientCache::new(Duration::from_secs(5));
        let app = app_with_scopes(["webhooks:write"]);
        let secret = ClientSecret::generate();
        let id = app.client_id.as_str();
        let ticket = cache.ticket();
        cache.forget(id);
        cache.hold(ticket, &lookup(&app, &secret), T0);
        assert_eq!(cache.authenticate(id, &secret.hash(), T0), None);
        cache.hold(cache.ticket(), &lookup(&app, &secret), T0);
        assert_eq!(cache.authenticate(id, &secret.hash(), T0), Some(app));
    }

    #[test]
    fn a_full_cache_makes_room_from_ended_entries_only() {
        let cache = ClientCache::new(Duration::from_secs(5));
        let secret = ClientSecret::generate();
        let template = app_with_scopes(["webhooks:write"]);
        let app = |_| App {
            client_id: crate::id::AppId::generate(),
            ..template.clone()
        };
        let first: Vec<App> = (0..MAX_HELD).map(app).collect();
        for held in &first {
            cache.hold(cache.ticket(), &lookup(held, &secret), T0);
        }
        let late = app(0);
        let held = |app: &App, at| {
            cache
                .authenticate(app.client_id.as_str(), &secret.hash(), at)
                .is_some()
        };
        cache.hold(cache.ticket(), &lookup(&late, &secret), T0);
        assert!(!held(&late, T0) && held(&first[0], T0));
        let later = T0.plus(Duration::from_secs(5));
        cache.hold(cache.ticket(), &lookup(&late, &secret), later);
        assert!(held(&late, later));
        assert_eq!(
            cache.held.read().unwrap().len(),
            1,
            "the ended entries made room"
        );
    }
}
