//! The JWKS routes: the key ring's JWK set, serialized once at start and served from memory.

use http::Response;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};

use super::ResponseBody;
use crate::knogin::Knogin;

pub(super) fn respond(knogin: &Knogin) -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::new(knogin.keys().jwks().clone()));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, knogin.0.jwks_cache_control.clone());
    response
}
