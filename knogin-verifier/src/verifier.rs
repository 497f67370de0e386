//! [`Verifier`]: the policy a resource server applies to each token.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use knogin_time::{Clock, SystemClock};

use crate::claims::{UnverifiedToken, check_times, is_access_token_type};
use crate::jose::{DpopError, RequestProofPolicy, check_request_proof};
use crate::{
    AccessClaims, MemoryProofReplay, NoToken, ProofReplay, RequestHead, ResponseBody, TokenScheme,
    VerifyError, VerifyingKey, presented_token,
};

/// Where a [`Verifier`] gets the key a token's `kid` names.
#[async_trait]
pub trait KeySource: Send + Sync {
    /// The key `kid` names, if the issuer publishes one (a source may refresh to find it).
    async fn key(&self, kid: &str) -> Option<VerifyingKey>;
}

/// Asks the issuer whether a token that passed every local check is still active: what local
/// verification cannot see. A verifier checks signatures, times and claims against the JWKS it
/// holds; it cannot know that the issuer revoked a `jti`, cut off an app or a tenant, or (until
/// its next fetch) withdrew a key. With a check, [`Verifier::verify`] asks it too (knogin-hyper's
/// `IntrospectionCheck` asks the issuer's introspection endpoint, with a short, bounded cache).
#[async_trait]
pub trait RevocationCheck: Send + Sync {
    /// Whether `token`, whose `claims` verified locally, is still active at its issuer; `Err`
    /// when the issuer could not be asked (the token is then refused).
    async fn is_active(
        &self,
        token: &str,
        claims: &AccessClaims,
    ) -> Result<bool, Box<dyn std::error::Error + Send + Sync>>;
}

/// The default longest token looked at, in bytes.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The default clock skew tolerated on `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// The default age beyond which a DPoP proof is refused.
pub const DEFAULT_DPOP_MAX_AGE: Duration = Duration::from_secs(300);

/// Checks knogin access tokens for one resource server (see the module docs).
pub struct Verifier {
    keys: Arc<dyn KeySource>,
    issuer: String,
    audience: String,
    leeway: Duration,
    max_token_bytes: usize,
    clock: Arc<dyn Clock>,
    resource_metadata: Option<String>,
    revocations: Option<Arc<dyn RevocationCheck>>,
    origins: Vec<String>,
    proofs: Arc<dyn ProofReplay>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway", &self.leeway)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier for tokens of `issuer` whose audience is the issuer (knogin's default), with
    /// keys from `keys`, a leeway of [`DEFAULT_LEEWAY`] and a cap of [`DEFAULT_MAX_TOKEN_BYTES`].
    pub fn new(issuer: impl Into<String>, keys: Arc<dyn KeySource>) -> Self {
        let issuer = issuer.into();
        Self {
            keys,
            audience: issuer.clone(),
            issuer,
            leeway: DEFAULT_LEEWAY,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            clock: Arc::new(SystemClock),
            resource_metadata: None,
            revocations: None,
            origins: Vec::new(),
            proofs: Arc::new(MemoryProofReplay::default()),
        }
    }

    /// The public origins this resource server is reached at (as `https://api.example.com`),
    /// which a DPoP proof's `htu` may name. The origin a request names (its `Host`) is accepted
    /// too, over HTTPS; set these when a proxy in front changes the host or the scheme.
    #[must_use]
    pub fn dpop_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// Where the DPoP proofs taken are recorded, so each is taken once (default: a bounded
    /// [`MemoryProofReplay`], one process's memory; share one between instances).
    #[must_use]
    pub fn proof_replay(mut self, replay: Arc<dyn ProofReplay>) -> Self {
        self.proofs = replay;
        self
    }

    /// Asks `check` about every token that passes the local checks, so revocations show here
    /// too (at the cost of a request to the issuer per token the check does not cache). Without
    /// one, a revoked token keeps verifying until it expires: keep access tokens short.
    #[must_use]
    pub fn revocation_check(mut self, check: Arc<dyn RevocationCheck>) -> Self {
        self.revocations = Some(check);
        self
    }

    /// The URL of the resource's RFC 9728 metadata
    /// ([`ProtectedResource::metadata_url`](crate::ProtectedResource::metadata_url)), named in every refusal's challenge.
    #[must_use]
    pub fn resource_metadata(mut self, url: impl Into<String>) -> Self {
        self.resource_metadata = Some(url.into());
        self
    }

    /// The RFC 6750 answer to `refusal`: 401 or 403 with its `WWW-Authenticate` challenge
    /// (naming the resource metadata when set) and a problem body.
    pub fn refusal(&self, refusal: VerifyError) -> http::Response<ResponseBody> {
        refusal.into_response(self.resource_metadata.as_deref())
    }

    /// The audience this resource server accepts (the `aud` it was configured under at the
    /// issuer; default: the issuer).
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// The clock skew tolerated on `exp`, `nbf` and `iat`.
    #[must_use]
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The longest token looked at; longer ones are refused before any parsing.
    #[must_use]
    pub fn max_token_bytes(mut self, bytes: usize) -> Self {
        self.max_token_bytes = bytes;
        self
    }

    /// The clock (default: the system's).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The issuer trusted.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Verifies `token` and, when given, that it carries `scope`.
    pub async fn verify(
        &self,
        token: &str,
        scope: Option<&str>,
    ) -> Result<AccessClaims, VerifyError> {
        let token_header = UnverifiedToken::parse(token, self.max_token_bytes)?;
        if !is_access_token_type(token_header.typ()) {
            return Err(VerifyError::WrongType);
        }
        let kid = token_header.kid().ok_or(VerifyError::UnknownKey)?;
        let key = self.keys.key(kid).await.ok_or(VerifyError::UnknownKey)?;
        let claims = token_header.verify(&key)?;
        if claims.iss != self.issuer {
            return Err(VerifyError::WrongIssuer);
        }
        if !claims.aud.contains(&self.audience) {
            return Err(VerifyError::WrongAudience);
        }
        check_times(&claims, self.clock.now(), self.leeway)?;
        if let Some(scope) = scope
            && !claims.has_scope(scope)
        {
            return Err(VerifyError::InsufficientScope(scope.to_owned()));
        }
        if let Some(check) = &self.revocations {
            match check.is_active(token, &claims).await {
                Ok(true) => {}
                Ok(false) => return Err(VerifyError::Revoked),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot ask the issuer whether a token is active");
                    return Err(VerifyError::StatusUnknown);
                }
            }
        }
        Ok(claims)
    }

    /// Verifies the token `request` presents (an [`http::Request`] or its
    /// [`Parts`](http::request::Parts)) for `scope`: as `Authorization: Bearer` (RFC 6750 §2.1)
    /// or, for a DPoP-bound token, as `Authorization: DPoP` with a `DPoP` proof of this request
    /// by the token's key (RFC 9449 §7), each proof taken once. A bound token presented as a
    /// bearer is refused, as is an unbound one presented as DPoP. Server nonces are not asked
    /// for.
    pub async fn verify_request(
        &self,
        request: &impl RequestHead,
        scope: Option<&str>,
    ) -> Result<AccessClaims, VerifyError> {
        let (scheme, token) = presented_token(request.headers()).map_err(|e| match e {
            NoToken::Missing | NoToken::Malformed => VerifyError::Missing,
        })?;
        let claims = self.verify(token, scope).await?;
        match (scheme, claims.dpop_jkt()) {
            (TokenScheme::Bearer, None) => {}
            (TokenScheme::Bearer, Some(_)) => return Err(VerifyError::DpopBound),
            (_, None) => return Err(VerifyError::NotDpopBound),
            (_, Some(jkt)) => self.check_binding(request, token, jkt).await?,
        }
        Ok(claims)
    }

    /// Checks that `request` proves possession of the key `jkt` that `token` is bound to.
    async fn check_binding(
        &self,
        request: &impl RequestHead,
        token: &str,
        jkt: &str,
    ) -> Result<(), VerifyError> {
        let origins: Vec<&str> = self.origins.iter().map(String::as_str).collect();
        let now = self.clock.now();
        let policy = RequestProofPolicy {
            origins: &origins,
            now,
            max_age: DEFAULT_DPOP_MAX_AGE,
            leeway: self.leeway,
        };
        let proof =
            check_request_proof(request, &policy, Some(token))?.ok_or(DpopError::Missing)?;
        if proof.jkt != jkt {
            return Err(DpopError::OtherKey.into());
        }
        let until = proof.iat.plus(DEFAULT_DPOP_MAX_AGE + self.leeway);
        match self.proofs.first_use(jkt, &proof.jti, now, until).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(DpopError::Reused.into()),
            Err(e) => {
                tracing::warn!(error = %e, "cannot record a DPoP proof as used");
                Err(VerifyError::ReplayUnknown)
            }
        }
    }
}
