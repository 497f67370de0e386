//! The executor trait: whatever runs an admitted operation (async-graphql, juniper, a proxy).

use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::BoxError;
use crate::token::Bearer;

/// An operation the gate admitted: a trusted document as registered, never the client's text.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Operation {
    /// The trusted document's text.
    pub document: Arc<str>,
    /// The operation to run, when the request named one.
    pub operation_name: Option<String>,
    /// The request's variables (checked for nesting depth only; the executor coerces them).
    pub variables: Map<String, Value>,
    /// The bundle that admitted it.
    pub bundle: Arc<str>,
}

impl Operation {
    /// An operation of `document` without variables, e.g. to run an executor in a test.
    pub fn new(document: impl Into<Arc<str>>, bundle: impl Into<Arc<str>>) -> Self {
        Self {
            document: document.into(),
            operation_name: None,
            variables: Map::new(),
            bundle: bundle.into(),
        }
    }

    /// With these variables.
    #[must_use]
    pub fn variables(mut self, variables: Map<String, Value>) -> Self {
        self.variables = variables;
        self
    }

    /// Naming the operation to run.
    #[must_use]
    pub fn operation_name(mut self, name: impl Into<String>) -> Self {
        self.operation_name = Some(name.into());
        self
    }
}

/// A GraphQL response (GraphQL spec §7.1).
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = GraphQlResponse)]
pub struct ExecutionResponse {
    /// The result; `None` when the request failed before execution (a request error, e.g.
    /// variables that do not coerce), which GraphQL-over-HTTP answers with 400.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// The errors, each an object with at least `message`.
    #[schema(required = false)]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Value>,
    /// The executor's extensions, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Value>,
}

/// Runs admitted operations. Implement it to put any GraphQL engine behind the gate; the
/// `async-graphql` feature ships [`AsyncGraphQl`](super::AsyncGraphQl).
///
/// The caller's tenant comes with every operation: scope every lookup to it.
///
/// ```
/// use knogin_core::graphql::{ExecutionResponse, Executor, Operation};
/// use knogin_core::http::{Bearer, BoxError};
///
/// /// Answers every operation with the caller's tenant (a real executor runs the document).
/// struct Echo;
///
/// #[async_trait::async_trait]
/// impl Executor for Echo {
///     async fn execute(&self, _: Operation, caller: &Bearer) -> Result<ExecutionResponse, BoxError> {
///         Ok(ExecutionResponse {
///             data: Some(serde_json::json!({ "tenant": caller.tenant.as_str() })),
///             ..ExecutionResponse::default()
///         })
///     }
/// }
/// ```
#[async_trait]
pub trait Executor: Send + Sync + 'static {
    /// Runs `operation` for `caller`. An `Err` is a failure of the server (logged, answered 500
    /// without detail); errors of the operation itself belong in the response's `errors`.
    async fn execute(
        &self,
        operation: Operation,
        caller: &Bearer,
    ) -> Result<ExecutionResponse, BoxError>;
}
