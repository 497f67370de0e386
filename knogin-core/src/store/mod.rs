//! Storage, behind traits: the core never talks to a database itself.
//!
//! Each capability has its own trait; [`Store`] is all of them together and is what
//! [`crate::Knogin`] holds (as `Arc<dyn Store>`). `knogin-store-sqlx` implements them for SQLite
//! and PostgreSQL; `memory::MemoryStore` (feature `test-util`) for unit tests. Every
//! implementation runs the same `conformance` suite (feature `test-util`).

use std::error::Error as StdError;
use std::time::Duration;

use async_trait::async_trait;

use crate::apps::{App, Governance, GovernancePatch};
use crate::clock::Timestamp;
use crate::id::{AppId, KeyId, TenantId};
use crate::secret::SecretHash;

pub use self::deliveries::{
    Attempt, Backlog, ClaimedDelivery, Delivery, DeliveryPage, DeliveryStatus, DeliveryStore,
    Event, MAX_UNRECORDED_CLAIMS, NextStep, PublicationBus, PurgeFilter, Purged, UNRECORDED_BODY,
};
pub use self::flow::{FlowKind, FlowState, FlowStore};
pub use self::grants::{
    CodeRedemption, GrantStore, RefreshUse, StoredCode, StoredRefresh, UserGrant,
};
pub use self::webhooks::{WebhookPage, WebhookStore};

#[cfg(any(test, feature = "test-util"))]
pub mod conformance;
mod deliveries;
mod flow;
mod grants;
#[cfg(any(test, feature = "test-util"))]
pub mod memory;
mod webhooks;

/// What went wrong in a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A record with the same unique key already exists.
    #[error("a record with the same key already exists")]
    Conflict,
    /// The record it belongs to (e.g. an app's tenant) does not exist.
    #[error("the record this one belongs to does not exist")]
    MissingParent,
    /// Data read back could not be decoded (a bug or a hand-edited database).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The backend failed: connection lost, disk full, and the like.
    #[error("storage backend failed: {0}")]
    Backend(#[source] Box<dyn StdError + Send + Sync>),
}

impl StoreError {
    /// Wraps a backend's own error.
    pub fn backend(e: impl StdError + Send + Sync + 'static) -> Self {
        Self::Backend(Box::new(e))
    }
}

/// A position in a listing, as the store understands it. The HTTP layer turns it into an opaque
/// `cursor` string; stores hand it back to continue after the last item returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor(pub i64);

/// One page of apps, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPage {
    /// Up to `limit` apps.
    pub apps: Vec<App>,
    /// Where the next page starts, if there is one.
    pub next: Option<Cursor>,
}

/// Tenants.
#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Creates `tenant` unless it exists. Returns whether it was created. Safe to race.
    async fn ensure_tenant(&self, tenant: &TenantId, now: Timestamp) -> Result<bool, StoreError>;

    /// Whether `tenant` exists.
    async fn tenant_exists(&self, tenant: &TenantId) -> Result<bool, StoreError>;
}

/// Apps and their client secrets.
#[async_trait]
pub trait AppStore: Send + Sync {
    /// Stores a new app with its first secret's hash (none for an app that authenticates with
    /// its keys), atomically. The tenant must exist.
    async fn insert_app(&self, app: &App, secret: Option<&SecretHash>) -> Result<(), StoreError>;

    /// The app `id` if it belongs to `tenant`.
    async fn get_app(&self, tenant: &TenantId, id: &AppId) -> Result<Option<App>, StoreError>;

    /// Up to `limit` of `tenant`'s apps, newest first, starting after `after`.
    async fn list_apps(
        &self,
        tenant: &TenantId,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<AppPage, StoreError>;

    /// Applies `patch` to the governance of `tenant`'s app `id` in one statement and returns
    /// the result, or `None` when there is no such app.
    async fn update_governance(
        &self,
        tenant: &TenantId,
        id: &AppId,
        patch: GovernancePatch,
    ) -> Result<Option<Governance>, StoreError>;

    /// Adds `new` as a secret of `tenant`'s app `id` and makes every secret still valid at
    /// `old_valid_until` expire then, in one transaction. Returns `false` when there is no such
    /// app (and changes nothing).
    async fn rotate_secret(
        &self,
        tenant: &TenantId,
        id: &AppId,
        new: &SecretHash,
        now: Timestamp,
        old_valid_until: Timestamp,
    ) -> Result<bool, StoreError>;
}

/// What authenticating a client reads about a presented `client_id`, in one read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientLookup {
    /// The app with that client id, whatever its tenant (the client id alone names it).
    pub app: Option<App>,
    /// Its secrets valid at the time asked, in no particular order (each is compared).
    pub secrets: Vec<SecretHash>,
    /// When the first of `secrets` to expire does (`None` when none of them expires): the
    /// core holds an authenticated client no longer than this.
    pub valid_until: Option<Timestamp>,
}

/// Failures under one key (a client id and address, a user name, an address), counted in a
/// fixed window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthFailures {
    /// When the window began.
    pub window_start: Timestamp,
    /// Failures since then.
    pub count: u32,
}

/// Client authentication: the one read the OAuth endpoints make per request, and the failure
/// counts that rate-limit guessing across instances.
#[async_trait]
pub trait ClientAuthStore: Send + Sync {
    /// The app `client_id` names (if any) and its secrets valid at `now`. One read, so a token
    /// costs one round trip.
    async fn client_lookup(
        &self,
        client_id: &str,
        now: Timestamp,
    ) -> Result<ClientLookup, StoreError>;

    /// Counts a failed authentication under `key` (a client id, known or not, with the
    /// caller's address as the core spells them): in a new window starting at `now` when there
    /// is none or it began `window` or longer ago (such stale windows of any key may be
    /// deleted), else one more in the current window. Returns the window.
    async fn record_auth_failure(
        &self,
        key: &str,
        now: Timestamp,
        window: Duration,
    ) -> Result<AuthFailures, StoreError>;
}

/// A signing key as stored: the private key sealed under the operator's key-encryption key, and
/// its lifecycle as times every instance reads the same way.
///
/// published (`created_at`) → signing (`activates_at`) → retired, verify only (`retires_at`) →
/// removed from the JWKS (`removed_at`).
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// Its `kid`, unique forever.
    pub kid: KeyId,
    /// The JWS algorithm, e.g. `RS256`.
    pub algorithm: String,
    /// The private key, PKCS#8 DER sealed with [`crate::keys::MasterKey`].
    pub sealed_private_key: Vec<u8>,
    /// When it was created and published in the JWKS.
    pub created_at: Timestamp,
    /// When it may start signing.
    pub activates_at: Timestamp,
    /// When it stops signing (a newer key took over), if scheduled.
    pub retires_at: Option<Timestamp>,
    /// When it leaves the JWKS and stops verifying, if scheduled.
    pub removed_at: Option<Timestamp>,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("sealed_private_key", &"[redacted]")
            .field("created_at", &self.created_at)
            .field("activates_at", &self.activates_at)
            .field("retires_at", &self.retires_at)
            .field("removed_at", &self.removed_at)
            .finish()
    }
}

/// Signing keys.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Stores the issuer's first key, unless a first key was ever stored (a database constraint,
    /// not a check in this process). Returns whether this call stored it: of several processes
    /// starting on one empty database, whatever their clocks say, exactly one does.
    async fn insert_first_signing_key(&self, key: &StoredKey) -> Result<bool, StoreError>;

    /// Stores `key` and, in the same transaction, schedules every key not yet retired to retire
    /// at `key.activates_at` and to be removed at `removed_at`. [`StoreError::Conflict`] if the
    /// `kid` is taken.
    async fn rotate_signing_key(
        &self,
        key: &StoredKey,
        removed_at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Every stored key, removed ones included, oldest first.
    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError>;

    /// Withdraws key `kid` at `now` (it leaked): it stops signing and leaves the JWKS, and no
    /// token it signed verifies any more (`retires_at` and `removed_at` become `now` unless
    /// earlier). Returns whether there was such a key not yet removed.
    async fn withdraw_signing_key(&self, kid: &KeyId, now: Timestamp) -> Result<bool, StoreError>;
}

/// Revoked tokens: a `jti` denylist every instance reloads.
#[async_trait]
pub trait RevocationStore: Send + Sync {
    /// Records that the token `jti`, valid until `expires_at`, is revoked. Revoking twice is fine.
    async fn revoke_token(
        &self,
        jti: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// The `jti`s revoked and not yet expired at `now` (expired ones need no denylist).
    async fn revoked_tokens(&self, now: Timestamp) -> Result<Vec<String>, StoreError>;

    /// Cuts off every token of `key` (`app:CLIENT_ID` or `tenant:ID`, as the core spells it)
    /// issued at or before `not_before`; a later cut-off replaces an earlier one, never the
    /// other way round.
    async fn cut_off_tokens(&self, key: &str, not_before: Timestamp) -> Result<(), StoreError>;

    /// Every cut-off: its key and time.
    async fn token_cutoffs(&self) -> Result<Vec<(String, Timestamp)>, StoreError>;
}

/// Everything the core stores. Implemented for any type that implements each part.
pub trait Store:
    TenantStore
    + AppStore
    + ClientAuthStore
    + KeyStore
    + RevocationStore
    + GrantStore
    + FlowStore
    + WebhookStore
    + DeliveryStore
    + std::fmt::Debug
{
}

impl<T> Store for T where
    T: TenantStore
        + AppStore
        + ClientAuthStore
        + KeyStore
        + RevocationStore
        + GrantStore
        + FlowStore
        + WebhookStore
        + DeliveryStore
        + std::fmt::Debug
{
}
