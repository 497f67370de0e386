//! The route table, assembled from each capability's rows, and the dispatch of one request
//! through it: the client address, the route, the body limit, the guard and the handler, a
//! caught panic.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use futures_util::FutureExt as _;
use http::{Request, Response};
use http_body::Body;

use super::body::{self, BoxError};
use super::ctx::Ctx;
use super::error::{ApiError, ErrorFormat, not_found};
use super::proxies::ClientAddr;
use super::reply::ResponseBody;
use super::route::{Route, Surfaces};
use super::served::{CorrelationId, MatchedRoute};
use super::state::State;
use super::table::{Lookup, Table};
use super::{apps, authorize, docs, graphql, jwks, oauth, scopes, webhooks};
use crate::metrics;
use crate::shared::Core;

/// The route table, assembled from each capability's rows. Adding a capability is one entry here.
pub(super) static TABLE: LazyLock<Table> = LazyLock::new(|| {
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
/// configured for them (see [`Knogin::routes`](crate::Knogin::routes)).
pub fn routes() -> &'static [Route] {
    TABLE.routes()
}

/// The routes `core` serves, in table order: every route but those of capabilities it was
/// built without.
pub(crate) fn served(core: &Core) -> impl Iterator<Item = &'static Route> + use<'_> {
    TABLE.served(core)
}

/// Whether `core` serves any route of `surfaces` with this path, whatever the method.
pub(crate) fn serves_path(core: &Core, path: &str, surfaces: Surfaces) -> bool {
    TABLE.serves_path(core, path, surfaces)
}

/// The message of a caught panic, for the log.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Answers one request. Never fails: every error is an HTTP answer in the route's format.
pub(crate) async fn dispatch<B>(
    core: &Core,
    state: &Arc<State>,
    request: Request<B>,
) -> Response<ResponseBody>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    dispatch_through(&TABLE, core, state, request).await
}

/// Answers one request through `table`, records it in `http.server.request.duration`, and
/// marks the answer with the route it matched ([`MatchedRoute`]).
pub(super) async fn dispatch_through<B>(
    table: &'static Table,
    core: &Core,
    state: &Arc<State>,
    request: Request<B>,
) -> Response<ResponseBody>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let started = Instant::now();
    let method = metrics::method_label(request.method());
    let (mut response, route) = answer(table, core, state, request).await;
    let template = route.map(Route::path);
    metrics::request_served(method, template, response.status(), started.elapsed());
    if let Some(template) = template {
        response.extensions_mut().insert(MatchedRoute(template));
    }
    response
}

/// The answer to one request through `table`, and the route that gave it.
async fn answer<B>(
    table: &'static Table,
    core: &Core,
    state: &Arc<State>,
    request: Request<B>,
) -> (Response<ResponseBody>, Option<&'static Route>)
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let (mut parts, body) = request.into_parts();
    if let Some(ClientAddr(addr)) = parts.extensions.get_mut::<ClientAddr>() {
        *addr = state.trusted_proxies.client_of(*addr, &parts.headers);
    }
    let head = parts.method == http::Method::HEAD;
    let found = match table.find(core, &parts.method, parts.uri.path()) {
        Lookup::Found(found) => found,
        Lookup::MethodNotAllowed(allow, format) => {
            return (ApiError::MethodNotAllowed(allow).render(format), None);
        }
        Lookup::NotFound => return (not_found(), None),
    };
    let correlation = parts.extensions.get::<CorrelationId>().cloned();
    let route = found.route;
    // The GraphQL gate answers errors in the media type the client asked for.
    let media =
        (route.errors() == ErrorFormat::GraphQl).then(|| graphql::Media::negotiate(&parts.headers));
    let render = |error: ApiError| {
        let mut response = error.render_for(route.errors(), correlation.as_ref());
        if let Some(media) = media {
            media.label(&mut response);
        }
        response
    };
    let limit = found.body_limit.unwrap_or(state.body_limit);
    // A request without a body (most GETs) costs no boxed body.
    let body = (!body.is_end_stream()).then(|| body::boxed(body));
    let ctx = Ctx::new(
        core.clone(),
        Arc::clone(state),
        parts,
        found.params,
        body,
        limit,
    );
    // A panic in a handler (or in an embedder's store, clock or authenticator) answers an opaque
    // 500 like any internal error, and the connection stays up.
    let response = match AssertUnwindSafe((found.run)(ctx)).catch_unwind().await {
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
    let response = if head {
        // The GET answer's status and headers, without its body.
        response.map(|_| ResponseBody::default())
    } else {
        response
    };
    (response, Some(route))
}
