//! Signing keys (RS256, ES256, EdDSA): sealed in the store, served from memory, published as a
//! JWK set.

mod master;
mod ring;
mod settings;
mod signing;

pub use master::{MasterKey, MasterKeyError, Purpose};
pub(crate) use ring::{JwkSet, NewKey, Schedule};
pub use ring::{KeyRing, KeyRingError, kid_for};
pub use settings::{DEFAULT_JWKS_MAX_AGE, DEFAULT_KEY_REFRESH, SigningKeySettings};
pub use signing::{PublicJwk, SigningAlgorithm, SigningKey, SigningKeyError, UnknownAlgorithm};

#[cfg(test)]
mod tests;
