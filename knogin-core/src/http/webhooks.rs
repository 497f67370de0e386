//! The webhook subscription routes: create, list, read, change and delete, with a bearer token
//! carrying `webhooks:read` or `webhooks:write`, always within the token's tenant and on the
//! token's app's own subscriptions (all of the tenant's with `webhooks:admin`).

use http::{Response, StatusCode};
use serde::Serialize;

use super::access::{Bearer, bearer};
use super::ctx::{Ctx, FromParam};
use super::docs::content::{Audience, BEARER, Host, Section};
use super::error::{ApiError, UNKNOWN_WEBHOOK};
use super::fields::{Fields, FromFields};
use super::page::{Cursors, PAGED, Page};
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

/// The query of `GET …/deliveries`: a page, and optionally one status.
const DELIVERY_QUERY: &[(&str, &[&str])] = &[
    ("limit", &[]),
    ("cursor", &[]),
    (
        "status",
        &["queued", "retrying", "succeeded", "failed", "cancelled"],
    ),
];

/// The webhook subscription routes.
pub(super) fn routes() -> Vec<Row> {
    vec![
        route!(GET    "/v1/webhooks"              => bearer(READ, list),    Problem, "List webhooks")
            .query(PAGED)
            .answers::<WebhookList>(StatusCode::OK),
        route!(POST   "/v1/webhooks"              => bearer(WRITE, create), Problem, "Create a webhook")
            .json::<NewWebhook>()
            .answers::<WebhookView>(StatusCode::CREATED)
            .refuses(&[StatusCode::CONFLICT]),
        route!(GET    "/v1/webhooks/{webhook_id}" => bearer(READ, get),     Problem, "Inspect a webhook")
            .answers::<WebhookView>(StatusCode::OK),
        route!(PUT    "/v1/webhooks/{webhook_id}" => bearer(WRITE, update), Problem, "Update a webhook")
            .json::<WebhookPatch>()
            .answers::<WebhookView>(StatusCode::OK)
            .refuses(&[StatusCode::CONFLICT]),
        route!(DELETE "/v1/webhooks/{webhook_id}" => bearer(WRITE, delete), Problem, "Delete a webhook")
            .answers_plain(StatusCode::NO_CONTENT, None),
        route!(GET    "/v1/webhooks/{webhook_id}/deliveries" => bearer(READ, deliveries), Problem, "Review delivery attempts")
            .query(DELIVERY_QUERY)
            .answers::<DeliveryList>(StatusCode::OK),
        route!(POST   "/v1/webhooks/{webhook_id}/test"       => bearer(WRITE, test),      Problem, "Send a test webhook")
            .answers::<Queued>(StatusCode::ACCEPTED)
            .refuses(&[StatusCode::TOO_MANY_REQUESTS]),
        route!(POST   "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry" => bearer(WRITE, retry), Problem, "Resend one delivery")
            .answers::<Queued>(StatusCode::ACCEPTED),
        route!(POST   "/v1/webhooks/{webhook_id}/recover"    => bearer(WRITE, recover),   Problem, "Resend failed deliveries since a time")
            .json::<Recovery>()
            .answers::<Recovered>(StatusCode::ACCEPTED)
            .refuses(&[StatusCode::TOO_MANY_REQUESTS]),
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

/// Resend the failed deliveries since this time.
#[derive(Default, utoipa::ToSchema)]
#[schema(as = RecoverRequest)]
struct Recovery {
    /// An RFC 3339 date and time, e.g. `2026-03-23T12:00:00Z`.
    #[schema(value_type = String, required = true)]
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

/// A subscription (never its secrets, but the one generated at creation).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Webhook)]
struct WebhookView<'a> {
    /// Its id.
    id: &'a str,
    /// The target URL.
    url: &'a str,
    /// The event types it receives.
    events: &'a [String],
    /// A note.
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    /// Whether deliveries are paused (by a caller, or after failing too long).
    disabled: bool,
    /// Why deliveries were paused, when the server paused them.
    #[serde(skip_serializing_if = "Option::is_none")]
    disabled_reason: Option<&'a str>,
    /// Deliveries per second at most.
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_limit: Option<u32>,
    /// The app whose token created it (absent for subscriptions older than owners).
    #[serde(skip_serializing_if = "Option::is_none")]
    owner_client_id: Option<&'a str>,
    /// When it was created (RFC 3339).
    created_at: String,
    /// When it last changed (RFC 3339).
    updated_at: String,
    /// The secret generated at creation: in that answer only.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'a str>,
}

/// A page of subscriptions.
#[derive(Serialize, utoipa::ToSchema)]
struct WebhookList<'a> {
    /// The subscriptions of the page.
    webhooks: Vec<WebhookView<'a>>,
    /// The cursor of the next page, `null` on the last.
    next_cursor: Option<String>,
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

    Ok(json(
        StatusCode::OK,
        &WebhookList {
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

/// One delivery and its last attempt.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Delivery)]
struct DeliveryView<'a> {
    /// Its id.
    id: &'a str,
    /// `queued`, `retrying`, `succeeded`, `failed` or `cancelled`.
    status: &'static str,
    /// The event it delivers (the `webhook-id` header).
    event_id: &'a str,
    /// The event's type.
    event_type: &'a str,
    /// How many attempts were made.
    attempts: u32,
    /// When it was queued (RFC 3339).
    created_at: String,
    /// When the last attempt was made (RFC 3339).
    attempted_at: Option<String>,
    /// The last attempt's HTTP status, if the target answered.
    response_status: Option<u16>,
    /// How long the last attempt took.
    duration_ms: Option<u32>,
    /// The start of the last answer's body.
    response_body: Option<&'a str>,
    /// When the next attempt is due (RFC 3339), while retrying.
    next_attempt_at: Option<String>,
}

/// A page of deliveries, newest first.
#[derive(Serialize, utoipa::ToSchema)]
struct DeliveryList<'a> {
    /// The deliveries of the page.
    deliveries: Vec<DeliveryView<'a>>,
    /// The cursor of the next page, `null` on the last.
    next_cursor: Option<String>,
    /// How far back the history goes (RFC 3339): deliveries of events published before this
    /// time are deleted once finished (retention). `null` when they are kept forever.
    history_since: Option<String>,
}

/// A delivery queued.
#[derive(Serialize, utoipa::ToSchema)]
struct Queued<'a> {
    /// The delivery's id.
    delivery_id: &'a str,
    /// `queued`.
    status: &'static str,
}

/// How many deliveries were queued again.
#[derive(Serialize, utoipa::ToSchema)]
struct Recovered {
    /// The number of failed deliveries queued again.
    recovered: u64,
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

    Ok(json(
        StatusCode::OK,
        &DeliveryList {
            deliveries: found.deliveries.iter().map(DeliveryView::from).collect(),
            next_cursor: found.next.map(|c| cursors.seal(c)),
            history_since: ctx
                .core
                .webhooks()
                .history_since()
                .map(Timestamp::to_rfc3339),
        },
    ))
}

/// `202 {"delivery_id","status":"queued"}`.
fn queued(delivery: &DeliveryId) -> Response<ResponseBody> {
    json(
        StatusCode::ACCEPTED,
        &Queued {
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

    Ok(json(StatusCode::ACCEPTED, &Recovered { recovered }))
}

/// The docs section of `webhooks-collection`: Create and list webhooks.
pub(crate) const WEBHOOKS_COLLECTION_SECTION: Section = Section {
    id: "webhooks-collection",
    methods: &["GET", "POST"],
    path: "/v1/webhooks",
    title: "Create and list webhooks",
    host: Host::Auth,
    auth: BEARER,
    audience: Audience::Integrators,
    description: "Manages outbound webhook subscriptions used to deliver approved event notifications to an external system.",
    notes: &[
        "Create subscriptions only for events your integration has been approved to receive.",
        "Outbound webhook secrets should be stored and rotated like any other integration credential.",
    ],
    request: (
        "bash",
        "curl -X POST {auth}/v1/webhooks \\\n  -H \"Authorization: Bearer <access-token>\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{\n    \"url\": \"https://integrator.example/webhooks/argus\",\n    \"events\": [\"incident.updated\"],\n    \"secret\": \"<signing-secret>\"\n  }'",
    ),
    response: (
        "json",
        "{\n  \"id\": \"wh_123\",\n  \"url\": \"https://integrator.example/webhooks/argus\",\n  \"events\": [\"incident.updated\"]\n}",
    ),
};

/// The docs section of `webhooks-detail`: Inspect, update, or delete a webhook.
pub(crate) const WEBHOOKS_DETAIL_SECTION: Section = Section {
    id: "webhooks-detail",
    methods: &["GET", "PUT", "DELETE"],
    path: "/v1/webhooks/{webhook_id}",
    title: "Inspect, update, or delete a webhook",
    host: Host::Auth,
    auth: BEARER,
    audience: Audience::Integrators,
    description: "Manages an individual webhook subscription by identifier.",
    notes: &[
        "Use update operations to rotate secrets or adjust event selections without recreating the subscription.",
    ],
    request: (
        "bash",
        "curl -X PUT {auth}/v1/webhooks/wh_123 \\\n  -H \"Authorization: Bearer <access-token>\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{\n    \"events\": [\"incident.updated\", \"incident.closed\"]\n  }'",
    ),
    response: (
        "json",
        "{\n  \"id\": \"wh_123\",\n  \"events\": [\"incident.updated\", \"incident.closed\"]\n}",
    ),
};

/// The docs section of `webhooks-deliveries`: Review delivery attempts.
pub(crate) const WEBHOOKS_DELIVERIES_SECTION: Section = Section {
    id: "webhooks-deliveries",
    methods: &["GET"],
    path: "/v1/webhooks/{webhook_id}/deliveries",
    title: "Review delivery attempts",
    host: Host::Auth,
    auth: BEARER,
    audience: Audience::Integrators,
    description: "Returns historical delivery attempts for a webhook so integrators can debug retries and downstream failures.",
    notes: &[
        "Use delivery history instead of internal logs to diagnose receiver behavior.",
        "Delivery metadata is limited to the webhook in scope.",
    ],
    request: (
        "bash",
        "curl {auth}/v1/webhooks/wh_123/deliveries \\\n  -H \"Authorization: Bearer <access-token>\"",
    ),
    response: (
        "json",
        "{\n  \"deliveries\": [\n    {\n      \"id\": \"dlv_123\",\n      \"status\": \"succeeded\",\n      \"attempted_at\": \"2026-03-23T12:00:00Z\"\n    }\n  ]\n}",
    ),
};

/// The docs section of `webhooks-test`: Send a test webhook.
pub(crate) const WEBHOOKS_TEST_SECTION: Section = Section {
    id: "webhooks-test",
    methods: &["POST"],
    path: "/v1/webhooks/{webhook_id}/test",
    title: "Send a test webhook",
    host: Host::Auth,
    auth: BEARER,
    audience: Audience::Integrators,
    description: "Triggers a synthetic delivery to validate receiver configuration before enabling production traffic.",
    notes: &["Use test deliveries when rotating secrets or validating a new endpoint."],
    request: (
        "bash",
        "curl -X POST {auth}/v1/webhooks/wh_123/test \\\n  -H \"Authorization: Bearer <access-token>\"",
    ),
    response: (
        "json",
        "{\n  \"delivery_id\": \"dlv_test_123\",\n  \"status\": \"queued\"\n}",
    ),
};

/// The docs section of `webhooks-retry`: Resend one delivery.
pub(crate) const WEBHOOKS_RETRY_SECTION: Section = Section {
    id: "webhooks-retry",
    methods: &["POST"],
    path: "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
    title: "Resend one delivery",
    host: Host::Auth,
    auth: BEARER,
    audience: Audience::Integrators,
    description: "Queues one past delivery of the webhook again, signed anew, whatever its status.",
    notes: &["Receivers must be idempotent: the event keeps its id, so a resend is recognisable."],
    request: (
        "bash",
        "curl -X POST {auth}/v1/webhooks/wh_123/deliveries/dlv_123/retry \\\n  -H \"Authorization: Bearer <access-token>\"",
    ),
    response: (
        "json",
        "{\n  \"delivery_id\": \"dlv_123\",\n  \"status\": \"queued\"\n}",
    ),
};

/// The docs section of `webhooks-recover`: Resend failed deliveries since a time.
pub(crate) const WEBHOOKS_RECOVER_SECTION: Section = Section {
    id: "webhooks-recover",
    methods: &["POST"],
    path: "/v1/webhooks/{webhook_id}/recover",
    title: "Resend failed deliveries since a time",
    host: Host::Auth,
    auth: BEARER,
    audience: Audience::Integrators,
    description: "Queues again every failed delivery of the webhook since the given time, after a receiver outage.",
    notes: &["Use it once the receiver is back; the answer says how many deliveries were queued."],
    request: (
        "bash",
        "curl -X POST {auth}/v1/webhooks/wh_123/recover \\\n  -H \"Authorization: Bearer <access-token>\" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{\n    \"since\": \"2026-03-23T00:00:00Z\"\n  }'",
    ),
    response: ("json", "{\n  \"recovered\": 12\n}"),
};
