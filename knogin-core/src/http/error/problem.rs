//! RFC 9457 problem details, the error body of the platform and webhook routes.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use serde::Serialize;

use super::{ApiError, title};
use crate::http::ResponseBody;
use crate::validation::FieldError;

/// The media type of problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem; `errors` names each bad field.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Problem<'a> {
    /// `urn:knogin:problem:{slug}`: what kind of problem, for programs.
    #[serde(rename = "type")]
    kind: String,
    /// The status's reason phrase.
    title: &'static str,
    /// The HTTP status.
    status: u16,
    /// What went wrong, for a person to act on.
    detail: &'a str,
    /// Each bad field of the request.
    #[schema(required = false)]
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [FieldError],
    /// The id of this answer in the server's log (server errors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    correlation_id: Option<String>,
}

pub(super) fn render(error: &ApiError, correlation_id: Option<String>) -> Response<ResponseBody> {
    let status = error.status();
    let repeated;
    let errors: &[FieldError] = match error {
        ApiError::Invalid(errors) => &errors.0,
        ApiError::RepeatedParameter(name) => {
            repeated = [FieldError::new(name.clone(), "is given more than once")];
            &repeated
        }
        _ => &[],
    };
    let detail = error.detail();
    let problem = Problem {
        kind: format!("urn:knogin:problem:{}", error.slug()),
        title: title(status),
        status: status.as_u16(),
        detail: &detail,
        errors,
        correlation_id,
    };
    let body = serde_json::to_vec(&problem).expect("a problem serializes");
    let mut response = Response::new(ResponseBody::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}

/// The one body every unknown route answers, whatever the path and method: it names neither, so
/// a withheld surface cannot be told from a path that never existed.
const NOT_FOUND_BODY: &[u8] = br#"{"type":"urn:knogin:problem:not-found","title":"Not Found","status":404,"detail":"The requested resource does not exist."}"#;

/// The fixed 404 answer for a path no route serves. Adapters use it as their fallback so
/// unknown and withheld paths answer byte for byte alike.
pub fn not_found() -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::new(Bytes::from_static(NOT_FOUND_BODY)));
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}
