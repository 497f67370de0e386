//! A compact JWS signed by a client's own key (RFC 7515): a DPoP proof or a client assertion.
//! The header is read into what these need, the signature checked with a [`PublicJwk`]; the
//! claims are left to the caller, who knows what they must say.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::Value;

use super::{JwkError, JwsAlgorithm, PublicJwk};

/// Why a JWS was refused. The message is safe to show the client that sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwsError {
    /// Longer than the limit given: refused unread.
    #[error("the JWT is longer than {0} bytes")]
    TooLarge(usize),
    /// Not three base64url parts with a JSON header and payload.
    #[error("the JWT is not well formed")]
    Malformed,
    /// The header names an algorithm this server does not verify (`none` and HMAC among them),
    /// or has a `crit` member.
    #[error("the JWT's alg is not supported")]
    UnsupportedAlgorithm,
    /// The header's `jwk` is not a public key this server takes.
    #[error(transparent)]
    Key(#[from] JwkError),
    /// No key that may check this algorithm, or the signature does not verify with it.
    #[error("the JWT's signature does not verify")]
    BadSignature,
}

#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    jwk: Option<Value>,
    #[serde(default)]
    crit: Option<Value>,
}

/// A compact JWS, its header read and its signature not yet checked.
#[derive(Debug)]
pub struct Jws<'a> {
    alg: JwsAlgorithm,
    typ: Option<String>,
    kid: Option<String>,
    jwk: Option<PublicJwk>,
    signing_input: &'a str,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl<'a> Jws<'a> {
    /// Reads `compact` (at most `max_bytes` long): its header's `alg`, `typ`, `kid` and `jwk`.
    pub fn parse(compact: &'a str, max_bytes: usize) -> Result<Self, JwsError> {
        if compact.len() > max_bytes {
            return Err(JwsError::TooLarge(max_bytes));
        }
        let mut parts = compact.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwsError::Malformed);
        };
        let decode = |part: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| JwsError::Malformed)
        };
        let raw: RawHeader =
            serde_json::from_slice(&decode(header)?).map_err(|_| JwsError::Malformed)?;
        if raw.crit.is_some() {
            return Err(JwsError::UnsupportedAlgorithm);
        }
        let alg = JwsAlgorithm::parse(&raw.alg).ok_or(JwsError::UnsupportedAlgorithm)?;
        let jwk = raw.jwk.as_ref().map(PublicJwk::from_json).transpose()?;
        Ok(Self {
            alg,
            typ: raw.typ,
            kid: raw.kid,
            jwk,
            signing_input: &compact[..header.len() + 1 + payload.len()],
            payload: decode(payload)?,
            signature: decode(signature)?,
        })
    }

    /// The header's `alg`.
    pub fn alg(&self) -> JwsAlgorithm {
        self.alg
    }

    /// The header's `typ`, as written.
    pub fn typ(&self) -> Option<&str> {
        self.typ.as_deref()
    }

    /// The header's `kid`.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The header's `jwk`: the public key a DPoP proof carries.
    pub fn jwk(&self) -> Option<&PublicJwk> {
        self.jwk.as_ref()
    }

    /// The payload before any signature is checked. Read it only to find the key that must
    /// verify it (a client assertion's `iss`); trust it once [`Jws::verify`] passed.
    pub fn unverified_payload(&self) -> &[u8] {
        &self.payload
    }

    /// The payload, if `key` may check the header's `alg` and the signature verifies with it.
    pub fn verify(&self, key: &PublicJwk) -> Result<&[u8], JwsError> {
        if key.check(self.alg, self.signing_input.as_bytes(), &self.signature) {
            Ok(&self.payload)
        } else {
            Err(JwsError::BadSignature)
        }
    }
}
