//! Mount the Knogin integration contract into an axum [`Router`].
//!
//! [`router`] gives a `Router` with one route per contract path, each served by the core, so
//! axum and hyper users get byte-identical answers. `merge` it into your app, or `nest` it under
//! a prefix. Use [`not_found`] as your fallback to answer unknown paths exactly like the core does.
//!
//! ```no_run
//! # async fn example(knogin: knogin_core::Knogin) {
//! use axum::{Router, routing::get};
//!
//! let app = Router::new()
//!     .route("/healthz", get(|| async { "ok" }))
//!     .merge(knogin_axum::router(knogin))
//!     .fallback(knogin_axum::not_found);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await.unwrap();
//! // With the peer address, so the built-in login's per-address limit applies.
//! let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
//! axum::serve(listener, app).await.unwrap();
//! # }
//! ```
#![forbid(unsafe_code)]

pub use knogin_verifier::axum::{Verified, protected_resource};
pub use knogin_verifier::{RequiredScope, VerifyLayer, VerifyService};

use std::marker::PhantomData;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use knogin_core::Knogin;
use knogin_core::http::{ClientAddr, Route, Surfaces};
use tower::util::MapRequestLayer;

/// A router serving every route of the contract through `knogin`. When axum knows the peer
/// address (`into_make_service_with_connect_info::<SocketAddr>()`), it reaches the core as
/// [`ClientAddr`].
///
/// It claims `/v1/…`, `/graphql` (with a gate), `/.well-known/jwks.json`,
/// `/.well-known/oauth-authorization-server`, `/api/docs…` and `/llms.txt`; axum panics on
/// `merge` if your router has one of them too. Use [`router_for`] to leave a surface to your
/// own routes.
pub fn router<S>(knogin: Knogin) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router_for(knogin, Surfaces::ALL)
}

/// A router serving the routes of `surfaces` only, leaving the others' paths to your router:
/// say your app has its own `/api/docs`.
///
/// ```
/// use axum::{Router, routing::get};
/// use knogin_core::http::{Surface, Surfaces};
///
/// fn app(knogin: knogin_core::Knogin) -> Router {
///     Router::new()
///         .route("/api/docs", get(|| async { "our own API docs" }))
///         .merge(knogin_axum::router_for(knogin, Surfaces::ALL.without(Surface::Docs)))
/// }
/// ```
///
/// Nesting the router under a prefix (`nest("/auth", …)`) needs the issuer to end in that
/// prefix, and RFC 8414 then puts the metadata at the host's root, as
/// `/.well-known/oauth-authorization-server/auth`: serve the
/// [`Surface::WellKnown`](knogin_core::http::Surface::WellKnown) routes there yourself, or
/// mount them at the root.
pub fn router_for<S>(knogin: Knogin, surfaces: Surfaces) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let mut paths: Vec<&'static str> = knogin
        .routes()
        .filter(|r| surfaces.contains(r.surface()))
        .map(Route::path)
        .collect();
    paths.sort_unstable();
    paths.dedup();
    paths
        .into_iter()
        .fold(Router::new(), |router, path| {
            router.route_service(path, knogin.clone())
        })
        .layer(MapRequestLayer::new(with_client_addr))
}

/// Copies axum's peer address into the request as the core's [`ClientAddr`].
fn with_client_addr(mut request: axum::extract::Request) -> axum::extract::Request {
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        let addr = ClientAddr(peer.ip());
        request.extensions_mut().insert(addr);
    }
    request
}

/// The core's fixed 404 answer, as an axum handler: the same bytes for every unknown path,
/// withheld surfaces included.
#[allow(clippy::unused_async, reason = "axum handlers are async functions")]
pub async fn not_found() -> Response {
    knogin_core::http::not_found().into_response()
}

/// Guards your own handlers with this issuer's access and service tokens: extracts the verified
/// token when it carries `S::SCOPE`, or answers the core's 401/403 (RFC 9457 body, RFC 6750
/// challenge). Admin tokens never pass. Your state must give a [`Knogin`] (`FromRef`).
///
/// ```
/// use axum::{Router, routing::get};
/// use knogin_axum::{Bearer, RequiredScope};
///
/// struct IncidentsRead;
/// impl RequiredScope for IncidentsRead {
///     const SCOPE: &'static str = "incidents:read";
/// }
///
/// async fn incidents(bearer: Bearer<IncidentsRead>) -> String {
///     format!("incidents of tenant {}", bearer.0.tenant)
/// }
///
/// fn app(knogin: knogin_core::Knogin) -> Router {
///     Router::new().route("/incidents", get(incidents)).with_state(knogin)
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Bearer<S>(pub knogin_core::http::Bearer, PhantomData<fn() -> S>);

impl<S, St> FromRequestParts<St> for Bearer<S>
where
    S: RequiredScope,
    Knogin: FromRef<St>,
    St: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Response> {
        Knogin::from_ref(state)
            .tokens()
            .check_bearer(parts, S::SCOPE)
            .await
            .map(|bearer| Self(bearer, PhantomData))
            .map_err(|rejection| rejection.into_response().into_response())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use axum::body::Body;
    use http::{Request, StatusCode};
    use knogin_core::clock::{ManualClock, Timestamp};
    use knogin_core::testing::test_knogin_with;
    use tower::ServiceExt as _;

    use super::*;

    async fn knogin() -> Knogin {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix(1_800_000_000)));
        test_knogin_with(clock, Duration::ZERO).await
    }

    async fn status(app: Router, path: &str) -> StatusCode {
        let request = Request::get(path).body(Body::empty()).unwrap();
        app.oneshot(request).await.unwrap().status()
    }

    #[tokio::test]
    async fn nests_under_a_prefix() {
        let app = Router::new()
            .nest("/auth", router(knogin().await))
            .fallback(not_found);
        assert_eq!(
            status(app.clone(), "/auth/.well-known/jwks.json").await,
            StatusCode::OK
        );
        assert_eq!(
            status(app.clone(), "/auth/v1/platform/apps").await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            status(app, "/.well-known/jwks.json").await,
            StatusCode::NOT_FOUND
        );
    }

    #[tokio::test]
    async fn a_surface_left_out_is_the_embedders_and_merging_does_not_panic() {
        use axum::routing::get;
        use knogin_core::http::Surface;

        let app = Router::new()
            .route("/api/docs", get(|| async { "ours" }))
            .route("/llms.txt", get(|| async { "ours too" }))
            .merge(router_for(
                knogin().await,
                Surfaces::ALL.without(Surface::Docs),
            ));
        let request = Request::get("/api/docs").body(Body::empty()).unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        assert_eq!(&body[..], b"ours");
        assert_eq!(
            status(app.clone(), "/.well-known/jwks.json").await,
            StatusCode::OK
        );
        assert_eq!(
            status(app, "/api/docs/openapi.json").await,
            StatusCode::NOT_FOUND
        );
    }

    struct WebhooksRead;
    impl RequiredScope for WebhooksRead {
        const SCOPE: &'static str = "webhooks:read";
    }

    #[tokio::test]
    async fn the_bearer_extractor_guards_the_embedders_routes_by_scope() {
        let knogin = knogin().await;
        let tenant = knogin_core::TenantId::parse("acme").unwrap();
        let grant = |scopes: &[&str]| knogin_core::token::TokenGrant {
            tenant: tenant.clone(),
            subject: "app_00000000000000000000000000000000".into(),
            client_id: "app_00000000000000000000000000000000".into(),
            scopes: knogin_core::ScopeSet::new(scopes).unwrap(),
            ttl: Duration::from_secs(60),
            resource: None,
            dpop_jkt: None,
            actor: None,
        };
        let token = knogin
            .tokens()
            .mint_access(&grant(&["webhooks:read"]))
            .await
            .unwrap();
        let other = knogin
            .tokens()
            .mint_access(&grant(&["webhooks:write"]))
            .await
            .unwrap();
        let admin = knogin
            .tokens()
            .mint_admin(&tenant, Duration::from_secs(60))
            .await
            .unwrap();
        let app = Router::new()
            .route(
                "/whoami",
                axum::routing::get(|b: Bearer<WebhooksRead>| async move { b.0.tenant.to_string() }),
            )
            .with_state(knogin);
        for refused in [other.expose(), admin.expose()] {
            let request = Request::get("/whoami")
                .header("authorization", format!("Bearer {refused}"))
                .body(Body::empty())
                .unwrap();
            let response = app.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
        }
        assert_eq!(
            status(app.clone(), "/whoami").await,
            StatusCode::UNAUTHORIZED
        );
        let request = Request::get("/whoami")
            .header("authorization", format!("Bearer {}", token.expose()))
            .body(Body::empty())
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), 64)
            .await
            .unwrap();
        assert_eq!(&body[..], b"acme");
    }

    #[tokio::test]
    async fn merges_next_to_the_embedders_routes() {
        let app = Router::new()
            .route("/mine", axum::routing::get(|| async { "mine" }))
            .merge(router(knogin().await));
        assert_eq!(status(app.clone(), "/mine").await, StatusCode::OK);
        assert_eq!(status(app, "/v1/auth/jwks.json").await, StatusCode::OK);
    }
}
