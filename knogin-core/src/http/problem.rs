//! RFC 9457 problem details, the error body of every non-OAuth route.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{Response, StatusCode};
use serde::Serialize;

use super::ResponseBody;
use crate::validation::FieldError;

/// The media type of problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem details object (RFC 9457), ready to render.
#[derive(Debug, Serialize)]
pub(crate) struct Problem {
    #[serde(rename = "type")]
    kind: String,
    title: &'static str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    correlation_id: Option<String>,
    #[serde(skip)]
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Problem {
    /// A problem of kind `slug` (its `type` is `urn:knogin:problem:{slug}`).
    pub(crate) fn new(
        status: StatusCode,
        slug: &str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            kind: format!("urn:knogin:problem:{slug}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            correlation_id: None,
            headers: Vec::new(),
        }
    }

    /// Names each bad field.
    pub(crate) fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    /// Adds the id under which the server logged the details.
    pub(crate) fn with_correlation_id(mut self, id: String) -> Self {
        self.correlation_id = Some(id);
        self
    }

    /// Adds a response header.
    pub(crate) fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The HTTP response.
    pub(crate) fn into_response(self) -> Response<ResponseBody> {
        let body = serde_json::to_vec(&self).expect("a problem serializes");
        let mut response = Response::new(ResponseBody::new(Bytes::from(body)));
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        for (name, value) in self.headers {
            headers.append(name, value);
        }
        response
    }
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
