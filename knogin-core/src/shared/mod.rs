//! The shared core every capability works on: the store, the clock, the keys, the settings.
//!
//! [`Core`] is what the capability handles ([`Apps`](crate::apps::Apps), [`Tokens`],
//! [`Keys`], [`Webhooks`](crate::webhooks::Webhooks)) borrow, and what the OAuth flows, the
//! delivery worker and the HTTP layer drive. It knows nothing of HTTP: the routes, the docs and
//! the sign-in pages keep their own state in [`crate::http`], above it.

mod bearer;
mod dpop;
#[cfg(test)]
mod dpop_tests;
mod live;
mod tokens;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub(crate) use self::dpop::{DpopFailure, dpop_nonce_key};
pub use self::live::Keys;
pub(crate) use self::live::Live;
pub use self::tokens::{DEFAULT_ADMIN_TOKEN_TTL, MAX_ADMIN_TOKEN_TTL, MintError, Tokens};
use crate::clock::Clock;
use crate::clock::Timestamp;
use crate::keys::{MasterKey, SigningAlgorithm};
use crate::oauth::{AuthLimit, Lifetimes};
use crate::scope::ScopeCatalog;
use crate::secret::SecretHash;
use crate::store::{FlowKind, FlowState, Store, StoreError};

/// The shared core: cheap to clone (one `Arc`), and what every capability handle borrows.
#[derive(Clone)]
pub(crate) struct Core(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    pub(crate) issuer: String,
    /// The audiences access tokens may be issued for; the first is the default, and the only
    /// one the core's own routes accept.
    pub(crate) audiences: Vec<String>,
    /// The audience of admin tokens: the issuer's platform API.
    pub(crate) admin_audience: String,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) master_key: MasterKey,
    pub(crate) scopes: ScopeCatalog,
    pub(crate) secret_grace: Duration,
    pub(crate) keys: KeySettings,
    pub(crate) lifetimes: Lifetimes,
    pub(crate) flow: crate::oauth::FlowLifetimes,
    pub(crate) auth_limit: AuthLimit,
    pub(crate) webhooks: crate::webhooks::WebhookSettings,
    pub(crate) publications: crate::webhooks::Publications,
    pub(crate) graphql: Option<crate::graphql::GraphQlGate>,
    pub(crate) audit: Arc<dyn crate::audit::AuditSink>,
    /// The key DPoP server nonces are made with, when proofs must carry one.
    pub(crate) dpop_nonce_key: Option<aws_lc_rs::hmac::Key>,
    /// The keys fetched from apps' `jwks_uri`s, and the transport that fetches them.
    pub(crate) client_jwks: crate::oauth::ClientJwksCache,
    /// Clients authenticated in the last moment.
    pub(crate) clients: crate::oauth::ClientCache,
    pub(crate) live: Live,
}

/// How signing keys are reloaded and rotated.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeySettings {
    /// How often keys and revocations are reloaded from the store.
    pub(crate) refresh: Duration,
    /// How long a new key is published before it signs.
    pub(crate) lead: Duration,
    /// The longest any token this issuer mints lives: a retired key stays published this long.
    pub(crate) token_lifetime: Duration,
    /// The algorithm of the keys the handle creates.
    pub(crate) algorithm: SigningAlgorithm,
}

impl fmt::Debug for Core {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Core")
            .field("issuer", &self.0.issuer)
            .field("audiences", &self.0.audiences)
            .finish_non_exhaustive()
    }
}

impl Core {
    /// The issuer URL.
    pub(crate) fn issuer(&self) -> &str {
        &self.0.issuer
    }

    /// The audiences access tokens may be issued for; the first is this server's own.
    pub(crate) fn audiences(&self) -> &[String] {
        &self.0.audiences
    }

    /// The scope catalog.
    pub(crate) fn scopes(&self) -> &ScopeCatalog {
        &self.0.scopes
    }

    /// Records at `now` that the JWT `used` names (a client assertion's or a DPoP proof's id,
    /// hashed with what scopes it) was taken, until `until`, when it could no longer be taken
    /// anyway: `false` if it was recorded already, here or on another instance.
    pub(crate) async fn first_use(
        &self,
        used: SecretHash,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let state = FlowState {
            kind: FlowKind::UsedJti,
            key: used,
            value: String::new(),
            expires_at: until,
        };
        match self.0.store.put_state(&state, now).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Registering and governing apps, and their client secrets, on the operator's behalf.
    pub(crate) fn apps(&self) -> crate::apps::Apps<'_> {
        self.apps_as(crate::audit::Actor::Operator)
    }

    /// The same, on `actor`'s behalf: who the audit trail names for each change.
    pub(crate) fn apps_as(&self, actor: crate::audit::Actor) -> crate::apps::Apps<'_> {
        crate::apps::Apps {
            knogin: self,
            actor,
        }
    }

    /// Minting, verifying and revoking tokens.
    pub(crate) fn tokens(&self) -> Tokens<'_> {
        Tokens { knogin: self }
    }

    /// The signing keys.
    pub(crate) fn keys(&self) -> Keys<'_> {
        Keys { knogin: self }
    }

    /// Webhook subscriptions, their deliveries, and publishing events.
    pub(crate) fn webhooks(&self) -> crate::webhooks::Webhooks<'_> {
        crate::webhooks::Webhooks { knogin: self }
    }

    /// The GraphQL gate, if the embedder configured one.
    pub(crate) fn graphql(&self) -> Option<&crate::graphql::GraphQlGate> {
        self.0.graphql.as_ref()
    }

    /// How long each kind of token lives.
    pub(crate) fn lifetimes(&self) -> &Lifetimes {
        &self.0.lifetimes
    }

    /// The operator's key-encryption key.
    pub(crate) fn master_key(&self) -> &MasterKey {
        &self.0.master_key
    }
}
