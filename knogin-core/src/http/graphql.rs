//! The GraphQL gate's routes: `POST /graphql`, the transport, and the admins' list of bundles.
//!
//! Answers follow GraphQL-over-HTTP: a client accepting `application/json` gets 200 for every
//! operation that was refused or ran (with `errors`), one accepting
//! `application/graphql-response+json` gets 400 when nothing ran. A body that is not a
//! GraphQL-over-HTTP request is a 400 in both, a missing or bad token a 401, a tenant header that
//! is missing or not the token's a 403.

use http::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, Response, StatusCode};
use serde::Serialize;

use super::access::{Admin, TenantBearer, admin, tenant_bearer};
use super::ctx::Ctx;
use super::docs::content::{Audience, BEARER, Host, Section};
use super::error::ApiError;
use super::table::{Row, route};
use super::{Reply, ResponseBody, json};
use crate::graphql::{ExecutionResponse, GraphQlGate, GraphQlRequest, Refusal};

/// The code of every refused operation: the same whether the document is unknown, outside the
/// token's scopes, introspection, or too large.
const NOT_ALLOWED: &str = "OPERATION_NOT_ALLOWED";

/// The code of variables that do not coerce to the operation's declared types.
const BAD_USER_INPUT: &str = "BAD_USER_INPUT";

/// The GraphQL gate's routes.
pub(super) fn routes() -> Vec<Row> {
    vec![
        route!(POST "/graphql" => tenant_bearer(run), GraphQl, "Run a curated GraphQL operation")
            .json::<GraphQlRequest>()
            .answers::<ExecutionResponse>(StatusCode::OK)
            .hide_other_methods()
            .only_if(|knogin| knogin.graphql().is_some()),
        route!(GET "/v1/platform/graphql-bundles" => admin(list), Problem, "List the GraphQL operation bundles")
            .answers::<BundleList>(StatusCode::OK),
    ]
}

/// The response media types of GraphQL-over-HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Media {
    /// `application/json`: 200 for every well-formed request.
    Json,
    /// `application/graphql-response+json`: the status says whether the operation ran.
    GraphQlResponse,
}

impl Media {
    /// `application/graphql-response+json` when the `Accept` header ranks it at least as high
    /// as `application/json` (and above zero); `application/json` otherwise, also for a missing
    /// or unsatisfiable `Accept` (as the GraphQL-over-HTTP draft allows).
    pub(crate) fn negotiate(headers: &HeaderMap) -> Self {
        let (mut graphql, mut plain) = (0.0_f32, 0.0_f32);
        for (media, q) in super::weighted::weighted(headers, &ACCEPT) {
            match media.to_ascii_lowercase().as_str() {
                "application/graphql-response+json" => graphql = graphql.max(q),
                "application/json" | "application/*" | "*/*" => plain = plain.max(q),
                _ => {}
            }
        }
        if graphql > 0.0 && graphql >= plain {
            Self::GraphQlResponse
        } else {
            Self::Json
        }
    }

    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::Json => "application/json",
            Self::GraphQlResponse => "application/graphql-response+json",
        })
    }

    /// Sets the answer's `Content-Type` to this media type.
    pub(crate) fn label(self, response: &mut Response<ResponseBody>) {
        response
            .headers_mut()
            .insert(CONTENT_TYPE, self.content_type());
    }

    /// A GraphQL response body in this media type.
    fn answer(self, status: StatusCode, body: &impl Serialize) -> Response<ResponseBody> {
        let mut response = json(status, body);
        self.label(&mut response);
        response
    }
}

async fn run(mut ctx: Ctx, caller: TenantBearer) -> Reply {
    let knogin = ctx.core.clone();
    let gate = knogin
        .graphql()
        .expect("the route is served only by handles with a gate");
    let media = Media::negotiate(&ctx.parts.headers);
    let body = ctx.json_bytes().await?;
    let TenantBearer(caller) = caller;
    let operation = match gate.admit(&body, &caller.claims.scope) {
        Ok(operation) => operation,
        Err(Refusal::BadRequest(message)) => return Err(ApiError::BadRequest(message.into())),
        Err(refusal) => {
            let code = match refusal {
                Refusal::InvalidVariables(_) => BAD_USER_INPUT,
                _ => {
                    tracing::info!(
                        tenant = %caller.tenant,
                        client_id = %caller.claims.client_id,
                        %refusal,
                        "refused a GraphQL operation"
                    );
                    NOT_ALLOWED
                }
            };
            // Nothing ran: a request error (GraphQL-over-HTTP), 200 only for application/json.
            let status = match media {
                Media::Json => StatusCode::OK,
                Media::GraphQlResponse => StatusCode::BAD_REQUEST,
            };
            let body = serde_json::json!({
                "errors": [{ "message": refusal.to_string(), "extensions": { "code": code } }]
            });
            return Ok(media.answer(status, &body));
        }
    };
    let response: ExecutionResponse = gate
        .executor()
        .execute(operation, &caller)
        .await
        .map_err(ApiError::Internal)?;
    let status = match (media, &response.data) {
        (Media::GraphQlResponse, None) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    Ok(media.answer(status, &response))
}

/// The operation bundles in force.
#[derive(Serialize, utoipa::ToSchema)]
struct BundleList<'a> {
    /// Each bundle and the operations it admits.
    bundles: Vec<Listed<'a>>,
}

/// One bundle: its name (the scope a token needs for it) and the operations it admits.
#[derive(Serialize, utoipa::ToSchema)]
struct Listed<'a> {
    /// The bundle's name.
    name: &'a str,
    /// The names of its operations.
    operations: Vec<&'a str>,
}

async fn list(ctx: Ctx, _admin: Admin) -> Reply {
    let bundles = ctx.core.graphql().map(GraphQlGate::current_bundles);
    let listed: Vec<Listed<'_>> = bundles
        .iter()
        .flat_map(|b| b.bundles())
        .map(|bundle| Listed {
            name: bundle.name(),
            operations: bundle.operations().collect(),
        })
        .collect();
    Ok(json(StatusCode::OK, &BundleList { bundles: listed }))
}

/// The docs section of `graphql-transport`: Use the shared GraphQL transport.
pub(crate) const GRAPHQL_TRANSPORT_SECTION: Section = Section {
    id: "graphql-transport",
    methods: &["POST"],
    path: "/graphql",
    title: "Use the shared GraphQL transport",
    host: Host::Api,
    auth: BEARER,
    audience: Audience::Integrators,
    description: "Connect to the GraphQL endpoint with bearer tokens and tenant scoping, while operation bundles remain curated and access-controlled.",
    notes: &[
        "Public documentation covers transport, headers, tenancy, and error handling only.",
        "Schema dumps, playground access, introspection guidance, and unpublished operations are excluded from the public contract.",
        "Approved partners receive curated operation bundles tied to explicit integration workflows.",
    ],
    request: (
        "bash",
        "curl -X POST {api}/graphql \\\n  -H \"Authorization: Bearer <access-token>\" \\\n  -H \"Content-Type: application/json\" \\\n  -H \"X-Tenant-ID: <tenant-id>\" \\\n  -d '{\n    \"query\": \"<approved GraphQL document>\",\n    \"variables\": {}\n  }'",
    ),
    response: (
        "json",
        "{\n  \"data\": {\n    \"result\": \"Returned for your approved operation bundle\"\n  }\n}",
    ),
};

/// The docs section of `graphql-bundles`: List the GraphQL operation bundles.
pub(crate) const GRAPHQL_BUNDLES_SECTION: Section = Section {
    id: "graphql-bundles",
    methods: &["GET"],
    path: "/v1/platform/graphql-bundles",
    title: "List the GraphQL operation bundles",
    host: Host::Auth,
    auth: BEARER,
    audience: Audience::Admins,
    description: "Lists the curated operation bundles in force, by name and operation name, for the tenant's administrators.",
    notes: &[
        "Documents and schema details are never listed: bundles are handed to approved integrations directly.",
    ],
    request: (
        "bash",
        "curl {auth}/v1/platform/graphql-bundles \\\n  -H \"Authorization: Bearer <admin-access-token>\"",
    ),
    response: (
        "json",
        "{\n  \"bundles\": [\n    {\n      \"name\": \"incident-sync\",\n      \"operations\": [\"IncidentById\"]\n    }\n  ]\n}",
    ),
};

#[cfg(test)]
mod tests {
    use super::*;

    fn negotiate(accept: &[&str]) -> Media {
        let mut headers = HeaderMap::new();
        for value in accept {
            headers.append(ACCEPT, HeaderValue::from_str(value).unwrap());
        }
        Media::negotiate(&headers)
    }

    #[test]
    fn the_graphql_response_type_is_chosen_only_when_ranked_first() {
        assert_eq!(negotiate(&[]), Media::Json);
        assert_eq!(negotiate(&["*/*"]), Media::Json);
        assert_eq!(negotiate(&["text/html"]), Media::Json);
        assert_eq!(
            negotiate(&["application/graphql-response+json"]),
            Media::GraphQlResponse
        );
        assert_eq!(
            negotiate(&["application/graphql-response+json, application/json;q=0.9"]),
            Media::GraphQlResponse
        );
        assert_eq!(
            negotiate(&["application/graphql-response+json;q=0.5, application/json"]),
            Media::Json
        );
        assert_eq!(
            negotiate(&["application/graphql-response+json;q=0"]),
            Media::Json
        );
        assert_eq!(
            negotiate(&["application/json", "application/graphql-response+json"]),
            Media::GraphQlResponse
        );
    }
}
