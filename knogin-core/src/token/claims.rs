//! The claims every token carries, and minting them with a key parsed once.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use knogin_verifier::{ActorClaim, Audience, Confirmation};
use secrecy::{ExposeSecret, SecretString};

use crate::clock::Timestamp;
use crate::id::TenantId;
use crate::json::Object;
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

/// Signs `grant` as a JWT of `kind` for `audience` with `key` (in the key's algorithm).
///
/// The header and the claims are written field by field ([`Object`]), in the order and with
/// the bytes [`AccessClaims`](knogin_verifier::AccessClaims)' `Serialize` gives (a test holds them to it), and the token is
/// built in one buffer.
pub(crate) fn mint(
    key: &SigningKey,
    issuer: &str,
    audience: Audience,
    now: Timestamp,
    grant: &TokenGrant,
    kind: TokenKind,
) -> AccessToken {
    let expires_at = now.plus(grant.ttl);
    let jti = random::hex(16);
    let mut header = Object::with_capacity(96);
    header
        .str("alg", key.algorithm().as_str())
        .str("typ", kind.typ())
        .str("kid", key.kid().as_str());
    let mut claims = Object::with_capacity(512);
    claims.str("iss", issuer).str("sub", &grant.subject);
    match &audience {
        Audience::One(one) => claims.str("aud", one),
        many @ Audience::Many(_) => claims.value("aud", many),
    };
    claims
        .i64("exp", expires_at.unix())
        .i64("nbf", now.unix())
        .i64("iat", now.unix())
        .str("jti", &jti)
        .str("client_id", &grant.client_id)
        .str("scope", &grant.scopes.to_string())
        .str("tenant", grant.tenant.as_str());
    if let Some(jkt) = &grant.dpop_jkt {
        claims.value("cnf", &Confirmation { jkt: jkt.clone() });
    }
    if let Some(actor) = &grant.actor {
        claims.value("act", actor);
    }
    let (header, claims) = (header.finish(), claims.finish());
    let mut jwt = Vec::with_capacity(
        base64_len(header.len()) + base64_len(claims.len()) + base64_len(MAX_SIGNATURE) + 2,
    );
    append_base64(&mut jwt, &header);
    jwt.push(b'.');
    append_base64(&mut jwt, &claims);
    let signature = key.sign(&jwt);
    jwt.push(b'.');
    append_base64(&mut jwt, &signature);
    let jwt = String::from_utf8(jwt).expect("base64url and dots are ASCII");
    AccessToken {
        token: SecretString::from(jwt),
        jti,
        expires_at,
        algorithm: key.algorithm(),
    }
}

/// Room for a signature: an RSA-4096 one, the longest a usual key gives (the buffer grows for
/// a longer one).
const MAX_SIGNATURE: usize = 512;

/// The length of `len` bytes in base64url without padding.
fn base64_len(len: usize) -> usize {
    len.div_ceil(3) * 4
}

/// Appends `bytes` to `jwt` in base64url without padding, encoded in place.
fn append_base64(jwt: &mut Vec<u8>, bytes: &[u8]) {
    let start = jwt.len();
    jwt.resize(start + base64_len(bytes.len()), 0);
    let written = URL_SAFE_NO_PAD
        .encode_slice(bytes, &mut jwt[start..])
        .expect("the buffer has room for the encoding");
    jwt.truncate(start + written);
}
