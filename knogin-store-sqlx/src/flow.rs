//! The browser flow's state (sessions, pending login and consent forms) and the sign-in failure
//! counts. Taking a form's state is one `DELETE … RETURNING`, so a form is submitted once however
//! many requests race.

use std::time::Duration;

use async_trait::async_trait;
use knogin_core::store::{AuthFailures, FlowKind, FlowState, FlowStore, StoreError};
use knogin_core::{SecretHash, Timestamp};

use crate::client_auth::{failure_window, record_failure};
use crate::{SqlxStore, store_error, with_pool};

#[async_trait]
impl FlowStore for SqlxStore {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn put_state(&self, state: &FlowState, now: Timestamp) -> Result<(), StoreError> {
        const PRUNE: &str = "DELETE FROM flow_states WHERE expires_at <= $1";
        const INSERT: &str =
            "INSERT INTO flow_states (kind, key_hash, value, expires_at) VALUES ($1, $2, $3, $4)";
        with_pool!(self, pool => async {
            sqlx::query(PRUNE).bind(now.unix()).execute(pool).await?;
            sqlx::query(INSERT)
                .bind(state.kind.as_str())
                .bind(state.key.as_bytes())
                .bind(&state.value)
                .bind(state.expires_at.unix())
                .execute(pool)
                .await?;
            Ok(())
        }.await)
        .map_err(store_error)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn state(
        &self,
        kind: FlowKind,
        key: &SecretHash,
        now: Timestamp,
    ) -> Result<Option<String>, StoreError> {
        const SQL: &str = "SELECT value FROM flow_states \
            WHERE kind = $1 AND key_hash = $2 AND expires_at > $3";
        with_pool!(self, pool => sqlx::query_scalar(SQL)
            .bind(kind.as_str())
            .bind(key.as_bytes())
            .bind(now.unix())
            .fetch_optional(pool)
            .await)
        .map_err(store_error)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn take_state(
        &self,
        kind: FlowKind,
        key: &SecretHash,
        now: Timestamp,
    ) -> Result<Option<String>, StoreError> {
        // An ended state is deleted too; only a live one is returned.
        const SQL: &str = "DELETE FROM flow_states WHERE kind = $1 AND key_hash = $2 \
            RETURNING value, expires_at";
        let taken: Option<(String, i64)> = with_pool!(self, pool => sqlx::query_as(SQL)
            .bind(kind.as_str())
            .bind(key.as_bytes())
            .fetch_optional(pool)
            .await)
        .map_err(store_error)?;
        Ok(taken.and_then(|(value, expires_at)| (expires_at > now.unix()).then_some(value)))
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn record_sign_in_failure(
        &self,
        key: &str,
        now: Timestamp,
        window: Duration,
    ) -> Result<AuthFailures, StoreError> {
        record_failure!(self, "sign_in_failures", "key", key, now, window)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn release_sign_in_attempt(
        &self,
        key: &str,
        now: Timestamp,
        window: Duration,
    ) -> Result<(), StoreError> {
        // A window counts at least one attempt: the last one given back ends it.
        const END: &str =
            "DELETE FROM sign_in_failures WHERE key = $1 AND window_start > $2 AND failures = 1";
        const RELEASE: &str = "UPDATE sign_in_failures SET failures = failures - 1 \
            WHERE key = $1 AND window_start > $2 AND failures > 1";
        let stale = now.unix() - i64::try_from(window.as_secs()).unwrap_or(i64::MAX);
        with_pool!(self, pool => async {
            let ended = sqlx::query(END).bind(key).bind(stale).execute(pool).await?;
            if ended.rows_affected() == 0 {
                sqlx::query(RELEASE).bind(key).bind(stale).execute(pool).await?;
            }
            Ok::<_, sqlx::Error>(())
        }.await)
        .map_err(store_error)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn sign_in_failures(
        &self,
        key: &str,
        now: Timestamp,
        window: Duration,
    ) -> Result<Option<AuthFailures>, StoreError> {
        const SQL: &str = "SELECT window_start, failures FROM sign_in_failures WHERE key = $1 AND window_start > $2";
        let stale = now.unix() - i64::try_from(window.as_secs()).unwrap_or(i64::MAX);
        let row: Option<(i64, i64)> = with_pool!(self, pool => sqlx::query_as(SQL)
            .bind(key)
            .bind(stale)
            .fetch_optional(pool)
            .await)
        .map_err(store_error)?;
        failure_window(row.map(|r| r.0), row.map(|r| r.1))
    }
}
