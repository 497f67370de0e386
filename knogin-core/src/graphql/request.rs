//! A GraphQL-over-HTTP request body, read strictly: which document it names, and with what.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::document::{Hash, sha256};

/// Why a request was not run. Nothing in it says anything about the schema or the bundles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The body is not a GraphQL-over-HTTP request: answered 400 in every media type.
    #[error("{0}")]
    BadRequest(String),
    /// The document is larger than the gate's limit; it is not even read.
    #[error("the document is {bytes} bytes, over the limit of {limit}")]
    TooLarge {
        /// The document's size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The variables do not coerce to the types the operation declares (a GraphQL request
    /// error): the message names the variable and the type.
    #[error("{0}")]
    InvalidVariables(String),
    /// The document is not a trusted operation of a bundle the token's scopes allow.
    #[error(
        "this operation is not one of the curated operations your token's scopes allow; \
         ask for an operation bundle through the integration request flow"
    )]
    NotAllowed,
}

impl Refusal {
    fn bad(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }
}

/// How the request names its document.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Named {
    /// By its text (`query`).
    Text(String),
    /// By hash: `documentId: "sha256:…"` or the `persistedQuery` extension.
    Hash(Hash),
}

/// A request, read.
#[derive(Debug)]
pub(crate) struct GraphQlRequest {
    pub(crate) document: Named,
    pub(crate) operation_name: Option<String>,
    pub(crate) variables: Map<String, Value>,
}

/// The request members, as a well-formed request has them: read in one typed pass (no map of
/// members is built). A body this does not fit is read again member by member, to say what is
/// wrong with it.
///
/// A GraphQL-over-HTTP request naming a curated operation: by `documentId`, by the
/// `persistedQuery` extension's hash, or by a `query` whose text is a registered document.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = GraphQlRequest)]
pub(crate) struct Wire {
    /// The text of a registered document.
    #[serde(default)]
    query: Option<String>,
    /// A registered document's id.
    #[serde(default, rename = "documentId")]
    document_id: Option<String>,
    /// The operation to run, when the document has several.
    #[serde(default, rename = "operationName")]
    operation_name: Option<String>,
    /// The operation's variables.
    #[serde(default)]
    variables: Option<Map<String, Value>>,
    /// Extensions, e.g. `persistedQuery` with its `sha256Hash`.
    #[serde(default)]
    extensions: Option<Value>,
}

/// Reads `body`: a JSON object with `query` or `documentId` (or the `persistedQuery` extension),
/// and optional `operationName`, `variables` and `extensions`; other members are ignored.
pub(crate) fn parse(
    body: &[u8],
    document_bytes: usize,
    variables_depth: usize,
) -> Result<GraphQlRequest, Refusal> {
    // serde reads a struct from an array too (by position): only an object takes the typed pass.
    let object = body.trim_ascii_start().starts_with(b"{");
    let wire = match serde_json::from_slice::<Wire>(body) {
        Ok(wire) if object => wire,
        _ => why_not(body)?,
    };
    let variables = wire.variables.unwrap_or_default();
    let nesting = variables.values().map(depth).max().unwrap_or(0);
    if nesting > variables_depth {
        return Err(Refusal::bad(format!(
            "variables nest {nesting} levels deep, over the limit of {variables_depth}"
        )));
    }
    let persisted = persisted_query_hash(wire.extensions)?;
    let document = match (wire.query, wire.document_id) {
        (Some(_), Some(_)) => {
            return Err(Refusal::bad("send either query or documentId, not both"));
        }
        (None, Some(id)) => Named::Hash(document_id_hash(&id)?),
        (Some(query), None) => {
            if query.len() > document_bytes {
                return Err(Refusal::TooLarge {
                    bytes: query.len(),
                    limit: document_bytes,
                });
            }
            if persisted.is_some_and(|hash| hash != sha256(query.as_bytes())) {
                return Err(Refusal::bad(
                    "extensions.persistedQuery.sha256Hash is not the SHA-256 of query",
                ));
            }
            Named::Text(query)
        }
        (None, None) => match persisted {
            Some(hash) => Named::Hash(hash),
            None => {
                return Err(Refusal::bad(
                    "the body needs query (a GraphQL document) or documentId (\"sha256:<hex>\")",
                ));
            }
        },
    };
    Ok(GraphQlRequest {
        document,
        operation_name: wire.operation_name,
        variables,
    })
}

/// Reads a body the typed pass refused member by member, and says what is wrong with it.
fn why_not(body: &[u8]) -> Result<Wire, Refusal> {
    let mut body: Map<String, Value> = match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err(Refusal::bad("the body must be a JSON object")),
        Err(e) => return Err(Refusal::bad(format!("the body is not valid JSON: {e}"))),
    };
    let query = optional_string(&mut body, "query")?;
    let document_id = optional_string(&mut body, "documentId")?;
    let operation_name = optional_string(&mut body, "operationName")?;
    let variables = match body.remove("variables") {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => Some(map),
        Some(_) => return Err(Refusal::bad("variables must be a JSON object")),
    };
    Ok(Wire {
        query,
        document_id,
        operation_name,
        variables,
        extensions: body.remove("extensions"),
    })
}

/// The string member `name`, absent or null as `None`.
fn optional_string(body: &mut Map<String, Value>, name: &str) -> Result<Option<String>, Refusal> {
    match body.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Refusal::bad(format!("{name} must be a string"))),
    }
}

/// `sha256:` and 64 lowercase hex digits (the GraphQL-over-HTTP persisted document id).
fn document_id_hash(id: &str) -> Result<Hash, Refusal> {
    id.strip_prefix("sha256:")
        .and_then(hex_hash)
        .ok_or_else(|| Refusal::bad("documentId must be \"sha256:\" and 64 lowercase hex digits"))
}

/// The `sha256Hash` of `extensions.persistedQuery` (Apollo's automatic persisted queries).
fn persisted_query_hash(extensions: Option<Value>) -> Result<Option<Hash>, Refusal> {
    let persisted = match extensions {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(mut map)) => match map.remove("persistedQuery") {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Object(p)) => p,
            Some(_) => return Err(Refusal::bad("extensions.persistedQuery must be an object")),
        },
        Some(_) => return Err(Refusal::bad("extensions must be a JSON object")),
    };
    persisted
        .get("sha256Hash")
        .and_then(Value::as_str)
        .and_then(hex_hash)
        .map(Some)
        .ok_or_else(|| {
            Refusal::bad("extensions.persistedQuery.sha256Hash must be 64 lowercase hex digits")
        })
}

fn hex_hash(hex: &str) -> Option<Hash> {
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut hash = [0; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        hash[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(hash)
}

/// How deep a JSON value nests: a scalar is 1, `[1]` is 2.
fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(members) => 1 + members.values().map(depth).max().unwrap_or(0),
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: &str) -> Result<GraphQlRequest, Refusal> {
        parse(body.as_bytes(), 100, 3)
    }

    fn bad(body: &str) -> String {
        match read(body) {
            Err(Refusal::BadRequest(message)) => message,
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn a_query_with_variables_and_an_operation_name() {
        let request = read(
            r#"{"query":"query Q { a }","variables":{"id":"inc_1"},"operationName":"Q","other":1}"#,
        )
        .unwrap();
        assert_eq!(request.document, Named::Text("query Q { a }".into()));
        assert_eq!(request.operation_name.as_deref(), Some("Q"));
        assert_eq!(request.variables["id"], "inc_1");
    }

    #[test]
    fn persisted_documents_by_id_and_by_extension() {
        let hex = "ab".repeat(32);
        let hash = hex_hash(&hex).unwrap();
        let by_id = read(&format!(r#"{{"documentId":"sha256:{hex}"}}"#)).unwrap();
        assert_eq!(by_id.document, Named::Hash(hash));
        let by_extension = read(&format!(
            r#"{{"extensions":{{"persistedQuery":{{"version":1,"sha256Hash":"{hex}"}}}}}}"#
        ))
        .unwrap();
        assert_eq!(by_extension.document, Named::Hash(hash));
    }

    #[test]
    fn a_persisted_hash_beside_a_query_must_be_its_hash() {
        let query = "query Q { a }";
        let hex = crate::graphql::TrustedDocument::parse(query)
            .unwrap()
            .sha256_hex();
        let body = format!(
            r#"{{"query":"{query}","extensions":{{"persistedQuery":{{"sha256Hash":"{hex}"}}}}}}"#
        );
        assert!(read(&body).is_ok());
        let wrong = body.replace(&hex, &"0".repeat(64));
        assert!(bad(&wrong).contains("not the SHA-256"));
    }

    #[test]
    fn every_malformed_body_says_what_is_wrong() {
        assert!(bad("{").contains("not valid JSON"));
        assert!(bad("[]").contains("JSON object"));
        assert!(bad("{}").contains("needs query"));
        assert!(bad(r#"{"query":{"a":1}}"#).contains("query must be a string"));
        assert!(bad(r#"{"query":"q","variables":[1]}"#).contains("variables must be"));
        assert!(bad(r#"{"query":"q","operationName":1}"#).contains("operationName"));
        assert!(bad(r#"{"query":"q","documentId":"sha256:00"}"#).contains("not both"));
        assert!(bad(r#"{"documentId":"md5:00"}"#).contains("documentId must be"));
        let upper = format!(r#"{{"documentId":"sha256:{}"}}"#, "AB".repeat(32));
        assert!(bad(&upper).contains("documentId must be"));
        assert!(bad(r#"{"query":"q","variables":{"a":{"b":{"c":{"d":1}}}}}"#).contains("nest 4"));
    }

    #[test]
    fn a_document_over_the_limit_is_not_read() {
        let body = format!(r#"{{"query":"{}"}}"#, "a".repeat(101));
        assert_eq!(
            read(&body).unwrap_err(),
            Refusal::TooLarge {
                bytes: 101,
                limit: 100
            }
        );
    }
}
