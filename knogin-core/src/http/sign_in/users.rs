//! The built-in login's users: names with argon2id password hashes, made when the server starts.

use std::collections::HashMap;
use std::fmt;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::random;

/// The longest user name accepted.
pub const MAX_USERNAME_LEN: usize = 128;

/// Why a user could not be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordUserError {
    /// The name is empty, longer than [`MAX_USERNAME_LEN`] bytes, or has a control character or
    /// a colon.
    #[error("user names are 1 to {MAX_USERNAME_LEN} bytes without colons or control characters")]
    InvalidName,
    /// The password is empty.
    #[error("the password of {0} is empty")]
    EmptyPassword(String),
    /// The name was added before.
    #[error("the user {0} is given twice")]
    Duplicate(String),
}

/// The users the built-in login accepts, each stored as an argon2id hash (OWASP's parameters:
/// 19 MiB, 2 passes). Build it once at start; checking a password costs one hash, for an unknown
/// name too, so a name's existence does not show in the timing.
///
/// ```
/// use knogin_core::http::PasswordUsers;
///
/// let mut users = PasswordUsers::new();
/// users.add("alice", "correct horse battery staple").unwrap();
/// assert!(users.add("alice", "again").is_err());
/// assert_eq!(users.len(), 1);
/// ```
pub struct PasswordUsers {
    hashes: HashMap<String, String>,
    /// The hash an unknown name is checked against.
    decoy: String,
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP's argon2id parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash(password: &str) -> String {
    let salt = SaltString::encode_b64(&random::bytes::<16>()).expect("16 bytes make a valid salt");
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2id hashes any password with valid parameters")
        .to_string()
}

impl Default for PasswordUsers {
    fn default() -> Self {
        Self::new()
    }
}

impl PasswordUsers {
    /// No users yet.
    pub fn new() -> Self {
        Self {
            hashes: HashMap::new(),
            decoy: hash(&random::hex(16)),
        }
    }

    /// Adds `name` with `password`, hashing it now. `name` becomes the `sub` of the tokens
    /// issued for the user.
    pub fn add(&mut self, name: &str, password: &str) -> Result<(), PasswordUserError> {
        let valid = !name.is_empty()
            && name.len() <= MAX_USERNAME_LEN
            && !name.chars().any(|c| c == ':' || c.is_control());
        if !valid {
            return Err(PasswordUserError::InvalidName);
        }
        if password.is_empty() {
            return Err(PasswordUserError::EmptyPassword(name.to_owned()));
        }
        if self.hashes.contains_key(name) {
            return Err(PasswordUserError::Duplicate(name.to_owned()));
        }
        self.hashes.insert(name.to_owned(), hash(password));
        Ok(())
    }

    /// How many users there are.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Whether `password` is `name`'s. Costs one argon2id verification whether or not the name
    /// exists: call it off the async threads.
    pub(crate) fn verify(&self, name: &str, password: &str) -> bool {
        let (stored, known) = match self.hashes.get(name) {
            Some(stored) => (stored, true),
            None => (&self.decoy, false),
        };
        let parsed = PasswordHash::new(stored).expect("hashes made here parse");
        let matches = hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        known && matches
    }
}

impl fmt::Debug for PasswordUsers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.hashes.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_struct("PasswordUsers")
            .field("names", &names)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_right_password_of_a_known_name_verifies() {
        let mut users = PasswordUsers::new();
        users.add("alice", "s3cret").unwrap();
        assert!(users.verify("alice", "s3cret"));
        assert!(!users.verify("alice", "S3cret"));
        assert!(!users.verify("bob", "s3cret"));
        assert!(!format!("{users:?}").contains("argon2"));
    }

    #[test]
    fn names_and_passwords_are_checked() {
        let mut users = PasswordUsers::new();
        for bad in ["", "a:b", "tab\there", &"x".repeat(129)] {
            assert_eq!(
                users.add(bad, "pw"),
                Err(PasswordUserError::InvalidName),
                "{bad:?}"
            );
        }
        assert_eq!(
            users.add("bob", ""),
            Err(PasswordUserError::EmptyPassword("bob".into()))
        );
        assert!(users.is_empty());
    }
}
