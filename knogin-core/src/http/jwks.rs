//! The JWKS routes: the key ring's JWK set, serialized when the ring is loaded and served from
//! memory.

use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};

use super::access::public;
use super::ctx::Ctx;
use super::docs::content::{Audience, Host, PUBLIC, Section};
use super::table::{Row, route};
use super::{Reply, ResponseBody};
use crate::keys::JwkSet;

/// The JWKS routes.
pub(super) fn routes() -> Vec<Row> {
    vec![
        route!(GET "/.well-known/jwks.json" => public(jwks), Problem, "OpenID-compatible JWKS discovery")
            .answers::<JwkSet>(StatusCode::OK),
        route!(GET "/v1/auth/jwks.json"     => public(jwks), Problem, "Versioned JWKS endpoint")
            .answers::<JwkSet>(StatusCode::OK),
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

/// The docs section of `jwks-well-known`: OpenID-compatible JWKS discovery.
pub(crate) const JWKS_WELL_KNOWN_SECTION: Section = Section {
    id: "jwks-well-known",
    methods: &["GET"],
    path: "/.well-known/jwks.json",
    title: "OpenID-compatible JWKS discovery",
    host: Host::Auth,
    auth: PUBLIC,
    audience: Audience::Integrators,
    description: "Publishes public signing keys at the well-known JWKS path for standards-based token validation.",
    notes: &[
        "Use the key identifier in the JWT header to select the correct public key.",
        "Cache JWKS responses according to your verifier policy and refresh on unknown key IDs.",
    ],
    request: ("bash", "curl {auth}/.well-known/jwks.json"),
    response: (
        "json",
        "{\n  \"keys\": [\n    {\n      \"kty\": \"RSA\",\n      \"kid\": \"2026-03-signing-key\",\n      \"use\": \"sig\"\n    }\n  ]\n}",
    ),
};

/// The docs section of `jwks-versioned`: Versioned JWKS endpoint.
pub(crate) const JWKS_VERSIONED_SECTION: Section = Section {
    id: "jwks-versioned",
    methods: &["GET"],
    path: "/v1/auth/jwks.json",
    title: "Versioned JWKS endpoint",
    host: Host::Auth,
    auth: PUBLIC,
    audience: Audience::Integrators,
    description: "Provides the same public signing material under the auth-service versioned API namespace.",
    notes: &["Use this variant when your API client standardizes on versioned endpoints."],
    request: ("bash", "curl {auth}/v1/auth/jwks.json"),
    response: (
        "json",
        "{\n  \"keys\": [\n    {\n      \"kty\": \"RSA\",\n      \"kid\": \"2026-03-signing-key\",\n      \"use\": \"sig\"\n    }\n  ]\n}",
    ),
};
