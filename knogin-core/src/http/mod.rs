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
//!
//! Each capability owns a module that contributes its rows to one route table ([`routes`]):
//! method, path, who may call it ([`Access`]), how it answers errors ([`ErrorFormat`]), and its
//! handler. The table is the one source that routing, the adapters, the tests and the docs read.

mod access;
mod apps;
mod authorize;
mod body;
mod ctx;
mod docs;
pub(crate) mod error;
mod fields;
mod graphql;
mod html;
mod jwks;
mod oauth;
mod page;
mod proxies;
mod scopes;
#[cfg(feature = "password-login")]
mod sign_in;
mod table;
#[cfg(test)]
mod tests;
mod webhooks;
mod weighted;

pub(crate) use self::weighted::weighted;

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::FutureExt as _;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, PRAGMA};
use http::{Request, Response, StatusCode};
use http_body::Body;
use serde::Serialize;

pub use self::access::{
    Access, Admin, AuthenticatedClient, Bearer, ClientAuthMethod, ClientRejection, LoginStep,
    Rejection, SignedInUser, TenantBearer, UserAuthenticator,
};
pub use self::body::BoxError;
use self::error::ApiError;
pub use self::error::{ErrorFormat, PROBLEM_JSON, not_found};
pub use self::proxies::{InvalidProxyRange, TrustedProxies};
#[cfg(feature = "password-login")]
pub(crate) use self::sign_in::PasswordLogin;
use self::table::{Lookup, Table};
pub use self::table::{Route, Surface, Surfaces};
use crate::knogin::Knogin;

/// The body of every response the core writes.
pub type ResponseBody = http_body_util::Full<Bytes>;

/// What a handler returns.
pub(crate) type Reply = Result<Response<ResponseBody>, ApiError>;

/// The route table, assembled from each capability's rows. Adding a capability is one entry here.
static TABLE: LazyLock<Table> = LazyLock::new(|| {
    Table::build(
        [
            scopes::routes(),
            apps::routes(),
            oauth::routes(),
            authorize::routes(),
            jwks::routes(),
            webhooks::routes(),
            graphql::routes(),
            docs::routes(),
        ]
        .into_iter()
        .flatten()
        .collect(),
    )
});

/// Every route of the contract, in table order, including those a handle serves only when
/// configured for them (see [`Knogin::routes`]).
pub fn routes() -> &'static [Route] {
    TABLE.routes()
}

impl Knogin {
    /// The routes this handle serves, in table order: every route but those of capabilities
    /// it was built without (`POST /graphql` needs [`Builder::graphql`](crate::Builder::graphql)).
    pub fn routes(&self) -> impl Iterator<Item = &'static Route> {
        TABLE.routes().iter().filter(|r| r.is_served_by(self))
    }

    /// Whether this handle serves any route of `surfaces` with this path, whatever the
    /// method: the hyper adapter uses it to decide between the contract and the embedder's own
    /// service.
    pub fn serves_path(&self, path: &str, surfaces: Surfaces) -> bool {
        TABLE.serves_path(self, path, surfaces)
    }
}

/// The address of the peer that sent a request, as a request extension. The per-address limits
/// (the built-in login's, client authentication failures) read it: `knogin-axum` inserts it from
/// axum's `ConnectInfo`, `knogin-hyper` from the connection, and an embedder serving the core
/// itself inserts it. Behind a reverse proxy named in
/// [`Builder::trusted_proxies`](crate::Builder::trusted_proxies), the core replaces it with the
/// client address the proxy forwards. Without it, only the per-user limits apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

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

/// The message of a caught panic, for the log.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Answers one request through `table`.
async fn dispatch<B>(table: &Table, knogin: &Knogin, request: Request<B>) -> Response<ResponseBody>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let (mut parts, body) = request.into_parts();
    if let Some(ClientAddr(peer)) = parts.extensions.get::<ClientAddr>().copied() {
        let client = knogin.0.trusted_proxies.client_of(peer, &parts.headers);
        parts.extensions.insert(ClientAddr(client));
    }
    let head = parts.method == http::Method::HEAD;
    let (route, params) = match table.find(knogin, &parts.method, parts.uri.path()) {
        Lookup::Found(route, params) => (route, params),
        Lookup::MethodNotAllowed(allow, format) => {
            return ApiError::MethodNotAllowed(allow).render(format);
        }
        Lookup::NotFound => return not_found(),
    };
    // The GraphQL gate answers errors in the media type the client asked for.
    let media =
        (route.errors() == ErrorFormat::GraphQl).then(|| graphql::Media::negotiate(&parts.headers));
    let render = |error: ApiError| {
        let mut response = error.render(route.errors());
        if let Some(media) = media {
            media.label(&mut response);
        }
        response
    };
    let limit = route
        .own_body_limit()
        .unwrap_or_else(|| knogin.body_limit());
    // A request without a body (most GETs) costs no boxed body.
    let body = (!body.is_end_stream()).then(|| body::boxed(body));
    let ctx = ctx::Ctx::new(knogin.clone(), parts, params, body, limit);
    // A panic in a handler (or in an embedder's store, clock or authenticator) answers an opaque
    // 500 like any internal error, and the connection stays up.
    let response = match AssertUnwindSafe((route.run)(ctx)).catch_unwind().await {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => render(error),
        Err(panic) => render(ApiError::Internal(
            format!(
                "the handler of {} {} panicked: {}",
                route.method(),
                route.path(),
                panic_message(&*panic)
            )
            .into(),
        )),
    };
    if head {
        // The GET answer's status and headers, without its body.
        response.map(|_| ResponseBody::default())
    } else {
        response
    }
}

impl Knogin {
    /// Answers one request. Never fails: every error is an HTTP answer in the route's format.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<ResponseBody>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        dispatch(&TABLE, self, request).await
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
