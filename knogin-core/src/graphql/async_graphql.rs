//! The executor for an [async-graphql](https://docs.rs/async-graphql) schema.

use async_graphql::{ObjectType, Schema, SubscriptionType, Variables};
use async_trait::async_trait;
use serde_json::Value;

use super::executor::{ExecutionResponse, Executor, Operation};
use crate::error::BoxError;
use crate::token::Bearer;

/// Runs admitted operations on an async-graphql [`Schema`]. Each request carries the caller's
/// [`Bearer`] in its context data: resolvers read it with `ctx.data::<Bearer>()` and scope every
/// lookup to `bearer.tenant`.
///
/// Build the schema with `.disable_introspection()` too: the gate never admits introspection,
/// and the schema then refuses it as well.
///
/// ```
/// use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};
/// use knogin_core::graphql::AsyncGraphQl;
///
/// struct Query;
///
/// #[Object]
/// impl Query {
///     async fn tenant(&self, ctx: &async_graphql::Context<'_>) -> String {
///         ctx.data_unchecked::<knogin_core::http::Bearer>().tenant.to_string()
///     }
/// }
///
/// let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
///     .disable_introspection()
///     .finish();
/// let executor = AsyncGraphQl::new(schema);
/// ```
pub struct AsyncGraphQl<Q, M, S>(Schema<Q, M, S>);

impl<Q, M, S> AsyncGraphQl<Q, M, S> {
    /// The executor of `schema`.
    pub fn new(schema: Schema<Q, M, S>) -> Self {
        Self(schema)
    }
}

#[async_trait]
impl<Q, M, S> Executor for AsyncGraphQl<Q, M, S>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    async fn execute(
        &self,
        operation: Operation,
        caller: &Bearer,
    ) -> Result<ExecutionResponse, BoxError> {
        let mut request = async_graphql::Request::new(&*operation.document)
            .variables(Variables::from_json(Value::Object(operation.variables)))
            .data(caller.clone());
        if let Some(name) = operation.operation_name {
            request = request.operation_name(name);
        }
        let response = self.0.execute(request).await;
        let errors = response
            .errors
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<Vec<_>, _>>()?;
        // async-graphql answers a request error (a variable that does not coerce, an unknown
        // operation) with null data and errors without a path; a field error has a path.
        let request_error = response.data == async_graphql::Value::Null
            && !response.errors.is_empty()
            && response.errors.iter().all(|e| e.path.is_empty());
        let data = if request_error {
            None
        } else {
            Some(response.data.into_json()?)
        };
        let extensions = if response.extensions.is_empty() {
            None
        } else {
            Some(serde_json::to_value(&response.extensions)?)
        };
        Ok(ExecutionResponse {
            data,
            errors,
            extensions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql::reference;

    fn caller() -> Bearer {
        crate::testing::bearer("acme", "incidents:read")
    }

    async fn run(document: &str, variables: serde_json::Value) -> ExecutionResponse {
        let operation =
            Operation::new(document, "test").variables(variables.as_object().unwrap().clone());
        reference::executor()
            .execute(operation, &caller())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn data_comes_back_as_json_in_the_callers_tenant() {
        let response = run(
            reference::INCIDENT_BY_ID,
            serde_json::json!({ "id": "inc_2" }),
        )
        .await;
        assert_eq!(
            response.data.unwrap()["incident"]["title"],
            "Flooded substation (acme)"
        );
        assert!(response.errors.is_empty());
    }

    #[tokio::test]
    async fn a_request_error_has_no_data() {
        // A variable of a type the argument does not take fails validation: nothing runs.
        let response = run(
            "query Q($id: Boolean!) { incident(id: $id) { id } }",
            serde_json::json!({ "id": true }),
        )
        .await;
        assert_eq!(response.data, None);
        assert!(response.errors[0]["message"].is_string());
        // Introspection is off in the demo schema too (should the gate ever let it through).
        let response = run(
            "query I { __schema { types { name } } }",
            serde_json::json!({}),
        )
        .await;
        assert_eq!(response.data, Some(serde_json::json!({ "__schema": null })));
    }
}
