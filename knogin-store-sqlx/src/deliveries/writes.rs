//! The writes of publishing and of recording a worker's batch, as each database does them best.
//! On PostgreSQL each is one statement, so an event fanned out to 100 subscriptions, a batch of
//! events published together, or a worker's batch of attempts, costs one round trip: publishing
//! chooses the subscriptions and writes the events and their deliveries together, and events
//! and attempts go in as arrays (`UNNEST`). SQLite runs in this process, where a statement costs
//! no round trip: one statement per row.

use async_trait::async_trait;
use knogin_core::store::{Attempt, DeliveryStatus, Event, NextStep};
use knogin_core::webhooks::health::{FailingSince, HealthChange};
use knogin_core::{DeliveryId, WebhookId};

use crate::apps::json_list;

/// A delivery id read back from the database.
fn delivery_id(id: &str) -> Result<DeliveryId, sqlx::Error> {
    DeliveryId::parse(id)
        .ok_or_else(|| sqlx::Error::Decode(format!("{id:?} is not a delivery id").into()))
}

/// Publishes `events` on PostgreSQL in one statement, atomic even outside a transaction: the
/// events, and a queued delivery to each of each event's `targets`. Returns each event's
/// deliveries, in order; the deliveries are numbered (`seq`) in the events' order.
pub(super) async fn publish_all_in_postgres(
    conn: &mut sqlx::PgConnection,
    events: &[Event],
    targets: Targets<'_>,
) -> Result<Vec<Vec<DeliveryId>>, sqlx::Error> {
    // The events come in as arrays (`ord` keeps their order) and the deliveries to the
    // subscriptions chosen are written by the same statement: one round trip for one event or
    // a batch. The deliveries' foreign key is checked at the statement's end, when the events
    // are there. Each delivery id is the SHA-256 of its event's fresh random seed and the
    // subscription's id, as unpredictable as one made by `DeliveryId::generate`. `$7` names the
    // one subscription of a test send; without it, each event's type chooses.
    const FAN_OUT: &str = "WITH input AS (SELECT * FROM UNNEST($1::text[], $2::text[], \
            $3::text[], $4::text[], $5::bigint[], $6::text[]) WITH ORDINALITY \
            AS i(id, tenant_id, event_type, data, created_at, seed, ord)), \
        stored AS (INSERT INTO events (id, tenant_id, event_type, data, created_at) \
            SELECT id, tenant_id, event_type, data, created_at FROM input ORDER BY ord) \
        INSERT INTO deliveries (id, tenant_id, webhook_id, event_id, event_type, status, \
            created_at, next_attempt_at) \
        SELECT 'dlv_' || left(encode(sha256(convert_to(i.seed || w.id, 'UTF8')), 'hex'), 32), \
            i.tenant_id, w.id, i.id, i.event_type, 'queued', i.created_at, i.created_at \
        FROM input i JOIN webhooks w ON w.tenant_id = i.tenant_id AND w.deleted_at IS NULL \
            AND ($7::text IS NULL AND NOT w.disabled AND w.events::jsonb ? i.event_type \
                OR w.id = $7) \
        ORDER BY i.ord, w.id \
        RETURNING id, event_id";
    let column = |f: fn(&Event) -> String| events.iter().map(f).collect::<Vec<String>>();
    let rows: Vec<(String, String)> = sqlx::query_as(FAN_OUT)
        .bind(column(|e| e.id.as_str().to_owned()))
        .bind(column(|e| e.tenant.as_str().to_owned()))
        .bind(column(|e| e.event_type.clone()))
        .bind(column(|e| e.data.clone()))
        .bind(
            events
                .iter()
                .map(|e| e.created_at.unix())
                .collect::<Vec<i64>>(),
        )
        .bind(column(|_| DeliveryId::generate().as_str().to_owned()))
        .bind(match targets {
            Targets::Matching => None,
            Targets::Only(webhook) => Some(webhook.as_str()),
        })
        .fetch_all(&mut *conn)
        .await?;
    let mut made: Vec<Vec<DeliveryId>> = vec![Vec::new(); events.len()];
    let position: std::collections::HashMap<&str, usize> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id.as_str(), i))
        .collect();
    for (id, event) in rows {
        let at = position.get(event.as_str()).copied().ok_or_else(|| {
            sqlx::Error::Decode(format!("a delivery of an event not published: {event:?}").into())
        })?;
        made[at].push(delivery_id(&id)?);
    }
    Ok(made)
}

/// The subscriptions an event goes to.
#[derive(Debug, Clone, Copy)]
pub(super) enum Targets<'a> {
    /// Every enabled, live subscription of the event's tenant that names its type.
    Matching,
    /// This live subscription of the event's tenant alone, enabled or not (a test send).
    Only(&'a WebhookId),
}

/// One finished attempt to record: the delivery, the lease it was claimed under, and how it
/// ended.
pub(super) type Finished = (DeliveryId, String, Attempt);

/// The subscription a recorded attempt belongs to: its id and tenant.
pub(super) type RecordedFor = Option<(String, String)>;

/// A health change as the `failing_since` SQL below takes it: whether it clears, the time it
/// sets, and whether an earlier time stored wins.
fn failing_columns(change: &HealthChange) -> (bool, Option<i64>, bool) {
    match change.failing_since {
        FailingSince::Cleared => (true, None, false),
        FailingSince::Since {
            since,
            keep_earlier,
        } => (false, Some(since.unix()), keep_earlier),
    }
}

/// The status an attempt leaves its delivery in, and when it is due again.
fn status_of(attempt: &Attempt) -> (&'static str, Option<i64>) {
    match attempt.next {
        NextStep::Succeeded => (DeliveryStatus::Succeeded.as_str(), None),
        NextStep::RetryAt(at) => (DeliveryStatus::Retrying.as_str(), Some(at.unix())),
        _ => (DeliveryStatus::Failed.as_str(), None),
    }
}

/// The SQL for the value `failing_since` takes under a [`HealthChange`] whose `clear`, `since`
/// and `keep` (see [`failing_columns`]) are the expressions given, from its `current` value.
macro_rules! new_failing_since {
    ($clear:literal, $since:literal, $keep:literal, $current:literal) => {
        concat!(
            "CASE WHEN ",
            $clear,
            " THEN NULL WHEN ",
            $keep,
            " THEN COALESCE(",
            $current,
            ", ",
            $since,
            ") ELSE ",
            $since,
            " END"
        )
    };
}

/// Publishing and recording, per database (see the module docs).
#[async_trait]
pub(super) trait BatchWrites {
    /// Stores `event` and a queued delivery to each of its `targets`, on this connection
    /// (inside the caller's transaction, if any). On PostgreSQL this is one statement, atomic
    /// even outside a transaction.
    async fn publish(
        &mut self,
        event: &Event,
        targets: Targets<'_>,
    ) -> Result<Vec<DeliveryId>, sqlx::Error>;

    /// Records `attempts` where their leases still hold: for each, in order, the subscription
    /// it belongs to, or `None` when the lease had run out.
    async fn record(&mut self, attempts: &[Finished]) -> Result<Vec<RecordedFor>, sqlx::Error>;

    /// Applies `changes` to the subscriptions whose health they change; a subscription whose
    /// health stays the same is not written (a steady stream of successes locks no row).
    async fn health(&mut self, changes: &[HealthChange]) -> Result<(), sqlx::Error>;
}

#[async_trait]
impl BatchWrites for sqlx::PgConnection {
    async fn publish(
        &mut self,
        event: &Event,
        targets: Targets<'_>,
    ) -> Result<Vec<DeliveryId>, sqlx::Error> {
        let mut made = publish_all_in_postgres(self, std::slice::from_ref(event), targets).await?;
        Ok(made.pop().unwrap_or_default())
    }

    async fn record(&mut self, attempts: &[Finished]) -> Result<Vec<RecordedFor>, sqlx::Error> {
        const RECORD: &str = "UPDATE deliveries d SET status = a.status, \
            next_attempt_at = a.next_attempt_at, attempts = d.attempts + 1, \
            attempted_at = a.attempted_at, response_status = a.response_status, \
            duration_ms = a.duration_ms, response_body = a.response_body, lease_id = NULL, \
            lease_until = NULL, unrecorded_claims = 0 \
            FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::int8[], \
                $7::int8[], $8::text[]) \
                AS a(id, lease, status, next_attempt_at, attempted_at, response_status, \
                duration_ms, response_body) \
            WHERE d.id = a.id AND d.lease_id = a.lease \
            RETURNING d.id, d.webhook_id, d.tenant_id";
        let mut columns = RecordColumns::default();
        for (id, lease, attempt) in attempts {
            let (status, next) = status_of(attempt);
            columns.ids.push(id.as_str());
            columns.leases.push(lease);
            columns.statuses.push(status);
            columns.next.push(next);
            columns.attempted_at.push(attempt.attempted_at.unix());
            columns
                .response_status
                .push(attempt.response_status.map(i64::from));
            columns.duration_ms.push(i64::from(attempt.duration_ms));
            columns.bodies.push(attempt.response_body.as_deref());
        }
        let rows: Vec<(String, String, String)> = sqlx::query_as(RECORD)
            .bind(&columns.ids)
            .bind(&columns.leases)
            .bind(&columns.statuses)
            .bind(&columns.next)
            .bind(&columns.attempted_at)
            .bind(&columns.response_status)
            .bind(&columns.duration_ms)
            .bind(&columns.bodies)
            .fetch_all(&mut *self)
            .await?;
        let mut owners: std::collections::HashMap<String, (String, String)> = rows
            .into_iter()
            .map(|(id, webhook, tenant)| (id, (webhook, tenant)))
            .collect();
        Ok(attempts
            .iter()
            .map(|(id, ..)| owners.remove(id.as_str()))
            .collect())
    }

    async fn health(&mut self, changes: &[HealthChange]) -> Result<(), sqlx::Error> {
        // The rows that change are locked first, in id order, then written.
        const HEALTH: &str = concat!(
            "WITH h AS (SELECT * FROM UNNEST($1::text[], $2::text[], $3::bool[], $4::int8[], \
                $5::bool[], $6::text[]) AS h(id, tenant_id, clear, since, keep, reason)), \
             changed AS (SELECT w.id FROM webhooks w JOIN h ON h.id = w.id \
                AND h.tenant_id = w.tenant_id \
                WHERE h.reason IS NOT NULL OR w.failing_since IS DISTINCT FROM ",
            new_failing_since!("h.clear", "h.since", "h.keep", "w.failing_since"),
            " ORDER BY w.id FOR NO KEY UPDATE OF w) \
             UPDATE webhooks w SET failing_since = ",
            new_failing_since!("h.clear", "h.since", "h.keep", "w.failing_since"),
            ", disabled = w.disabled OR h.reason IS NOT NULL, \
             disabled_reason = COALESCE(h.reason, w.disabled_reason) \
             FROM h JOIN changed ON changed.id = h.id WHERE w.id = h.id"
        );
        if changes.is_empty() {
            return Ok(());
        }
        let column = |f: fn(&HealthChange) -> &str| changes.iter().map(f).collect::<Vec<_>>();
        let failing: Vec<_> = changes.iter().map(failing_columns).collect();
        sqlx::query(HEALTH)
            .bind(column(|c| c.webhook.as_str()))
            .bind(column(|c| c.tenant.as_str()))
            .bind(failing.iter().map(|f| f.0).collect::<Vec<_>>())
            .bind(failing.iter().map(|f| f.1).collect::<Vec<_>>())
            .bind(failing.iter().map(|f| f.2).collect::<Vec<_>>())
            .bind(
                changes
                    .iter()
                    .map(|c| c.disable_reason.as_deref())
                    .collect::<Vec<_>>(),
            )
            .execute(&mut *self)
            .await
            .map(|_| ())
    }
}

/// A batch of attempts as the arrays PostgreSQL's `UNNEST` takes.
#[derive(Default)]
struct RecordColumns<'a> {
    ids: Vec<&'a str>,
    leases: Vec<&'a str>,
    statuses: Vec<&'static str>,
    next: Vec<Option<i64>>,
    attempted_at: Vec<i64>,
    response_status: Vec<Option<i64>>,
    duration_ms: Vec<i64>,
    bodies: Vec<Option<&'a str>>,
}

#[async_trait]
impl BatchWrites for sqlx::SqliteConnection {
    async fn publish(
        &mut self,
        event: &Event,
        targets: Targets<'_>,
    ) -> Result<Vec<DeliveryId>, sqlx::Error> {
        const INSERT_EVENT: &str = "INSERT INTO events (id, tenant_id, event_type, data, \
            created_at) VALUES ($1, $2, $3, $4, $5)";
        const CANDIDATES: &str = "SELECT id, events, disabled FROM webhooks \
            WHERE tenant_id = $1 AND deleted_at IS NULL";
        const INSERT_DELIVERY: &str = "INSERT INTO deliveries (id, tenant_id, webhook_id, \
            event_id, event_type, status, created_at, next_attempt_at) \
            VALUES ($1, $2, $3, $4, $5, 'queued', $6, $6)";
        // The event first: the transaction takes SQLite's write lock before it reads.
        sqlx::query(INSERT_EVENT)
            .bind(event.id.as_str())
            .bind(event.tenant.as_str())
            .bind(&event.event_type)
            .bind(&event.data)
            .bind(event.created_at.unix())
            .execute(&mut *self)
            .await?;
        let candidates: Vec<(String, String, bool)> = sqlx::query_as(CANDIDATES)
            .bind(event.tenant.as_str())
            .fetch_all(&mut *self)
            .await?;
        let chosen = candidates
            .into_iter()
            .filter(|(id, events, disabled)| match targets {
                Targets::Matching => {
                    !disabled
                        && json_list("events", events).is_ok_and(|e| e.contains(&event.event_type))
                }
                Targets::Only(webhook) => id == webhook.as_str(),
            });
        let mut made = Vec::new();
        for (webhook, ..) in chosen {
            let id = DeliveryId::generate();
            sqlx::query(INSERT_DELIVERY)
                .bind(id.as_str())
                .bind(event.tenant.as_str())
                .bind(webhook)
                .bind(event.id.as_str())
                .bind(&event.event_type)
                .bind(event.created_at.unix())
                .execute(&mut *self)
                .await?;
            made.push(id);
        }
        Ok(made)
    }

    async fn record(&mut self, attempts: &[Finished]) -> Result<Vec<RecordedFor>, sqlx::Error> {
        const RECORD: &str = "UPDATE deliveries SET status = $3, next_attempt_at = $4, \
            attempts = attempts + 1, attempted_at = $5, response_status = $6, duration_ms = $7, \
            response_body = $8, lease_id = NULL, lease_until = NULL, unrecorded_claims = 0 \
            WHERE id = $1 AND lease_id = $2 RETURNING webhook_id, tenant_id";
        let mut recorded = Vec::with_capacity(attempts.len());
        for (id, lease, attempt) in attempts {
            let (status, next) = status_of(attempt);
            recorded.push(
                sqlx::query_as(RECORD)
                    .bind(id.as_str())
                    .bind(lease)
                    .bind(status)
                    .bind(next)
                    .bind(attempt.attempted_at.unix())
                    .bind(attempt.response_status.map(i64::from))
                    .bind(i64::from(attempt.duration_ms))
                    .bind(attempt.response_body.as_deref())
                    .fetch_optional(&mut *self)
                    .await?,
            );
        }
        Ok(recorded)
    }

    async fn health(&mut self, changes: &[HealthChange]) -> Result<(), sqlx::Error> {
        const HEALTH: &str = concat!(
            "UPDATE webhooks SET failing_since = ",
            new_failing_since!("$3", "$4", "$5", "failing_since"),
            ", disabled = disabled OR $6 IS NOT NULL, \
             disabled_reason = COALESCE($6, disabled_reason) \
             WHERE id = $1 AND tenant_id = $2 AND ($6 IS NOT NULL OR failing_since IS DISTINCT FROM ",
            new_failing_since!("$3", "$4", "$5", "failing_since"),
            ")"
        );
        for change in changes {
            let (clear, since, keep) = failing_columns(change);
            sqlx::query(HEALTH)
                .bind(change.webhook.as_str())
                .bind(change.tenant.as_str())
                .bind(clear)
                .bind(since)
                .bind(keep)
                .bind(change.disable_reason.as_deref())
                .execute(&mut *self)
                .await?;
        }
        Ok(())
    }
}
