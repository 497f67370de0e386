//! GraphQL errors, the error body of the GraphQL gate (GraphQL-over-HTTP).

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use serde::Serialize;

use super::ApiError;
use crate::http::ResponseBody;

/// The `extensions.code` of `error`, in the spelling GraphQL servers commonly use.
fn code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "UNAUTHENTICATED",
        StatusCode::FORBIDDEN => "FORBIDDEN",
        StatusCode::NOT_FOUND => "NOT_FOUND",
        s if s.is_server_error() => "INTERNAL_SERVER_ERROR",
        _ => "BAD_REQUEST",
    }
}

/// GraphQL errors; `extensions.code` says what kind.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct GraphQlErrors<'a> {
    /// The one error of the answer.
    errors: [GraphQlError<'a>; 1],
}

/// One GraphQL error.
#[derive(Serialize, utoipa::ToSchema)]
struct GraphQlError<'a> {
    /// What went wrong, for the developer.
    message: &'a str,
    /// What kind of error, for programs.
    extensions: Extensions,
}

/// What kind of error, and where to find it in the server's log.
#[derive(Serialize, utoipa::ToSchema)]
struct Extensions {
    /// `BAD_REQUEST`, `UNAUTHENTICATED`, `FORBIDDEN`, `NOT_FOUND` or `INTERNAL_SERVER_ERROR`.
    code: &'static str,
    /// The id of this answer in the server's log (server errors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    correlation_id: Option<String>,
}

pub(super) fn render(error: &ApiError, correlation_id: Option<String>) -> Response<ResponseBody> {
    let status = error.status();
    let detail = error.detail();
    let body = GraphQlErrors {
        errors: [GraphQlError {
            message: &detail,
            extensions: Extensions {
                code: code(status),
                correlation_id,
            },
        }],
    };
    let body = serde_json::to_vec(&body).expect("GraphQL errors serialize");
    let mut response = Response::new(ResponseBody::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
