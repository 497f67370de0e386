//! The contract over `http` types: [`Knogin`] is a `tower::Service<http::Request<B>>` for any
//! body `B`, so every adapter serves the same routes and the same error bodies.
//!
//! ```
//! # async fn example(knogin: knogin_core::Knogin) {
//! use tower::ServiceExt as _;
//!
//! let request = http::Request::get("/.well-known/jwks.json")
//!     .body(http_body_util::Empty::<bytes::Bytes>::new())
//!     .unwrap();
//! let response = knogin.oneshot(request).await.unwrap();
//! assert_eq!(response.status(), 200);
//! # }
//! ```

mod bearer;
mod error;
mod fields;
mod jwks;
mod platform;
mod problem;
mod request;
mod routes;
#[cfg(test)]
mod tests;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, PRAGMA};
use http::{Request, Response, StatusCode};
use http_body::Body;
use serde::Serialize;

pub use self::bearer::{Bearer, Rejection};
use self::error::ApiError;
pub use self::problem::{PROBLEM_JSON, not_found};
pub use self::request::BoxError;
pub use self::routes::{Access, Endpoint, ROUTES, Route, serves_path};
use self::routes::{Lookup, find};
use crate::knogin::Knogin;

/// The body of every response the core writes.
pub type ResponseBody = http_body_util::Full<Bytes>;

/// A JSON answer.
pub(crate) fn json(status: StatusCode, value: &impl Serialize) -> Response<ResponseBody> {
    let body = serde_json::to_vec(value).expect("response bodies serialize");
    let mut response = Response::new(ResponseBody::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A JSON answer carrying a secret: never stored by a cache (RFC 6749 §5.1 style).
pub(crate) fn json_no_store(status: StatusCode, value: &impl Serialize) -> Response<ResponseBody> {
    let mut response = json(status, value);
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

impl Knogin {
    /// Answers one request. Never fails: every error is an HTTP answer in the contract's format.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<ResponseBody>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = request.into_parts();
        let head = parts.method == http::Method::HEAD;
        let (route, param) = match find(&parts.method, parts.uri.path()) {
            Lookup::Found(route, param) => (route, param),
            Lookup::MethodNotAllowed(allow) => {
                return ApiError::MethodNotAllowed(allow).into_response();
            }
            Lookup::NotFound => return not_found(),
        };
        let result = async {
            let caller = match route.access {
                Access::Public => None,
                Access::Bearer(scope) => Some(self.authorize(&parts.headers, Some(scope))?),
            };
            let caller = || caller.as_ref().expect("bearer routes have a caller");
            match route.endpoint {
                Endpoint::Jwks => Ok(jwks::respond(self)),
                Endpoint::ListScopes => Ok(platform::list_scopes(self)),
                Endpoint::ListApps => platform::list_apps(self, caller(), &parts).await,
                Endpoint::CreateApp => {
                    let body = self.json_body(&parts, body).await?;
                    platform::create_app(self, caller(), body).await
                }
                Endpoint::GetApp => {
                    platform::get_app(self, caller(), &platform::app_id(param)?).await
                }
                Endpoint::UpdateGovernance => {
                    let id = platform::app_id(param)?;
                    let body = self.json_body(&parts, body).await?;
                    platform::update_governance(self, caller(), &id, body).await
                }
                Endpoint::RotateSecret => {
                    platform::rotate_secret(self, caller(), &platform::app_id(param)?).await
                }
            }
        };
        let response = result.await.unwrap_or_else(ApiError::into_response);
        if head {
            // The GET answer's status and headers, without its body.
            response.map(|_| ResponseBody::default())
        } else {
            response
        }
    }
}

impl<B> tower::Service<Request<B>> for Knogin
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let knogin = self.clone();
        Box::pin(async move { Ok(knogin.handle(request).await) })
    }
}
