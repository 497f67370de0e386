//! An HTML error page, for routes a person's browser opens. Rendered with maud, which escapes
//! every interpolated value.

use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, X_FRAME_OPTIONS};
use http::{HeaderName, Response};
use maud::{DOCTYPE, html};

use super::{ApiError, title};
use crate::http::ResponseBody;

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

pub(super) fn render(error: &ApiError, correlation_id: Option<String>) -> Response<ResponseBody> {
    let status = error.status();
    let title = title(status);
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { "body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}" }
            }
            body {
                main {
                    h1 { (title) }
                    p { (error.detail()) }
                    @if let Some(id) = &correlation_id {
                        p { "Quote this reference when you report it: " code { (id) } }
                    }
                }
            }
        }
    };
    let mut response = Response::new(ResponseBody::from(page.into_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(CSP),
    );
    response
}
