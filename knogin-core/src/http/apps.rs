//! The app routes: registration, reading, listing, governance, secret rotation. Each handler
//! parses, calls one operation on [`Knogin`](crate::Knogin), and renders.

use http::StatusCode;
use serde::Serialize;

use super::access::{Admin, admin};
use super::ctx::{Ctx, FromParam};
use super::docs::content::{Audience, BEARER, Host, Section};
use super::error::{ApiError, UNKNOWN_APP};
use super::fields::{Fields, FromFields};
use super::page::{Cursors, PAGED, Page};
use super::table::{Row, route};
use super::{Reply, json, json_no_store};
use crate::apps::{
    App, ClientKeys, GovernancePatch, GrantType, PreviousSecrets, RedirectUri, Registration,
    TokenEndpointAuthMethod,
};
use crate::audit::Actor;
use crate::id::AppId;
use crate::oauth::ServiceTokenRequest;
use crate::secret::ClientSecret;

/// The app routes.
pub(super) fn routes() -> Vec<Row> {
    vec![
        route!(GET   "/v1/platform/apps"                            => admin(list),       Problem, "List platform apps")
            .query(PAGED)
            .answers::<AppList>(StatusCode::OK),
        route!(POST  "/v1/platform/apps"                            => admin(create),     Problem, "Create a platform app")
            .json::<Registration>()
            .answers::<AppView>(StatusCode::CREATED),
        route!(GET   "/v1/platform/apps/{client_id}"                => admin(get),        Problem, "Inspect an integration app")
            .answers::<AppView>(StatusCode::OK),
        route!(PATCH "/v1/platform/apps/{client_id}/governance"     => admin(governance), Problem, "Update app governance")
            .json::<GovernancePatch>()
            .answers::<GovernanceAnswer>(StatusCode::OK),
        route!(POST  "/v1/platform/apps/{client_id}/service-token"  => admin(service_token), Problem, "Mint a service token")
            .json::<ServiceTokenRequest>()
            .answers::<ServiceToken>(StatusCode::OK),
        route!(POST  "/v1/platform/apps/{client_id}/rotate-secret"  => admin(rotate),     Problem, "Rotate an app secret")
            .optional_json::<Rotation>()
            .answers::<RotatedSecret>(StatusCode::OK),
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
            token_endpoint_auth_method: fields.optional_string("token_endpoint_auth_method"),
            jwks: fields.optional_object("jwks"),
            jwks_uri: fields.optional_string("jwks_uri"),
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
            require_dpop: fields.bool("require_dpop"),
            require_pushed_authorization_requests: fields
                .bool("require_pushed_authorization_requests"),
            security_profile: fields.profile_or_default("security_profile"),
            rotate_refresh_tokens: fields.bool("rotate_refresh_tokens"),
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

/// Optional: end every earlier secret now.
#[derive(Default, utoipa::ToSchema)]
#[schema(as = RotateSecretRequest)]
struct Rotation {
    /// `true` ends every earlier secret at once instead of after the rotation grace.
    revoke_previous: Option<bool>,
}

impl FromFields for Rotation {
    fn from_fields(fields: &mut Fields) -> Self {
        Self {
            revoke_previous: fields.bool("revoke_previous"),
        }
    }
}

/// A registered app; `client_secret` only in the answer that created it.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = App)]
struct AppView<'a> {
    /// The app's client id.
    client_id: &'a str,
    /// Its first client secret: in the answer that registered the app, and never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<&'a str>,
    /// Its display name.
    name: &'a str,
    /// The grants it may use.
    grant_types: &'a [GrantType],
    /// Its redirect URIs.
    redirect_uris: &'a [RedirectUri],
    /// The scopes it was approved for.
    requested_scopes: Vec<&'a str>,
    /// Its tenant.
    tenant_id: &'a str,
    /// When it was registered (RFC 3339).
    created_at: String,
    /// What the tenant allows it.
    governance: crate::apps::Governance,
    /// How it authenticates at the OAuth endpoints.
    token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// Its public keys, for `private_key_jwt`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    jwks: Option<&'a serde_json::Value>,
    /// Where its public keys are published, for `private_key_jwt`.
    #[serde(skip_serializing_if = "Option::is_none")]
    jwks_uri: Option<&'a str>,
}

/// A page of apps.
#[derive(Serialize, utoipa::ToSchema)]
struct AppList<'a> {
    /// The apps of the page.
    apps: Vec<AppView<'a>>,
    /// The cursor of the next page, `null` on the last.
    next_cursor: Option<String>,
}

/// The app's governance after the change.
#[derive(Serialize, utoipa::ToSchema)]
struct GovernanceAnswer<'a> {
    /// The app's client id.
    client_id: &'a str,
    /// What the tenant allows it now.
    governance: crate::apps::Governance,
}

/// A service token.
#[derive(Serialize, utoipa::ToSchema)]
struct ServiceToken<'a> {
    /// The token (a JWT access token whose subject is the app).
    token: &'a str,
    /// When it expires (RFC 3339).
    expires_at: String,
}

/// The new secret, shown once.
#[derive(Serialize, utoipa::ToSchema)]
struct RotatedSecret<'a> {
    /// The app's client id.
    client_id: &'a str,
    /// Its new client secret.
    client_secret: &'a str,
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
            token_endpoint_auth_method: app.token_endpoint_auth_method,
            jwks: match &app.client_keys {
                Some(ClientKeys::Jwks(jwks)) => Some(jwks.document()),
                _ => None,
            },
            jwks_uri: match &app.client_keys {
                Some(ClientKeys::JwksUri(uri)) => Some(uri.as_str()),
                _ => None,
            },
        }
    }
}

/// The admin token's subject, as the audit trail names who acted.
fn admin_actor(caller: &Admin) -> Actor {
    Actor::Admin(caller.claims.sub.clone())
}

async fn create(mut ctx: Ctx, caller: Admin) -> Reply {
    let body = ctx.json::<Registration>().await?;
    let app = body.check(|r| ctx.core.check_registration(&caller.tenant, r))?;
    let (app, secret) = ctx.core.apps_as(admin_actor(&caller)).store(app).await?;
    let view = AppView {
        client_secret: secret.as_ref().map(ClientSecret::expose),
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

    Ok(json(
        StatusCode::OK,
        &AppList {
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
        .apps_as(admin_actor(&caller))
        .update_governance(&caller.tenant, &id, patch)
        .await?;

    Ok(json(
        StatusCode::OK,
        &GovernanceAnswer {
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

    Ok(json_no_store(
        StatusCode::OK,
        &ServiceToken {
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
        .apps_as(admin_actor(&caller))
        .rotate_secret(&caller.tenant, &id, previous)
        .await?;

    Ok(json_no_store(
        StatusCode::OK,
        &RotatedSecret {
            client_id: id.as_str(),
            client_secret: secret.expose(),
        },
    ))
}

/// The docs section of `platform-apps-collection`: Create and list platform apps.
pub(crate) const PLATFORM_APPS_COLLECTION_SECTION: Section = Section {
    id: "platform-apps-collection",
    methods: &["GET", "POST"],
    path: "/v1/platform/apps",
    title: "Create and list platform apps",
    host: Host::Auth,
    auth: BEARER,
    audience: Audience::Integrators,
    description: "Creates an external integration app record or enumerates the apps already registered for the tenant.",
    notes: &[
        "Register a named app before attempting OAuth authorization code or client credentials flows.",
        "The response includes client metadata, approved grants, and tenancy context.",
    ],
    request: (
        "bash",
        "curl -X POST {auth}/v1/platform/apps \\\n  -H \"Authorization: Bearer <admin-access-token>\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{\n    \"name\": \"Case sync connector\",\n    \"grant_types\": [\"client_credentials\"],\n    \"redirect_uris\": [],\n    \"requested_scopes\": [\"webhooks:write\"]\n  }'",
    ),
    response: (
        "json",
        "{\n  \"client_id\": \"app_123\",\n  \"client_secret\": \"<write-once-secret>\",\n  \"grant_types\": [\"client_credentials\"],\n  \"requested_scopes\": [\"webhooks:write\"]\n}",
    ),
};

/// The docs section of `platform-app-detail`: Inspect an integration app.
pub(crate) const PLATFORM_APP_DETAIL_SECTION: Section = Section {
    id: "platform-app-detail",
    methods: &["GET"],
    path: "/v1/platform/apps/{client_id}",
    title: "Inspect an integration app",
    host: Host::Auth,
    auth: BEARER,
    audience: Audience::Integrators,
    description: "Fetches the current metadata and governance state for a registered app by client identifier.",
    notes: &[
        "Use this endpoint to audit redirect URIs, grants, and scope posture before rotating secrets or enabling new workflows.",
    ],
    request: (
        "bash",
        "curl {auth}/v1/platform/apps/app_123 \\\n  -H \"Authorization: Bearer <admin-access-token>\"",
    ),
    response: (
        "json",
        "{\n  \"client_id\": \"app_123\",\n  \"name\": \"Case sync connector\",\n  \"grant_types\": [\"client_credentials\"],\n  \"governance\": {\n    \"allow_service_tokens\": true\n  }\n}",
    ),
};

/// The docs section of `platform-governance`: Update app governance.
pub(crate) const PLATFORM_GOVERNANCE_SECTION: Section = Section {
    id: "platform-governance",
    methods: &["PATCH"],
    path: "/v1/platform/apps/{client_id}/governance",
    title: "Update app governance",
    host: Host::Auth,
    auth: BEARER,
    audience: Audience::Admins,
    description: "Adjusts governance flags for an existing app without exposing tenant-wide administrative controls.",
    notes: &[
        "Use governance updates to constrain redirects, service token usage, and other tenant-approved behaviors.",
        "This surface is scoped to the app identified in the path.",
    ],
    request: (
        "bash",
        "curl -X PATCH {auth}/v1/platform/apps/app_123/governance \\\n  -H \"Authorization: Bearer <admin-access-token>\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{\n    \"allow_service_tokens\": true,\n    \"enforce_pkce\": true\n  }'",
    ),
    response: (
        "json",
        "{\n  \"client_id\": \"app_123\",\n  \"governance\": {\n    \"allow_service_tokens\": true,\n    \"enforce_pkce\": true\n  }\n}",
    ),
};

/// The docs section of `platform-service-token`: Mint a service token.
pub(crate) const PLATFORM_SERVICE_TOKEN_SECTION: Section = Section {
    id: "platform-service-token",
    methods: &["POST"],
    path: "/v1/platform/apps/{client_id}/service-token",
    title: "Mint a service token",
    host: Host::Auth,
    auth: BEARER,
    audience: Audience::Admins,
    description: "Issues a service token for automation that should not depend on an end-user session.",
    notes: &[
        "Service tokens are appropriate for webhook management, scheduled exports, and other machine-to-machine workflows.",
        "Keep service-token issuance behind tenant admin approval.",
    ],
    request: (
        "bash",
        "curl -X POST {auth}/v1/platform/apps/app_123/service-token \\\n  -H \"Authorization: Bearer <admin-access-token>\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{\n    \"scopes\": [\"webhooks:write\"]\n  }'",
    ),
    response: (
        "json",
        "{\n  \"token\": \"<service-token>\",\n  \"expires_at\": \"2026-03-24T10:00:00Z\"\n}",
    ),
};

/// The docs section of `platform-rotate-secret`: Rotate an app secret.
pub(crate) const PLATFORM_ROTATE_SECRET_SECTION: Section = Section {
    id: "platform-rotate-secret",
    methods: &["POST"],
    path: "/v1/platform/apps/{client_id}/rotate-secret",
    title: "Rotate an app secret",
    host: Host::Auth,
    auth: BEARER,
    audience: Audience::Admins,
    description: "Rotates a confidential client secret so an external integration can recover or rotate credentials safely.",
    notes: &[
        "Treat the rotated secret as write-once material and replace it in your secret store immediately.",
        "Rotate secrets before revoking old credentials from automation.",
    ],
    request: (
        "bash",
        "curl -X POST {auth}/v1/platform/apps/app_123/rotate-secret \\\n  -H \"Authorization: Bearer <admin-access-token>\"",
    ),
    response: (
        "json",
        "{\n  \"client_id\": \"app_123\",\n  \"client_secret\": \"<new-write-once-secret>\"\n}",
    ),
};
