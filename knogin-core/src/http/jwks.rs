//! The JWKS routes: the key ring's JWK set, serialized when the ring is loaded and served from
//! memory.

use http::Response;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};

use super::access::public;
use super::ctx::Ctx;
use super::table::{Row, route};
use super::{Reply, ResponseBody};

/// The JWKS routes.
pub(super) fn routes() -> Vec<Row> {
    vec![
        route!(GET "/.well-known/jwks.json" => public(jwks), Problem, "OpenID-compatible JWKS discovery"),
        route!(GET "/v1/auth/jwks.json"     => public(jwks), Problem, "Versioned JWKS endpoint"),
    ]
}

async fn jwks(ctx: Ctx) -> Reply {
    let keys = ctx.core.live_keys().await;
    let mut response = Response::new(ResponseBody::new(keys.jwks().clone()));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, ctx.http.jwks_cache_control.clone());
    Ok(response)
}
