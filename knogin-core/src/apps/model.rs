//! The app record and its parts.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::clock::Timestamp;
use crate::id::{AppId, TenantId};
use crate::scope::ScopeSet;
use crate::validation::ValidationErrors;

/// An OAuth grant an app may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    /// RFC 6749 §4.1, for integrations acting for a signed-in user.
    AuthorizationCode,
    /// RFC 6749 §4.4, for headless integrations.
    ClientCredentials,
    /// RFC 8693 token exchange, for a service that exchanges a token it was given for one of
    /// its own to call another resource server, acting for the same subject.
    #[serde(rename = "urn:ietf:params:oauth:grant-type:token-exchange")]
    TokenExchange,
}

/// The `grant_type` of token exchange (RFC 8693 §2.1).
pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

impl GrantType {
    /// The grant's name on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::ClientCredentials => "client_credentials",
            Self::TokenExchange => TOKEN_EXCHANGE,
        }
    }

    /// Parses a grant name; `None` for anything not supported.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "authorization_code" => Some(Self::AuthorizationCode),
            "client_credentials" => Some(Self::ClientCredentials),
            TOKEN_EXCHANGE => Some(Self::TokenExchange),
            _ => None,
        }
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an app authenticates at the token, pushed authorization, introspection and revocation
/// endpoints (RFC 7591 `token_endpoint_auth_method`).
///
/// The two secret methods are one credential presented two ways: an app registered with either
/// may use both. A `private_key_jwt` app has no secret and signs an assertion with its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuthMethod {
    /// The client secret in HTTP Basic (RFC 6749 §2.3.1). The default.
    #[default]
    ClientSecretBasic,
    /// The client secret in the form body.
    ClientSecretPost,
    /// A JWT signed with the app's private key (RFC 7523 §2.2, OpenID Connect Core §9).
    PrivateKeyJwt,
}

impl TokenEndpointAuthMethod {
    /// Every method, as metadata lists them.
    pub const ALL: [Self; 3] = [
        Self::ClientSecretBasic,
        Self::ClientSecretPost,
        Self::PrivateKeyJwt,
    ];

    /// The method's name on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
        }
    }

    /// Parses a method name; `None` for anything not supported.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Whether the app holds a client secret.
    pub const fn uses_secret(self) -> bool {
        !matches!(self, Self::PrivateKeyJwt)
    }
}

/// Where a `private_key_jwt` app's public keys are.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientKeys {
    /// A JWK Set registered with the app (RFC 7591 `jwks`).
    Jwks(ClientJwks),
    /// Where the app publishes its JWK Set (RFC 7591 `jwks_uri`): fetched when a client
    /// assertion first needs it, then cached (see [`Builder::client_jwks_transport`]).
    ///
    /// [`Builder::client_jwks_transport`]: crate::Builder::client_jwks_transport
    JwksUri(ClientJwksUri),
}

/// A client's registered `jwks_uri`: an absolute `https` URL without credentials or fragment
/// (`http` and private addresses only where the handle allows private webhook targets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientJwksUri(url::Url);

impl ClientJwksUri {
    /// Checks `s` with the rules for outbound targets ([`check_target`]); `allow_private` lets
    /// `http` and non-public addresses pass.
    ///
    /// [`check_target`]: crate::webhooks::check_target
    pub fn parse(s: &str, allow_private: bool) -> Result<Self, crate::webhooks::TargetError> {
        crate::webhooks::check_target(s, allow_private).map(Self)
    }

    /// A URI read back from the store, trusted as registered; `None` if it is not a URL at all.
    pub fn from_stored(s: &str) -> Option<Self> {
        url::Url::parse(s).ok().map(Self)
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// A client's registered JWK Set: its keys, read once, and the document as registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientJwks {
    keys: knogin_verifier::jose::PublicJwkSet,
    document: serde_json::Value,
}

impl ClientJwks {
    /// Reads a JWK Set document: every key a public signature key this server verifies with.
    pub fn parse(document: serde_json::Value) -> Result<Self, knogin_verifier::jose::JwkError> {
        Ok(Self {
            keys: knogin_verifier::jose::PublicJwkSet::from_json(&document)?,
            document,
        })
    }

    /// The keys.
    pub fn keys(&self) -> &knogin_verifier::jose::PublicJwkSet {
        &self.keys
    }

    /// The document as registered.
    pub fn document(&self) -> &serde_json::Value {
        &self.document
    }
}

/// A redirect URI that passed the registration rules: absolute, `https` (or `http` to a loopback
/// host), no fragment, no credentials. Build one with [`RedirectUri::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct RedirectUri(String);

impl RedirectUri {
    /// The longest redirect URI accepted, in bytes.
    pub const MAX_LEN: usize = 2048;

    /// Checks `s` against the registration rules; the error says which one it breaks.
    ///
    /// What is stored is exactly what the authorization endpoint will compare byte for byte and
    /// put in a `Location` header, so `s` must already be in the form the URL parser gives it:
    /// no whitespace or control characters, a lowercase scheme and host, no default port.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.len() > Self::MAX_LEN {
            return Err("is longer than 2048 characters".into());
        }
        if s.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err("must not contain spaces or control characters".into());
        }
        let url = url::Url::parse(s).map_err(|_| "is not an absolute URI".to_owned())?;
        if url.as_str() != s {
            return Err(format!(
                "must be written in normalized form, as {:?}",
                url.as_str()
            ));
        }
        Self::check(&url).map_err(str::to_owned)?;
        Ok(Self(s.to_owned()))
    }

    /// A redirect URI read back from the store, trusted as registered: a rule tightened later
    /// must not make stored apps unreadable.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    fn check(url: &url::Url) -> Result<(), &'static str> {
        if url.fragment().is_some() {
            return Err("must not contain a fragment");
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not contain credentials");
        }
        match url.scheme() {
            "https" if url.host().is_some() => Ok(()),
            "http" if is_loopback(url) => Ok(()),
            "http" => Err("must use https unless the host is a loopback address"),
            _ => Err("must use the https scheme"),
        }
    }

    /// The URI as registered, byte for byte.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `url`'s host is a loopback address or `localhost`.
pub(crate) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Tenant-approved behaviour of an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "each is an independent governance switch, named as the contract's JSON names it"
)]
pub struct Governance {
    /// Whether an admin may mint service tokens for the app. Default `false`.
    pub allow_service_tokens: bool,
    /// Whether authorization requests must carry a PKCE challenge. Default `true`.
    pub enforce_pkce: bool,
    /// The lifetime of the app's access tokens in seconds, instead of the embedder's default
    /// (and never above the embedder's maximum). Default `None`: the embedder's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_ttl: Option<u32>,
    /// Whether the app is a resource server that may introspect every access token of its
    /// tenant (RFC 7662 §4); otherwise it introspects only its own. Default `false`, and then
    /// left out of the JSON (the contract's governance shape is unchanged for other apps).
    #[schema(required = false)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_token_introspection: bool,
    /// Whether the app's access tokens must be DPoP-bound (RFC 9449): its token requests
    /// without a `DPoP` proof are refused. Default `false`, and then left out of the JSON.
    #[schema(required = false)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub require_dpop: bool,
    /// Whether the app must push its authorization requests (RFC 9126) before sending the
    /// browser: an authorization request without a `request_uri` is refused. Default `false`,
    /// and then left out of the JSON.
    #[schema(required = false)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub require_pushed_authorization_requests: bool,
    /// A security profile the app follows, whose rules apply on top of the switches above:
    /// `fapi2` (the FAPI 2.0 Security Profile). Default `None`, and then left out of the JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_profile: Option<SecurityProfile>,
    /// Whether each use of a refresh token replaces it with a new one (and a rotated-out token
    /// presented again revokes its family). When `false`, a refresh token is kept across uses
    /// until its family's absolute lifetime, each use moving its idle expiry on, and the token
    /// response carries no new one (the FAPI 2.0 Security Profile's advice for confidential
    /// clients, whose refresh tokens are bound to their authentication). Default `true`, and
    /// then left out of the JSON.
    #[schema(required = false)]
    #[serde(skip_serializing_if = "is_true")]
    pub rotate_refresh_tokens: bool,
}

/// Whether `value` is `true`: a default left out of the JSON.
#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_true(value: &bool) -> bool {
    *value
}

/// A security profile an app's governance can select.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SecurityProfile {
    /// The FAPI 2.0 Security Profile: pushed authorization requests, PKCE S256,
    /// `private_key_jwt` client authentication, DPoP-bound access tokens, and authorization
    /// codes that live at most 60 seconds.
    Fapi2,
}

impl SecurityProfile {
    /// The profile's name on the wire and in the store.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Fapi2 => "fapi2",
        }
    }

    /// Reads a profile name; `None` for anything else.
    pub fn parse(name: &str) -> Option<Self> {
        (name == "fapi2").then_some(Self::Fapi2)
    }
}

/// The longest an authorization code of a FAPI 2.0 app lives (FAPI 2.0 Security Profile §5.3.2.1).
pub const FAPI2_MAX_CODE_TTL: Duration = Duration::from_secs(60);

impl Governance {
    /// Whether the app follows the FAPI 2.0 profile.
    pub fn is_fapi2(&self) -> bool {
        self.security_profile == Some(SecurityProfile::Fapi2)
    }

    /// Whether authorization requests must carry a PKCE challenge.
    pub fn requires_pkce(&self) -> bool {
        self.enforce_pkce || self.is_fapi2()
    }

    /// Whether access tokens must be DPoP-bound.
    pub fn requires_dpop(&self) -> bool {
        self.require_dpop || self.is_fapi2()
    }

    /// Whether authorization requests must be pushed.
    pub fn requires_pushed_requests(&self) -> bool {
        self.require_pushed_authorization_requests || self.is_fapi2()
    }
}

impl Default for Governance {
    fn default() -> Self {
        Self {
            allow_service_tokens: false,
            enforce_pkce: true,
            access_token_ttl: None,
            allow_token_introspection: false,
            require_dpop: false,
            require_pushed_authorization_requests: false,
            security_profile: None,
            rotate_refresh_tokens: true,
        }
    }
}

/// A new value for a setting that falls back to a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Override<T> {
    /// Use this value.
    Value(T),
    /// Go back to the default (JSON `null`).
    Default,
}

impl<T> Override<T> {
    /// The value, or `None` for the default.
    pub fn value(self) -> Option<T> {
        match self {
            Self::Value(v) => Some(v),
            Self::Default => None,
        }
    }
}

/// A change to [`Governance`]: each `Some` field replaces the current value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, utoipa::ToSchema)]
pub struct GovernancePatch {
    /// New value of [`Governance::allow_service_tokens`].
    pub allow_service_tokens: Option<bool>,
    /// New value of [`Governance::enforce_pkce`].
    pub enforce_pkce: Option<bool>,
    /// New value of [`Governance::access_token_ttl`]; `null` goes back to the default.
    #[schema(value_type = Option<u32>)]
    pub access_token_ttl: Option<Override<u32>>,
    /// New value of [`Governance::allow_token_introspection`].
    pub allow_token_introspection: Option<bool>,
    /// New value of [`Governance::require_dpop`].
    pub require_dpop: Option<bool>,
    /// New value of [`Governance::require_pushed_authorization_requests`].
    pub require_pushed_authorization_requests: Option<bool>,
    /// New value of [`Governance::security_profile`]; `null` drops the profile.
    #[schema(value_type = Option<String>)]
    pub security_profile: Option<Override<SecurityProfile>>,
    /// New value of [`Governance::rotate_refresh_tokens`].
    pub rotate_refresh_tokens: Option<bool>,
}

impl GovernancePatch {
    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.allow_service_tokens.is_none()
            && self.enforce_pkce.is_none()
            && self.access_token_ttl.is_none()
            && self.allow_token_introspection.is_none()
            && self.require_dpop.is_none()
            && self.require_pushed_authorization_requests.is_none()
            && self.security_profile.is_none()
            && self.rotate_refresh_tokens.is_none()
    }

    /// The patch, or every rule it breaks: it must change something, and an `access_token_ttl`
    /// must lie between 1 second and `max_access_token_ttl`.
    pub fn validate(self, max_access_token_ttl: Duration) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if self.is_empty() {
            errors.push(
                "body",
                "must set allow_service_tokens, enforce_pkce, access_token_ttl, \
                 allow_token_introspection, require_dpop, \
                 require_pushed_authorization_requests, security_profile or \
                 rotate_refresh_tokens",
            );
        }
        if let Some(Override::Value(ttl)) = self.access_token_ttl {
            let max = max_access_token_ttl.as_secs();
            if ttl == 0 || u64::from(ttl) > max {
                errors.push(
                    "access_token_ttl",
                    format!("must be between 1 and {max} seconds, or null for the default"),
                );
            }
        }
        errors.into_result(self)
    }

    /// `current` with this patch applied.
    #[must_use]
    pub fn apply(&self, current: Governance) -> Governance {
        Governance {
            allow_service_tokens: self
                .allow_service_tokens
                .unwrap_or(current.allow_service_tokens),
            enforce_pkce: self.enforce_pkce.unwrap_or(current.enforce_pkce),
            access_token_ttl: self
                .access_token_ttl
                .map_or(current.access_token_ttl, Override::value),
            allow_token_introspection: self
                .allow_token_introspection
                .unwrap_or(current.allow_token_introspection),
            require_dpop: self.require_dpop.unwrap_or(current.require_dpop),
            require_pushed_authorization_requests: self
                .require_pushed_authorization_requests
                .unwrap_or(current.require_pushed_authorization_requests),
            security_profile: self
                .security_profile
                .map_or(current.security_profile, Override::value),
            rotate_refresh_tokens: self
                .rotate_refresh_tokens
                .unwrap_or(current.rotate_refresh_tokens),
        }
    }
}

/// What happens to an app's earlier client secrets when it gets a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PreviousSecrets {
    /// They keep working until the handle's secret-rotation grace ends (at once without one).
    #[default]
    KeepForGrace,
    /// They stop working at once, whatever the grace: for a secret that leaked. Other
    /// instances on the same store may accept them for the handle's client-cache time (see
    /// [`Builder::client_cache`](crate::Builder::client_cache)).
    RevokeNow,
}

/// A registered app, as stored and as shown to admins (never with a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    /// Its client id.
    pub client_id: AppId,
    /// The tenant that owns it.
    pub tenant_id: TenantId,
    /// Its display name.
    pub name: String,
    /// The grants it may use.
    pub grant_types: Vec<GrantType>,
    /// Where authorization responses may be sent.
    pub redirect_uris: Vec<RedirectUri>,
    /// The catalog scopes it may ask for.
    pub requested_scopes: ScopeSet,
    /// When it was registered.
    pub created_at: Timestamp,
    /// Its governance flags.
    pub governance: Governance,
    /// How it authenticates at the OAuth endpoints.
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// Its public keys: set exactly when it authenticates with `private_key_jwt`.
    pub client_keys: Option<ClientKeys>,
}

impl App {
    /// Whether `uri` is, byte for byte, one of its redirect URIs (RFC 6749 §3.1.2.3): the only
    /// place an authorization response may go.
    pub fn redirects_to(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r.as_str() == uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_rules() {
        for ok in [
            "https://integrator.example/callback",
            "https://integrator.example:8443/cb?x=1",
            "http://127.0.0.1:9000/cb",
            "http://[::1]/cb",
            "http://localhost/cb",
        ] {
            assert!(RedirectUri::parse(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("/callback", "is not an absolute URI"),
            ("https://a.example/cb#frag", "must not contain a fragment"),
            (
                "http://integrator.example/cb",
                "must use https unless the host is a loopback address",
            ),
            ("ftp://a.example/cb", "must use the https scheme"),
            (
                "https://user:pw@a.example/cb",
                "must not contain credentials",
            ),
        ] {
            assert_eq!(RedirectUri::parse(bad), Err(why.to_owned()), "{bad}");
        }
        for bad in [
            " https://app.example/cb",
            "https://app.example/cb\n",
            "https://app.exa\tmple/cb",
            "https://app.example/c b",
        ] {
            assert_eq!(
                RedirectUri::parse(bad),
                Err("must not contain spaces or control characters".to_owned()),
                "{bad:?}"
            );
        }
        assert_eq!(
            RedirectUri::parse("https://App.Example:443/cb"),
            Err(r#"must be written in normalized form, as "https://app.example/cb""#.to_owned())
        );
    }

    #[test]
    fn governance_defaults_and_patch() {
        let g = Governance::default();
        assert!(!g.allow_service_tokens);
        assert!(g.enforce_pkce);
        let p = GovernancePatch {
            allow_service_tokens: Some(true),
            access_token_ttl: Some(Override::Value(600)),
            ..GovernancePatch::default()
        };
        let patched = p.apply(g);
        assert_eq!(
            patched,
            Governance {
                allow_service_tokens: true,
                enforce_pkce: true,
                access_token_ttl: Some(600),
                allow_token_introspection: false,
                require_dpop: false,
                require_pushed_authorization_requests: false,
                security_profile: None,
                rotate_refresh_tokens: true,
            }
        );
        let reset = GovernancePatch {
            access_token_ttl: Some(Override::Default),
            ..GovernancePatch::default()
        };
        assert_eq!(reset.apply(patched).access_token_ttl, None);
        assert!(GovernancePatch::default().is_empty());
    }

    #[test]
    fn access_token_ttl_is_bounded_by_the_embedders_maximum() {
        let max = Duration::from_secs(7200);
        let with = |ttl| GovernancePatch {
            access_token_ttl: Some(ttl),
            ..GovernancePatch::default()
        };
        assert!(with(Override::Value(7200)).validate(max).is_ok());
        assert!(with(Override::Default).validate(max).is_ok());
        for bad in [0, 7201] {
            let errors = with(Override::Value(bad)).validate(max).unwrap_err();
            assert_eq!(errors.0[0].field, "access_token_ttl");
        }
        assert!(GovernancePatch::default().validate(max).is_err());
    }
}
