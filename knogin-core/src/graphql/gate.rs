//! The gate: admits a request only if it names a trusted document of a bundle the token's scopes
//! allow, and hands the executor that document as registered.

use std::fmt;
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::bundle::{BundleError, Bundles};
use super::document::{Hash, normalized_hash, sha256};
use super::executor::{Executor, Operation};
use super::request::{self, Named, Refusal};
use crate::scope::ScopeCatalog;

/// The gate's limits. Documents are checked against depth and aliases when their bundles are
/// installed (an operation that breaks them is refused then, not on every request); size and
/// the variables' nesting are checked on every request, trusted documents included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct GraphQlLimits {
    /// The largest `query` read, in bytes (default 16 KiB).
    pub document_bytes: usize,
    /// The deepest field nesting a trusted document may have (default 12).
    pub depth: usize,
    /// The most aliased fields a trusted document may have (default 16).
    pub aliases: usize,
    /// The deepest JSON nesting of any variable's value (default 8).
    pub variables_depth: usize,
}

impl Default for GraphQlLimits {
    fn default() -> Self {
        Self {
            document_bytes: 16 * 1024,
            depth: 12,
            aliases: 16,
            variables_depth: 8,
        }
    }
}

/// The GraphQL transport gate: an executor, the bundles it may run, and the limits.
///
/// ```
/// # #[cfg(feature = "async-graphql")] {
/// use knogin_core::graphql::{GraphQlGate, reference};
///
/// let gate = GraphQlGate::new(reference::executor()).bundles(reference::bundles());
/// let body = br#"{"query":"query IncidentById($id: ID!) { incident(id: $id) { id title status } }","variables":{"id":"inc_1"}}"#;
/// let operation = gate.admit(body, "incidents:read")?;
/// assert_eq!(&*operation.bundle, "incident-sync");
/// assert!(gate.admit(body, "webhooks:read").is_err());
/// # }
/// # Ok::<(), knogin_core::graphql::Refusal>(())
/// ```
pub struct GraphQlGate {
    executor: Arc<dyn Executor>,
    bundles: ArcSwap<Bundles>,
    limits: GraphQlLimits,
}

impl fmt::Debug for GraphQlGate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphQlGate")
            .field("bundles", &self.bundles.load().bundles().len())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl GraphQlGate {
    /// A gate in front of `executor`, with no bundles yet (so it admits nothing) and the
    /// default limits.
    pub fn new(executor: impl Executor) -> Self {
        Self {
            executor: Arc::new(executor),
            bundles: ArcSwap::from_pointee(Bundles::default()),
            limits: GraphQlLimits::default(),
        }
    }

    /// With these bundles. [`crate::Builder::graphql`] checks them against the limits and the
    /// scope catalog.
    #[must_use]
    pub fn bundles(self, bundles: Bundles) -> Self {
        self.bundles.store(Arc::new(bundles));
        self
    }

    /// With these limits.
    #[must_use]
    pub fn limits(mut self, limits: GraphQlLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The executor.
    pub fn executor(&self) -> &dyn Executor {
        &*self.executor
    }

    /// The bundles in force.
    pub fn current_bundles(&self) -> Arc<Bundles> {
        self.bundles.load_full()
    }

    /// Checks `bundles` against the limits and `catalog`, then puts them in force at once: a
    /// request admitted a moment later sees the new set, one in flight finishes on the old.
    pub(crate) fn replace(
        &self,
        bundles: Bundles,
        catalog: &ScopeCatalog,
    ) -> Result<(), BundleError> {
        self.check(&bundles, catalog)?;
        self.bundles.store(Arc::new(bundles));
        Ok(())
    }

    /// Whether every bundle's scopes are in `catalog` and every document within the limits.
    pub(crate) fn check(
        &self,
        bundles: &Bundles,
        catalog: &ScopeCatalog,
    ) -> Result<(), BundleError> {
        for bundle in bundles.bundles() {
            if let Some(scope) = bundle
                .scopes()
                .iter()
                .find(|s| !catalog.contains(s.as_str()))
            {
                return Err(BundleError::UnknownScope {
                    bundle: bundle.name().to_owned(),
                    scope: scope.to_string(),
                });
            }
            for document in bundle.documents() {
                let over = [
                    ("depth", document.depth(), self.limits.depth),
                    ("aliases", document.aliases(), self.limits.aliases),
                ]
                .into_iter()
                .find(|(_, found, limit)| found > limit);
                if let Some((what, found, limit)) = over {
                    return Err(BundleError::OverLimit {
                        bundle: bundle.name().to_owned(),
                        operations: document.operations().join(", "),
                        what,
                        found,
                        limit,
                    });
                }
            }
        }
        Ok(())
    }

    /// Reads a request `body` and admits it for a token with the space-separated `scopes`: the
    /// named document must be trusted (by the hash of its exact text, by its normalized form, or
    /// by a persisted-document hash) in a bundle whose scopes the token carries all of, and
    /// `operationName`, when given, one of its operations.
    pub fn admit(&self, body: &[u8], scopes: &str) -> Result<Operation, Refusal> {
        let request = request::parse(
            body,
            self.limits.document_bytes,
            self.limits.variables_depth,
        )?;
        let bundles = self.bundles.load();
        let found = match &request.document {
            Named::Hash(hash) => admitted(&bundles, hash, scopes),
            // The exact text first: one hash of the bytes, no lexing.
            Named::Text(text) => {
                let exact = sha256(text.as_bytes());
                admitted(&bundles, &exact, scopes).or_else(|| {
                    // A respelling: lexed once, then remembered by the hash of its text.
                    let known = bundles.respelling(&exact);
                    let normalized = match known {
                        Some(normalized) => normalized,
                        None => normalized_hash(text, self.limits.document_bytes)?,
                    };
                    let found = admitted(&bundles, &normalized, scopes)?;
                    if known.is_none() {
                        bundles.remember_respelling(exact, normalized);
                    }
                    Some(found)
                })
            }
        };
        let (bundle, document) = found.ok_or(Refusal::NotAllowed)?;
        let index = match &request.operation_name {
            Some(name) => document
                .operations()
                .iter()
                .position(|op| op == name)
                .ok_or(Refusal::NotAllowed)?,
            None if document.operations().len() > 1 => {
                return Err(Refusal::BadRequest(
                    "operationName is required: the document has several operations".into(),
                ));
            }
            None => 0,
        };
        document
            .check_variables(index, &request.variables)
            .map_err(Refusal::InvalidVariables)?;
        Ok(Operation {
            document: document.text().clone(),
            operation_name: request.operation_name,
            variables: request.variables,
            bundle,
        })
    }
}

/// The first bundle holding the document `hash` whose scopes `granted` carries.
fn admitted(
    bundles: &Bundles,
    hash: &Hash,
    granted: &str,
) -> Option<(Arc<str>, Arc<super::TrustedDocument>)> {
    bundles
        .find(hash)
        .find(|found| found.bundle.allows(granted))
        .map(|found| (found.bundle.shared_name().clone(), found.document.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql::Bundle;
    use crate::testing::EmptyExecutor;

    const INCIDENT: &str = "query IncidentById($id: ID!) { incident(id: $id) { id title status } }";
    const TWO: &str = "query A { a } query B { b }";

    fn gate() -> GraphQlGate {
        let sync = Bundle::new("incident-sync", ["incidents:read"])
            .unwrap()
            .document(INCIDENT)
            .unwrap()
            .document(TWO)
            .unwrap();
        GraphQlGate::new(EmptyExecutor).bundles(Bundles::new([sync]).unwrap())
    }

    fn body(query: &str) -> Vec<u8> {
        serde_json::json!({ "query": query, "variables": { "id": "inc_1" } })
            .to_string()
            .into_bytes()
    }

    #[test]
    fn the_exact_text_and_a_respelling_are_admitted_as_the_trusted_text() {
        let gate = gate();
        for query in [
            INCIDENT,
            "query IncidentById($id:ID!){incident(id:$id){id,title,status}}",
        ] {
            let operation = gate.admit(&body(query), "incidents:read").unwrap();
            assert_eq!(&*operation.document, INCIDENT);
            assert_eq!(&*operation.bundle, "incident-sync");
            assert_eq!(operation.variables["id"], "inc_1");
        }
    }

    #[test]
    fn a_remembered_respelling_still_needs_the_scopes() {
        let gate = gate();
        let respelled = body("query IncidentById($id:ID!){incident(id:$id){id title status}}");
        assert!(gate.admit(&respelled, "incidents:read").is_ok());
        let exact =
            sha256("query IncidentById($id:ID!){incident(id:$id){id title status}}".as_bytes());
        assert!(gate.current_bundles().respelling(&exact).is_some());
        assert_eq!(
            gate.admit(&respelled, "webhooks:read").unwrap_err(),
            Refusal::NotAllowed
        );
        assert!(gate.admit(&respelled, "incidents:read").is_ok());
    }

    #[test]
    fn anything_else_is_not_allowed() {
        let gate = gate();
        for query in [
            "query IncidentById($key: ID!) { incident(id: $key) { id title status } }",
            "query IncidentById($id: ID!) { incident(id: $id) { id title status owner } }",
            "query IntrospectionQuery { __schema { types { name } } }",
            "not graphql at all {",
        ] {
            assert_eq!(
                gate.admit(&body(query), "incidents:read").unwrap_err(),
                Refusal::NotAllowed,
                "{query}"
            );
        }
    }

    #[test]
    fn a_token_without_the_bundle_scope_gets_the_same_refusal_as_an_unknown_document() {
        assert_eq!(
            gate().admit(&body(INCIDENT), "webhooks:read").unwrap_err(),
            Refusal::NotAllowed
        );
    }

    #[test]
    fn persisted_documents_are_found_by_the_hash_of_their_text() {
        let gate = gate();
        let hex = TrustedDocumentHex::of(INCIDENT);
        let by_id = format!(r#"{{"documentId":"sha256:{hex}","variables":{{"id":"inc_2"}}}}"#);
        assert_eq!(
            &*gate
                .admit(by_id.as_bytes(), "incidents:read")
                .unwrap()
                .document,
            INCIDENT
        );
        let unknown = format!(r#"{{"documentId":"sha256:{}"}}"#, "0".repeat(64));
        assert_eq!(
            gate.admit(unknown.as_bytes(), "incidents:read")
                .unwrap_err(),
            Refusal::NotAllowed
        );
    }

    #[test]
    fn the_operation_name_must_be_one_of_the_document() {
        let gate = gate();
        let named = |name: &str| {
            serde_json::json!({ "query": TWO, "operationName": name })
                .to_string()
                .into_bytes()
        };
        assert!(gate.admit(&named("B"), "incidents:read").is_ok());
        assert_eq!(
            gate.admit(&named("C"), "incidents:read").unwrap_err(),
            Refusal::NotAllowed
        );
        assert!(matches!(
            gate.admit(&body(TWO), "incidents:read"),
            Err(Refusal::BadRequest(_))
        ));
    }

    #[test]
    fn bundles_are_checked_against_the_catalog_and_the_limits() {
        let deep = Bundle::new("deep", ["incidents:read"])
            .unwrap()
            .document("query Deep { a { b { c { d } } } }")
            .unwrap();
        let limits = GraphQlLimits {
            depth: 3,
            ..GraphQlLimits::default()
        };
        let gate = GraphQlGate::new(EmptyExecutor).limits(limits);
        let catalog = ScopeCatalog::reference();
        assert!(matches!(
            gate.replace(Bundles::new([deep]).unwrap(), &catalog),
            Err(BundleError::OverLimit {
                what: "depth",
                found: 4,
                limit: 3,
                ..
            })
        ));
        let unknown = Bundle::new("cases", ["cases:read"]).unwrap();
        assert!(matches!(
            gate.replace(Bundles::new([unknown]).unwrap(), &catalog),
            Err(BundleError::UnknownScope { .. })
        ));
    }

    /// The persisted-document id of a text.
    struct TrustedDocumentHex;

    impl TrustedDocumentHex {
        fn of(text: &str) -> String {
            crate::graphql::TrustedDocument::parse(text)
                .unwrap()
                .sha256_hex()
        }
    }
}
