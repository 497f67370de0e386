//! Access tokens: RFC 9068 JWTs signed with the issuer's current key, and their verification.

mod claims;
mod verify;

pub use claims::{AccessClaims, AccessToken, TokenGrant};
pub use verify::{LEEWAY, TokenError};

pub(crate) use claims::mint;
pub(crate) use verify::verify;

#[cfg(test)]
mod tests;
