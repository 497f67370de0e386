//! Signing keys: sealed in the store, served from memory, published as a JWK set.

mod master;
mod ring;
mod signing;

pub use master::{MasterKey, MasterKeyError, Purpose};
pub(crate) use ring::Schedule;
pub use ring::{KeyRing, KeyRingError, kid_for};
pub use signing::{ALGORITHM, PublicJwk, SigningKey, SigningKeyError};

#[cfg(test)]
mod tests;
