//! The delivery backlog a worker reports, and the purge of events with their deliveries
//! (retention and erasure): short transactions of a bounded number of events each.

use knogin_core::store::{Backlog, PurgeFilter, Purged, StoreError};
use knogin_core::{TenantId, Timestamp};

use crate::{Backend, SqlxStore, store_error, transaction, with_pool};

/// The event ids a purge takes (`$1` tenant or NULL, `$2` before or NULL, `$3` whether events
/// with pending deliveries qualify, `$4` how many), oldest first.
macro_rules! chosen_events {
    ($tenant:literal, $before:literal) => {
        concat!(
            "SELECT e.id FROM events e WHERE (",
            $tenant,
            " IS NULL OR e.tenant_id = $1) AND (",
            $before,
            " IS NULL OR e.created_at < $2) \
             AND ($3 OR NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id \
                AND d.status IN ('queued', 'retrying'))) \
             ORDER BY e.created_at LIMIT CAST($4 AS BIGINT)"
        )
    };
}

impl SqlxStore {
    pub(super) async fn due_backlog(&self, now: Timestamp) -> Result<Backlog, StoreError> {
        const SQL: &str = "SELECT count(*), min(next_attempt_at) FROM deliveries \
            WHERE next_attempt_at <= $1 AND status IN ('queued', 'retrying')";
        let (due, oldest): (i64, Option<i64>) = with_pool!(self, pool => sqlx::query_as(SQL)
            .bind(now.unix())
            .fetch_one(pool)
            .await)
        .map_err(store_error)?;
        Ok(Backlog {
            due: u64::try_from(due).unwrap_or(0),
            oldest_due_at: oldest.map(Timestamp::from_unix),
        })
    }

    pub(super) async fn purge(
        &self,
        filter: &PurgeFilter,
        limit: u32,
    ) -> Result<Purged, StoreError> {
        // One statement: the events are locked (skipping those another purge holds), their
        // deliveries and then they are deleted; the foreign key is checked at its end.
        const PURGE_PG: &str = concat!(
            "WITH chosen AS MATERIALIZED (",
            chosen_events!("$1::text", "$2::bigint"),
            " FOR UPDATE OF e SKIP LOCKED), \
             gone AS (DELETE FROM deliveries d USING chosen WHERE d.event_id = chosen.id \
                RETURNING 1), \
             events_gone AS (DELETE FROM events e USING chosen WHERE e.id = chosen.id \
                RETURNING 1) \
             SELECT (SELECT count(*) FROM events_gone), (SELECT count(*) FROM gone)"
        );
        const CHOSEN_SQLITE: &str = chosen_events!("$1", "$2");
        const DELIVERIES_SQLITE: &str =
            "DELETE FROM deliveries WHERE event_id IN (SELECT value FROM json_each($1))";
        const EVENTS_SQLITE: &str =
            "DELETE FROM events WHERE id IN (SELECT value FROM json_each($1))";
        let tenant = filter.tenant.as_ref().map(TenantId::as_str);
        let before = filter.before.map(Timestamp::unix);
        let (events, deliveries): (i64, i64) = match &self.backend {
            Backend::Postgres(pool) => {
                sqlx::query_as(PURGE_PG)
                    .bind(tenant)
                    .bind(before)
                    .bind(filter.include_pending)
                    .bind(i64::from(limit))
                    .fetch_one(pool)
                    .await
            }
            Backend::Sqlite(pool) => {
                transaction(|| async {
                    // The write lock first: a transaction that read and then writes fails at
                    // once (SQLITE_BUSY_SNAPSHOT, no busy wait) if a worker's write landed in
                    // between, which on a busy queue is every time.
                    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                    let ids: Vec<(String,)> = sqlx::query_as(CHOSEN_SQLITE)
                        .bind(tenant)
                        .bind(before)
                        .bind(filter.include_pending)
                        .bind(i64::from(limit))
                        .fetch_all(&mut *tx)
                        .await?;
                    if ids.is_empty() {
                        return Ok((0, 0));
                    }
                    let ids = serde_json::to_string(
                        &ids.iter().map(|(id,)| id.as_str()).collect::<Vec<_>>(),
                    )
                    .map_err(|e| sqlx::Error::Encode(e.into()))?;
                    let deliveries = sqlx::query(DELIVERIES_SQLITE)
                        .bind(&ids)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    let events = sqlx::query(EVENTS_SQLITE)
                        .bind(&ids)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    tx.commit().await?;
                    Ok((
                        i64::try_from(events).unwrap_or(i64::MAX),
                        i64::try_from(deliveries).unwrap_or(i64::MAX),
                    ))
                })
                .await
            }
        }
        .map_err(store_error)?;
        Ok(Purged {
            events: u64::try_from(events).unwrap_or(0),
            deliveries: u64::try_from(deliveries).unwrap_or(0),
        })
    }
}
