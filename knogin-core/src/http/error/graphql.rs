//! GraphQL errors, the error body of the GraphQL gate (GraphQL-over-HTTP).

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use serde_json::json;

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

pub(super) fn render(error: &ApiError, correlation_id: Option<String>) -> Response<ResponseBody> {
    let status = error.status();
    let mut extensions = json!({ "code": code(status) });
    if let Some(id) = correlation_id {
        extensions["correlation_id"] = id.into();
    }
    let body = json!({
        "errors": [{ "message": error.detail(), "extensions": extensions }]
    });
    let mut response = Response::new(ResponseBody::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
