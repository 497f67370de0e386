//! Client authentication (RFC 6749 §2.3.1) with its rate limit: one store read per attempt, a
//! fast hash of a high-entropy secret, and failures counted per client id in the store, so the
//! limit holds across instances.

use std::time::Duration;

use crate::apps::App;
use crate::clock::Timestamp;
use crate::id::AppId;
use crate::knogin::Knogin;
use crate::secret::ClientSecret;
use crate::store::{ClientLookup, StoreError};

/// The longest client id looked up; a longer one fails at once (no app has one).
pub const MAX_CLIENT_ID_LEN: usize = 128;

/// Why a client could not authenticate. An unknown client and a wrong secret are the same
/// [`ClientAuthError::Failed`], in answer and in the work done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientAuthError {
    /// No app has this client id and secret.
    #[error("client authentication failed")]
    Failed,
    /// The client id has failed too often in the current window; nothing was checked.
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
fn matches(lookup: &ClientLookup, presented: &ClientSecret) -> bool {
    let hash = presented.hash();
    lookup
        .secrets
        .iter()
        .fold(false, |ok, stored| (*stored == hash) | ok)
}

impl Knogin {
    /// The app whose client id is `id`, if `secret` is one of its current secrets (any tenant:
    /// the client id alone names an app). This is what the OAuth endpoints run.
    ///
    /// A failure is counted under `id` in the store, whether or not an app has that id; once a
    /// client id has failed the configured number of times in the window (see
    /// [`Builder::client_auth_limit`](crate::Builder::client_auth_limit)), every attempt is
    /// refused with [`ClientAuthError::Limited`] until the window ends. A success writes nothing.
    pub async fn authenticate_app(&self, id: &str, secret: &str) -> Result<App, ClientAuthError> {
        let presented = ClientSecret::from_presented(secret);
        if id.len() > MAX_CLIENT_ID_LEN {
            return Err(ClientAuthError::Failed);
        }
        let now = self.0.clock.now();
        let limit = self.0.auth_limit;
        let lookup = self.0.store.client_lookup(id, now).await?;
        if let Some(retry_after) = limit.wait(lookup.failures, now) {
            return Err(ClientAuthError::Limited { retry_after });
        }
        if matches(&lookup, &presented)
            && let Some(app) = lookup.app
        {
            return Ok(app);
        }
        self.refuse(id, now).await
    }

    /// Counts a failure under `id` and says whether the client id has now reached the limit.
    async fn refuse(&self, id: &str, now: Timestamp) -> Result<App, ClientAuthError> {
        let limit = self.0.auth_limit;
        let failures = self
            .0
            .store
            .record_auth_failure(id, now, limit.window)
            .await?;
        match limit.wait(Some(failures), now) {
            Some(retry_after) => {
                tracing::warn!(client_id = %id, failures = failures.count, "client authentication rate-limited");
                Err(ClientAuthError::Limited { retry_after })
            }
            None => Err(ClientAuthError::Failed),
        }
    }

    /// Whether `secret` is a currently valid client secret of app `id`. A check only: nothing is
    /// counted and no limit applies (the OAuth endpoints use [`Knogin::authenticate_app`]).
    pub async fn authenticate_client(
        &self,
        id: &AppId,
        secret: &ClientSecret,
    ) -> Result<bool, StoreError> {
        let lookup = self
            .0
            .store
            .client_lookup(id.as_str(), self.0.clock.now())
            .await?;
        Ok(lookup.app.is_some() && matches(&lookup, secret))
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

    async fn fixture() -> (Arc<ManualClock>, Knogin, App, ClientSecret) {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix(1_800_000_000)));
        let knogin = builder(
            Arc::new(MemoryStore::new()),
            MasterKey::generate(),
            clock.clone(),
        )
        .client_auth_limit(3, Duration::from_secs(60))
        .build()
        .await
        .unwrap();
        let (app, secret) = knogin
            .register_app(&TenantId::parse("t1").unwrap(), registration())
            .await
            .unwrap();
        (clock, knogin, app, secret)
    }

    #[tokio::test]
    async fn a_current_secret_authenticates_and_anything_else_fails_alike() {
        let (_, knogin, app, secret) = fixture().await;
        let id = app.client_id.as_str();
        assert_eq!(
            knogin.authenticate_app(id, secret.expose()).await.unwrap(),
            app
        );
        assert!(matches!(
            knogin.authenticate_app(id, "ks_wrong").await,
            Err(ClientAuthError::Failed)
        ));
        let unknown = AppId::generate();
        assert!(matches!(
            knogin
                .authenticate_app(unknown.as_str(), secret.expose())
                .await,
            Err(ClientAuthError::Failed)
        ));
        let long = "a".repeat(MAX_CLIENT_ID_LEN + 1);
        assert!(matches!(
            knogin.authenticate_app(&long, "x").await,
            Err(ClientAuthError::Failed)
        ));
    }

    #[tokio::test]
    async fn failures_past_the_limit_lock_the_client_id_until_the_window_ends() {
        let (clock, knogin, app, secret) = fixture().await;
        let id = app.client_id.as_str();
        for _ in 0..2 {
            assert!(matches!(
                knogin.authenticate_app(id, "ks_wrong").await,
                Err(ClientAuthError::Failed)
            ));
        }
        clock.advance(Duration::from_secs(10));
        let third = knogin.authenticate_app(id, "ks_wrong").await;
        assert!(
            matches!(third, Err(ClientAuthError::Limited { retry_after }) if retry_after == Duration::from_secs(50))
        );
        // Even the right secret is refused while the limit holds: nothing is checked.
        let locked = knogin.authenticate_app(id, secret.expose()).await;
        assert!(matches!(locked, Err(ClientAuthError::Limited { .. })));
        clock.advance(Duration::from_secs(50));
        assert_eq!(
            knogin.authenticate_app(id, secret.expose()).await.unwrap(),
            app
        );
    }

    #[tokio::test]
    async fn unknown_client_ids_are_limited_like_known_ones() {
        let (_, knogin, _, _) = fixture().await;
        let unknown = AppId::generate();
        for _ in 0..2 {
            let _ = knogin.authenticate_app(unknown.as_str(), "x").await;
        }
        assert!(matches!(
            knogin.authenticate_app(unknown.as_str(), "x").await,
            Err(ClientAuthError::Limited { .. })
        ));
    }

    #[tokio::test]
    async fn a_success_writes_nothing() {
        let (_, knogin, app, secret) = fixture().await;
        let id = app.client_id.as_str();
        for _ in 0..5 {
            knogin.authenticate_app(id, secret.expose()).await.unwrap();
        }
        let now = knogin.0.clock.now();
        assert_eq!(
            knogin
                .0
                .store
                .client_lookup(id, now)
                .await
                .unwrap()
                .failures,
            None
        );
    }
}
