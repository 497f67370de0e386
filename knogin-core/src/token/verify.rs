//! Checking a bearer token: signature by a key in the ring, pinned algorithm, type, issuer,
//! audience and time, against the injected clock.

use jsonwebtoken::{Algorithm, Validation};

use super::claims::{AccessClaims, TOKEN_TYPE};
use crate::clock::Timestamp;
use crate::keys::KeyRing;

/// The clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY: i64 = 5;

/// Why a bearer token was refused. The message is safe to show the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a compact JWS with a JSON header and claims of the expected shape.
    #[error("the token is not a well-formed access token")]
    Malformed,
    /// The header names an algorithm other than the key's, or no key this issuer has.
    #[error("the token is not signed by a key this issuer publishes")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the token signature is invalid")]
    BadSignature,
    /// The header's `typ` is not `at+jwt`.
    #[error("the token is not an access token")]
    WrongType,
    /// `iss` or `aud` is not this issuer.
    #[error("the token was issued for another issuer or audience")]
    WrongIssuer,
    /// `exp` has passed.
    #[error("the token has expired")]
    Expired,
    /// `nbf` is still in the future.
    #[error("the token is not valid yet")]
    NotYetValid,
}

/// Verifies `token` against `ring` for `issuer` at `now`.
pub(crate) fn verify(
    ring: &KeyRing,
    issuer: &str,
    now: Timestamp,
    token: &str,
) -> Result<AccessClaims, TokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
    if header.typ.as_deref() != Some(TOKEN_TYPE) {
        return Err(TokenError::WrongType);
    }
    let key = header
        .kid
        .as_deref()
        .and_then(|kid| ring.verifier(kid))
        .filter(|_| header.alg == Algorithm::RS256)
        .ok_or(TokenError::UnknownKey)?;

    // Time is checked below against the injected clock, not jsonwebtoken's system clock.
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<AccessClaims>(token, key, &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenError::BadSignature,
            _ => TokenError::Malformed,
        })?
        .claims;

    if claims.iss != issuer || claims.aud != issuer {
        return Err(TokenError::WrongIssuer);
    }
    let now = now.unix();
    if claims.exp <= now - LEEWAY {
        return Err(TokenError::Expired);
    }
    if claims.nbf > now + LEEWAY {
        return Err(TokenError::NotYetValid);
    }
    Ok(claims)
}
