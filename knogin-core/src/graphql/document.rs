//! One trusted document: checked when it is registered, found again by its hashes.
//!
//! A document is registered once (parsed in full: its operations, fragments, depth, aliases, and
//! whether it reaches for introspection) and looked up on every request by a SHA-256 hash: of the
//! text as registered, which a client sending the exact text hits at once, and of its normalized
//! form, the significant tokens joined by one space, which tolerates a client's own whitespace,
//! commas and comments and nothing else. A renamed variable or an extra field is another document.

use std::collections::HashMap;
use std::sync::Arc;

use apollo_parser::cst::{self, CstNode as _};
use apollo_parser::{Lexer, Parser, TokenKind};
use aws_lc_rs::digest;
use serde_json::{Map, Value};

use super::variables::{self, Declared};

/// The SHA-256 of a document's text or normalized form.
pub(crate) type Hash = [u8; 32];

/// The root fields of GraphQL introspection that a trusted document may never select.
/// (`__typename` reveals nothing about the schema and stays allowed.)
const INTROSPECTION: [&str; 2] = ["__schema", "__type"];

/// A parser's recursion limit while registering: deeper documents fail before the depth check.
const PARSER_RECURSION_LIMIT: usize = 256;

/// Why a document cannot be trusted. Each names what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// The text is not a GraphQL document.
    #[error("the document is not valid GraphQL: {0}")]
    Syntax(String),
    /// The document has no operation, or has type-system definitions.
    #[error("a trusted document holds operations and fragments only, and at least one operation")]
    NotExecutable,
    /// An operation has no name: trusted operations are listed and chosen by name.
    #[error("every operation of a trusted document needs a name")]
    Anonymous,
    /// Two operations or two fragments share a name.
    #[error("the name {0} is defined twice in the document")]
    Duplicate(String),
    /// A fragment spread names no fragment of the document.
    #[error("the fragment {0} is spread but not defined in the document")]
    UnknownFragment(String),
    /// Fragments spread each other in a cycle.
    #[error("the fragment {0} spreads itself")]
    FragmentCycle(String),
    /// The document selects an introspection field.
    #[error("the document selects {0}: introspection is never a trusted operation")]
    Introspection(&'static str),
}

/// A registered operation document, with what the gate checks about it.
#[derive(Debug)]
pub struct TrustedDocument {
    text: Arc<str>,
    operations: Vec<String>,
    /// The variables each operation declares, in the order of `operations`.
    variables: Vec<Vec<Declared>>,
    depth: usize,
    aliases: usize,
    sha256: Hash,
    normalized: Hash,
}

impl TrustedDocument {
    /// Parses and checks `text`: executable definitions only, every operation named, every
    /// spread fragment defined and acyclic, no `__schema` or `__type` anywhere.
    ///
    /// ```
    /// use knogin_core::graphql::TrustedDocument;
    ///
    /// let doc = TrustedDocument::parse("query IncidentById($id: ID!) { incident(id: $id) { id } }")?;
    /// assert_eq!(doc.operations(), ["IncidentById"]);
    /// assert_eq!(doc.depth(), 2);
    /// assert!(TrustedDocument::parse("query Q { __schema { types { name } } }").is_err());
    /// # Ok::<(), knogin_core::graphql::DocumentError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, DocumentError> {
        let tree = Parser::new(text)
            .recursion_limit(PARSER_RECURSION_LIMIT)
            .parse();
        if let Some(error) = tree.errors().next() {
            return Err(DocumentError::Syntax(format!(
                "{} at byte {}",
                error.message(),
                error.index()
            )));
        }
        let mut operations = Vec::new();
        let mut variables = Vec::new();
        let mut roots = Vec::new();
        let mut fragments = HashMap::new();
        for definition in tree.document().definitions() {
            match definition {
                cst::Definition::OperationDefinition(op) => {
                    let name = op
                        .name()
                        .ok_or(DocumentError::Anonymous)?
                        .text()
                        .to_string();
                    if operations.contains(&name) {
                        return Err(DocumentError::Duplicate(name));
                    }
                    operations.push(name);
                    variables.push(variables::declared(&op));
                    roots.extend(op.selection_set());
                }
                cst::Definition::FragmentDefinition(fragment) => {
                    let name = fragment_name(fragment.fragment_name());
                    let Some(selections) = fragment.selection_set() else {
                        return Err(DocumentError::NotExecutable);
                    };
                    if fragments.insert(name.clone(), selections).is_some() {
                        return Err(DocumentError::Duplicate(name));
                    }
                }
                _ => return Err(DocumentError::NotExecutable),
            }
        }
        if operations.is_empty() {
            return Err(DocumentError::NotExecutable);
        }
        let mut walk = Walk {
            fragments: &fragments,
            depths: HashMap::new(),
            visiting: Vec::new(),
        };
        let mut depth = 0;
        for root in &roots {
            depth = depth.max(walk.depth(root)?);
        }
        for (name, selections) in &fragments {
            // Fragments no operation spreads are still checked: nothing in the text escapes.
            if !walk.depths.contains_key(name) {
                walk.depth(selections)?;
            }
        }
        let aliases = count_aliases(tree.document().syntax());
        Ok(Self {
            text: text.into(),
            operations,
            variables,
            depth,
            aliases,
            sha256: sha256(text.as_bytes()),
            normalized: normalized_hash(text, usize::MAX).expect("a parsed document lexes"),
        })
    }

    /// The text as registered: what the executor runs, whatever spelling the client sent.
    pub fn text(&self) -> &Arc<str> {
        &self.text
    }

    /// The names of its operations, in document order.
    pub fn operations(&self) -> &[String] {
        &self.operations
    }

    /// Checks `values` against the variables operation `index` declares: required ones given
    /// and not null, built-in scalars (`Int`, `Float`, `String`, `Boolean`, `ID`) of the right
    /// kind. Types only the schema knows are left to the executor.
    pub(crate) fn check_variables(
        &self,
        index: usize,
        values: &Map<String, Value>,
    ) -> Result<(), String> {
        variables::check(&self.variables[index], values)
    }

    /// The deepest nesting of field selections of any operation (fragments expanded):
    /// `{ a { b } }` is 2.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// How many fields of the document carry an alias.
    pub fn aliases(&self) -> usize {
        self.aliases
    }

    /// The lowercase hex SHA-256 of the text as registered: its persisted-document id is
    /// `sha256:` followed by this.
    pub fn sha256_hex(&self) -> String {
        crate::hex::lower(&self.sha256)
    }

    /// Its two lookup keys: the hash of its text and of its normalized form.
    pub(crate) fn hashes(&self) -> [Hash; 2] {
        [self.sha256, self.normalized]
    }
}

/// The SHA-256 of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> Hash {
    digest::digest(&digest::SHA256, bytes)
        .as_ref()
        .try_into()
        .expect("SHA-256 is 32 bytes")
}

/// The SHA-256 of `text`'s normalized form: its significant tokens, each followed by one space.
/// `None` when `text` does not lex as GraphQL or has more than `max_tokens` tokens.
pub(crate) fn normalized_hash(text: &str, max_tokens: usize) -> Option<Hash> {
    let mut context = digest::Context::new(&digest::SHA256);
    for token in Lexer::new(text).with_limit(max_tokens) {
        let token = token.ok()?;
        match token.kind() {
            TokenKind::Whitespace | TokenKind::Comment | TokenKind::Comma | TokenKind::Eof => {}
            _ => {
                context.update(token.data().as_bytes());
                context.update(b" ");
            }
        }
    }
    Some(
        context
            .finish()
            .as_ref()
            .try_into()
            .expect("SHA-256 is 32 bytes"),
    )
}

fn fragment_name(name: Option<cst::FragmentName>) -> String {
    name.and_then(|n| n.name())
        .map(|n| n.text().to_string())
        .unwrap_or_default()
}

/// Depth of selection sets, following fragment spreads (each fragment measured once).
struct Walk<'a> {
    fragments: &'a HashMap<String, cst::SelectionSet>,
    depths: HashMap<String, usize>,
    visiting: Vec<String>,
}

impl Walk<'_> {
    /// How deep `set` nests field selections; an error for introspection or a bad spread.
    fn depth(&mut self, set: &cst::SelectionSet) -> Result<usize, DocumentError> {
        let mut deepest = 0;
        for selection in set.selections() {
            let depth = match selection {
                cst::Selection::Field(field) => {
                    let name = field.name().map(|n| n.text().to_string());
                    if let Some(&found) =
                        INTROSPECTION.iter().find(|i| name.as_deref() == Some(**i))
                    {
                        return Err(DocumentError::Introspection(found));
                    }
                    match field.selection_set() {
                        Some(inner) => 1 + self.depth(&inner)?,
                        None => 1,
                    }
                }
                cst::Selection::InlineFragment(inline) => match inline.selection_set() {
                    Some(inner) => self.depth(&inner)?,
                    None => 0,
                },
                cst::Selection::FragmentSpread(spread) => {
                    self.fragment(fragment_name(spread.fragment_name()))?
                }
            };
            deepest = deepest.max(depth);
        }
        Ok(deepest)
    }

    fn fragment(&mut self, name: String) -> Result<usize, DocumentError> {
        if let Some(&depth) = self.depths.get(&name) {
            return Ok(depth);
        }
        if self.visiting.contains(&name) {
            return Err(DocumentError::FragmentCycle(name));
        }
        let fragments = self.fragments;
        let set = fragments
            .get(&name)
            .ok_or_else(|| DocumentError::UnknownFragment(name.clone()))?;
        self.visiting.push(name.clone());
        let depth = self.depth(set)?;
        self.visiting.pop();
        self.depths.insert(name, depth);
        Ok(depth)
    }
}

/// The aliased fields anywhere in the document.
fn count_aliases(root: &apollo_parser::SyntaxNode) -> usize {
    root.descendants()
        .filter_map(cst::Field::cast)
        .filter(|field| field.alias().is_some())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    const INCIDENT: &str = "query IncidentById($id: ID!) { incident(id: $id) { id title status } }";

    #[test]
    fn a_named_operation_is_trusted_with_its_depth() {
        let doc = TrustedDocument::parse(INCIDENT).unwrap();
        assert_eq!(doc.operations(), ["IncidentById"]);
        assert_eq!(doc.depth(), 2);
        assert_eq!(doc.aliases(), 0);
        assert_eq!(doc.sha256_hex().len(), 64);
    }

    #[test]
    fn whitespace_commas_and_comments_do_not_change_the_normalized_form() {
        let doc = TrustedDocument::parse(INCIDENT).unwrap();
        let respelled = "# fetch one\nquery IncidentById( $id : ID! ) {\n  incident(id: $id) {\n    id, title, status\n  }\n}\n";
        assert_eq!(
            normalized_hash(respelled, usize::MAX),
            Some(doc.hashes()[1])
        );
        assert_ne!(sha256(respelled.as_bytes()), doc.hashes()[0]);
    }

    #[test]
    fn a_renamed_variable_or_an_extra_field_is_another_document() {
        let doc = TrustedDocument::parse(INCIDENT).unwrap();
        for other in [
            "query IncidentById($key: ID!) { incident(id: $key) { id title status } }",
            "query IncidentById($id: ID!) { incident(id: $id) { id title status owner } }",
        ] {
            assert_ne!(normalized_hash(other, usize::MAX), Some(doc.hashes()[1]));
        }
    }

    #[test]
    fn introspection_is_refused_in_every_spelling() {
        for text in [
            "query Q { __schema { types { name } } }",
            "query Q { s: __schema { queryType { name } } }",
            "query Q { __type(name: \"Incident\") { fields { name } } }",
            "query Q { ...F } fragment F on Query { __schema { types { name } } }",
            "query Q { ... on Query { t: __type(name: \"Query\") { name } } }",
            "query Q { incident(id: 1) { id } } fragment Unused on Query { __schema { types { name } } }",
        ] {
            assert!(
                matches!(
                    TrustedDocument::parse(text),
                    Err(DocumentError::Introspection(_))
                ),
                "{text}"
            );
        }
        assert!(TrustedDocument::parse("query Q { incident(id: 1) { __typename id } }").is_ok());
    }

    #[test]
    fn bad_documents_are_named() {
        type Expected = fn(&DocumentError) -> bool;
        let cases: [(&str, Expected); 7] = [
            ("query Q { incident(", |e| {
                matches!(e, DocumentError::Syntax(_))
            }),
            ("{ incident { id } }", |e| *e == DocumentError::Anonymous),
            ("type Query { a: Int }", |e| {
                *e == DocumentError::NotExecutable
            }),
            ("query Q { a } query Q { b }", |e| {
                *e == DocumentError::Duplicate("Q".into())
            }),
            ("query Q { ...Missing }", |e| {
                *e == DocumentError::UnknownFragment("Missing".into())
            }),
            (
                "query Q { ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
                |e| matches!(e, DocumentError::FragmentCycle(_)),
            ),
            ("fragment A on Query { a }", |e| {
                *e == DocumentError::NotExecutable
            }),
        ];
        for (text, expected) in cases {
            let error = TrustedDocument::parse(text).unwrap_err();
            assert!(expected(&error), "{text}: {error:?}");
        }
    }

    #[test]
    fn depth_follows_fragments_and_aliases_are_counted() {
        let doc = TrustedDocument::parse(
            "query Q { a: incident(id: 1) { ...F } b: incident(id: 2) { id } } \
             fragment F on Incident { owner { team { name } } }",
        )
        .unwrap();
        assert_eq!(doc.depth(), 4);
        assert_eq!(doc.aliases(), 2);
    }
}
