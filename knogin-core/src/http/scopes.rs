//! The scope catalog route.

use http::StatusCode;
use serde::Serialize;

use super::access::{Admin, admin};
use super::ctx::Ctx;
use super::table::{Row, route};
use super::{Reply, json};
use crate::scope::Scope;

/// The scope routes.
pub(super) fn routes() -> Vec<Row> {
    vec![route!(GET "/v1/platform/scopes" => admin(list), Problem, "List available scopes")]
}

async fn list(ctx: Ctx, _caller: Admin) -> Reply {
    #[derive(Serialize)]
    struct Body<'a> {
        scopes: &'a [Scope],
    }
    Ok(json(
        StatusCode::OK,
        &Body {
            scopes: ctx.core.scopes().scopes(),
        },
    ))
}
