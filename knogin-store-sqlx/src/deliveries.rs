//! Events and deliveries. Publishing writes the event and its deliveries in one transaction;
//! workers claim due deliveries with one `UPDATE … RETURNING` under a lease (on PostgreSQL the
//! candidates are locked with `FOR UPDATE SKIP LOCKED`, so concurrent workers pass each other
//! by; SQLite has one writer at a time).

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use knogin_core::store::{
    Attempt, ClaimedDelivery, Cursor, Delivery, DeliveryPage, DeliveryStatus, DeliveryStore, Event,
    NextStep, StoreError,
};
use knogin_core::webhooks::StoredWebhook;
use knogin_core::{DeliveryId, EventId, TenantId, Timestamp, WebhookId};

use crate::apps::{corrupt, json_list};
use crate::webhooks::{WebhookRow, webhook_columns};
use crate::{Backend, SqlxStore, page_of, store_error, transaction, with_pool};

/// The columns a [`DeliveryRow`] reads.
macro_rules! delivery_columns {
    () => {
        "d.seq, d.id, d.webhook_id, d.event_id, d.event_type, d.status, d.attempts, \
         d.created_at, d.attempted_at, d.response_status, d.duration_ms, d.response_body, \
         d.next_attempt_at"
    };
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    seq: i64,
    id: String,
    webhook_id: String,
    event_id: String,
    event_type: String,
    status: String,
    attempts: i64,
    created_at: i64,
    attempted_at: Option<i64>,
    response_status: Option<i64>,
    duration_ms: Option<i64>,
    response_body: Option<String>,
    next_attempt_at: Option<i64>,
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = StoreError;

    fn try_from(row: DeliveryRow) -> Result<Self, StoreError> {
        let number =
            |what: &str, v: i64| u32::try_from(v).map_err(|_| corrupt(what, &v.to_string()));
        Ok(Self {
            id: DeliveryId::parse(&row.id).ok_or_else(|| corrupt("delivery id", &row.id))?,
            webhook_id: WebhookId::parse(&row.webhook_id)
                .ok_or_else(|| corrupt("webhook id", &row.webhook_id))?,
            event_id: EventId::parse(&row.event_id)
                .ok_or_else(|| corrupt("event id", &row.event_id))?,
            event_type: row.event_type,
            status: DeliveryStatus::parse(&row.status)
                .ok_or_else(|| corrupt("delivery status", &row.status))?,
            attempts: number("attempts", row.attempts)?,
            created_at: Timestamp::from_unix(row.created_at),
            attempted_at: row.attempted_at.map(Timestamp::from_unix),
            response_status: row
                .response_status
                .map(|s| u16::try_from(s).map_err(|_| corrupt("response status", &s.to_string())))
                .transpose()?,
            duration_ms: row.duration_ms.map(|d| number("duration", d)).transpose()?,
            response_body: row.response_body,
            next_attempt_at: row.next_attempt_at.map(Timestamp::from_unix),
        })
    }
}

/// Makes `$1`'s deliveries to `$2` that the rest of the `WHERE` picks due again at `$3`.
macro_rules! requeue {
    () => {
        "UPDATE deliveries SET status = 'queued', next_attempt_at = $3, lease_id = NULL, \
         lease_until = NULL WHERE tenant_id = $1 AND webhook_id = $2"
    };
}

const INSERT_EVENT: &str =
    "INSERT INTO events (id, tenant_id, event_type, data, created_at) VALUES ($1, $2, $3, $4, $5)";
const INSERT_DELIVERY: &str = "INSERT INTO deliveries (id, tenant_id, webhook_id, event_id, \
    event_type, status, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, 'queued', $6, $6)";

/// Stores `event` and a queued delivery to each subscription `targets` picks from the tenant's
/// live subscriptions (id, event types, disabled), on `$conn` (inside the caller's transaction).
/// The event is written first, so on SQLite the transaction holds the write lock before it reads.
macro_rules! publish_on {
    ($conn:expr, $event:expr, $targets:expr) => {{
        const CANDIDATES: &str = "SELECT id, events, disabled FROM webhooks \
            WHERE tenant_id = $1 AND deleted_at IS NULL";
        let event: &Event = $event;
        async {
            sqlx::query(INSERT_EVENT)
                .bind(event.id.as_str())
                .bind(event.tenant.as_str())
                .bind(&event.event_type)
                .bind(&event.data)
                .bind(event.created_at.unix())
                .execute(&mut *$conn)
                .await?;
            let candidates: Vec<(String, String, bool)> = sqlx::query_as(CANDIDATES)
                .bind(event.tenant.as_str())
                .fetch_all(&mut *$conn)
                .await?;
            let targets: Vec<String> = $targets(candidates);
            let made: Vec<DeliveryId> = targets.iter().map(|_| DeliveryId::generate()).collect();
            QueueDeliveries::queue(&mut *$conn, event, &targets, &made).await?;
            Ok::<_, sqlx::Error>(made)
        }
        .await
    }};
}

/// Writes one event's queued deliveries, to `webhooks` with `ids`, as each database does it best.
#[async_trait]
trait QueueDeliveries {
    async fn queue(
        &mut self,
        event: &Event,
        webhooks: &[String],
        ids: &[DeliveryId],
    ) -> Result<(), sqlx::Error>;
}

#[async_trait]
impl QueueDeliveries for sqlx::PgConnection {
    /// One statement for every subscription (the ids and targets as arrays): a fan-out to 100
    /// is one round trip, not 100.
    async fn queue(
        &mut self,
        event: &Event,
        webhooks: &[String],
        ids: &[DeliveryId],
    ) -> Result<(), sqlx::Error> {
        const SQL: &str = "INSERT INTO deliveries (id, tenant_id, webhook_id, event_id, \
            event_type, status, created_at, next_attempt_at) \
            SELECT d.id, $3, d.webhook_id, $4, $5, 'queued', $6, $6 \
            FROM UNNEST($1::text[], $2::text[]) AS d(id, webhook_id)";
        if ids.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = ids.iter().map(DeliveryId::as_str).collect();
        sqlx::query(SQL)
            .bind(&ids)
            .bind(webhooks)
            .bind(event.tenant.as_str())
            .bind(event.id.as_str())
            .bind(&event.event_type)
            .bind(event.created_at.unix())
            .execute(self)
            .await
            .map(|_| ())
    }
}

#[async_trait]
impl QueueDeliveries for sqlx::SqliteConnection {
    /// One insert per subscription: SQLite runs in this process, so a statement costs no round
    /// trip.
    async fn queue(
        &mut self,
        event: &Event,
        webhooks: &[String],
        ids: &[DeliveryId],
    ) -> Result<(), sqlx::Error> {
        for (webhook, id) in webhooks.iter().zip(ids) {
            sqlx::query(INSERT_DELIVERY)
                .bind(id.as_str())
                .bind(event.tenant.as_str())
                .bind(webhook)
                .bind(event.id.as_str())
                .bind(&event.event_type)
                .bind(event.created_at.unix())
                .execute(&mut *self)
                .await?;
        }
        Ok(())
    }
}

/// The enabled subscriptions among `candidates` that name `event_type`.
fn matching(candidates: Vec<(String, String, bool)>, event_type: &str) -> Vec<String> {
    candidates
        .into_iter()
        .filter(|(_, events, disabled)| {
            !disabled
                && json_list("events", events).is_ok_and(|e| e.iter().any(|t| t == event_type))
        })
        .map(|(id, ..)| id)
        .collect()
}

/// Publishes `event` (built with [`Knogin::event`](knogin_core::Knogin::event)) inside the
/// caller's own PostgreSQL transaction: the event and its deliveries commit, or roll back,
/// with the caller's state change (a transactional outbox). The serving processes deliver them
/// once the transaction commits.
///
/// ```no_run
/// # async fn example(pool: sqlx::PgPool, knogin: knogin_core::Knogin) -> Result<(), Box<dyn std::error::Error>> {
/// let tenant = knogin_core::TenantId::parse("acme").unwrap();
/// let event = knogin.event(&tenant, "incident.updated", r#"{"id":"inc_1"}"#)?;
/// let mut tx = pool.begin().await?;
/// sqlx::query("UPDATE incidents SET status = 'closed' WHERE id = 'inc_1'").execute(&mut *tx).await?;
/// knogin_store_sqlx::publish_in_postgres(&mut tx, &event).await?;
/// tx.commit().await?;
/// # Ok(()) }
/// ```
pub async fn publish_in_postgres(
    conn: &mut sqlx::PgConnection,
    event: &Event,
) -> Result<Vec<DeliveryId>, StoreError> {
    publish_on!(conn, event, |c| matching(c, &event.event_type)).map_err(store_error)
}

/// Like [`publish_in_postgres`], inside the caller's own SQLite transaction.
pub async fn publish_in_sqlite(
    conn: &mut sqlx::SqliteConnection,
    event: &Event,
) -> Result<Vec<DeliveryId>, StoreError> {
    publish_on!(conn, event, |c| matching(c, &event.event_type)).map_err(store_error)
}

#[async_trait]
impl DeliveryStore for SqlxStore {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn publish(&self, event: &Event) -> Result<Vec<DeliveryId>, StoreError> {
        let mut made = self.publish_many(std::slice::from_ref(event)).await?;
        Ok(made.pop().unwrap_or_default())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn publish_many(&self, events: &[Event]) -> Result<Vec<Vec<DeliveryId>>, StoreError> {
        with_pool!(self, pool => transaction(|| async {
            let mut tx = pool.begin().await?;
            let mut made = Vec::with_capacity(events.len());
            for event in events {
                made.push(publish_on!(tx, event, |c| matching(c, &event.event_type))?);
            }
            tx.commit().await.map(|()| made)
        }).await)
        .map_err(store_error)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn publish_to(
        &self,
        event: &Event,
        webhook: &WebhookId,
    ) -> Result<Option<DeliveryId>, StoreError> {
        let only = |candidates: Vec<(String, String, bool)>| {
            candidates
                .into_iter()
                .filter(|(id, ..)| id == webhook.as_str())
                .map(|(id, ..)| id)
                .collect::<Vec<_>>()
        };
        // A disabled subscription is a candidate for a test send too; when `webhook` is not a
        // live subscription of the tenant, nothing is kept.
        with_pool!(self, pool => transaction(|| async {
            let mut tx = pool.begin().await?;
            let made = publish_on!(tx, event, only)?;
            let Some(id) = made.into_iter().next() else {
                tx.rollback().await?;
                return Ok(None);
            };
            tx.commit().await.map(|()| Some(id))
        }).await)
        .map_err(store_error)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn claim_due(
        &self,
        now: Timestamp,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        // The candidates are locked in a materialized CTE, and the UPDATE checks the lease again
        // on the row's latest version: a row another worker claimed between this statement's
        // snapshot and its lock is left alone (an `IN (SELECT … FOR UPDATE SKIP LOCKED)` form
        // was seen to hand one delivery to two workers).
        const CLAIM_PG: &str = "WITH due AS MATERIALIZED (SELECT id FROM deliveries \
                WHERE next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until <= $3) \
                ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED) \
            UPDATE deliveries d SET lease_id = $1, lease_until = $2 FROM due \
            WHERE d.id = due.id AND d.next_attempt_at <= $3 \
                AND (d.lease_until IS NULL OR d.lease_until <= $3)";
        // SQLite runs one writer at a time: the statement is exclusive as it is.
        const CLAIM_SQLITE: &str = "UPDATE deliveries SET lease_id = $1, lease_until = $2 \
            WHERE id IN (SELECT id FROM deliveries WHERE next_attempt_at <= $3 \
                AND (lease_until IS NULL OR lease_until <= $3) \
                ORDER BY next_attempt_at LIMIT $4)";
        const CLAIMED: &str = concat!(
            "SELECT ",
            delivery_columns!(),
            ", d.tenant_id, e.data, e.created_at AS event_created_at \
             FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.lease_id = $1"
        );
        const WEBHOOK: &str = concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM webhooks WHERE id = $1"
        );
        let token = format!("lease_{}", DeliveryId::generate().as_str());
        let until = now.plus(lease).unix();
        let claim = match &self.backend {
            Backend::Postgres(_) => CLAIM_PG,
            Backend::Sqlite(_) => CLAIM_SQLITE,
        };
        let (rows, webhooks) = with_pool!(self, pool => async {
            sqlx::query(claim)
                .bind(&token)
                .bind(until)
                .bind(now.unix())
                .bind(i64::from(limit))
                .execute(pool)
                .await?;
            let rows: Vec<(DeliveryRow, String, String, i64)> = sqlx::query_as(CLAIMED)
                .bind(&token)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|row: ClaimedRow| (row.delivery, row.tenant_id, row.data, row.event_created_at))
                .collect();
            let mut webhooks: HashMap<String, WebhookRow> = HashMap::new();
            for (delivery, ..) in &rows {
                if !webhooks.contains_key(&delivery.webhook_id) {
                    let webhook: WebhookRow = sqlx::query_as(WEBHOOK)
                        .bind(&delivery.webhook_id)
                        .fetch_one(pool)
                        .await?;
                    webhooks.insert(delivery.webhook_id.clone(), webhook);
                }
            }
            Ok::<_, sqlx::Error>((rows, webhooks))
        }.await)
        .map_err(store_error)?;
        let mut webhooks: HashMap<String, StoredWebhook> = webhooks
            .into_iter()
            .map(|(id, row)| StoredWebhook::try_from(row).map(|w| (id, w)))
            .collect::<Result<_, _>>()?;
        let mut claimed = Vec::with_capacity(rows.len());
        for (row, tenant, data, event_created_at) in rows {
            let webhook = webhooks
                .get_mut(&row.webhook_id)
                .map(|w| w.clone())
                .ok_or_else(|| corrupt("delivery webhook", &row.webhook_id))?;
            let delivery = Delivery::try_from(row)?;
            let event = Event {
                id: delivery.event_id.clone(),
                tenant: TenantId::parse(&tenant).ok_or_else(|| corrupt("tenant_id", &tenant))?,
                event_type: delivery.event_type.clone(),
                data,
                created_at: Timestamp::from_unix(event_created_at),
            };
            claimed.push(ClaimedDelivery {
                delivery,
                event,
                webhook,
                lease: token.clone(),
            });
        }
        claimed.sort_by_key(|c| c.delivery.next_attempt_at);
        Ok(claimed)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn record_attempt(
        &self,
        id: &DeliveryId,
        lease: &str,
        attempt: &Attempt,
    ) -> Result<bool, StoreError> {
        let batch = [(id.clone(), lease.to_owned(), attempt.clone())];
        Ok(self.record_attempts(&batch).await?[0])
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn record_attempts(
        &self,
        attempts: &[(DeliveryId, String, Attempt)],
    ) -> Result<Vec<bool>, StoreError> {
        const RECORD: &str = "UPDATE deliveries SET status = $3, next_attempt_at = $4, \
            attempts = attempts + 1, attempted_at = $5, response_status = $6, duration_ms = $7, \
            response_body = $8, lease_id = NULL, lease_until = NULL \
            WHERE id = $1 AND lease_id = $2 RETURNING webhook_id, tenant_id";
        // A success clears failing_since, a failure sets it if unset; a reason disables. Only a
        // change touches the row: a steady stream of successes locks no subscription, so
        // publishers and other workers never wait on it.
        const HEALTH: &str = "UPDATE webhooks SET \
            failing_since = CASE WHEN $3 THEN NULL ELSE COALESCE(failing_since, $4) END, \
            disabled = disabled OR $5 IS NOT NULL, \
            disabled_reason = COALESCE($5, disabled_reason) \
            WHERE id = $1 AND tenant_id = $2 AND ($5 IS NOT NULL \
                OR ($3 AND failing_since IS NOT NULL) OR (NOT $3 AND failing_since IS NULL))";
        with_pool!(self, pool => transaction(|| async {
            let mut tx = pool.begin().await?;
            let mut done = Vec::with_capacity(attempts.len());
            let mut health = Vec::new();
            for (id, lease, attempt) in attempts {
                let (status, next) = match attempt.next {
                    NextStep::Succeeded => (DeliveryStatus::Succeeded, None),
                    NextStep::RetryAt(at) => (DeliveryStatus::Retrying, Some(at.unix())),
                    _ => (DeliveryStatus::Failed, None),
                };
                let recorded: Option<(String, String)> = sqlx::query_as(RECORD)
                    .bind(id.as_str())
                    .bind(lease)
                    .bind(status.as_str())
                    .bind(next)
                    .bind(attempt.attempted_at.unix())
                    .bind(attempt.response_status.map(i64::from))
                    .bind(i64::from(attempt.duration_ms))
                    .bind(attempt.response_body.as_deref())
                    .fetch_optional(&mut *tx)
                    .await?;
                done.push(recorded.is_some());
                if let Some((webhook, tenant)) = recorded {
                    health.push((webhook, tenant, attempt));
                }
            }
            // Subscriptions in one order in every transaction: concurrent workers cannot deadlock.
            health.sort_by(|a, b| a.0.cmp(&b.0));
            for (webhook, tenant, attempt) in health {
                sqlx::query(HEALTH)
                    .bind(webhook)
                    .bind(tenant)
                    .bind(attempt.next == NextStep::Succeeded)
                    .bind(attempt.attempted_at.unix())
                    .bind(attempt.disable_reason.as_deref())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await.map(|()| done)
        }).await)
        .map_err(store_error)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn retry_delivery(
        &self,
        tenant: &TenantId,
        webhook: &WebhookId,
        id: &DeliveryId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        const SQL: &str = concat!(
            requeue!(),
            " AND id = $4 AND EXISTS (SELECT 1 FROM webhooks w WHERE w.id = $2 \
             AND w.tenant_id = $1 AND w.deleted_at IS NULL)"
        );
        let done = with_pool!(self, pool => sqlx::query(SQL)
            .bind(tenant.as_str())
            .bind(webhook.as_str())
            .bind(now.unix())
            .bind(id.as_str())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .map_err(store_error)?;
        Ok(done == 1)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn recover_deliveries(
        &self,
        tenant: &TenantId,
        webhook: &WebhookId,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        const SQL: &str = concat!(
            requeue!(),
            " AND status = 'failed' AND created_at >= $4 AND EXISTS (SELECT 1 FROM webhooks w \
             WHERE w.id = $2 AND w.tenant_id = $1 AND w.deleted_at IS NULL)"
        );
        with_pool!(self, pool => sqlx::query(SQL)
            .bind(tenant.as_str())
            .bind(webhook.as_str())
            .bind(now.unix())
            .bind(since.unix())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .map_err(store_error)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn take_send_slot(
        &self,
        webhook: &WebhookId,
        now: Timestamp,
        limit: u32,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "INSERT INTO webhook_send_windows (webhook_id, window_start, sends) \
            VALUES ($1, $2, 1) ON CONFLICT (webhook_id) DO UPDATE SET \
            sends = CASE WHEN webhook_send_windows.window_start = $2 \
                THEN webhook_send_windows.sends + 1 ELSE 1 END, \
            window_start = $2 \
            RETURNING sends";
        let sends: i64 = with_pool!(self, pool => sqlx::query_scalar(SQL)
            .bind(webhook.as_str())
            .bind(now.unix())
            .fetch_one(pool)
            .await)
        .map_err(store_error)?;
        Ok(sends <= i64::from(limit))
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn defer_delivery(
        &self,
        id: &DeliveryId,
        lease: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE deliveries SET next_attempt_at = $3, lease_id = NULL, \
            lease_until = NULL WHERE id = $1 AND lease_id = $2";
        let done = with_pool!(self, pool => sqlx::query(SQL)
            .bind(id.as_str())
            .bind(lease)
            .bind(at.unix())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .map_err(store_error)?;
        Ok(done == 1)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn deliveries(
        &self,
        tenant: &TenantId,
        webhook: &WebhookId,
        status: Option<DeliveryStatus>,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<DeliveryPage, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            delivery_columns!(),
            " FROM deliveries d WHERE d.tenant_id = $1 AND d.webhook_id = $2 AND d.seq < $3 \
             AND ($4 IS NULL OR d.status = $4) ORDER BY d.seq DESC LIMIT $5"
        );
        let before = after.map_or(i64::MAX, |c| c.0);
        let rows: Vec<DeliveryRow> = with_pool!(self, pool => sqlx::query_as(SQL)
            .bind(tenant.as_str())
            .bind(webhook.as_str())
            .bind(before)
            .bind(status.map(DeliveryStatus::as_str))
            .bind(i64::from(limit) + 1)
            .fetch_all(pool)
            .await)
        .map_err(store_error)?;
        let (deliveries, next) = page_of(rows, limit, |r| r.seq, Delivery::try_from)?;
        Ok(DeliveryPage { deliveries, next })
    }
}

/// A claimed delivery with its tenant and event, read in one query.
#[derive(sqlx::FromRow)]
struct ClaimedRow {
    #[sqlx(flatten)]
    delivery: DeliveryRow,
    tenant_id: String,
    data: String,
    event_created_at: i64,
}
