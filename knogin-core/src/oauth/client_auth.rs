//! Client authentication (RFC 6749 §2.3.1) with its rate limit: one store read per attempt, a
//! fast hash of a high-entropy secret, and failures counted per client id and source address in
//! the store, so the limit holds across instances. The right secret always passes: client ids
//! are public, so a limit that refused it would let anyone lock an integration out.

use std::net::IpAddr;
use std::time::Duration;

use crate::address::address_key;
use crate::apps::App;
use crate::audit::{Actor, AuditKind};
use crate::clock::Timestamp;
use crate::id::AppId;
use crate::secret::{ClientSecret, SecretHash};
use crate::shared::Core;
use crate::store::{ClientLookup, StoreError};

/// Why a client could not authenticate. An unknown client and a wrong secret are the same
/// [`ClientAuthError::Failed`], in answer and in the work done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientAuthError {
    /// No app has this client id and secret.
    #[error("client authentication failed")]
    Failed,
    /// The secret was wrong, and this client id has failed too often from this address in the
    /// current window: answer 429 with `Retry-After`.
    #[error(
        "client authentication failed too often; try again in {} seconds",
        retry_after.as_secs()
    )]
    Limited {
        /// How long until the window ends.
        retry_after: Duration,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether `presented` is one of the looked-up secrets. Every candidate is compared (each in
/// constant time), so the time taken says nothing about which one matched, or whether the app
/// exists.
fn matches(lookup: &ClientLookup, hash: &SecretHash) -> bool {
    any_matches(&lookup.secrets, hash)
}

/// Whether `hash` is one of `secrets`, comparing every one (each in constant time).
pub(super) fn any_matches(secrets: &[SecretHash], hash: &SecretHash) -> bool {
    secrets
        .iter()
        .fold(false, |ok, stored| (stored == hash) | ok)
}

impl Core {
    /// Counts a failure of `id` from `from` (audited with `reason`) and says whether that pair
    /// has now reached the limit.
    pub(super) async fn refuse(
        &self,
        id: &str,
        from: Option<IpAddr>,
        now: Timestamp,
        reason: &'static str,
    ) -> Result<App, ClientAuthError> {
        crate::metrics::client_auth_failed();
        let limit = self.0.auth_limit;
        let audit = |reason: &'static str| {
            let mut audit = self
                .audit(AuditKind::ClientAuthFailed, Actor::Client(id.to_owned()))
                .client(id)
                .failed()
                .detail("reason", reason);
            if let Some(addr) = from {
                audit = audit.detail("from", addr.to_string());
            }
            audit.record();
        };
        let key = match from {
            Some(addr) => format!("{id} {}", address_key(addr)),
            None => id.to_owned(),
        };
        let failures = self
            .0
            .store
            .record_auth_failure(&key, now, limit.window)
            .await?;
        match limit.wait(Some(failures), now) {
            Some(retry_after) => {
                tracing::warn!(client_id = %id, from = ?from, failures = failures.count, "client authentication rate-limited");
                audit("rate_limited");
                Err(ClientAuthError::Limited { retry_after })
            }
            None => {
                audit(reason);
                Err(ClientAuthError::Failed)
            }
        }
    }
}

impl crate::apps::Apps<'_> {
    /// The app whose client id is `id`, if `secret` is one of its current secrets (any tenant:
    /// the client id alone names an app). This is what the OAuth endpoints run; `from` is the
    /// caller's address, when known.
    ///
    /// The secret is always checked, and the right one always passes. A wrong one is counted
    /// under `id` and `from` (an unknown id too, so the answer says nothing of which ids
    /// exist); once that pair has failed the configured number of times in the window (see
    /// [`Builder::client_auth_limit`](crate::Builder::client_auth_limit)), its failures are
    /// answered [`ClientAuthError::Limited`] until the window ends. A success writes nothing.
    pub async fn authenticate(
        &self,
        id: &str,
        secret: &str,
        from: Option<IpAddr>,
    ) -> Result<App, ClientAuthError> {
        let presented = ClientSecret::from_presented(secret);
        // No app has an id of another form (nor a NUL, which a database would refuse).
        if !AppId::is_well_formed(id) {
            crate::metrics::client_auth_failed();
            self.knogin
                .audit(AuditKind::ClientAuthFailed, Actor::Client(String::new()))
                .failed()
                .detail("reason", "malformed_client_id")
                .record();
            return Err(ClientAuthError::Failed);
        }
        let now = self.knogin.0.clock.now();
        let hash = presented.hash();
        let clients = &self.knogin.0.clients;
        if let Some(app) = clients.authenticate(id, &hash, now) {
            return Ok(app);
        }
        let ticket = clients.ticket();
        let lookup = self.knogin.0.store.client_lookup(id, now).await?;
        if matches(&lookup, &hash)
            && let Some(app) = lookup.app.clone()
        {
            clients.hold(ticket, &lookup, now);
            return Ok(app);
        }
        self.knogin
            .refuse(id, from, now, "unknown_client_or_wrong_secret")
            .await
    }

    /// Whether `secret` is a currently valid client secret of app `id`. A check only: nothing is
    /// counted and no limit applies, so it exists only for tests (feature `test-util`); the
    /// OAuth endpoints use [`Apps::authenticate`](crate::apps::Apps::authenticate).
    #[cfg(any(test, feature = "test-util"))]
    pub async fn check_secret(
        &self,
        id: &AppId,
        secret: &ClientSecret,
    ) -> Result<bool, StoreError> {
        let lookup = self
            .knogin
            .0
            .store
            .client_lookup(id.as_str(), self.knogin.0.clock.now())
            .await?;
        Ok(lookup.app.is_some() && matches(&lookup, &secret.hash()))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::TenantId;
    use crate::clock::{ManualClock, Timestamp};
    use crate::keys::MasterKey;
    use crate::store::memory::MemoryStore;
    use crate::testing::{builder, registration};

    async fn fixture() -> (Arc<ManualClock>, Core, App, ClientSecret) {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix(1_800_000_000)));
        let knogin = builder(
            Arc::new(MemoryStore::new()),
            MasterKey::generate(),
            clock.clone(),
        )
        .client_auth_limit(3, Duration::from_secs(60))
        .build()
        .await
        .unwrap()
        .core()
        .clone();
        let (app, secret) = knogin
            .apps()
            .register(&TenantId::parse("t1").unwrap(), registration())
            .await
            .unwrap();
        (
            clock,
            knogin,
            app,
            secret.expect("a secret app has a secret"),
        )
    }

    #[tokio::test]
    async fn a_current_secret_authenticates_and_anything_else_fails_alike() {
        let (_, knogin, app, secret) = fixture().await;
        let id = app.client_id.as_str();
        assert_eq!(
            knogin
                .apps()
                .authenticate(id, secret.expose(), None)
                .await
                .unwrap(),
            app
        );
        assert!(matches!(
            knogin.apps().authenticate(id, "ks_wrong", None).await,
            Err(ClientAuthError::Failed)
        ));
        let unknown = AppId::generate();
        assert!(matches!(
            knogin
                .apps()
                .authenticate(unknown.as_str(), secret.expose(), None)
                .await,
            Err(ClientAuthError::Failed)
        ));
        let long = "a".repeat(200);
        assert!(matches!(
            knogin.apps().authenticate(&long, "x", None).await,
            Err(ClientAuthError::Failed)
        ));
    }

    #[tokio::test]
    async fn failures_past_the_limit_are_limited_per_address_but_the_right_secret_passes() {
        let (clock, knogin, app, secret) = fixture().await;
        let id = app.client_id.as_str();
        let attacker = Some("192.0.2.66".parse().unwrap());
        let integration = Some("198.51.100.7".parse().unwrap());
        for _ in 0..2 {
            assert!(matches!(
                knogin.apps().authenticate(id, "ks_wrong", attacker).await,
                Err(ClientAuthError::Failed)
            ));
        }
        clock.advance(Duration::from_secs(10));
        let third = knogin.apps().authenticate(id, "ks_wrong", attacker).await;
        assert!(
            matches!(third, Err(ClientAuthError::Limited { retry_after }) if retry_after == Duration::from_secs(50))
        );
        // The right secret passes, from anywhere, however many failures came before it.
        for from in [attacker, integration, None] {
            assert_eq!(
                knogin
                    .apps()
                    .authenticate(id, secret.expose(), from)
                    .await
                    .unwrap(),
                app
            );
        }
        // Another address's failures are its own.
        assert!(matches!(
            knogin
                .apps()
                .authenticate(id, "ks_wrong", integration)
                .await,
            Err(ClientAuthError::Failed)
        ));
        clock.advance(Duration::from_secs(50));
        assert!(matches!(
            knogin.apps().authenticate(id, "ks_wrong", attacker).await,
            Err(ClientAuthError::Failed)
        ));
    }

    #[tokio::test]
    async fn a_nul_or_malformed_client_id_fails_without_a_lookup() {
        let (_, knogin, app, secret) = fixture().await;
        let with_nul = format!("{}\0", app.client_id);
        for id in [with_nul.as_str(), "\0", "app_", "APP_x"] {
            assert!(matches!(
                knogin.apps().authenticate(id, secret.expose(), None).await,
                Err(ClientAuthError::Failed)
            ));
        }
    }

    #[tokio::test]
    async fn unknown_client_ids_are_limited_like_known_ones() {
        let (_, knogin, _, _) = fixture().await;
        let unknown = AppId::generate();
        for _ in 0..2 {
            let _ = knogin
                .apps()
                .authenticate(unknown.as_str(), "x", None)
                .await;
        }
        assert!(matches!(
            knogin
                .apps()
                .authenticate(unknown.as_str(), "x", None)
                .await,
            Err(ClientAuthError::Limited { .. })
        ));
    }

    #[tokio::test]
    async fn a_success_writes_nothing() {
        let (_, knogin, app, secret) = fixture().await;
        let id = app.client_id.as_str();
        let from = Some("192.0.2.1".parse().unwrap());
        for _ in 0..5 {
            knogin
                .apps()
                .authenticate(id, secret.expose(), from)
                .await
                .unwrap();
        }
        let now = knogin.0.clock.now();
        let window = Duration::from_secs(60);
        let first = knogin
            .0
            .store
            .record_auth_failure(&format!("{id} addr:192.0.2.1"), now, window)
            .await
            .unwrap();
        assert_eq!(first.count, 1);
    }
}
