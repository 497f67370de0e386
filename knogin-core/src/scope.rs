//! The scope catalog an embedder publishes, and the reserved admin scope.

use serde::Serialize;

/// The reserved scope that makes a bearer token an admin token. It is never in a catalog and only
/// the operator can mint a token carrying it ([`crate::Knogin::mint_admin_token`]).
pub const ADMIN_SCOPE: &str = "platform:admin";

/// One scope apps may request: a name such as `webhooks:write` and a sentence saying what it grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scope {
    /// The scope token as it appears in `scope` parameters.
    pub name: String,
    /// What the scope grants, for consent screens and admin review.
    pub description: String,
}

/// Why a scope catalog was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeCatalogError {
    /// A name is empty or has characters RFC 6749 §3.3 does not allow in a scope token.
    #[error("scope name {0:?} is not a valid RFC 6749 scope token")]
    InvalidName(String),
    /// The same name appears twice.
    #[error("scope {0:?} appears twice in the catalog")]
    Duplicate(String),
    /// The catalog tries to publish the reserved admin scope.
    #[error("scope {ADMIN_SCOPE:?} is reserved and cannot be in the catalog")]
    Reserved,
}

/// The scopes an embedder lets apps request, in the order they are published.
///
/// ```
/// use knogin_core::ScopeCatalog;
///
/// let catalog = ScopeCatalog::new([
///     ("webhooks:read", "Read outbound webhook subscriptions and deliveries"),
///     ("webhooks:write", "Create and update outbound webhook subscriptions"),
/// ])?;
/// assert!(catalog.contains("webhooks:read"));
/// assert!(!catalog.contains("platform:admin"));
/// # Ok::<(), knogin_core::scope::ScopeCatalogError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeCatalog(Vec<Scope>);

impl ScopeCatalog {
    /// A catalog of `(name, description)` pairs. Names must be RFC 6749 scope tokens, unique, and
    /// not the reserved [`ADMIN_SCOPE`].
    pub fn new<N, D>(scopes: impl IntoIterator<Item = (N, D)>) -> Result<Self, ScopeCatalogError>
    where
        N: Into<String>,
        D: Into<String>,
    {
        let mut out: Vec<Scope> = Vec::new();
        for (name, description) in scopes {
            let name = name.into();
            if !is_scope_token(&name) {
                return Err(ScopeCatalogError::InvalidName(name));
            }
            if name == ADMIN_SCOPE {
                return Err(ScopeCatalogError::Reserved);
            }
            if out.iter().any(|s| s.name == name) {
                return Err(ScopeCatalogError::Duplicate(name));
            }
            out.push(Scope {
                name,
                description: description.into(),
            });
        }
        Ok(Self(out))
    }

    /// The catalog of the reference server: `webhooks:read`, `webhooks:write`, `incidents:read`.
    pub fn reference() -> Self {
        Self::new([
            (
                "webhooks:read",
                "Read outbound webhook subscriptions and their delivery history",
            ),
            (
                "webhooks:write",
                "Create and update outbound webhook subscriptions",
            ),
            ("incidents:read", "Read incidents in the tenant"),
        ])
        .expect("the reference catalog is valid")
    }

    /// Whether `name` is in the catalog.
    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|s| s.name == name)
    }

    /// The scopes, in published order.
    pub fn scopes(&self) -> &[Scope] {
        &self.0
    }
}

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
pub(crate) fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_catalog_is_the_documented_one() {
        let names: Vec<_> = ScopeCatalog::reference()
            .scopes()
            .iter()
            .map(|s| s.name.clone())
            .collect();
        assert_eq!(names, ["webhooks:read", "webhooks:write", "incidents:read"]);
    }

    #[test]
    fn catalog_refuses_bad_duplicate_and_reserved_names() {
        assert_eq!(
            ScopeCatalog::new([("a b", "x")]),
            Err(ScopeCatalogError::InvalidName("a b".into()))
        );
        assert_eq!(
            ScopeCatalog::new([("a", "x"), ("a", "y")]),
            Err(ScopeCatalogError::Duplicate("a".into()))
        );
        assert_eq!(
            ScopeCatalog::new([(ADMIN_SCOPE, "x")]),
            Err(ScopeCatalogError::Reserved)
        );
    }
}
