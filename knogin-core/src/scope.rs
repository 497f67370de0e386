//! The scope catalog an embedder publishes, and the reserved admin scope.

use serde::Serialize;

/// The reserved scope that makes a bearer token an admin token. It is never in a catalog and only
/// the operator can mint a token carrying it ([`Tokens::mint_admin`](crate::Tokens::mint_admin)).
pub const ADMIN_SCOPE: &str = "platform:admin";

/// One scope apps may request: a name such as `webhooks:write` and a sentence saying what it grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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

    /// The catalog of the reference server: `webhooks:read`, `webhooks:write`,
    /// `webhooks:admin`, `incidents:read`.
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
            (
                "webhooks:admin",
                "Manage every webhook subscription of the tenant, whichever app created it",
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

/// One scope token (RFC 6749 §3.3: `1*( %x21 / %x23-5B / %x5D-7E )`): no spaces, no quotes, no
/// backslash, no control characters. It can only be built by parsing, so a space-joined list can
/// never pass for one scope.
///
/// ```
/// use knogin_core::scope::ScopeToken;
///
/// assert!(ScopeToken::parse("webhooks:read").is_some());
/// assert!(ScopeToken::parse("webhooks:read platform:admin").is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ScopeToken(String);

impl ScopeToken {
    /// The token, or `None` when `s` is not a scope token.
    pub fn parse(s: &str) -> Option<Self> {
        is_scope_token(s).then(|| Self(s.to_owned()))
    }

    /// The token as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ScopeToken {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ScopeToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A set of scope tokens in the order first given, each once: what a token grants.
///
/// ```
/// use knogin_core::scope::ScopeSet;
///
/// let set = ScopeSet::parse("webhooks:read webhooks:write webhooks:read").unwrap();
/// assert_eq!(set.to_string(), "webhooks:read webhooks:write");
/// assert!(set.contains("webhooks:write"));
/// assert!(ScopeSet::new(["webhooks:read platform:admin"]).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(Vec<ScopeToken>);

/// A string that is not a scope token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{0}' is not a scope token (RFC 6749 section 3.3: no spaces, quotes, backslashes or control characters)"
)]
pub struct InvalidScope(pub String);

impl ScopeSet {
    /// A set of the given scopes, each of which must be one scope token.
    pub fn new<S: AsRef<str>>(scopes: impl IntoIterator<Item = S>) -> Result<Self, InvalidScope> {
        let mut set = Self::default();
        for scope in scopes {
            let scope = scope.as_ref();
            let token = ScopeToken::parse(scope).ok_or_else(|| InvalidScope(scope.to_owned()))?;
            set.insert(token);
        }
        Ok(set)
    }

    /// The set of a space-delimited `scope` parameter (RFC 6749 §3.3). Runs of spaces are one
    /// delimiter; any other character outside the token syntax is refused.
    pub fn parse(scope: &str) -> Result<Self, InvalidScope> {
        Self::new(scope.split(' ').filter(|s| !s.is_empty()))
    }

    /// Adds `token` unless it is in the set already.
    pub fn insert(&mut self, token: ScopeToken) {
        if !self.0.contains(&token) {
            self.0.push(token);
        }
    }

    /// Whether the set holds `scope`.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|t| t.0 == scope)
    }

    /// The tokens, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, ScopeToken> {
        self.0.iter()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, token) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(&token.0)?;
        }
        Ok(())
    }
}

impl<'a> IntoIterator for &'a ScopeSet {
    type Item = &'a ScopeToken;
    type IntoIter = std::slice::Iter<'a, ScopeToken>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
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
        assert_eq!(
            names,
            [
                "webhooks:read",
                "webhooks:write",
                "webhooks:admin",
                "incidents:read"
            ]
        );
    }

    #[test]
    fn a_space_never_smuggles_a_second_scope_into_one_token() {
        for bad in [
            "webhooks:read platform:admin",
            " platform:admin",
            "a\tb",
            "a\"b",
            "",
            "é",
        ] {
            assert_eq!(ScopeToken::parse(bad), None, "{bad:?}");
        }
        assert_eq!(
            ScopeSet::new(["webhooks:read platform:admin"]),
            Err(InvalidScope("webhooks:read platform:admin".into()))
        );
        let parsed = ScopeSet::parse("  webhooks:read   platform:admin ").unwrap();
        assert_eq!(
            parsed.iter().count(),
            2,
            "a scope parameter splits on spaces"
        );
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
