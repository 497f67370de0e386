//! The redirect answer of the browser flows.

use http::header::{CACHE_CONTROL, HeaderValue};
use http::{Response, StatusCode};

use super::error::{ApiError, Reply};
use super::reply::ResponseBody;

/// A redirect to `location`, never cached. Locations are built from registered redirect URIs
/// (normalized, so ASCII) and form-encoded parameters; one that is not a header value is a bug.
pub(crate) fn redirect(status: StatusCode, location: &str) -> Reply {
    let location = HeaderValue::from_str(location).map_err(|e| ApiError::Internal(Box::new(e)))?;
    let mut response = Response::new(ResponseBody::default());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(http::header::LOCATION, location);
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        http::header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}
