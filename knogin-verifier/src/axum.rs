//! For axum resource servers (feature `axum`): the [`Verified`] extractor, and
//! [`protected_resource`], which serves the RFC 9728 metadata. [`VerifyLayer`](crate::VerifyLayer)
//! works on an axum router as it is.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use crate::{AccessClaims, PROTECTED_RESOURCE_PATH, ProtectedResource, RequiredScope, Verifier};

/// The claims of a verified token carrying `S::SCOPE`; anything else is answered RFC 6750
/// (401 `invalid_token` or 403 `insufficient_scope`, with `resource_metadata` when the verifier
/// names it). Your state must give an `Arc<Verifier>` (`FromRef`).
///
/// ```
/// use std::sync::Arc;
/// use axum::{Router, routing::get};
/// use knogin_verifier::{RequiredScope, Verifier};
/// use knogin_verifier::axum::Verified;
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
        match verifier.verify_request(parts, Some(S::SCOPE)).await {
            Ok(claims) => Ok(Self(claims, PhantomData)),
            Err(refusal) => Err(verifier.refusal(refusal).into_response()),
        }
    }
}

/// A router serving `resource`'s RFC 9728 metadata at its well-known path (merge it into your
/// app).
pub fn protected_resource<St>(resource: ProtectedResource) -> Router<St>
where
    St: Clone + Send + Sync + 'static,
{
    let path = resource.metadata_url().parse::<http::Uri>().map_or_else(
        |_| PROTECTED_RESOURCE_PATH.to_owned(),
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
