//! The HTML pages a person's browser sees: the built-in login page, the consent page and the
//! error page. Templates are maud, compiled with the crate and escaping every interpolated
//! value; every page is served with headers against framing, caching and referrer leaks.
//!
//! Accessibility: one `main` landmark and one `h1` per page, `lang`, every input with a visible
//! `label`, errors announced (`role="alert"`) and tied to their inputs (`aria-describedby`,
//! `aria-invalid`), the browser's own autofill hints, visible focus, 44-pixel targets and text
//! contrast above WCAG AA. The browser test runs axe-core over each page.

pub(crate) mod consent;
#[cfg(feature = "password-login")]
pub(crate) mod login;

use http::header::{
    CACHE_CONTROL, CONTENT_TYPE, HeaderValue, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use http::{HeaderName, Response, StatusCode};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::ResponseBody;

/// No script, no outside resource, no framing. `form-action` is left open on purpose: the
/// consent form's answer redirects to the client, and browsers apply `form-action` to redirects.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; \
    base-uri 'none'; frame-ancestors 'none'";

/// The pages' one stylesheet: system fonts, readable width, visible focus, large targets, and
/// colours with a contrast ratio of at least 7:1 for text.
const STYLE: &str = "\
:root{color-scheme:light;font:1.0625rem/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1a1a1a;background:#fff}\
body{margin:0}main{max-width:30rem;margin:3rem auto;padding:0 1.25rem}\
h1{font-size:1.5rem;line-height:1.25;margin:0 0 1rem}\
label{display:block;font-weight:600;margin:1rem 0 .25rem}\
input{box-sizing:border-box;width:100%;min-height:2.75rem;padding:.5rem;font:inherit;border:2px solid #555;border-radius:4px}\
input[aria-invalid=true]{border-color:#a4000f}\
button{min-height:2.75rem;min-width:6rem;padding:.5rem 1.25rem;font:inherit;font-weight:600;border-radius:4px;border:2px solid #0b3d91;cursor:pointer}\
.primary{background:#0b3d91;color:#fff}.secondary{background:#fff;color:#0b3d91}\
.actions{display:flex;gap:1rem;flex-wrap:wrap;margin-top:1.5rem}\
:focus-visible{outline:3px solid #b35900;outline-offset:2px}\
.alert{border-left:4px solid #a4000f;padding:.5rem .75rem;background:#fdecee;color:#5c0009}\
.scopes{padding-left:1.25rem}.scopes li{margin:.5rem 0}code{font-size:.95em}\
.muted{color:#444}";

/// A whole page: `title` in the tab and as the heading, `content` below it.
pub(crate) fn layout(title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                main {
                    h1 { (title) }
                    (content)
                }
            }
        }
    }
}

/// `page` as an answer with `status`, with the headers every page carries.
pub(crate) fn response(status: StatusCode, page: Markup) -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::from(page.into_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(CSP),
    );
    response
}
