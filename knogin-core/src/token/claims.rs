//! The claims every token carries, and minting them with a key parsed once.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::id::TenantId;
use crate::keys::{ALGORITHM, SigningKey};
use crate::random;

/// The JOSE `typ` of an access token (RFC 9068 §2.1).
pub(crate) const TOKEN_TYPE: &str = "at+jwt";

/// The claims of an access token, in the RFC 9068 shape plus the `tenant` it acts in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The issuer URL, verbatim.
    pub iss: String,
    /// Who the token acts for: a user, or the client itself for machine tokens.
    pub sub: String,
    /// The audience: the issuer's own URL, since this server is the resource server.
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Not before, seconds since the epoch.
    pub nbf: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// A unique id for this token.
    pub jti: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// Space-separated scopes.
    pub scope: String,
    /// The tenant the token acts in.
    pub tenant: String,
}

impl AccessClaims {
    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.split(' ').any(|s| s == scope)
    }
}

/// What a new token is for. The issuer fills in `iss`, `aud`, times and `jti`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    /// The tenant it acts in.
    pub tenant: TenantId,
    /// Its subject.
    pub subject: String,
    /// The client it is issued to.
    pub client_id: String,
    /// Its scopes.
    pub scopes: Vec<String>,
    /// How long it lives.
    pub ttl: Duration,
}

/// A signed token and when it expires. `Debug` and `Display` do not show the token.
pub struct AccessToken {
    token: SecretString,
    expires_at: Timestamp,
}

impl AccessToken {
    /// The compact JWT, to hand to its holder.
    pub fn expose(&self) -> &str {
        self.token.expose_secret()
    }

    /// When it stops being accepted.
    pub fn expires_at(&self) -> Timestamp {
        self.expires_at
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

/// Signs `grant` as an RS256 JWT with `key`.
pub(crate) fn mint(
    key: &SigningKey,
    issuer: &str,
    now: Timestamp,
    grant: &TokenGrant,
) -> AccessToken {
    let expires_at = now.plus(grant.ttl);
    let claims = AccessClaims {
        iss: issuer.to_owned(),
        sub: grant.subject.clone(),
        aud: issuer.to_owned(),
        exp: expires_at.unix(),
        nbf: now.unix(),
        iat: now.unix(),
        jti: random::hex(16),
        client_id: grant.client_id.clone(),
        scope: grant.scopes.join(" "),
        tenant: grant.tenant.as_str().to_owned(),
    };
    let header = Header {
        alg: ALGORITHM,
        typ: TOKEN_TYPE,
        kid: key.kid().as_str(),
    };
    let mut jwt = encode_part(&header);
    jwt.push('.');
    jwt.push_str(&encode_part(&claims));
    let signature = key.sign(jwt.as_bytes());
    jwt.push('.');
    jwt.push_str(&URL_SAFE_NO_PAD.encode(signature));
    AccessToken {
        token: SecretString::from(jwt),
        expires_at,
    }
}

fn encode_part(value: &impl Serialize) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("token parts serialize"))
}
