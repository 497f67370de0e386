//! The webhook subscription routes: create, list, read, change and delete, with a bearer token
//! carrying `webhooks:read` or `webhooks:write`, always within the token's tenant and on the
//! token's app's own subscriptions (all of the tenant's with `webhooks:admin`).

use http::{Response, StatusCode};
use serde::Serialize;

use super::access::{Bearer, bearer};
use super::ctx::{Ctx, FromParam};
use super::error::{ApiError, UNKNOWN_WEBHOOK};
use super::fields::{Fields, FromFields};
use super::page::{Cursors, Page};
use super::table::{Row, route};
use super::{Reply, ResponseBody, json, json_no_store};
use crate::clock::Timestamp;
use crate::id::{AppId, DeliveryId, WebhookId};
use crate::store::{Delivery, DeliveryStatus};
use crate::validation::ValidationErrors;
use crate::webhooks::{
    NewWebhook, WEBHOOKS_ADMIN_SCOPE, Webhook, WebhookCaller, WebhookError, WebhookPatch,
    WebhookSecret,
};

const READ: &str = "webhooks:read";
const WRITE: &str = "webhooks:write";

/// The webhook subscription routes.
pub(super) fn routes() -> Vec<Row> {
    vec![
        route!(GET    "/v1/webhooks"              => bearer(READ, list),    Problem, "List webhooks"),
        route!(POST   "/v1/webhooks"              => bearer(WRITE, create), Problem, "Create a webhook"),
        route!(GET    "/v1/webhooks/{webhook_id}" => bearer(READ, get),     Problem, "Inspect a webhook"),
        route!(PUT    "/v1/webhooks/{webhook_id}" => bearer(WRITE, update), Problem, "Update a webhook"),
        route!(DELETE "/v1/webhooks/{webhook_id}" => bearer(WRITE, delete), Problem, "Delete a webhook"),
        route!(GET    "/v1/webhooks/{webhook_id}/deliveries" => bearer(READ, deliveries), Problem, "Review delivery attempts"),
        route!(POST   "/v1/webhooks/{webhook_id}/test"       => bearer(WRITE, test),      Problem, "Send a test webhook"),
        route!(POST   "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry" => bearer(WRITE, retry), Problem, "Resend one delivery"),
        route!(POST   "/v1/webhooks/{webhook_id}/recover"    => bearer(WRITE, recover),   Problem, "Resend failed deliveries since a time"),
    ]
}

/// The caller of a subscription route: the token's tenant and app, and whether it carries
/// `webhooks:admin`.
fn caller(bearer: &Bearer) -> Result<WebhookCaller, ApiError> {
    let app = AppId::parse(&bearer.claims.client_id).ok_or_else(|| {
        ApiError::Forbidden("This token names no app, so it owns no webhooks.".into())
    })?;
    let tenant = bearer.tenant.clone();
    Ok(if bearer.claims.has_scope(WEBHOOKS_ADMIN_SCOPE) {
        WebhookCaller::tenant_admin(tenant, app)
    } else {
        WebhookCaller::app(tenant, app)
    })
}

impl FromParam for WebhookId {
    fn from_param(value: &str) -> Result<Self, ApiError> {
        WebhookId::parse(value).ok_or(ApiError::NotFound(UNKNOWN_WEBHOOK))
    }
}

impl FromParam for DeliveryId {
    fn from_param(value: &str) -> Result<Self, ApiError> {
        DeliveryId::parse(value).ok_or(ApiError::NotFound(UNKNOWN_DELIVERY))
    }
}

/// The one answer for a delivery that does not exist for the webhook in the caller's tenant.
const UNKNOWN_DELIVERY: &str = "No delivery with this id exists for this webhook in your tenant.";

/// The body of `recover`.
#[derive(Default)]
struct Recovery {
    since: Option<Timestamp>,
}

impl FromFields for Recovery {
    fn from_fields(fields: &mut Fields) -> Self {
        let text = fields.string("since");
        Self {
            since: Timestamp::parse_rfc3339(&text),
        }
    }
}

impl FromFields for NewWebhook {
    fn from_fields(fields: &mut Fields) -> Self {
        Self {
            url: fields.string("url"),
            events: fields.strings("events", true),
            secret: fields.optional_string("secret"),
            description: fields.optional_string("description"),
            rate_limit: fields.count("rate_limit"),
        }
    }
}

impl FromFields for WebhookPatch {
    fn from_fields(fields: &mut Fields) -> Self {
        Self {
            url: fields.optional_string("url"),
            events: fields.optional_strings("events"),
            secret: fields.optional_string("secret"),
            description: fields.optional_string("description"),
            disabled: fields.bool("disabled"),
            rate_limit: fields.count("rate_limit"),
        }
    }
}

/// The JSON shape of a subscription (never its secrets, but the one generated at creation).
#[derive(Serialize)]
struct WebhookView<'a> {
    id: &'a str,
    url: &'a str,
    events: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    disabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    disabled_reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_limit: Option<u32>,
    /// The app whose token created it (absent for subscriptions older than owners).
    #[serde(skip_serializing_if = "Option::is_none")]
    owner_client_id: Option<&'a str>,
    created_at: String,
    updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'a str>,
}

impl<'a> From<&'a Webhook> for WebhookView<'a> {
    fn from(w: &'a Webhook) -> Self {
        Self {
            id: w.id.as_str(),
            url: &w.url,
            events: &w.events,
            description: w.description.as_deref(),
            disabled: w.disabled,
            disabled_reason: w.disabled_reason.as_deref(),
            rate_limit: w.rate_limit,
            owner_client_id: w.owner.as_ref().map(AppId::as_str),
            created_at: w.created_at.to_rfc3339(),
            updated_at: w.updated_at.to_rfc3339(),
            secret: None,
        }
    }
}

async fn create(mut ctx: Ctx, bearer: Bearer) -> Reply {
    let request = ctx.json::<NewWebhook>().await?.into_inner()?;
    let (webhook, generated) = ctx
        .core
        .webhooks()
        .create(&caller(&bearer)?, request)
        .await?;
    let secret = generated.as_ref().map(WebhookSecret::expose);
    let view = WebhookView {
        secret: secret.as_ref().map(|s| s.as_str()),
        ..WebhookView::from(&webhook)
    };
    Ok(json_no_store(StatusCode::CREATED, &view))
}

async fn list(ctx: Ctx, bearer: Bearer) -> Reply {
    let cursors = Cursors {
        key: ctx.core.master_key(),
        tenant: &bearer.tenant,
        collection: "webhooks",
    };
    let page = Page::from_query(&ctx.query()?, &cursors)?;
    let found = ctx
        .core
        .webhooks()
        .list(&caller(&bearer)?, page.after, page.limit)
        .await?;

    #[derive(Serialize)]
    struct Body<'a> {
        webhooks: Vec<WebhookView<'a>>,
        next_cursor: Option<String>,
    }
    Ok(json(
        StatusCode::OK,
        &Body {
            webhooks: found.webhooks.iter().map(WebhookView::from).collect(),
            next_cursor: found.next.map(|c| cursors.seal(c)),
        },
    ))
}

async fn get(ctx: Ctx, bearer: Bearer) -> Reply {
    let id: WebhookId = ctx.param("webhook_id")?;
    let webhook = ctx.core.webhooks().get(&caller(&bearer)?, &id).await?;
    Ok(json(StatusCode::OK, &WebhookView::from(&webhook)))
}

async fn update(mut ctx: Ctx, bearer: Bearer) -> Reply {
    let id: WebhookId = ctx.param("webhook_id")?;
    let patch = ctx.json::<WebhookPatch>().await?.into_inner()?;
    let webhook = ctx
        .core
        .webhooks()
        .update(&caller(&bearer)?, &id, patch)
        .await?;
    Ok(json(StatusCode::OK, &WebhookView::from(&webhook)))
}

async fn delete(ctx: Ctx, bearer: Bearer) -> Reply {
    let id: WebhookId = ctx.param("webhook_id")?;
    ctx.core.webhooks().delete(&caller(&bearer)?, &id).await?;
    let mut response = Response::new(ResponseBody::default());
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}

/// The JSON shape of a delivery in the history.
#[derive(Serialize)]
struct DeliveryView<'a> {
    id: &'a str,
    status: &'static str,
    event_id: &'a str,
    event_type: &'a str,
    attempts: u32,
    created_at: String,
    attempted_at: Option<String>,
    response_status: Option<u16>,
    duration_ms: Option<u32>,
    response_body: Option<&'a str>,
    next_attempt_at: Option<String>,
}

impl<'a> From<&'a Delivery> for DeliveryView<'a> {
    fn from(d: &'a Delivery) -> Self {
        Self {
            id: d.id.as_str(),
            status: d.status.as_str(),
            event_id: d.event_id.as_str(),
            event_type: &d.event_type,
            attempts: d.attempts,
            created_at: d.created_at.to_rfc3339(),
            attempted_at: d.attempted_at.map(Timestamp::to_rfc3339),
            response_status: d.response_status,
            duration_ms: d.duration_ms,
            response_body: d.response_body.as_deref(),
            next_attempt_at: d.next_attempt_at.map(Timestamp::to_rfc3339),
        }
    }
}

async fn deliveries(ctx: Ctx, bearer: Bearer) -> Reply {
    let id: WebhookId = ctx.param("webhook_id")?;
    let query = ctx.query()?;
    let status = match query.get("status") {
        None => None,
        Some(s) => Some(DeliveryStatus::parse(s).ok_or_else(|| {
            let mut errors = ValidationErrors::default();
            errors.push(
                "status",
                "must be one of queued, retrying, succeeded, failed, cancelled",
            );
            ApiError::Invalid(errors)
        })?),
    };
    let cursors = Cursors {
        key: ctx.core.master_key(),
        tenant: &bearer.tenant,
        collection: "deliveries",
    };
    let page = Page::from_query(&query, &cursors)?;
    let found = ctx
        .core
        .webhooks()
        .deliveries(&caller(&bearer)?, &id, status, page.after, page.limit)
        .await?;

    #[derive(Serialize)]
    struct Body<'a> {
        deliveries: Vec<DeliveryView<'a>>,
        next_cursor: Option<String>,
    }
    Ok(json(
        StatusCode::OK,
        &Body {
            deliveries: found.deliveries.iter().map(DeliveryView::from).collect(),
            next_cursor: found.next.map(|c| cursors.seal(c)),
        },
    ))
}

/// `202 {"delivery_id","status":"queued"}`.
fn queued(delivery: &DeliveryId) -> Response<ResponseBody> {
    #[derive(Serialize)]
    struct Body<'a> {
        delivery_id: &'a str,
        status: &'static str,
    }
    json(
        StatusCode::ACCEPTED,
        &Body {
            delivery_id: delivery.as_str(),
            status: DeliveryStatus::Queued.as_str(),
        },
    )
}

async fn test(ctx: Ctx, bearer: Bearer) -> Reply {
    let id: WebhookId = ctx.param("webhook_id")?;
    Ok(queued(
        &ctx.core
            .webhooks()
            .send_test(&caller(&bearer)?, &id)
            .await?,
    ))
}

async fn retry(ctx: Ctx, bearer: Bearer) -> Reply {
    let id: WebhookId = ctx.param("webhook_id")?;
    let delivery: DeliveryId = ctx.param("delivery_id")?;
    ctx.core
        .webhooks()
        .retry(&caller(&bearer)?, &id, &delivery)
        .await
        .map_err(|e| match e {
            WebhookError::NotFound => ApiError::NotFound(UNKNOWN_DELIVERY),
            e => e.into(),
        })?;
    Ok(queued(&delivery))
}

async fn recover(mut ctx: Ctx, bearer: Bearer) -> Reply {
    let id: WebhookId = ctx.param("webhook_id")?;
    let since = ctx.json::<Recovery>().await?.check(|r| {
        r.since.ok_or_else(|| {
            let mut errors = ValidationErrors::default();
            errors.push(
                "since",
                "must be an RFC 3339 date and time, e.g. 2026-03-23T12:00:00Z",
            );
            errors
        })
    })?;
    let recovered = ctx
        .core
        .webhooks()
        .recover(&caller(&bearer)?, &id, since)
        .await?;

    #[derive(Serialize)]
    struct Body {
        recovered: u64,
    }
    Ok(json(StatusCode::ACCEPTED, &Body { recovered }))
}
