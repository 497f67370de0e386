//! Building a [`Knogin`]: settings, checked once.

use std::sync::Arc;
use std::time::Duration;

use super::Knogin;
use crate::apps::is_loopback;
use crate::audit::{AuditSink, TracingSink};
use crate::clock::{Clock, SystemClock};
use crate::graphql::GraphQlGate;
#[cfg(feature = "password-login")]
use crate::http::PasswordLogin;
use crate::http::docs::{Docs, DocsSettings};
use crate::http::{State, TOPICS, TrustedProxies, UserAuthenticator};
use crate::keys::{KeyRing, KeyRingError, MasterKey, SigningKeySettings};
#[cfg(feature = "password-login")]
use crate::login::{PasswordUsers, SignInSettings};
use crate::oauth::{AuthLimit, TokenLifetimes};
use crate::scope::ScopeCatalog;
use crate::shared::{Core, Inner, KeySettings, Live, MAX_ADMIN_TOKEN_TTL};
use crate::store::{Store, StoreError};
use crate::token::TokenError;
use crate::webhooks::{EventCatalog, WebhookSettings};

/// The default limit on request bodies: 64 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

pub use crate::keys::DEFAULT_KEY_REFRESH;

/// The longest a rotated-out client secret may keep working: 7 days.
pub const MAX_SECRET_ROTATION_GRACE: Duration = Duration::from_secs(7 * 24 * 3600);

/// The longest lifetime the builder lets an access or service token have: 7 days (a retired key
/// stays published this long after it stops signing).
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// Why [`Builder::build`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The issuer is not an `https` URL (or `http` to a loopback host), or has a query or
    /// fragment (RFC 8414 §2).
    #[error(
        "the issuer {0:?} must be an https URL (http only for a loopback host) with no query or fragment"
    )]
    InvalidIssuer(String),
    /// An audience is empty.
    #[error("audiences must be non-empty strings")]
    InvalidAudience,
    /// The secret-rotation grace is longer than [`MAX_SECRET_ROTATION_GRACE`].
    #[error("the secret-rotation grace may be at most 7 days")]
    GraceTooLong,
    /// The key-refresh interval is zero, or the activation lead shorter than the JWKS `max-age`
    /// plus the refresh interval.
    #[error(
        "a new key must be published at least the JWKS max-age plus the key-refresh interval before it signs"
    )]
    LeadTooShort,
    /// A token lifetime is zero, longer than its maximum, or a maximum is longer than
    /// [`MAX_TOKEN_LIFETIME`].
    #[error(
        "token lifetimes must be above zero, defaults at most their maximum, maximums at most 7 days"
    )]
    InvalidLifetime,
    /// The authorization code's lifetime is zero or above 10 minutes, or a refresh token's idle
    /// time is zero or longer than its family's lifetime.
    #[error(
        "authorization codes must live above zero and at most 10 minutes, refresh tokens' idle time above zero and at most their absolute lifetime"
    )]
    InvalidFlowLifetime,
    /// The client-authentication limit allows no failure or has a zero window.
    #[error("the client-authentication limit needs at least one failure and a non-zero window")]
    InvalidAuthLimit,
    /// The signing keys could not be loaded or created.
    #[error(transparent)]
    Keys(#[from] KeyRingError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A GraphQL bundle requires a scope outside the catalog, or a document breaks the gate's
    /// limits.
    #[error("the GraphQL bundles: {0}")]
    GraphQl(#[from] crate::graphql::BundleError),
    /// A token signed with the loaded key did not verify: the JWT library is misconfigured.
    #[error("a self-test token did not verify: {0}")]
    SelfTest(TokenError),
}

/// Builds a [`Knogin`]. Start with [`Knogin::builder`].
#[must_use]
pub struct Builder {
    issuer: String,
    audiences: Option<Vec<String>>,
    store: Arc<dyn Store>,
    master_key: MasterKey,
    clock: Arc<dyn Clock>,
    scopes: ScopeCatalog,
    secret_grace: Duration,
    body_limit: usize,
    trusted_proxies: TrustedProxies,
    keys: SigningKeySettings,
    lifetimes: TokenLifetimes,
    auth_limit: AuthLimit,
    webhooks: WebhookSettings,
    initial_signing_key: Option<Vec<u8>>,
    users: Option<Arc<dyn UserAuthenticator>>,
    graphql: Option<GraphQlGate>,
    audit: Arc<dyn AuditSink>,
    docs: Option<DocsSettings>,
    dpop_nonces: bool,
    client_jwks_transport: Option<Arc<dyn crate::webhooks::Transport>>,
    client_cache: Duration,
    #[cfg(feature = "password-login")]
    password_login: Option<Arc<PasswordUsers>>,
    #[cfg(feature = "password-login")]
    sign_in: SignInSettings,
}

/// Whether `issuer` is usable as `iss` and in RFC 8414 metadata.
fn valid_issuer(issuer: &str) -> bool {
    let Ok(url) = url::Url::parse(issuer) else {
        return false;
    };
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && is_loopback(&url));
    scheme_ok && url.host().is_some() && url.query().is_none() && url.fragment().is_none()
}

impl Builder {
    pub(super) fn new(issuer: String, store: Arc<dyn Store>, master_key: MasterKey) -> Self {
        Self {
            issuer,
            audiences: None,
            store,
            master_key,
            clock: Arc::new(SystemClock),
            scopes: ScopeCatalog::default(),
            secret_grace: Duration::ZERO,
            body_limit: DEFAULT_BODY_LIMIT,
            trusted_proxies: TrustedProxies::default(),
            keys: SigningKeySettings::default(),
            lifetimes: TokenLifetimes::default(),
            auth_limit: AuthLimit::default(),
            webhooks: WebhookSettings::default(),
            initial_signing_key: None,
            users: None,
            graphql: None,
            audit: Arc::new(TracingSink),
            docs: None,
            dpop_nonces: false,
            client_jwks_transport: None,
            client_cache: crate::oauth::DEFAULT_CLIENT_CACHE,
            #[cfg(feature = "password-login")]
            password_login: None,
            #[cfg(feature = "password-login")]
            sign_in: SignInSettings::default(),
        }
    }

    /// How subscriptions are checked and deliveries retried, timed out and disabled (default:
    /// [`WebhookSettings::default`]). The event catalog is set with [`Builder::events`].
    pub fn webhooks(mut self, settings: WebhookSettings) -> Self {
        let catalog = std::mem::take(&mut self.webhooks.catalog);
        self.webhooks = WebhookSettings {
            catalog,
            ..settings
        };
        self
    }

    /// How often signing keys are reloaded, how long a new one waits before it signs, the
    /// JWKS `max-age`, and the algorithm of the keys the handle creates (default:
    /// [`SigningKeySettings::default`]).
    pub fn signing_keys(mut self, settings: SigningKeySettings) -> Self {
        self.keys = settings;
        self
    }

    /// How long access and service tokens, authorization codes and refresh tokens live
    /// (default: [`TokenLifetimes::default`]).
    pub fn lifetimes(mut self, lifetimes: TokenLifetimes) -> Self {
        self.lifetimes = lifetimes;
        self
    }

    /// The event types webhook subscriptions may name (default: none, so no subscription can
    /// be created).
    pub fn events(mut self, catalog: EventCatalog) -> Self {
        self.webhooks.catalog = catalog;
        self
    }

    /// The clock to read time from (default: [`SystemClock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The scope catalog apps may request (default: empty).
    pub fn scopes(mut self, scopes: ScopeCatalog) -> Self {
        self.scopes = scopes;
        self
    }

    /// The resource servers access tokens may be issued for (default: the issuer alone). A
    /// token carries one of them as its `aud`: the one its request named with `resource`
    /// (RFC 8707; any other is `invalid_target`), else the first. The first is this server's
    /// own audience: the core's bearer routes accept only tokens for it.
    pub fn audiences<S: Into<String>>(mut self, audiences: impl IntoIterator<Item = S>) -> Self {
        self.audiences = Some(audiences.into_iter().map(Into::into).collect());
        self
    }

    /// How long a rotated-out client secret keeps working (default: zero, it stops at once; at
    /// most [`MAX_SECRET_ROTATION_GRACE`]). An admin can always cut the old secret off at once.
    pub fn secret_rotation_grace(mut self, grace: Duration) -> Self {
        self.secret_grace = grace;
        self
    }

    /// The reverse proxies in front of the server (default: none): behind one of them, a
    /// request counts under the client address its `X-Forwarded-For` names (see
    /// [`TrustedProxies`]), not the proxy's, for the per-address
    /// limits. Name only proxies that set the header themselves.
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.trusted_proxies = proxies;
        self
    }

    /// The largest request body accepted, in bytes (default: [`DEFAULT_BODY_LIMIT`]).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// How many failed client authentications one `client_id` may have in `window` before the
    /// OAuth endpoints refuse it with `Retry-After` until the window ends (default: 10 a minute).
    /// The count lives in the store, so it holds across instances.
    pub fn client_auth_limit(mut self, failures: u32, window: Duration) -> Self {
        self.auth_limit = AuthLimit { failures, window };
        self
    }

    /// How long an instance holds a client it authenticated with a secret, so a busy client's
    /// token requests do not each read the store (default:
    /// [`DEFAULT_CLIENT_CACHE`](crate::oauth::DEFAULT_CLIENT_CACHE); zero reads every time).
    ///
    /// A secret rotation or governance change made through this handle takes effect here at
    /// once. Made through another instance on the same store, it takes effect here within
    /// this time (to the second): an old secret revoked there is still accepted here until
    /// then. A new secret works everywhere at once, and a wrong one is always checked against
    /// the store (and counted).
    pub fn client_cache(mut self, ttl: Duration) -> Self {
        self.client_cache = ttl;
        self
    }

    /// The embedder's sign-in, for the routes that act for a person (default: none, and those
    /// routes refuse everyone). Replaces [`Builder::password_login`].
    pub fn users(mut self, users: Arc<dyn UserAuthenticator>) -> Self {
        self.users = Some(users);
        #[cfg(feature = "password-login")]
        {
            self.password_login = None;
        }
        self
    }

    /// Signs users in with the built-in login page against `users` (feature `password-login`):
    /// sessions and failed attempts live in the store, so every instance shares them. Replaces
    /// [`Builder::users`].
    ///
    /// The session and form cookies are scoped to `{issuer path}/v1/oauth/` and `Secure` unless
    /// the issuer is http on a loopback host, so mount the routes at the issuer's path.
    #[cfg(feature = "password-login")]
    pub fn password_login(mut self, users: impl Into<Arc<PasswordUsers>>) -> Self {
        self.password_login = Some(users.into());
        self.users = None;
        self
    }

    /// The built-in login's limits on failed sign-ins, its session lifetime and how many
    /// password checks run at once (default: [`SignInSettings::default`]).
    #[cfg(feature = "password-login")]
    pub fn sign_in(mut self, settings: SignInSettings) -> Self {
        self.sign_in = settings;
        self
    }

    /// The PKCS#8 DER private key to store as the first signing key when the store has none,
    /// instead of generating one. For tests only (feature `test-util`): fixture keys are public.
    #[cfg(feature = "test-util")]
    pub fn initial_signing_key(mut self, pkcs8_der: Vec<u8>) -> Self {
        self.initial_signing_key = Some(pkcs8_der);
        self
    }

    /// Serves `POST /graphql` through this gate (without one, the path answers like an unknown
    /// route). Its bundles must require scopes of the catalog ([`Builder::scopes`]) and keep to
    /// the gate's limits; change them later with [`Knogin::replace_graphql_bundles`].
    ///
    /// ```
    /// # #[cfg(feature = "async-graphql")]
    /// # fn example(builder: knogin_core::Builder) -> knogin_core::Builder {
    /// use knogin_core::graphql::{GraphQlGate, reference};
    ///
    /// builder.graphql(GraphQlGate::new(reference::executor()).bundles(reference::bundles()))
    /// # }
    /// ```
    pub fn graphql(mut self, gate: GraphQlGate) -> Self {
        self.graphql = Some(gate);
        self
    }

    /// Where the audit events go (default [`TracingSink`]: JSON lines on the `tracing` target
    /// `knogin::audit`). The sink is called on the request path and must not block.
    pub fn audit(mut self, sink: impl AuditSink) -> Self {
        self.audit = Arc::new(sink);
        self
    }

    /// Whether DPoP proofs must carry a nonce this server gave (RFC 9449 §8, §9): a proof without
    /// a current one is answered `use_dpop_nonce` with a fresh `DPoP-Nonce`, and every answer to
    /// a DPoP request carries the current nonce. Nonces are derived from the master key and the
    /// time, so every instance accepts the others' without sharing state; each lives 5 to 10
    /// minutes. Default off: proofs are bound to a short `iat` window and used once instead.
    pub fn dpop_nonces(mut self, required: bool) -> Self {
        self.dpop_nonces = required;
        self
    }

    /// The transport that fetches the public keys of `private_key_jwt` apps registered with a
    /// `jwks_uri` (RFC 7591). Without one (the default), such apps are refused at registration
    /// and must register their keys as `jwks`. Use `knogin-hyper`'s `HttpTransport`, which
    /// connects to public addresses only unless private targets are allowed: give it the same
    /// [`WebhookSettings::allow_private_targets`](crate::webhooks::WebhookSettings::allow_private_targets)
    /// as the handle, whose rule the registered URLs are checked against too.
    ///
    /// Keys are fetched when an assertion first needs them (not at registration), at most once
    /// a minute per app, with bounded size ([`MAX_CLIENT_JWKS_BYTES`](crate::oauth::MAX_CLIENT_JWKS_BYTES))
    /// and time ([`CLIENT_JWKS_FETCH_TIMEOUT`](crate::oauth::CLIENT_JWKS_FETCH_TIMEOUT)), and cached
    /// as their `Cache-Control` says within 1 minute and 1 day.
    pub fn client_jwks_transport(mut self, transport: impl crate::webhooks::Transport) -> Self {
        self.client_jwks_transport = Some(Arc::new(transport));
        self
    }

    /// What the machine-readable docs say about where things are (default: everything at the
    /// issuer): the public URLs of the auth service, the GraphQL host and the docs themselves.
    pub fn docs(mut self, settings: DocsSettings) -> Self {
        self.docs = Some(settings);
        self
    }

    /// Checks the settings that need no I/O; returns the key-activation lead in force.
    fn validate(&self) -> Result<Duration, BuildError> {
        if !valid_issuer(&self.issuer) {
            return Err(BuildError::InvalidIssuer(self.issuer.clone()));
        }
        if let Some(audiences) = &self.audiences
            && (audiences.is_empty() || audiences.iter().any(String::is_empty))
        {
            return Err(BuildError::InvalidAudience);
        }
        if self.secret_grace > MAX_SECRET_ROTATION_GRACE {
            return Err(BuildError::GraceTooLong);
        }
        if !self.lifetimes.tokens.valid(MAX_TOKEN_LIFETIME) {
            return Err(BuildError::InvalidLifetime);
        }
        if !self.lifetimes.flow.valid() {
            return Err(BuildError::InvalidFlowLifetime);
        }
        if self.auth_limit.failures == 0 || self.auth_limit.window.is_zero() {
            return Err(BuildError::InvalidAuthLimit);
        }
        if let Some(gate) = &self.graphql {
            gate.check(&gate.current_bundles(), &self.scopes)?;
        }
        let min_lead = self.keys.jwks_max_age + self.keys.refresh;
        let lead = self.keys.activation_lead.unwrap_or(min_lead);
        if self.keys.refresh.is_zero() || lead < min_lead {
            return Err(BuildError::LeadTooShort);
        }
        Ok(lead)
    }

    /// Checks the settings and loads the signing keys, creating the first one on a new store.
    pub async fn build(self) -> Result<Knogin, BuildError> {
        let lead = self.validate()?;
        let audiences = self
            .audiences
            .clone()
            .unwrap_or_else(|| vec![self.issuer.clone()]);
        // jsonwebtoken picks its crypto backend from crate features; when an embedder's tree
        // enables a second one, every verification would panic. Name ours explicitly (an
        // embedder's earlier choice stays).
        let _ = jsonwebtoken::crypto::CryptoProvider::install_default(
            &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER,
        );
        let now = self.clock.now();
        let ring = KeyRing::load_or_create(
            &*self.store,
            &self.master_key,
            now,
            self.initial_signing_key.as_deref(),
            self.keys.algorithm,
        )
        .await?;
        let revoked = self.store.revoked_tokens(now).await?;
        let metadata = crate::oauth::metadata(&self.issuer, &self.scopes);
        #[cfg(feature = "password-login")]
        let password_login = self.password_login.map(|users| {
            Arc::new(PasswordLogin::new(
                users,
                Arc::clone(&self.store),
                Arc::clone(&self.clock),
                &self.master_key,
                &self.issuer,
                self.sign_in,
            ))
        });
        #[cfg(feature = "password-login")]
        let users = match &password_login {
            Some(login) => Some(Arc::clone(login) as Arc<dyn UserAuthenticator>),
            None => self.users,
        };
        #[cfg(not(feature = "password-login"))]
        let users = self.users;
        let docs = self.docs.unwrap_or_else(|| DocsSettings::new(&self.issuer));
        let dpop_nonce_key = self
            .dpop_nonces
            .then(|| crate::shared::dpop_nonce_key(&self.master_key));
        let core = Core(Arc::new(Inner {
            admin_audience: format!("{}/v1/platform", self.issuer),
            issuer: self.issuer,
            audiences,
            store: self.store,
            clock: self.clock,
            master_key: self.master_key,
            scopes: self.scopes,
            secret_grace: self.secret_grace,
            keys: KeySettings {
                refresh: self.keys.refresh,
                lead,
                token_lifetime: self.lifetimes.tokens.longest().max(MAX_ADMIN_TOKEN_TTL),
                algorithm: self.keys.algorithm,
            },
            lifetimes: self.lifetimes.tokens,
            flow: self.lifetimes.flow,
            auth_limit: self.auth_limit,
            webhooks: self.webhooks,
            publications: crate::webhooks::Publications::default(),
            graphql: self.graphql,
            audit: self.audit,
            dpop_nonce_key,
            client_jwks: crate::oauth::ClientJwksCache::new(self.client_jwks_transport),
            clients: crate::oauth::ClientCache::new(self.client_cache),
            live: Live::new(
                ring,
                revoked.into_iter().collect(),
                now.plus(self.keys.refresh),
            ),
        }));
        core.self_test().map_err(BuildError::SelfTest)?;
        core.keys().record_loaded(true);
        let http = State {
            body_limit: self.body_limit,
            trusted_proxies: self.trusted_proxies,
            jwks_cache_control: http::HeaderValue::from_str(&format!(
                "public, max-age={}",
                self.keys.jwks_max_age.as_secs()
            ))
            .expect("a number is a valid header value"),
            metadata,
            users,
            #[cfg(feature = "password-login")]
            password_login,
            docs: Docs::new(docs, crate::http::served(&core).collect(), &TOPICS),
        };
        Ok(Knogin {
            core,
            http: Arc::new(http),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::valid_issuer;

    #[test]
    fn issuers_are_https_or_loopback_http_without_query_or_fragment() {
        for ok in [
            "https://auth.example",
            "https://auth.example/tenant/x",
            "http://127.0.0.1:8080",
            "http://localhost:3000",
            "http://[::1]:8080",
        ] {
            assert!(valid_issuer(ok), "{ok}");
        }
        for bad in [
            "http://auth.example",
            "https://auth.example?x=1",
            "https://auth.example#f",
            "ftp://auth.example",
            "auth.example",
        ] {
            assert!(!valid_issuer(bad), "{bad}");
        }
    }
}
