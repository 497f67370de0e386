//! Events and deliveries. Publishing writes the event and its deliveries atomically; workers
//! claim due deliveries under a lease (on PostgreSQL the candidates are locked with
//! `FOR UPDATE SKIP LOCKED`, so concurrent workers pass each other by; SQLite has one writer at
//! a time) and record a batch's attempts in one transaction. [`writes`] holds the writes each
//! database does its own way.

mod purge;
mod record;
mod wake;
mod writes;

pub(crate) use wake::Announcer;

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use knogin_core::store::{
    Attempt, Backlog, ClaimedDelivery, Cursor, Delivery, DeliveryPage, DeliveryStatus,
    DeliveryStore, Event, MAX_UNRECORDED_CLAIMS, PublicationBus, PurgeFilter, Purged, StoreError,
    UNRECORDED_BODY,
};
use knogin_core::webhooks::TEST_EVENT_TYPE;
use knogin_core::webhooks::{PublicationSignal, StoredWebhook};
use knogin_core::{DeliveryId, EventId, TenantId, Timestamp, WebhookId};

use crate::apps::corrupt;
use crate::webhooks::{WebhookRow, webhook_columns};
use crate::{Backend, SqlxStore, page_of, store_error, transaction, with_pool};
use writes::{BatchWrites as _, Targets};

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

/// The `SET` list of a claim, for the delivery row `$d` whose subscription is disabled when
/// `$disabled` is true. With `$1` the lease, `$2` its end, `$5` [`MAX_UNRECORDED_CLAIMS`], `$6`
/// the test event type and `$7` [`UNRECORDED_BODY`], a due delivery:
/// - already claimed `$5` times unrecorded fails, with `$7` as its answer;
/// - else, of a disabled subscription and not a test send, is parked: no lease and no due
///   time, until the subscription is enabled again;
/// - else is leased, one more unrecorded claim.
///
/// Only the leased ones keep `lease_id = $1`, which is how the claim reads them back.
macro_rules! claim_outcome {
    ($d:literal, $disabled:literal) => {
        claim_outcome!(
            @set $d,
            concat!($d, ".unrecorded_claims >= $5"),
            concat!($d, ".unrecorded_claims >= $5 OR (", $disabled, " AND ", $d, ".event_type <> $6)")
        )
    };
    // `$give_up`: the delivery fails; `$stop`: it is not leased (failed, or parked).
    (@set $d:literal, $give_up:expr, $stop:expr) => {
        concat!(
            "status = CASE WHEN ", $give_up, " THEN 'failed' ELSE ", $d, ".status END, ",
            "response_body = CASE WHEN ", $give_up, " THEN $7 ELSE ", $d, ".response_body END, ",
            "next_attempt_at = CASE WHEN ", $stop, " THEN NULL ELSE ", $d, ".next_attempt_at END, ",
            "lease_id = CASE WHEN ", $stop, " THEN NULL ELSE $1 END, ",
            "lease_until = CASE WHEN ", $stop, " THEN NULL ELSE $2 END, ",
            "unrecorded_claims = CASE WHEN ", $stop, " THEN ", $d, ".unrecorded_claims ELSE ",
            $d, ".unrecorded_claims + 1 END"
        )
    };
}

/// Makes `$1`'s deliveries to `$2` that the rest of the `WHERE` picks due again at `$3`.
macro_rules! requeue {
    () => {
        "UPDATE deliveries SET status = 'queued', next_attempt_at = $3, lease_id = NULL, \
         lease_until = NULL, unrecorded_claims = 0 WHERE tenant_id = $1 AND webhook_id = $2"
    };
}

/// Publishes `event` (built with [`Webhooks::event`](knogin_core::webhooks::Webhooks::event)) inside the
/// caller's own PostgreSQL transaction: the event and its deliveries commit, or roll back,
/// with the caller's state change (a transactional outbox). The serving processes deliver them
/// once the transaction commits: at once after
/// [`Webhooks::announce`](knogin_core::webhooks::Webhooks::announce), or else within
/// their idle interval.
///
/// ```no_run
/// # async fn example(pool: sqlx::PgPool, knogin: knogin_core::Knogin) -> Result<(), Box<dyn std::error::Error>> {
/// let tenant = knogin_core::TenantId::parse("acme").unwrap();
/// let event = knogin.webhooks().event(&tenant, "incident.updated", &serde_json::json!({"id": "inc_1"}))?;
/// let mut tx = pool.begin().await?;
/// sqlx::query("UPDATE incidents SET status = 'closed' WHERE id = 'inc_1'").execute(&mut *tx).await?;
/// knogin_store_sqlx::publish_in_postgres(&mut tx, &event).await?;
/// tx.commit().await?;
/// knogin.webhooks().announce();
/// # Ok(()) }
/// ```
pub async fn publish_in_postgres(
    conn: &mut sqlx::PgConnection,
    event: &Event,
) -> Result<Vec<DeliveryId>, StoreError> {
    conn.publish(event, Targets::Matching)
        .await
        .map_err(store_error)
}

/// Like [`publish_in_postgres`], inside the caller's own SQLite transaction.
pub async fn publish_in_sqlite(
    conn: &mut sqlx::SqliteConnection,
    event: &Event,
) -> Result<Vec<DeliveryId>, StoreError> {
    conn.publish(event, Targets::Matching)
        .await
        .map_err(store_error)
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
        let made = match &self.backend {
            // One statement on PostgreSQL for one event or many, atomic without a
            // transaction: one round trip.
            Backend::Postgres(pool) => {
                async {
                    let mut conn = pool.acquire().await?;
                    writes::publish_all_in_postgres(&mut conn, events, Targets::Matching).await
                }
                .await
            }
            Backend::Sqlite(pool) => {
                transaction(|| async {
                    let mut tx = pool.begin().await?;
                    let mut made = Vec::with_capacity(events.len());
                    for event in events {
                        made.push(tx.publish(event, Targets::Matching).await?);
                    }
                    tx.commit().await.map(|()| made)
                })
                .await
            }
        }
        .map_err(store_error)?;
        if made.iter().any(|m| !m.is_empty()) {
            PublicationBus::announce(self);
        }
        Ok(made)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn publish_to(
        &self,
        event: &Event,
        webhook: &WebhookId,
    ) -> Result<Option<DeliveryId>, StoreError> {
        // A disabled subscription is a candidate for a test send too; when `webhook` is not a
        // live subscription of the tenant, nothing is kept.
        with_pool!(self, pool => transaction(|| async {
            let mut tx = pool.begin().await?;
            let made = tx.publish(event, Targets::Only(webhook)).await?;
            let Some(id) = made.into_iter().next() else {
                tx.rollback().await?;
                return Ok(None);
            };
            tx.commit().await.map(|()| Some(id))
        }).await)
        .map_err(store_error)
        .inspect(|_| PublicationBus::announce(self))
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
        // was seen to hand one delivery to two workers). The same UPDATE gives up on the
        // deliveries claimed too often unrecorded and parks those of disabled subscriptions
        // (see `claim_outcome!`); the claimed rows come back with their events.
        const CLAIM_PG: &str = concat!(
            "WITH due AS MATERIALIZED (SELECT id FROM deliveries \
                WHERE next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until <= $3) \
                ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED), \
            d AS (UPDATE deliveries d SET ",
            claim_outcome!("d", "w.disabled"),
            " FROM due, webhooks w WHERE d.id = due.id AND w.id = d.webhook_id \
                AND d.next_attempt_at <= $3 AND (d.lease_until IS NULL OR d.lease_until <= $3) \
                RETURNING d.*) \
            SELECT ",
            delivery_columns!(),
            ", d.tenant_id, e.data, e.created_at AS event_created_at \
             FROM d JOIN events e ON e.id = d.event_id WHERE d.lease_id = $1"
        );
        // SQLite runs one writer at a time: the statement is exclusive as it is. Its limit is
        // cast so SQLite does not prepare it again for each value (see `page_of`).
        const CLAIM_SQLITE: &str = concat!(
            "UPDATE deliveries SET ",
            claim_outcome!(
                "deliveries",
                "(SELECT w.disabled FROM webhooks w WHERE w.id = deliveries.webhook_id)"
            ),
            " WHERE id IN (SELECT id FROM deliveries WHERE next_attempt_at <= $3 \
                AND (lease_until IS NULL OR lease_until <= $3) \
                ORDER BY next_attempt_at LIMIT CAST($4 AS BIGINT))"
        );
        const CLAIMED_SQLITE: &str = concat!(
            "SELECT ",
            delivery_columns!(),
            ", d.tenant_id, e.data, e.created_at AS event_created_at \
             FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.lease_id = $1"
        );
        // Every subscription of the batch in one read: on PostgreSQL by the ids the claim
        // returned (a claim then changes no indexed column, so its `UPDATE` can stay on the
        // row's page, HOT, without touching the indexes); on SQLite by the lease.
        const WEBHOOKS_PG: &str = concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM webhooks WHERE id = ANY($1)"
        );
        const WEBHOOKS_SQLITE: &str = concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM webhooks WHERE id IN (SELECT webhook_id FROM deliveries WHERE lease_id = $1)"
        );
        let token = format!("lease_{}", DeliveryId::generate().as_str());
        let until = now.plus(lease).unix();
        macro_rules! claim {
            ($query:expr) => {
                $query
                    .bind(&token)
                    .bind(until)
                    .bind(now.unix())
                    .bind(i64::from(limit))
                    .bind(i64::from(MAX_UNRECORDED_CLAIMS))
                    .bind(TEST_EVENT_TYPE)
                    .bind(UNRECORDED_BODY)
            };
        }
        let rows: Vec<ClaimedRow> = match &self.backend {
            Backend::Postgres(pool) => claim!(sqlx::query_as(CLAIM_PG)).fetch_all(pool).await,
            Backend::Sqlite(pool) => {
                async {
                    claim!(sqlx::query(CLAIM_SQLITE)).execute(pool).await?;
                    sqlx::query_as(CLAIMED_SQLITE)
                        .bind(&token)
                        .fetch_all(pool)
                        .await
                }
                .await
            }
        }
        .map_err(store_error)?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let webhooks: Vec<WebhookRow> = match &self.backend {
            Backend::Postgres(pool) => {
                let mut ids: Vec<&str> = rows
                    .iter()
                    .map(|r| r.delivery.webhook_id.as_str())
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                sqlx::query_as(WEBHOOKS_PG).bind(ids).fetch_all(pool).await
            }
            Backend::Sqlite(pool) => {
                sqlx::query_as(WEBHOOKS_SQLITE)
                    .bind(&token)
                    .fetch_all(pool)
                    .await
            }
        }
        .map_err(store_error)?;
        let webhooks: HashMap<String, StoredWebhook> = webhooks
            .into_iter()
            .map(|row| StoredWebhook::try_from(row).map(|w| (w.webhook.id.as_str().to_owned(), w)))
            .collect::<Result<_, _>>()?;
        let mut claimed = Vec::with_capacity(rows.len());
        for ClaimedRow {
            delivery: row,
            tenant_id: tenant,
            data,
            event_created_at,
        } in rows
        {
            let webhook = webhooks
                .get(&row.webhook_id)
                .cloned()
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
        self.record_batch(attempts).await
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
        if done == 1 {
            PublicationBus::announce(self);
        }
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
        let resent = with_pool!(self, pool => sqlx::query(SQL)
            .bind(tenant.as_str())
            .bind(webhook.as_str())
            .bind(now.unix())
            .bind(since.unix())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .map_err(store_error)?;
        if resent > 0 {
            PublicationBus::announce(self);
        }
        Ok(resent)
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
        // The claim is given back: a deferral is not an attempt that went unrecorded.
        const SQL: &str = "UPDATE deliveries SET next_attempt_at = $3, lease_id = NULL, \
            lease_until = NULL, unrecorded_claims = unrecorded_claims - 1 \
            WHERE id = $1 AND lease_id = $2";
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
             AND ($4 IS NULL OR d.status = $4) ORDER BY d.seq DESC LIMIT CAST($5 AS BIGINT)"
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

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn backlog(&self, now: Timestamp) -> Result<Backlog, StoreError> {
        self.due_backlog(now).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn purge_events(&self, filter: &PurgeFilter, limit: u32) -> Result<Purged, StoreError> {
        self.purge(filter, limit).await
    }

    /// PostgreSQL's `LISTEN`/`NOTIFY`; SQLite has none (other processes find deliveries at
    /// their next look).
    fn publication_bus(&self) -> Option<&dyn PublicationBus> {
        matches!(self.backend, Backend::Postgres(_)).then_some(self as &dyn PublicationBus)
    }
}

#[async_trait]
impl PublicationBus for SqlxStore {
    fn watch(&self, signal: PublicationSignal) {
        if let Backend::Postgres(pool) = &self.backend {
            wake::watch(pool, signal);
        }
    }

    /// A `NOTIFY` after the caller's commit (coalesced; see `wake.rs`).
    fn announce(&self) {
        if let Backend::Postgres(pool) = &self.backend {
            self.announcer.announce(pool);
        }
    }

    async fn flush(&self) {
        self.announcer.flush().await;
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
