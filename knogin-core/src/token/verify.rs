//! Checking a bearer token: signature by a key in the ring, pinned algorithm, type, issuer,
//! audience and time, against the injected clock. The header, the signature and the times are
//! read by `knogin-verifier`'s [`UnverifiedToken`] and [`check_times`], the very checks a
//! resource server's verifier makes.

use std::time::Duration;

use knogin_verifier::{AccessClaims, UnverifiedToken, VerifyError, check_times};

use super::claims::{ACCESS_TOKEN_TYPE, ADMIN_TOKEN_TYPE, TokenKind};
use crate::clock::Timestamp;
use crate::keys::KeyRing;

/// The clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY: Duration = Duration::from_secs(5);

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
    /// `nbf` or `iat` is still in the future.
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
    let unverified = UnverifiedToken::parse(token, MAX_TOKEN_BYTES)?;
    let kind = match unverified.typ() {
        Some(ACCESS_TOKEN_TYPE) => TokenKind::Access,
        Some(ADMIN_TOKEN_TYPE) => TokenKind::Admin,
        _ => return Err(TokenError::WrongType),
    };
    let key = unverified
        .kid()
        .and_then(|kid| ring.verifier(kid, now))
        .ok_or(TokenError::UnknownKey)?;
    let claims = unverified.verify(key)?;
    let for_us = match kind {
        TokenKind::Access => audiences.iter().any(|a| claims.aud.contains(a)),
        TokenKind::Admin => claims.aud.contains(admin_audience),
    };
    if claims.iss != issuer || !for_us {
        return Err(TokenError::WrongIssuer);
    }
    check_times(&claims, now, LEEWAY)?;
    Ok((claims, kind))
}

impl From<VerifyError> for TokenError {
    fn from(refusal: VerifyError) -> Self {
        match refusal {
            VerifyError::TooLarge(_) => Self::TooLarge,
            VerifyError::AlgorithmMismatch | VerifyError::UnknownKey => Self::UnknownKey,
            VerifyError::BadSignature => Self::BadSignature,
            VerifyError::WrongType => Self::WrongType,
            VerifyError::WrongIssuer | VerifyError::WrongAudience => Self::WrongIssuer,
            VerifyError::Expired => Self::Expired,
            VerifyError::NotYetValid => Self::NotYetValid,
            VerifyError::Revoked => Self::Revoked,
            _ => Self::Malformed,
        }
    }
}
