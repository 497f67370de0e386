//! [`Knogin`]: the handle an embedder builds once and clones into every adapter.

mod builder;
mod live;
mod tokens;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use self::builder::{
    BuildError, Builder, DEFAULT_BODY_LIMIT, DEFAULT_KEY_REFRESH, MAX_SECRET_ROTATION_GRACE,
    MAX_TOKEN_LIFETIME,
};
pub use self::live::Keys;
pub(crate) use self::live::Live;
pub use self::tokens::{DEFAULT_ADMIN_TOKEN_TTL, MAX_ADMIN_TOKEN_TTL, MintError, Tokens};
use crate::clock::Clock;
use crate::http::UserAuthenticator;
use crate::keys::{MasterKey, SigningAlgorithm};
use crate::oauth::{AuthLimit, Lifetimes};
use crate::scope::ScopeCatalog;
use crate::store::Store;

/// The contract, ready to serve: its store, clock, keys and settings.
///
/// Cheap to clone (one `Arc`). It is a `tower::Service` over `http::Request<B>` for any body `B`
/// (see [`crate::http`]); the adapters `knogin-axum` and `knogin-hyper` only mount it.
#[derive(Clone)]
pub struct Knogin(pub(crate) Arc<Inner>);

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
    pub(crate) body_limit: usize,
    /// The reverse proxies whose `X-Forwarded-For` is believed.
    pub(crate) trusted_proxies: crate::http::TrustedProxies,
    /// `Cache-Control` of the JWKS answers, built once.
    pub(crate) jwks_cache_control: http::HeaderValue,
    pub(crate) users: Option<Arc<dyn UserAuthenticator>>,
    #[cfg(feature = "password-login")]
    pub(crate) password_login: Option<Arc<crate::http::PasswordLogin>>,
    pub(crate) keys: KeySettings,
    pub(crate) lifetimes: Lifetimes,
    pub(crate) flow: crate::oauth::FlowLifetimes,
    /// The RFC 8414 metadata document, serialized once.
    pub(crate) metadata: bytes::Bytes,
    pub(crate) auth_limit: AuthLimit,
    pub(crate) webhooks: crate::webhooks::WebhookSettings,
    pub(crate) publications: crate::webhooks::Publications,
    pub(crate) graphql: Option<crate::graphql::GraphQlGate>,
    pub(crate) docs: crate::docs::DocsSettings,
    pub(crate) docs_cache: crate::docs::DocsCache,
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

impl fmt::Debug for Knogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Knogin")
            .field("issuer", &self.0.issuer)
            .field("audiences", &self.0.audiences)
            .finish_non_exhaustive()
    }
}

impl Knogin {
    /// The issuer URL.
    pub fn issuer(&self) -> &str {
        &self.0.issuer
    }

    /// The audiences access tokens may be issued for (RFC 8707 `resource`); the first is the
    /// default and this server's own.
    pub fn audiences(&self) -> &[String] {
        &self.0.audiences
    }

    /// Whether webhook targets may be plain http and non-public addresses (local testing).
    pub fn allows_private_webhook_targets(&self) -> bool {
        self.0.webhooks.allow_private_targets
    }

    /// The scope catalog.
    pub fn scopes(&self) -> &ScopeCatalog {
        &self.0.scopes
    }

    /// Registering and governing apps, and their client secrets.
    pub fn apps(&self) -> crate::apps::Apps<'_> {
        crate::apps::Apps { knogin: self }
    }

    /// Minting, verifying and revoking tokens, and checking a request's bearer token.
    pub fn tokens(&self) -> Tokens<'_> {
        Tokens { knogin: self }
    }

    /// The signing keys: the published JWKS, rotation, withdrawal and reloading.
    pub fn keys(&self) -> Keys<'_> {
        Keys { knogin: self }
    }

    /// Webhook subscriptions, their deliveries, and publishing events.
    pub fn webhooks(&self) -> crate::webhooks::Webhooks<'_> {
        crate::webhooks::Webhooks { knogin: self }
    }

    /// The GraphQL gate, if the embedder configured one ([`Builder::graphql`]).
    pub fn graphql(&self) -> Option<&crate::graphql::GraphQlGate> {
        self.0.graphql.as_ref()
    }

    /// Puts new GraphQL bundles in force on this handle (and its clones) at once, after the
    /// same checks as at build: scopes in the catalog, documents within the gate's limits.
    /// Requests already admitted finish on the old set.
    pub fn replace_graphql_bundles(
        &self,
        bundles: crate::graphql::Bundles,
    ) -> Result<(), crate::graphql::BundleError> {
        let gate = self.graphql().ok_or(crate::graphql::BundleError::NoGate)?;
        gate.replace(bundles, &self.0.scopes)
    }

    /// The largest request body a route accepts unless it sets its own limit.
    pub(crate) fn body_limit(&self) -> usize {
        self.0.body_limit
    }

    /// The `Cache-Control` value of the JWKS answers.
    pub(crate) fn jwks_cache_control(&self) -> &http::HeaderValue {
        &self.0.jwks_cache_control
    }

    /// How long each kind of token lives.
    pub(crate) fn lifetimes(&self) -> &Lifetimes {
        &self.0.lifetimes
    }

    /// The RFC 8414 metadata document.
    pub(crate) fn metadata(&self) -> &bytes::Bytes {
        &self.0.metadata
    }

    /// The operator's key-encryption key.
    pub(crate) fn master_key(&self) -> &MasterKey {
        &self.0.master_key
    }

    /// The embedder's sign-in, if it configured one.
    pub(crate) fn users(&self) -> Option<&Arc<dyn UserAuthenticator>> {
        self.0.users.as_ref()
    }

    /// The built-in password login, if the embedder enabled it.
    #[cfg(feature = "password-login")]
    pub(crate) fn password_login(&self) -> Option<Arc<crate::http::PasswordLogin>> {
        self.0.password_login.clone()
    }
}
