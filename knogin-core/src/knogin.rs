//! [`Knogin`]: the handle an embedder builds once and clones into every adapter.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::id::TenantId;
use crate::keys::{KeyRing, KeyRingError, MasterKey};
use crate::scope::{ADMIN_SCOPE, ScopeCatalog};
use crate::store::{Store, StoreError};
use crate::token::{self, AccessClaims, AccessToken, TokenError, TokenGrant};

/// The default limit on request bodies: 64 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// The contract, ready to serve: its store, clock, keys and settings.
///
/// Cheap to clone (one `Arc`). It is a `tower::Service` over `http::Request<B>` for any body `B`
/// (see [`crate::http`]); the adapters `knogin-axum` and `knogin-hyper` only mount it.
#[derive(Clone)]
pub struct Knogin(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    pub(crate) issuer: String,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) keys: KeyRing,
    pub(crate) scopes: ScopeCatalog,
    pub(crate) secret_grace: Duration,
    pub(crate) body_limit: usize,
    /// `Cache-Control` of the JWKS answers, built once.
    pub(crate) jwks_cache_control: http::HeaderValue,
}

impl fmt::Debug for Knogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Knogin")
            .field("issuer", &self.0.issuer)
            .field("signing_key", self.0.keys.signer().kid())
            .finish_non_exhaustive()
    }
}

/// Why [`Builder::build`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The issuer is not an absolute `http` or `https` URL.
    #[error("the issuer {0:?} must be an absolute http or https URL")]
    InvalidIssuer(String),
    /// The signing keys could not be loaded or created.
    #[error(transparent)]
    Keys(#[from] KeyRingError),
}

/// Why an admin token could not be minted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MintError {
    /// The scopes include the reserved admin scope, which only [`Knogin::mint_admin_token`] grants.
    #[error("the scope {ADMIN_SCOPE:?} can only be granted by mint_admin_token")]
    ReservedScope,
    /// The tenant could not be created.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Builds a [`Knogin`]. Start with [`Knogin::builder`].
#[must_use]
pub struct Builder {
    issuer: String,
    store: Arc<dyn Store>,
    master_key: MasterKey,
    clock: Arc<dyn Clock>,
    scopes: ScopeCatalog,
    secret_grace: Duration,
    body_limit: usize,
    jwks_max_age: Duration,
    initial_signing_key: Option<Vec<u8>>,
}

impl Builder {
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

    /// How long a rotated-out client secret keeps working (default: zero, it stops at once).
    pub fn secret_rotation_grace(mut self, grace: Duration) -> Self {
        self.secret_grace = grace;
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

    /// The PKCS#8 DER private key to store as the first signing key when the store has none,
    /// instead of generating one. Meant for tests, which should not generate RSA keys each run.
    pub fn initial_signing_key(mut self, pkcs8_der: Vec<u8>) -> Self {
        self.initial_signing_key = Some(pkcs8_der);
        self
    }

    /// Checks the settings and loads the signing keys, creating the first one on a new store.
    pub async fn build(self) -> Result<Knogin, BuildError> {
        let valid_issuer = url::Url::parse(&self.issuer)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !valid_issuer {
            return Err(BuildError::InvalidIssuer(self.issuer));
        }
        let keys = KeyRing::load_or_create(
            &*self.store,
            &self.master_key,
            self.clock.now(),
            self.initial_signing_key.as_deref(),
        )
        .await?;
        Ok(Knogin(Arc::new(Inner {
            issuer: self.issuer,
            store: self.store,
            clock: self.clock,
            keys,
            scopes: self.scopes,
            secret_grace: self.secret_grace,
            body_limit: self.body_limit,
            jwks_cache_control: http::HeaderValue::from_str(&format!(
                "public, max-age={}",
                self.jwks_max_age.as_secs()
            ))
            .expect("a number is a valid header value"),
        })))
    }
}

impl Knogin {
    /// Starts building a handle for `issuer` (used verbatim as the tokens' `iss`), keeping its
    /// data in `store` and sealing private keys with `master_key`.
    ///
    /// ```no_run
    /// # async fn example(store: std::sync::Arc<dyn knogin_core::store::Store>) -> Result<(), knogin_core::BuildError> {
    /// use knogin_core::{Knogin, ScopeCatalog, keys::MasterKey};
    ///
    /// let knogin = Knogin::builder("https://auth.example", store, MasterKey::generate())
    ///     .scopes(ScopeCatalog::reference())
    ///     .build()
    ///     .await?;
    /// assert_eq!(knogin.issuer(), "https://auth.example");
    /// # Ok(()) }
    /// ```
    pub fn builder(
        issuer: impl Into<String>,
        store: Arc<dyn Store>,
        master_key: MasterKey,
    ) -> Builder {
        Builder {
            issuer: issuer.into(),
            store,
            master_key,
            clock: Arc::new(SystemClock),
            scopes: ScopeCatalog::default(),
            secret_grace: Duration::ZERO,
            body_limit: DEFAULT_BODY_LIMIT,
            jwks_max_age: Duration::from_secs(300),
            initial_signing_key: None,
        }
    }

    /// The issuer URL.
    pub fn issuer(&self) -> &str {
        &self.0.issuer
    }

    /// The scope catalog.
    pub fn scopes(&self) -> &ScopeCatalog {
        &self.0.scopes
    }

    /// The signing keys in force.
    pub fn keys(&self) -> &KeyRing {
        &self.0.keys
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.0.store
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.0.clock
    }

    /// Mints an admin token for `tenant` (creating the tenant if it does not exist): it carries
    /// the reserved `platform:admin` scope. Only the operator should call this.
    pub async fn mint_admin_token(
        &self,
        tenant: &TenantId,
        ttl: Duration,
    ) -> Result<AccessToken, MintError> {
        let now = self.0.clock.now();
        self.0.store.ensure_tenant(tenant, now).await?;
        let grant = TokenGrant {
            tenant: tenant.clone(),
            subject: "operator".to_owned(),
            client_id: "operator".to_owned(),
            scopes: vec![ADMIN_SCOPE.to_owned()],
            ttl,
        };
        Ok(token::mint(
            self.0.keys.signer(),
            &self.0.issuer,
            now,
            &grant,
        ))
    }

    /// Mints an access token for `grant`, creating its tenant if needed. Refuses the reserved
    /// admin scope.
    pub async fn mint_access_token(&self, grant: &TokenGrant) -> Result<AccessToken, MintError> {
        if grant.scopes.iter().any(|s| s == ADMIN_SCOPE) {
            return Err(MintError::ReservedScope);
        }
        let now = self.0.clock.now();
        self.0.store.ensure_tenant(&grant.tenant, now).await?;
        Ok(token::mint(
            self.0.keys.signer(),
            &self.0.issuer,
            now,
            grant,
        ))
    }

    /// Verifies a bearer token this issuer minted: signature, algorithm, type, issuer, audience,
    /// and time (with [`token::LEEWAY`] of skew).
    pub fn verify_token(&self, token: &str) -> Result<AccessClaims, TokenError> {
        token::verify(&self.0.keys, &self.0.issuer, self.0.clock.now(), token)
    }
}
