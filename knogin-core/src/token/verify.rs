//! Checking a bearer token: signature by a key in the ring, pinned algorithm, type, issuer,
//! audience and time, against the injected clock.

use jsonwebtoken::Validation;

use super::claims::{ACCESS_TOKEN_TYPE, ADMIN_TOKEN_TYPE, AccessClaims, TokenKind};
use crate::clock::Timestamp;
use crate::keys::KeyRing;

/// The clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY: i64 = 5;

/// The longest bearer token looked at, in bytes; longer ones are refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Why a bearer token was refused. The message is safe to show the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a compact JWS with a JSON header and claims of the expected shape.
    #[error("the token is not a well-formed access token")]
    Malformed,
    /// Longer than [`MAX_TOKEN_BYTES`]: refused unread.
    #[error("the token is longer than 8192 bytes")]
    TooLarge,
    /// The token's `jti` was revoked.
    #[error("the token has been revoked")]
    Revoked,
    /// The header names an algorithm other than the key's, or no key this issuer has.
    #[error("the token is not signed by a key this issuer publishes")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the token signature is invalid")]
    BadSignature,
    /// The header's `typ` is not one of this issuer's token types.
    #[error("the token is not an access token")]
    WrongType,
    /// `iss` is not this issuer, or `aud` none of the audiences its kind of token is for.
    #[error("the token was issued for another issuer or audience")]
    WrongIssuer,
    /// `exp` has passed.
    #[error("the token has expired")]
    Expired,
    /// `nbf` is still in the future.
    #[error("the token is not valid yet")]
    NotYetValid,
}

/// Verifies `token` against `ring` for `issuer` at `now`: an access token must be for one of
/// `audiences`, an admin token for `admin_audience`.
pub(crate) fn verify(
    ring: &KeyRing,
    issuer: &str,
    audiences: &[String],
    admin_audience: &str,
    now: Timestamp,
    token: &str,
) -> Result<(AccessClaims, TokenKind), TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::TooLarge);
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
    let kind = match header.typ.as_deref() {
        Some(ACCESS_TOKEN_TYPE) => TokenKind::Access,
        Some(ADMIN_TOKEN_TYPE) => TokenKind::Admin,
        _ => return Err(TokenError::WrongType),
    };
    // The key's own algorithm is the only one accepted (RFC 8725 §3.1): the header names it, it
    // does not choose it.
    let (key, algorithm) = header
        .kid
        .as_deref()
        .and_then(|kid| ring.verifier(kid, now))
        .filter(|(_, algorithm)| header.alg == algorithm.jwt())
        .ok_or(TokenError::UnknownKey)?;

    // Time is checked below against the injected clock, not jsonwebtoken's system clock.
    let mut validation = Validation::new(algorithm.jwt());
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

    let for_us = match kind {
        TokenKind::Access => audiences.iter().any(|a| claims.aud.contains(a)),
        TokenKind::Admin => claims.aud.contains(admin_audience),
    };
    if claims.iss != issuer || !for_us {
        return Err(TokenError::WrongIssuer);
    }
    let now = now.unix();
    if claims.exp <= now - LEEWAY {
        return Err(TokenError::Expired);
    }
    if claims.nbf > now + LEEWAY {
        return Err(TokenError::NotYetValid);
    }
    Ok((claims, kind))
}
