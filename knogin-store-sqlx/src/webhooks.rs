//! Webhook subscriptions, always read and written within their tenant.

use async_trait::async_trait;
use knogin_core::store::{Cursor, PublicationBus, StoreError, WebhookPage, WebhookStore};
use knogin_core::webhooks::{StoredWebhook, Webhook};
use knogin_core::{AppId, TenantId, Timestamp, WebhookId};

use crate::apps::{corrupt, json_list, to_json};
use crate::{SqlxStore, page_of, store_error, transaction, with_pool};

/// The columns a [`WebhookRow`] reads, for `concat!` into literal SQL.
macro_rules! webhook_columns {
    () => {
        "seq, id, tenant_id, owner_client_id, url, events, description, disabled, \
         disabled_reason, rate_limit, secret, previous_secret, previous_until, failing_since, \
         created_at, updated_at, version"
    };
}

pub(crate) use webhook_columns;

#[derive(sqlx::FromRow)]
pub(crate) struct WebhookRow {
    seq: i64,
    id: String,
    tenant_id: String,
    owner_client_id: Option<String>,
    url: String,
    events: String,
    description: Option<String>,
    disabled: bool,
    disabled_reason: Option<String>,
    rate_limit: Option<i64>,
    secret: Vec<u8>,
    previous_secret: Option<Vec<u8>>,
    previous_until: Option<i64>,
    failing_since: Option<i64>,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

impl TryFrom<WebhookRow> for StoredWebhook {
    type Error = StoreError;

    fn try_from(row: WebhookRow) -> Result<Self, StoreError> {
        let webhook = Webhook {
            id: WebhookId::parse(&row.id).ok_or_else(|| corrupt("webhook id", &row.id))?,
            tenant: TenantId::parse(&row.tenant_id)
                .ok_or_else(|| corrupt("tenant_id", &row.tenant_id))?,
            owner: row
                .owner_client_id
                .map(|o| AppId::parse(&o).ok_or_else(|| corrupt("owner_client_id", &o)))
                .transpose()?,
            url: row.url,
            events: json_list("events", &row.events)?,
            description: row.description,
            disabled: row.disabled,
            disabled_reason: row.disabled_reason,
            rate_limit: row
                .rate_limit
                .map(|r| u32::try_from(r).map_err(|_| corrupt("rate_limit", &r.to_string())))
                .transpose()?,
            created_at: Timestamp::from_unix(row.created_at),
            updated_at: Timestamp::from_unix(row.updated_at),
        };
        let previous_secret = match (row.previous_secret, row.previous_until) {
            (Some(secret), Some(until)) => Some((secret, Timestamp::from_unix(until))),
            _ => None,
        };
        Ok(Self {
            webhook,
            secret: row.secret,
            previous_secret,
            failing_since: row.failing_since.map(Timestamp::from_unix),
            version: u64::try_from(row.version)
                .map_err(|_| corrupt("webhook version", &row.version.to_string()))?,
        })
    }
}

/// Binds `$1`–`$13` of a statement that writes a subscription's columns: id, tenant, url,
/// events, description, disabled, rate limit, secret, previous secret and its end, updated_at,
/// disabled reason and failing_since. `$events` is the events as JSON.
macro_rules! bind_webhook {
    ($query:expr, $stored:expr, $events:expr) => {{
        let stored = $stored;
        let w = &stored.webhook;
        $query
            .bind(w.id.as_str())
            .bind(w.tenant.as_str())
            .bind(&w.url)
            .bind($events)
            .bind(w.description.as_deref())
            .bind(w.disabled)
            .bind(w.rate_limit.map(i64::from))
            .bind(&stored.secret)
            .bind(stored.previous_secret.as_ref().map(|p| p.0.as_slice()))
            .bind(stored.previous_secret.as_ref().map(|p| p.1.unix()))
            .bind(w.updated_at.unix())
            .bind(w.disabled_reason.as_deref())
            .bind(stored.failing_since.map(Timestamp::unix))
    }};
}

#[async_trait]
impl WebhookStore for SqlxStore {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn insert_webhook(&self, stored: &StoredWebhook) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO webhooks (id, tenant_id, url, events, description, \
            disabled, rate_limit, secret, previous_secret, previous_until, updated_at, \
            disabled_reason, failing_since, created_at, owner_client_id, version) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 0)";
        let w = &stored.webhook;
        let events = to_json(&w.events);
        with_pool!(self, pool => bind_webhook!(sqlx::query(SQL), stored, &events)
            .bind(w.created_at.unix())
            .bind(w.owner.as_ref().map(AppId::as_str))
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(store_error)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn webhook(
        &self,
        tenant: &TenantId,
        id: &WebhookId,
    ) -> Result<Option<StoredWebhook>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM webhooks WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL"
        );
        let row: Option<WebhookRow> = with_pool!(self, pool => sqlx::query_as(SQL)
            .bind(id.as_str())
            .bind(tenant.as_str())
            .fetch_optional(pool)
            .await)
        .map_err(store_error)?;
        row.map(StoredWebhook::try_from).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn list_webhooks(
        &self,
        tenant: &TenantId,
        owner: Option<&AppId>,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<WebhookPage, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM webhooks WHERE tenant_id = $1 AND seq < $2 AND deleted_at IS NULL \
             AND ($4 IS NULL OR owner_client_id = $4) ORDER BY seq DESC LIMIT CAST($3 AS BIGINT)"
        );
        let before = after.map_or(i64::MAX, |c| c.0);
        let rows: Vec<WebhookRow> = with_pool!(self, pool => sqlx::query_as(SQL)
            .bind(tenant.as_str())
            .bind(before)
            .bind(i64::from(limit) + 1)
            .bind(owner.map(AppId::as_str))
            .fetch_all(pool)
            .await)
        .map_err(store_error)?;
        let (webhooks, next) = page_of(
            rows,
            limit,
            |r| r.seq,
            |row| StoredWebhook::try_from(row).map(|s| s.webhook),
        )?;
        Ok(WebhookPage { webhooks, next })
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn count_use(
        &self,
        key: &str,
        now: Timestamp,
        window: std::time::Duration,
    ) -> Result<knogin_core::store::AuthFailures, StoreError> {
        crate::client_auth::record_failure!(self, "rate_counters", "key", key, now, window)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn count_webhooks(&self, tenant: &TenantId) -> Result<u64, StoreError> {
        const SQL: &str =
            "SELECT count(*) FROM webhooks WHERE tenant_id = $1 AND deleted_at IS NULL";
        let count: i64 = with_pool!(self, pool => sqlx::query_scalar(SQL)
            .bind(tenant.as_str())
            .fetch_one(pool)
            .await)
        .map_err(store_error)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn replace_webhook(&self, stored: &StoredWebhook) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE webhooks SET url = $3, events = $4, description = $5, \
            disabled = $6, rate_limit = $7, secret = $8, previous_secret = $9, \
            previous_until = $10, updated_at = $11, disabled_reason = $12, failing_since = $13, \
            version = version + 1 \
            WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL AND version = $14";
        // Deliveries a claim parked while the subscription was disabled are due again.
        const UNPARK: &str = "UPDATE deliveries SET next_attempt_at = $2 WHERE webhook_id = $1 \
            AND status IN ('queued', 'retrying') AND next_attempt_at IS NULL";
        let w = &stored.webhook;
        let events = to_json(&w.events);
        let (replaced, unparked) = with_pool!(self, pool => transaction(|| async {
            let mut tx = pool.begin().await?;
            let replaced = bind_webhook!(sqlx::query(SQL), stored, &events)
                .bind(i64::try_from(stored.version).unwrap_or(i64::MAX))
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            let unparked = if replaced && !w.disabled {
                sqlx::query(UNPARK)
                    .bind(w.id.as_str())
                    .bind(w.updated_at.unix())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
            } else {
                0
            };
            tx.commit().await.map(|()| (replaced, unparked))
        }).await)
        .map_err(store_error)?;
        if unparked > 0 {
            PublicationBus::announce(self);
        }
        Ok(replaced)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn delete_webhook(
        &self,
        tenant: &TenantId,
        id: &WebhookId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        const DELETE: &str = "UPDATE webhooks SET deleted_at = $3 \
            WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL";
        const CANCEL: &str = "UPDATE deliveries SET status = 'cancelled', \
            next_attempt_at = NULL, lease_id = NULL, lease_until = NULL \
            WHERE webhook_id = $1 AND status IN ('queued', 'retrying')";
        with_pool!(self, pool => transaction(|| async {
            let mut tx = pool.begin().await?;
            let deleted = sqlx::query(DELETE)
                .bind(id.as_str())
                .bind(tenant.as_str())
                .bind(now.unix())
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if deleted {
                sqlx::query(CANCEL).bind(id.as_str()).execute(&mut *tx).await?;
            }
            tx.commit().await.map(|()| deleted)
        }).await)
        .map_err(store_error)
    }
}
