//! Access tokens: RFC 9068 JWTs signed with the issuer's current key, and their verification.

mod bearer;
mod claims;
mod dpop;
mod verify;

pub use bearer::{Admin, Bearer, Rejection};
pub use claims::{AccessToken, TokenGrant, TokenKind};
pub use dpop::{
    DPOP_ALGORITHMS, DPOP_HEADER, DPOP_NONCE_HEADER, DPOP_PROOF_MAX_AGE, DpopRejection, RequestHead,
};
pub use knogin_verifier::{AccessClaims, ActorClaim, Audience};
pub use verify::{LEEWAY, MAX_TOKEN_BYTES, TokenError};

pub(crate) use claims::mint;
pub(crate) use verify::verify;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod verifier_tests;
