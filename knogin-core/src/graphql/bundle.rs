//! Operation bundles: named sets of trusted documents, each behind the scopes a token needs.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use super::document::{DocumentError, Hash, TrustedDocument};
use crate::scope::{ADMIN_SCOPE, ScopeToken};

/// Why a bundle or a set of bundles was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The bundle name is empty or not a plain identifier (`[A-Za-z0-9_.-]`, at most 64).
    #[error("bundle name {0:?} must be 1 to 64 of A-Z, a-z, 0-9, '-', '_' or '.'")]
    InvalidName(String),
    /// A scope is not an RFC 6749 scope token, or is the reserved admin scope.
    #[error("bundle {bundle}: {scope:?} is not a scope a token can carry")]
    InvalidScope {
        /// The bundle.
        bundle: String,
        /// The scope as given.
        scope: String,
    },
    /// A bundle requires no scope: every token would run its operations.
    #[error("bundle {0} must require at least one scope")]
    NoScopes(String),
    /// A document of the bundle cannot be trusted.
    #[error("bundle {bundle}, document {document}: {error}")]
    Document {
        /// The bundle.
        bundle: String,
        /// The document's place in the bundle (its file, when loaded from a manifest).
        document: String,
        /// What is wrong with it.
        error: DocumentError,
    },
    /// Two bundles share a name.
    #[error("two bundles are named {0}")]
    Duplicate(String),
    /// The same operation name appears in two documents of one bundle.
    #[error("bundle {bundle} has two operations named {operation}")]
    DuplicateOperation {
        /// The bundle.
        bundle: String,
        /// The operation.
        operation: String,
    },
    /// A required scope is not in the embedder's scope catalog, so no app could get it.
    #[error("bundle {bundle} requires {scope}, which is not in the scope catalog")]
    UnknownScope {
        /// The bundle.
        bundle: String,
        /// The scope.
        scope: String,
    },
    /// The handle was built without a GraphQL gate ([`crate::Builder::graphql`]).
    #[error("this handle has no GraphQL gate to put bundles in")]
    NoGate,
    /// A document is deeper, or has more aliases, than the gate's limits allow.
    #[error(
        "bundle {bundle}, operations {operations}: {what} is {found}, over the limit of {limit}"
    )]
    OverLimit {
        /// The bundle.
        bundle: String,
        /// The document's operations, comma-separated.
        operations: String,
        /// `depth` or `aliases`.
        what: &'static str,
        /// What the document has.
        found: usize,
        /// The limit.
        limit: usize,
    },
}

/// A named set of trusted documents and the scopes a token needs to run them.
///
/// ```
/// use knogin_core::graphql::Bundle;
///
/// let bundle = Bundle::new("incident-sync", ["incidents:read"])?
///     .document("query IncidentById($id: ID!) { incident(id: $id) { id title status } }")?;
/// assert_eq!(bundle.operations().collect::<Vec<_>>(), ["IncidentById"]);
/// # Ok::<(), knogin_core::graphql::BundleError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Bundle {
    name: Arc<str>,
    scopes: Vec<ScopeToken>,
    documents: Vec<Arc<TrustedDocument>>,
}

impl Bundle {
    /// An empty bundle named `name` whose operations need every scope of `scopes`.
    pub fn new<S: AsRef<str>>(
        name: &str,
        scopes: impl IntoIterator<Item = S>,
    ) -> Result<Self, BundleError> {
        let valid_name = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !valid_name {
            return Err(BundleError::InvalidName(name.to_owned()));
        }
        let mut tokens: Vec<ScopeToken> = Vec::new();
        for scope in scopes {
            let scope = scope.as_ref();
            let token = ScopeToken::parse(scope)
                .filter(|t| t.as_str() != ADMIN_SCOPE)
                .ok_or_else(|| BundleError::InvalidScope {
                    bundle: name.to_owned(),
                    scope: scope.to_owned(),
                })?;
            if !tokens.contains(&token) {
                tokens.push(token);
            }
        }
        if tokens.is_empty() {
            return Err(BundleError::NoScopes(name.to_owned()));
        }
        Ok(Self {
            name: name.into(),
            scopes: tokens,
            documents: Vec::new(),
        })
    }

    /// Adds one document (see [`TrustedDocument::parse`] for what it must be).
    pub fn document(self, text: &str) -> Result<Self, BundleError> {
        let place = format!("#{}", self.documents.len() + 1);
        self.named_document(&place, text)
    }

    /// Adds one document, naming it `place` (e.g. its file) in errors.
    pub fn named_document(mut self, place: &str, text: &str) -> Result<Self, BundleError> {
        let document = TrustedDocument::parse(text).map_err(|error| BundleError::Document {
            bundle: self.name.to_string(),
            document: place.to_owned(),
            error,
        })?;
        if let Some(operation) = document
            .operations()
            .iter()
            .find(|op| self.operations().any(|known| known == op.as_str()))
        {
            return Err(BundleError::DuplicateOperation {
                bundle: self.name.to_string(),
                operation: operation.clone(),
            });
        }
        self.documents.push(Arc::new(document));
        Ok(self)
    }

    /// The bundle's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The bundle's name, shared (no copy per admitted request).
    pub(crate) fn shared_name(&self) -> &Arc<str> {
        &self.name
    }

    /// The scopes a token needs, all of them, to run the bundle's operations.
    pub fn scopes(&self) -> &[ScopeToken] {
        &self.scopes
    }

    /// Its documents.
    pub fn documents(&self) -> &[Arc<TrustedDocument>] {
        &self.documents
    }

    /// The names of its operations, in the order they were added.
    pub fn operations(&self) -> impl Iterator<Item = &str> {
        self.documents
            .iter()
            .flat_map(|d| d.operations().iter().map(String::as_str))
    }

    /// Whether a token with the space-separated `granted` scopes may run its operations.
    pub(crate) fn allows(&self, granted: &str) -> bool {
        self.scopes
            .iter()
            .all(|needed| granted.split(' ').any(|g| g == needed.as_str()))
    }
}

/// Every bundle the gate admits operations from, indexed by document hash.
#[derive(Debug, Default)]
pub struct Bundles {
    all: Vec<Bundle>,
    /// Document hash (of its text and of its normalized form) → (bundle, document) indexes.
    index: HashMap<Hash, Vec<(usize, usize)>>,
    /// The text hash of each respelling of a trusted document seen admitted → its normalized
    /// hash, so a client sending the same respelling again skips the lexer. Bounded by
    /// [`MAX_RESPELLINGS`]; only admitted respellings enter, and scopes are checked every time.
    respellings: RwLock<HashMap<Hash, Hash>>,
}

/// The most respellings [`Bundles`] remembers.
const MAX_RESPELLINGS: usize = 4096;

impl Clone for Bundles {
    fn clone(&self) -> Self {
        Self {
            all: self.all.clone(),
            index: self.index.clone(),
            respellings: RwLock::default(),
        }
    }
}

/// A trusted document and a bundle that holds it.
pub(crate) struct Found<'a> {
    pub(crate) bundle: &'a Bundle,
    pub(crate) document: &'a Arc<TrustedDocument>,
}

impl Bundles {
    /// The set of `bundles`; names must be unique. A document may sit in several bundles: a
    /// token allowed by any of them runs it.
    pub fn new(bundles: impl IntoIterator<Item = Bundle>) -> Result<Self, BundleError> {
        let bundles: Vec<Bundle> = bundles.into_iter().collect();
        let mut index: HashMap<Hash, Vec<(usize, usize)>> = HashMap::new();
        for (b, bundle) in bundles.iter().enumerate() {
            if bundles[..b].iter().any(|other| other.name == bundle.name) {
                return Err(BundleError::Duplicate(bundle.name.to_string()));
            }
            for (d, document) in bundle.documents.iter().enumerate() {
                for hash in document.hashes() {
                    let entries = index.entry(hash).or_default();
                    if !entries.contains(&(b, d)) {
                        entries.push((b, d));
                    }
                }
            }
        }
        Ok(Self {
            all: bundles,
            index,
            respellings: RwLock::default(),
        })
    }

    /// The bundles, in the order given.
    pub fn bundles(&self) -> &[Bundle] {
        &self.all
    }

    /// The normalized hash of a respelling seen before, by the hash of its text.
    pub(crate) fn respelling(&self, text: &Hash) -> Option<Hash> {
        let known = self
            .respellings
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        known.get(text).copied()
    }

    /// Remembers that the text hashing to `text` normalizes to `normalized`.
    pub(crate) fn remember_respelling(&self, text: Hash, normalized: Hash) {
        let mut known = self
            .respellings
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if known.len() < MAX_RESPELLINGS {
            known.insert(text, normalized);
        }
    }

    /// The bundles holding the document with this hash.
    pub(crate) fn find(&self, hash: &Hash) -> impl Iterator<Item = Found<'_>> {
        self.index.get(hash).into_iter().flatten().map(|&(b, d)| {
            let bundle = &self.all[b];
            Found {
                bundle,
                document: &bundle.documents[d],
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql::document::sha256;

    const INCIDENT: &str = "query IncidentById($id: ID!) { incident(id: $id) { id } }";

    #[test]
    fn names_and_scopes_are_checked() {
        assert!(matches!(
            Bundle::new("incident sync", ["incidents:read"]),
            Err(BundleError::InvalidName(_))
        ));
        assert!(matches!(
            Bundle::new("sync", ["incidents:read cases:read"]),
            Err(BundleError::InvalidScope { .. })
        ));
        assert!(matches!(
            Bundle::new("sync", [ADMIN_SCOPE]),
            Err(BundleError::InvalidScope { .. })
        ));
        assert_eq!(
            Bundle::new("sync", Vec::<String>::new()).unwrap_err(),
            BundleError::NoScopes("sync".into())
        );
    }

    #[test]
    fn a_token_needs_every_scope_of_the_bundle() {
        let bundle = Bundle::new("sync", ["incidents:read", "cases:read"]).unwrap();
        assert!(bundle.allows("cases:read incidents:read webhooks:read"));
        assert!(!bundle.allows("incidents:read"));
        assert!(!bundle.allows("incidents:read2 cases:read"));
    }

    #[test]
    fn a_document_in_two_bundles_is_found_in_both() {
        let a = Bundle::new("a", ["incidents:read"])
            .unwrap()
            .document(INCIDENT)
            .unwrap();
        let b = Bundle::new("b", ["cases:read"])
            .unwrap()
            .document(INCIDENT)
            .unwrap();
        let bundles = Bundles::new([a.clone(), b]).unwrap();
        let names: Vec<&str> = bundles
            .find(&sha256(INCIDENT.as_bytes()))
            .map(|f| f.bundle.name())
            .collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(
            Bundles::new([a.clone(), a]).unwrap_err(),
            BundleError::Duplicate("a".into())
        );
    }

    #[test]
    fn an_operation_name_is_unique_within_a_bundle() {
        let error = Bundle::new("a", ["incidents:read"])
            .unwrap()
            .document(INCIDENT)
            .unwrap()
            .document("query IncidentById { incidents { id } }")
            .unwrap_err();
        assert!(matches!(error, BundleError::DuplicateOperation { .. }));
    }
}
