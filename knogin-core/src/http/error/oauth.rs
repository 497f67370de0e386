//! RFC 6749 §5.2 error JSON, the error body of the OAuth endpoints.

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, PRAGMA};
use http::{Response, StatusCode};
use serde::Serialize;

use super::ApiError;
use crate::http::ResponseBody;

#[derive(Serialize)]
struct OAuthError<'a> {
    error: &'static str,
    error_description: &'a str,
}

/// The RFC 6749 error code for `error`. Bodies the endpoint cannot read are `invalid_request`
/// (§5.2); failed client authentication is `invalid_client`.
fn code(error: &ApiError) -> &'static str {
    match error {
        ApiError::Client(_) => "invalid_client",
        ApiError::Grant(e) => e.code(),
        ApiError::Bearer(_) => "invalid_token",
        ApiError::Forbidden(_) => "access_denied",
        ApiError::Internal(_) => "server_error",
        _ => "invalid_request",
    }
}

/// RFC 6749 answers 400 to every request error except a failed client authentication (401);
/// a wrong method and a server failure keep their own status.
fn status(error: &ApiError) -> StatusCode {
    match error {
        ApiError::Client(_)
        | ApiError::Bearer(_)
        | ApiError::MethodNotAllowed(_)
        | ApiError::Forbidden(_)
        | ApiError::Internal(_) => error.status(),
        _ => StatusCode::BAD_REQUEST,
    }
}

pub(super) fn render(error: &ApiError, correlation_id: Option<String>) -> Response<ResponseBody> {
    let mut detail = error.detail().into_owned();
    if let ApiError::Invalid(errors) = error {
        detail = errors
            .0
            .iter()
            .map(|e| format!("{} {}", e.field, e.detail))
            .collect::<Vec<_>>()
            .join("; ");
    }
    if let Some(id) = correlation_id {
        detail = format!("{detail} (correlation_id {id})");
    }
    let body = OAuthError {
        error: code(error),
        error_description: &detail,
    };
    let body = serde_json::to_vec(&body).expect("an OAuth error serializes");
    let mut response = Response::new(ResponseBody::new(Bytes::from(body)));
    *response.status_mut() = status(error);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
