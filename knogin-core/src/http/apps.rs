//! The app routes: registration, reading, listing, governance, secret rotation. Each handler
//! parses, calls one operation on [`Knogin`](crate::Knogin), and renders.

use http::StatusCode;
use serde::Serialize;

use super::access::{Admin, admin};
use super::ctx::{Ctx, FromParam};
use super::error::{ApiError, UNKNOWN_APP};
use super::fields::{Fields, FromFields};
use super::page::{Cursors, Page};
use super::table::{Row, route};
use super::{Reply, json, json_no_store};
use crate::apps::{App, GovernancePatch, GrantType, PreviousSecrets, RedirectUri, Registration};
use crate::id::AppId;
use crate::oauth::ServiceTokenRequest;

/// The app routes.
pub(super) fn routes() -> Vec<Row> {
    vec![
        route!(GET   "/v1/platform/apps"                            => admin(list),       Problem, "List platform apps"),
        route!(POST  "/v1/platform/apps"                            => admin(create),     Problem, "Create a platform app"),
        route!(GET   "/v1/platform/apps/{client_id}"                => admin(get),        Problem, "Inspect an integration app"),
        route!(PATCH "/v1/platform/apps/{client_id}/governance"     => admin(governance), Problem, "Update app governance"),
        route!(POST  "/v1/platform/apps/{client_id}/service-token"  => admin(service_token), Problem, "Mint a service token"),
        route!(POST  "/v1/platform/apps/{client_id}/rotate-secret"  => admin(rotate),     Problem, "Rotate an app secret"),
    ]
}

impl FromParam for AppId {
    fn from_param(value: &str) -> Result<Self, ApiError> {
        AppId::parse(value).ok_or(ApiError::NotFound(UNKNOWN_APP))
    }
}

impl FromFields for Registration {
    fn from_fields(fields: &mut Fields) -> Self {
        Self {
            name: fields.string("name"),
            grant_types: fields.strings("grant_types", true),
            redirect_uris: fields.strings("redirect_uris", false),
            requested_scopes: fields.strings("requested_scopes", false),
        }
    }
}

impl FromFields for GovernancePatch {
    fn from_fields(fields: &mut Fields) -> Self {
        Self {
            allow_service_tokens: fields.bool("allow_service_tokens"),
            enforce_pkce: fields.bool("enforce_pkce"),
            access_token_ttl: fields.seconds_or_default("access_token_ttl"),
            allow_token_introspection: fields.bool("allow_token_introspection"),
        }
    }
}

impl FromFields for ServiceTokenRequest {
    fn from_fields(fields: &mut Fields) -> Self {
        Self {
            scopes: fields.strings("scopes", true),
            expires_in: fields.seconds("expires_in"),
        }
    }
}

/// The optional body of `rotate-secret`.
#[derive(Default)]
struct Rotation {
    revoke_previous: Option<bool>,
}

impl FromFields for Rotation {
    fn from_fields(fields: &mut Fields) -> Self {
        Self {
            revoke_previous: fields.bool("revoke_previous"),
        }
    }
}

/// The JSON shape of an app on the platform routes.
#[derive(Serialize)]
struct AppView<'a> {
    client_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<&'a str>,
    name: &'a str,
    grant_types: &'a [GrantType],
    redirect_uris: &'a [RedirectUri],
    requested_scopes: Vec<&'a str>,
    tenant_id: &'a str,
    created_at: String,
    governance: crate::apps::Governance,
}

impl<'a> From<&'a App> for AppView<'a> {
    fn from(app: &'a App) -> Self {
        Self {
            client_id: app.client_id.as_str(),
            client_secret: None,
            name: &app.name,
            grant_types: &app.grant_types,
            redirect_uris: &app.redirect_uris,
            requested_scopes: app.requested_scopes.iter().map(AsRef::as_ref).collect(),
            tenant_id: app.tenant_id.as_str(),
            created_at: app.created_at.to_rfc3339(),
            governance: app.governance,
        }
    }
}

async fn create(mut ctx: Ctx, caller: Admin) -> Reply {
    let body = ctx.json::<Registration>().await?;
    let app = body.check(|r| ctx.core.check_registration(&caller.tenant, r))?;
    let secret = ctx.core.store_app(&app).await?;
    let view = AppView {
        client_secret: Some(secret.expose()),
        ..AppView::from(&app)
    };
    Ok(json_no_store(StatusCode::CREATED, &view))
}

async fn list(ctx: Ctx, caller: Admin) -> Reply {
    let cursors = Cursors {
        key: ctx.core.master_key(),
        tenant: &caller.tenant,
        collection: "apps",
    };
    let page = Page::from_query(&ctx.query()?, &cursors)?;
    let apps = ctx
        .core
        .apps()
        .list(&caller.tenant, page.after, page.limit)
        .await?;

    #[derive(Serialize)]
    struct Body<'a> {
        apps: Vec<AppView<'a>>,
        next_cursor: Option<String>,
    }
    Ok(json(
        StatusCode::OK,
        &Body {
            apps: apps.apps.iter().map(AppView::from).collect(),
            next_cursor: apps.next.map(|c| cursors.seal(c)),
        },
    ))
}

async fn get(ctx: Ctx, caller: Admin) -> Reply {
    let id: AppId = ctx.param("client_id")?;
    let app = ctx.core.apps().get(&caller.tenant, &id).await?;
    Ok(json(StatusCode::OK, &AppView::from(&app)))
}

async fn governance(mut ctx: Ctx, caller: Admin) -> Reply {
    let id: AppId = ctx.param("client_id")?;
    // A mistyped flag is reported alone, not also as "sets nothing".
    let patch = ctx
        .json::<GovernancePatch>()
        .await?
        .into_inner()?
        .validate(ctx.core.lifetimes().max_access)?;
    let governance = ctx
        .core
        .apps()
        .update_governance(&caller.tenant, &id, patch)
        .await?;

    #[derive(Serialize)]
    struct Body<'a> {
        client_id: &'a str,
        governance: crate::apps::Governance,
    }
    Ok(json(
        StatusCode::OK,
        &Body {
            client_id: id.as_str(),
            governance,
        },
    ))
}

async fn service_token(mut ctx: Ctx, caller: Admin) -> Reply {
    let id: AppId = ctx.param("client_id")?;
    let request = ctx.json::<ServiceTokenRequest>().await?.into_inner()?;
    let token = ctx
        .core
        .tokens()
        .mint_service(&caller.tenant, &id, &request)
        .await?;

    #[derive(Serialize)]
    struct Body<'a> {
        token: &'a str,
        expires_at: String,
    }
    Ok(json_no_store(
        StatusCode::OK,
        &Body {
            token: token.expose(),
            expires_at: token.expires_at().to_rfc3339(),
        },
    ))
}

async fn rotate(mut ctx: Ctx, caller: Admin) -> Reply {
    let id: AppId = ctx.param("client_id")?;
    let rotation = ctx.optional_json::<Rotation>().await?.into_inner()?;
    let previous = if rotation.revoke_previous == Some(true) {
        PreviousSecrets::RevokeNow
    } else {
        PreviousSecrets::KeepForGrace
    };
    let secret = ctx
        .core
        .apps()
        .rotate_secret(&caller.tenant, &id, previous)
        .await?;

    #[derive(Serialize)]
    struct Body<'a> {
        client_id: &'a str,
        client_secret: &'a str,
    }
    Ok(json_no_store(
        StatusCode::OK,
        &Body {
            client_id: id.as_str(),
            client_secret: secret.expose(),
        },
    ))
}
