//! The body of every answer, and the JSON answers handlers build.

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, PRAGMA};
use http::{Response, StatusCode};
use serde::Serialize;

/// The body of every response the core writes.
pub type ResponseBody = http_body_util::Full<Bytes>;

/// A JSON answer.
pub(crate) fn json(status: StatusCode, value: &impl Serialize) -> Response<ResponseBody> {
    json_bytes(
        status,
        serde_json::to_vec(value).expect("response bodies serialize"),
    )
}

/// A JSON answer whose body is already written.
pub(crate) fn json_bytes(status: StatusCode, body: Vec<u8>) -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A JSON answer carrying a secret: never stored by a cache (RFC 6749 §5.1 style).
pub(crate) fn json_no_store(status: StatusCode, value: &impl Serialize) -> Response<ResponseBody> {
    no_store(json(status, value))
}

/// `response`, marked never to be stored by a cache.
pub(crate) fn no_store(mut response: Response<ResponseBody>) -> Response<ResponseBody> {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
