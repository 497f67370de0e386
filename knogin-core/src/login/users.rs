//! The built-in login's users: names with argon2id password hashes, made when the server starts.

use std::collections::HashMap;
use std::fmt;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use subtle::ConstantTimeEq as _;

use crate::id::TenantId;
use crate::random;
use crate::secret::SecretHash;

/// The longest user name accepted.
pub const MAX_USERNAME_LEN: usize = 128;

/// Why a user could not be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordUserError {
    /// The name is empty, longer than [`MAX_USERNAME_LEN`] bytes, or has a control character,
    /// a colon or a slash.
    #[error(
        "user names are 1 to {MAX_USERNAME_LEN} bytes without colons, slashes or control characters"
    )]
    InvalidName,
    /// The password is empty.
    #[error("the password of {0} is empty")]
    EmptyPassword(String),
    /// The name was added before for this tenant.
    #[error("the user {0} is given twice for one tenant")]
    Duplicate(String),
    /// The name was added before for another tenant, with another password: one person has one
    /// password.
    #[error("the user {0} is given with two different passwords")]
    DifferentPassword(String),
    /// The tenant is not a tenant id.
    #[error("{0:?} is not a tenant id (letters, digits, '.', '_' and '-', at most 64)")]
    InvalidTenant(String),
    /// A line is not `TENANT/NAME:PASSWORD`.
    #[error("expected TENANT/NAME:PASSWORD, e.g. acme/alice:wonderland; {0}")]
    Malformed(&'static str),
}

/// One user: the password's hash and the tenants they are a member of.
struct User {
    hash: String,
    tenants: Vec<TenantId>,
}

impl User {
    /// What a session remembers of the user, so that it ends when the password or the
    /// memberships change: a digest of the hash and the tenants.
    fn fingerprint(&self) -> String {
        let tenants: Vec<&str> = self.tenants.iter().map(TenantId::as_str).collect();
        SecretHash::of(&format!("{}\n{}", self.hash, tenants.join(","))).short_hex()
    }
}

/// The users the built-in login accepts, each stored as an argon2id hash (OWASP's parameters:
/// 19 MiB, 2 passes) with the tenants they are a member of: a user signs in only to apps of
/// those tenants. Build it once at start; checking a password costs one hash, for an unknown
/// name too, so a name's existence does not show in the timing.
///
/// ```
/// use knogin_core::TenantId;
/// use knogin_core::login::PasswordUsers;
///
/// let acme = TenantId::parse("acme").unwrap();
/// let mut users = PasswordUsers::new();
/// users.add(&acme, "alice", "correct horse battery staple").unwrap();
/// users.add_line("globex/alice:correct horse battery staple").unwrap();
/// assert!(users.add(&acme, "alice", "again").is_err());
/// assert!(users.add_line("bob:no-tenant").is_err());
/// assert_eq!(users.len(), 1);
/// ```
pub struct PasswordUsers {
    users: HashMap<String, User>,
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

/// Whether `password` matches the PHC string `stored`.
fn password_matches(stored: &str, password: &str) -> bool {
    let parsed = PasswordHash::new(stored).expect("hashes made here parse");
    hasher()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
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
            users: HashMap::new(),
            decoy: hash(&random::hex(16)),
        }
    }

    /// Adds `name` as a member of `tenant` with `password`, hashing it now (tens of
    /// milliseconds). `name` becomes the `sub` of the tokens issued for the user, which means
    /// someone only within the token's tenant. The same name may be added for several tenants,
    /// with the same password.
    pub fn add(
        &mut self,
        tenant: &TenantId,
        name: &str,
        password: &str,
    ) -> Result<(), PasswordUserError> {
        let valid = !name.is_empty()
            && name.len() <= MAX_USERNAME_LEN
            && !name.chars().any(|c| c == ':' || c == '/' || c.is_control());
        if !valid {
            return Err(PasswordUserError::InvalidName);
        }
        if password.is_empty() {
            return Err(PasswordUserError::EmptyPassword(name.to_owned()));
        }
        match self.users.get_mut(name) {
            Some(user) if user.tenants.contains(tenant) => {
                Err(PasswordUserError::Duplicate(name.to_owned()))
            }
            Some(user) if !password_matches(&user.hash, password) => {
                Err(PasswordUserError::DifferentPassword(name.to_owned()))
            }
            Some(user) => {
                user.tenants.push(tenant.clone());
                Ok(())
            }
            None => {
                let user = User {
                    hash: hash(password),
                    tenants: vec![tenant.clone()],
                };
                self.users.insert(name.to_owned(), user);
                Ok(())
            }
        }
    }

    /// Adds the user a line `TENANT/NAME:PASSWORD` describes (the reference server's `--user`
    /// and users file), as [`PasswordUsers::add`] does.
    pub fn add_line(&mut self, line: &str) -> Result<(), PasswordUserError> {
        let (user, password) = line
            .split_once(':')
            .ok_or(PasswordUserError::Malformed("the colon is missing"))?;
        let (tenant, name) = user
            .split_once('/')
            .ok_or(PasswordUserError::Malformed("the tenant is missing"))?;
        let tenant = TenantId::parse(tenant)
            .ok_or_else(|| PasswordUserError::InvalidTenant(tenant.to_owned()))?;
        self.add(&tenant, name, password)
    }

    /// How many users there are (a name given for several tenants counts once).
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Whether `password` is `name`'s. Costs one argon2id verification whether or not the name
    /// exists: call it off the async threads.
    pub(crate) fn verify(&self, name: &str, password: &str) -> bool {
        let (stored, known) = match self.users.get(name) {
            Some(user) => (&user.hash, true),
            None => (&self.decoy, false),
        };
        let matches = password_matches(stored, password);
        known && matches
    }

    /// The fingerprint a session of `name` keeps (see [`PasswordUsers::member`]).
    pub(crate) fn fingerprint(&self, name: &str) -> Option<String> {
        self.users.get(name).map(User::fingerprint)
    }

    /// The tenants of `name`, if it is still a user whose password and memberships give
    /// `fingerprint` (what its session was started with).
    pub(crate) fn member(&self, name: &str, fingerprint: &str) -> Option<&[TenantId]> {
        self.users
            .get(name)
            .filter(|user| {
                let now = user.fingerprint();
                bool::from(now.as_bytes().ct_eq(fingerprint.as_bytes()))
            })
            .map(|user| user.tenants.as_slice())
    }
}

impl fmt::Debug for PasswordUsers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.users.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_struct("PasswordUsers")
            .field("names", &names)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acme() -> TenantId {
        TenantId::parse("acme").unwrap()
    }

    #[test]
    fn only_the_right_password_of_a_known_name_verifies() {
        let mut users = PasswordUsers::new();
        users.add(&acme(), "alice", "s3cret").unwrap();
        assert!(users.verify("alice", "s3cret"));
        assert!(!users.verify("alice", "S3cret"));
        assert!(!users.verify("bob", "s3cret"));
        assert!(!format!("{users:?}").contains("argon2"));
    }

    #[test]
    fn names_passwords_and_lines_are_checked() {
        let mut users = PasswordUsers::new();
        for bad in ["", "a:b", "a/b", "tab\there", &"x".repeat(129)] {
            assert_eq!(
                users.add(&acme(), bad, "pw"),
                Err(PasswordUserError::InvalidName),
                "{bad:?}"
            );
        }
        assert_eq!(
            users.add(&acme(), "bob", ""),
            Err(PasswordUserError::EmptyPassword("bob".into()))
        );
        assert!(matches!(
            users.add_line("alice:wonderland"),
            Err(PasswordUserError::Malformed(_))
        ));
        assert!(matches!(
            users.add_line("acme/alice"),
            Err(PasswordUserError::Malformed(_))
        ));
        assert!(matches!(
            users.add_line("ac me/alice:pw"),
            Err(PasswordUserError::InvalidTenant(_))
        ));
        assert!(users.is_empty());
        // A password may hold colons and slashes.
        users.add_line("acme/alice:a:b/c").unwrap();
        assert!(users.verify("alice", "a:b/c"));
    }

    #[test]
    fn a_name_joins_several_tenants_with_one_password() {
        let mut users = PasswordUsers::new();
        users.add_line("acme/alice:pw").unwrap();
        let before = users.fingerprint("alice").unwrap();
        assert_eq!(
            users.add_line("acme/alice:pw"),
            Err(PasswordUserError::Duplicate("alice".into()))
        );
        assert_eq!(
            users.add_line("globex/alice:other"),
            Err(PasswordUserError::DifferentPassword("alice".into()))
        );
        users.add_line("globex/alice:pw").unwrap();
        assert_eq!(users.len(), 1);
        // A session started before the change no longer names a member.
        assert_eq!(users.member("alice", &before), None);
        let now = users.fingerprint("alice").unwrap();
        let tenants = users.member("alice", &now).unwrap();
        let names: Vec<&str> = tenants.iter().map(TenantId::as_str).collect();
        assert_eq!(names, ["acme", "globex"]);
        assert_eq!(users.member("bob", &now), None);
    }
}
