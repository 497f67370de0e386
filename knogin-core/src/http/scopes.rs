//! The scope catalog route.

use http::StatusCode;
use serde::Serialize;

use super::access::{Admin, admin};
use super::ctx::Ctx;
use super::docs::content::{Audience, BEARER, Host, Section};
use super::table::{Row, route};
use super::{Reply, json};
use crate::scope::Scope;

/// The scope routes.
pub(super) fn routes() -> Vec<Row> {
    vec![
        route!(GET "/v1/platform/scopes" => admin(list), Problem, "List available scopes")
            .answers::<ScopeList>(StatusCode::OK),
    ]
}

/// The scope catalog.
#[derive(Serialize, utoipa::ToSchema)]
struct ScopeList<'a> {
    /// Every scope apps may request.
    scopes: &'a [Scope],
}

async fn list(ctx: Ctx, _caller: Admin) -> Reply {
    Ok(json(
        StatusCode::OK,
        &ScopeList {
            scopes: ctx.core.scopes().scopes(),
        },
    ))
}

/// The docs section of `platform-scopes`: List available scopes.
pub(crate) const PLATFORM_SCOPES_SECTION: Section = Section {
    id: "platform-scopes",
    methods: &["GET"],
    path: "/v1/platform/scopes",
    title: "List available scopes",
    host: Host::Auth,
    auth: BEARER,
    audience: Audience::Integrators,
    description: "Returns the scope catalog that external apps can request during registration and token issuance.",
    notes: &[
        "Use this endpoint to build consent or admin approval workflows around approved scopes.",
        "Do not assume unpublished scopes exist or are available to your tenant.",
    ],
    request: (
        "bash",
        "curl {auth}/v1/platform/scopes \\\n  -H \"Authorization: Bearer <admin-access-token>\"",
    ),
    response: (
        "json",
        "{\n  \"scopes\": [\n    {\n      \"name\": \"webhooks:write\",\n      \"description\": \"Create and update outbound webhook subscriptions\"\n    }\n  ]\n}",
    ),
};
