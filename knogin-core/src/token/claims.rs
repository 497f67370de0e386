//! The claims every token carries, and minting them with a key parsed once.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use knogin_verifier::{AccessClaims, ActorClaim, Audience};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::clock::Timestamp;
use crate::id::TenantId;
use crate::keys::{SigningAlgorithm, SigningKey};
use crate::random;
use crate::scope::ScopeSet;

/// The JOSE `typ` of an access or service token (RFC 9068 §2.1).
pub(crate) const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// The JOSE `typ` of an admin token: explicitly typed apart (RFC 8725 §3.11, §3.12), so no
/// access token can pass an admin check and no admin token passes a resource server's.
pub(crate) const ADMIN_TOKEN_TYPE: &str = "knogin-admin+jwt";

/// Which kind of token a JWT of this issuer is, by its `typ`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenKind {
    /// An OAuth access token or a service token (`typ: at+jwt`): what integrators hold.
    Access,
    /// An operator's admin token for one tenant (`typ: knogin-admin+jwt`).
    Admin,
}

impl TokenKind {
    pub(crate) fn typ(self) -> &'static str {
        match self {
            Self::Access => ACCESS_TOKEN_TYPE,
            Self::Admin => ADMIN_TOKEN_TYPE,
        }
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
    /// Its scopes: validated tokens, so a space can never smuggle one in.
    pub scopes: ScopeSet,
    /// How long it lives.
    pub ttl: Duration,
    /// The resource server it is for (RFC 8707), one of the issuer's audiences; `None` for the
    /// default audience (the first configured, the issuer when none is).
    pub resource: Option<String>,
    /// The thumbprint of the DPoP key it is bound to (its `cnf.jkt`, RFC 9449 §6); `None` for a
    /// bearer token.
    pub dpop_jkt: Option<String>,
    /// Who acts for the subject (its `act` claim, RFC 8693 §4.1), for a token issued by token
    /// exchange; `None` otherwise.
    pub actor: Option<ActorClaim>,
}

/// A signed token and when it expires. `Debug` and `Display` do not show the token.
pub struct AccessToken {
    token: SecretString,
    jti: String,
    expires_at: Timestamp,
    algorithm: SigningAlgorithm,
}

impl AccessToken {
    /// The compact JWT, to hand to its holder.
    pub fn expose(&self) -> &str {
        self.token.expose_secret()
    }

    /// Its unique id (the `jti` claim), by which it can be revoked.
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// When it stops being accepted.
    pub fn expires_at(&self) -> Timestamp {
        self.expires_at
    }

    /// The algorithm it is signed with.
    pub fn algorithm(&self) -> SigningAlgorithm {
        self.algorithm
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"[redacted]")
            .field("jti", &self.jti)
            .field("expires_at", &self.expires_at)
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

/// Signs `grant` as a JWT of `kind` for `audience` with `key` (in the key's algorithm).
pub(crate) fn mint(
    key: &SigningKey,
    issuer: &str,
    audience: Audience,
    now: Timestamp,
    grant: &TokenGrant,
    kind: TokenKind,
) -> AccessToken {
    let expires_at = now.plus(grant.ttl);
    let claims = AccessClaims {
        iss: issuer.to_owned(),
        sub: grant.subject.clone(),
        aud: audience,
        exp: expires_at.unix(),
        nbf: now.unix(),
        iat: now.unix(),
        jti: random::hex(16),
        client_id: grant.client_id.clone(),
        scope: grant.scopes.to_string(),
        tenant: grant.tenant.as_str().to_owned(),
        cnf: grant
            .dpop_jkt
            .clone()
            .map(|jkt| knogin_verifier::Confirmation { jkt }),
        act: grant.actor.clone(),
    };
    let header = Header {
        alg: key.algorithm().as_str(),
        typ: kind.typ(),
        kid: key.kid().as_str(),
    };
    // One buffer for each part's JSON and one for the token: no string per part.
    let mut json = Vec::with_capacity(512);
    let mut jwt = String::with_capacity(1024);
    append_part(&mut jwt, &mut json, &header);
    jwt.push('.');
    append_part(&mut jwt, &mut json, &claims);
    let signature = key.sign(jwt.as_bytes());
    jwt.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut jwt);
    AccessToken {
        token: SecretString::from(jwt),
        jti: claims.jti,
        expires_at,
        algorithm: key.algorithm(),
    }
}

/// Appends `value`'s JSON to `jwt` in base64url, with `json` as the scratch buffer.
fn append_part(jwt: &mut String, json: &mut Vec<u8>, value: &impl Serialize) {
    json.clear();
    serde_json::to_writer(&mut *json, value).expect("token parts serialize");
    URL_SAFE_NO_PAD.encode_string(&json, jwt);
}
