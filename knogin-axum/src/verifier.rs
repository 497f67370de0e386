//! For resource servers that are not the issuer: the [`Verified`] extractor and the
//! [`VerifyLayer`] check knogin tokens against the issuer's JWKS with a
//! [`Verifier`], and [`protected_resource`] serves the RFC 9728 metadata.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::{FromRef, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use knogin_core::token::AccessClaims;
use knogin_core::verifier::{ProtectedResource, Verifier};
use tower::{Layer, Service};

use crate::RequiredScope;

/// The claims of a verified token carrying `S::SCOPE`; anything else is answered RFC 6750
/// (401 `invalid_token` or 403 `insufficient_scope`, with `resource_metadata` when the verifier
/// names it). Your state must give an `Arc<Verifier>` (`FromRef`).
///
/// ```
/// use std::sync::Arc;
/// use axum::{Router, routing::get};
/// use knogin_axum::{RequiredScope, Verified};
/// use knogin_core::verifier::Verifier;
///
/// struct IncidentsRead;
/// impl RequiredScope for IncidentsRead {
///     const SCOPE: &'static str = "incidents:read";
/// }
///
/// async fn incidents(token: Verified<IncidentsRead>) -> String {
///     format!("incidents of tenant {}", token.0.tenant)
/// }
///
/// fn app(verifier: Arc<Verifier>) -> Router {
///     Router::new().route("/v1/incidents", get(incidents)).with_state(verifier)
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Verified<S>(pub AccessClaims, PhantomData<fn() -> S>);

impl<S, St> FromRequestParts<St> for Verified<S>
where
    S: RequiredScope,
    Arc<Verifier>: FromRef<St>,
    St: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Response> {
        let verifier = Arc::<Verifier>::from_ref(state);
        match verifier
            .verify_request(&parts.headers, Some(S::SCOPE))
            .await
        {
            Ok(claims) => Ok(Self(claims, PhantomData)),
            Err(refusal) => Err(verifier.refusal(refusal).into_response()),
        }
    }
}

/// A tower layer that lets through only requests with a verified token (carrying `scope`, when
/// given) and puts its [`AccessClaims`] in the request's extensions (read them with
/// `Extension<AccessClaims>`). Use it on a router or a route: `route_layer(VerifyLayer::new(…))`.
///
/// ```
/// use std::sync::Arc;
/// use axum::{Extension, Router, routing::get};
/// use knogin_axum::VerifyLayer;
/// use knogin_core::token::AccessClaims;
/// use knogin_core::verifier::Verifier;
///
/// fn app(verifier: Arc<Verifier>) -> Router {
///     Router::new()
///         .route("/v1/incidents", get(|Extension(claims): Extension<AccessClaims>| async move {
///             claims.tenant
///         }))
///         .route_layer(VerifyLayer::new(verifier, Some("incidents:read")))
/// }
/// ```
#[derive(Debug, Clone)]
pub struct VerifyLayer {
    verifier: Arc<Verifier>,
    scope: Option<&'static str>,
}

impl VerifyLayer {
    /// Requires a token `verifier` accepts, carrying `scope` when given.
    pub fn new(verifier: Arc<Verifier>, scope: Option<&'static str>) -> Self {
        Self { verifier, scope }
    }
}

impl<S> Layer<S> for VerifyLayer {
    type Service = VerifyService<S>;

    fn layer(&self, inner: S) -> VerifyService<S> {
        VerifyService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`VerifyLayer`] makes.
#[derive(Debug, Clone)]
pub struct VerifyService<S> {
    inner: S,
    layer: VerifyLayer,
}

impl<S> Service<Request> for VerifyService<S>
where
    S: Service<Request, Response = Response> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        // The service that was polled ready handles this request; a fresh clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let verified = layer
                .verifier
                .verify_request(request.headers(), layer.scope)
                .await;
            match verified {
                Ok(claims) => {
                    request.extensions_mut().insert(claims);
                    inner.call(request).await
                }
                Err(refusal) => Ok(layer.verifier.refusal(refusal).into_response()),
            }
        })
    }
}

/// A router serving `resource`'s RFC 9728 metadata at its well-known path (merge it into your
/// app).
pub fn protected_resource<St>(resource: ProtectedResource) -> Router<St>
where
    St: Clone + Send + Sync + 'static,
{
    let url = resource.metadata_url();
    let path = url::Url::parse(&url).map_or_else(
        |_| knogin_core::verifier::PROTECTED_RESOURCE_PATH.to_owned(),
        |u| u.path().to_owned(),
    );
    let document = Arc::new(resource);
    Router::new().route(
        &path,
        axum::routing::get(move || {
            let document = Arc::clone(&document);
            async move { document.response().into_response() }
        }),
    )
}
