//! Building a [`Knogin`]: settings, checked once.

use std::sync::Arc;
use std::time::Duration;

use super::{Inner, KeySettings, Knogin, Live};
use crate::apps::is_loopback;
use crate::clock::{Clock, SystemClock};
use crate::docs::DocsSettings;
use crate::graphql::GraphQlGate;
use crate::http::UserAuthenticator;
#[cfg(feature = "password-login")]
use crate::http::{DEFAULT_SESSION_TTL, PasswordLogin, PasswordUsers, SignInLimits};
use crate::keys::{KeyRing, KeyRingError, MasterKey, SigningAlgorithm};
use crate::oauth::{AuthLimit, FlowLifetimes, Lifetimes};
use crate::scope::ScopeCatalog;
use crate::store::{Store, StoreError};
use crate::token::TokenError;
use crate::webhooks::{EventCatalog, RetryPolicy, WebhookSettings};

/// The default limit on request bodies: 64 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// How often, by default, an instance reloads signing keys and revocations from the store.
pub const DEFAULT_KEY_REFRESH: Duration = Duration::from_secs(30);

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
    trusted_proxies: crate::http::TrustedProxies,
    jwks_max_age: Duration,
    key_refresh: Duration,
    key_lead: Option<Duration>,
    algorithm: SigningAlgorithm,
    lifetimes: Lifetimes,
    flow: FlowLifetimes,
    auth_limit: AuthLimit,
    webhooks: WebhookSettings,
    initial_signing_key: Option<Vec<u8>>,
    users: Option<Arc<dyn UserAuthenticator>>,
    graphql: Option<GraphQlGate>,
    docs: Option<DocsSettings>,
    #[cfg(feature = "password-login")]
    password_login: Option<Arc<PasswordUsers>>,
    #[cfg(feature = "password-login")]
    sign_in_limits: SignInLimits,
    #[cfg(feature = "password-login")]
    sign_in_concurrency: usize,
    #[cfg(feature = "password-login")]
    session_ttl: Duration,
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
            trusted_proxies: crate::http::TrustedProxies::default(),
            jwks_max_age: Duration::from_secs(300),
            key_refresh: DEFAULT_KEY_REFRESH,
            key_lead: None,
            algorithm: SigningAlgorithm::default(),
            lifetimes: Lifetimes::default(),
            flow: FlowLifetimes::default(),
            auth_limit: AuthLimit::default(),
            webhooks: WebhookSettings::default(),
            initial_signing_key: None,
            users: None,
            graphql: None,
            docs: None,
            #[cfg(feature = "password-login")]
            password_login: None,
            #[cfg(feature = "password-login")]
            sign_in_limits: SignInLimits::default(),
            #[cfg(feature = "password-login")]
            sign_in_concurrency: crate::http::default_sign_in_concurrency(),
            #[cfg(feature = "password-login")]
            session_ttl: DEFAULT_SESSION_TTL,
        }
    }

    /// How long an authorization code may wait to be redeemed (default
    /// [`DEFAULT_CODE_TTL`](crate::oauth::DEFAULT_CODE_TTL), at most
    /// [`MAX_CODE_TTL`](crate::oauth::MAX_CODE_TTL)).
    pub fn authorization_code_ttl(mut self, ttl: Duration) -> Self {
        self.flow.code = ttl;
        self
    }

    /// How long a refresh token lives unused (`idle`, default 14 days) and how long a family of
    /// refresh tokens lives from its authorization however often it is used (`absolute`, default
    /// 90 days).
    pub fn refresh_token_lifetimes(mut self, idle: Duration, absolute: Duration) -> Self {
        self.flow.refresh_idle = idle;
        self.flow.refresh_absolute = absolute;
        self
    }

    /// The event types webhook subscriptions may name (default: none, so no subscription can
    /// be created).
    pub fn events(mut self, catalog: EventCatalog) -> Self {
        self.webhooks.catalog = catalog;
        self
    }

    /// Lets webhook targets be plain http and non-public addresses (loopback, private
    /// networks): for local testing only (default: off, and such targets are refused).
    pub fn allow_private_webhook_targets(mut self, allow: bool) -> Self {
        self.webhooks.allow_private_targets = allow;
        self
    }

    /// How long a replaced webhook secret keeps signing beside the new one (default
    /// [`DEFAULT_SECRET_OVERLAP`](crate::webhooks::DEFAULT_SECRET_OVERLAP)).
    pub fn webhook_secret_overlap(mut self, overlap: Duration) -> Self {
        self.webhooks.secret_overlap = overlap;
        self
    }

    /// How failed webhook deliveries are retried (default: [`RetryPolicy::default`]).
    pub fn webhook_retry(mut self, policy: RetryPolicy) -> Self {
        self.webhooks.retry = policy;
        self
    }

    /// How many live webhook subscriptions a tenant may have (default
    /// [`DEFAULT_MAX_SUBSCRIPTIONS`](crate::webhooks::DEFAULT_MAX_SUBSCRIPTIONS)); creating
    /// one more is refused (409).
    pub fn webhook_quota(mut self, max_subscriptions: u64) -> Self {
        self.webhooks.max_subscriptions = max_subscriptions;
        self
    }

    /// How long every delivery to a subscription may fail before it is disabled, its owner
    /// told why (default [`DEFAULT_DISABLE_AFTER`](crate::webhooks::DEFAULT_DISABLE_AFTER)).
    pub fn webhook_disable_after(mut self, span: Duration) -> Self {
        self.webhooks.disable_after = span;
        self
    }

    /// How long one webhook delivery attempt may take (default
    /// [`DEFAULT_ATTEMPT_TIMEOUT`](crate::webhooks::DEFAULT_ATTEMPT_TIMEOUT)).
    pub fn webhook_timeout(mut self, timeout: Duration) -> Self {
        self.webhooks.attempt_timeout = timeout;
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
    /// [`TrustedProxies`](crate::http::TrustedProxies)), not the proxy's, for the per-address
    /// limits. Name only proxies that set the header themselves.
    pub fn trusted_proxies(mut self, proxies: crate::http::TrustedProxies) -> Self {
        self.trusted_proxies = proxies;
        self
    }

    /// The largest request body accepted, in bytes (default: [`DEFAULT_BODY_LIMIT`]).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The `max-age` of the JWKS `Cache-Control` header (default: 5 minutes).
    pub fn jwks_max_age(mut self, max_age: Duration) -> Self {
        self.jwks_max_age = max_age;
        self
    }

    /// How often keys and revocations are reloaded from the store, so instances sharing it agree
    /// (default: [`DEFAULT_KEY_REFRESH`]).
    pub fn key_refresh(mut self, interval: Duration) -> Self {
        self.key_refresh = interval;
        self
    }

    /// How long a rotated-in key is published before it signs (default and minimum: the JWKS
    /// `max-age` plus the key-refresh interval).
    pub fn key_activation_lead(mut self, lead: Duration) -> Self {
        self.key_lead = Some(lead);
        self
    }

    /// The algorithm of the signing keys the handle creates: the first key of a new store and
    /// each [`Keys::rotate`](crate::Keys::rotate) (default: [`SigningAlgorithm::Rs256`]). Keys already
    /// stored keep theirs: rotate to switch.
    pub fn signing_algorithm(mut self, algorithm: SigningAlgorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// The lifetime of access tokens from the token endpoint (default: 1 hour), and the longest
    /// an app's governance `access_token_ttl` may ask for (default: 24 hours).
    pub fn access_token_ttl(mut self, default: Duration, max: Duration) -> Self {
        self.lifetimes.access = default;
        self.lifetimes.max_access = max;
        self
    }

    /// The lifetime of service tokens (default: 1 hour), and the longest a request's
    /// `expires_in` may ask for (default: 24 hours).
    pub fn service_token_ttl(mut self, default: Duration, max: Duration) -> Self {
        self.lifetimes.service = default;
        self.lifetimes.max_service = max;
        self
    }

    /// How many failed client authentications one `client_id` may have in `window` before the
    /// OAuth endpoints refuse it with `Retry-After` until the window ends (default: 10 a minute).
    /// The count lives in the store, so it holds across instances.
    pub fn client_auth_limit(mut self, failures: u32, window: Duration) -> Self {
        self.auth_limit = AuthLimit { failures, window };
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

    /// The built-in login's limits on failed sign-ins (default: [`SignInLimits::default`]).
    #[cfg(feature = "password-login")]
    pub fn sign_in_limits(mut self, limits: SignInLimits) -> Self {
        self.sign_in_limits = limits;
        self
    }

    /// How many password checks of the built-in login run at once (default:
    /// [`default_sign_in_concurrency`](crate::http::default_sign_in_concurrency), two per
    /// core). Each takes 19 MiB; a sign-in beyond the bound is answered 503 with `Retry-After`,
    /// so a burst of logins cannot exhaust memory.
    #[cfg(feature = "password-login")]
    pub fn sign_in_concurrency(mut self, checks: usize) -> Self {
        self.sign_in_concurrency = checks.max(1);
        self
    }

    /// How long a session of the built-in login lasts (default: [`DEFAULT_SESSION_TTL`]).
    #[cfg(feature = "password-login")]
    pub fn session_ttl(mut self, ttl: Duration) -> Self {
        self.session_ttl = ttl;
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
        if !self.lifetimes.valid(MAX_TOKEN_LIFETIME) {
            return Err(BuildError::InvalidLifetime);
        }
        if !self.flow.valid() {
            return Err(BuildError::InvalidFlowLifetime);
        }
        if self.auth_limit.failures == 0 || self.auth_limit.window.is_zero() {
            return Err(BuildError::InvalidAuthLimit);
        }
        if let Some(gate) = &self.graphql {
            gate.check(&gate.current_bundles(), &self.scopes)?;
        }
        let min_lead = self.jwks_max_age + self.key_refresh;
        let lead = self.key_lead.unwrap_or(min_lead);
        if self.key_refresh.is_zero() || lead < min_lead {
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
            self.algorithm,
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
                crate::http::LoginSettings {
                    limits: self.sign_in_limits,
                    session_ttl: self.session_ttl,
                    concurrency: self.sign_in_concurrency,
                },
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
        let knogin = Knogin(Arc::new(Inner {
            metadata,
            admin_audience: format!("{}/v1/platform", self.issuer),
            issuer: self.issuer,
            audiences,
            store: self.store,
            clock: self.clock,
            master_key: self.master_key,
            scopes: self.scopes,
            secret_grace: self.secret_grace,
            body_limit: self.body_limit,
            trusted_proxies: self.trusted_proxies,
            jwks_cache_control: http::HeaderValue::from_str(&format!(
                "public, max-age={}",
                self.jwks_max_age.as_secs()
            ))
            .expect("a number is a valid header value"),
            users,
            #[cfg(feature = "password-login")]
            password_login,
            keys: KeySettings {
                refresh: self.key_refresh,
                lead,
                token_lifetime: self.lifetimes.longest().max(super::MAX_ADMIN_TOKEN_TTL),
                algorithm: self.algorithm,
            },
            lifetimes: self.lifetimes,
            flow: self.flow,
            auth_limit: self.auth_limit,
            webhooks: self.webhooks,
            publications: crate::webhooks::Publications::default(),
            graphql: self.graphql,
            docs,
            docs_cache: crate::docs::DocsCache::default(),
            live: Live::new(
                ring,
                revoked.into_iter().collect(),
                now.plus(self.key_refresh),
            ),
        }));
        knogin.self_test()?;
        Ok(knogin)
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
