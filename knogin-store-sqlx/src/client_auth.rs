//! Client authentication: the one read per OAuth request, and the failure counts.

use std::time::Duration;

use async_trait::async_trait;
use knogin_core::apps::App;
use knogin_core::store::{AuthFailures, ClientAuthStore, ClientLookup, StoreError};
use knogin_core::{SecretHash, Timestamp};

use crate::apps::{AppRow, corrupt};
use crate::{SqlxStore, store_error, with_pool};

/// One row per valid secret of the app (one with a NULL secret when it has none).
#[derive(sqlx::FromRow)]
struct LookupRow {
    seq: Option<i64>,
    client_id: Option<String>,
    tenant_id: Option<String>,
    name: Option<String>,
    grant_types: Option<String>,
    redirect_uris: Option<String>,
    requested_scopes: Option<String>,
    allow_service_tokens: Option<bool>,
    enforce_pkce: Option<bool>,
    access_token_ttl: Option<i64>,
    created_at: Option<i64>,
    secret_hash: Option<Vec<u8>>,
    allow_token_introspection: Option<bool>,
    token_endpoint_auth_method: Option<String>,
    jwks: Option<String>,
    require_dpop: Option<bool>,
    require_pushed_authorization_requests: Option<bool>,
    security_profile: Option<String>,
    jwks_uri: Option<String>,
    rotate_refresh_tokens: Option<bool>,
    secret_expires_at: Option<i64>,
}

impl LookupRow {
    /// The row as rusqlite reads it (columns in the order of the `SELECT`).
    fn from_rusqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            seq: row.get(0)?,
            client_id: row.get(1)?,
            tenant_id: row.get(2)?,
            name: row.get(3)?,
            grant_types: row.get(4)?,
            redirect_uris: row.get(5)?,
            requested_scopes: row.get(6)?,
            allow_service_tokens: row.get(7)?,
            enforce_pkce: row.get(8)?,
            access_token_ttl: row.get(9)?,
            created_at: row.get(10)?,
            secret_hash: row.get(11)?,
            allow_token_introspection: row.get(12)?,
            token_endpoint_auth_method: row.get(13)?,
            jwks: row.get(14)?,
            require_dpop: row.get(15)?,
            require_pushed_authorization_requests: row.get(16)?,
            security_profile: row.get(17)?,
            jwks_uri: row.get(18)?,
            rotate_refresh_tokens: row.get(19)?,
            secret_expires_at: row.get(20)?,
        })
    }

    /// The app the row names, if any.
    fn app(&self) -> Result<Option<App>, StoreError> {
        let Some(client_id) = self.client_id.clone() else {
            return Ok(None);
        };
        let row = AppRow {
            seq: self.seq.unwrap_or_default(),
            client_id,
            tenant_id: self.tenant_id.clone().unwrap_or_default(),
            name: self.name.clone().unwrap_or_default(),
            grant_types: self.grant_types.clone().unwrap_or_default(),
            redirect_uris: self.redirect_uris.clone().unwrap_or_default(),
            requested_scopes: self.requested_scopes.clone().unwrap_or_default(),
            allow_service_tokens: self.allow_service_tokens.unwrap_or_default(),
            enforce_pkce: self.enforce_pkce.unwrap_or_default(),
            allow_token_introspection: self.allow_token_introspection.unwrap_or_default(),
            access_token_ttl: self.access_token_ttl,
            created_at: self.created_at.unwrap_or_default(),
            token_endpoint_auth_method: self.token_endpoint_auth_method.clone().unwrap_or_default(),
            jwks: self.jwks.clone(),
            require_dpop: self.require_dpop.unwrap_or_default(),
            require_pushed_authorization_requests: self
                .require_pushed_authorization_requests
                .unwrap_or_default(),
            security_profile: self.security_profile.clone(),
            jwks_uri: self.jwks_uri.clone(),
            rotate_refresh_tokens: self.rotate_refresh_tokens.unwrap_or(true),
        };
        App::try_from(row).map(Some)
    }
}

/// Counts one failure under `$key` in the table `$table` keyed by `$column`, in a fixed window
/// of `$window` (every window that ended is deleted first): the one statement both failure
/// counters (client authentications, sign-ins) run.
macro_rules! record_failure {
    ($store:expr, $table:literal, $column:literal, $key:expr, $now:expr, $window:expr) => {{
        // A window that began at or before `stale` has ended.
        const PRUNE: &str = concat!("DELETE FROM ", $table, " WHERE window_start <= $1");
        const COUNT: &str = concat!(
            "INSERT INTO ", $table, " (", $column, ", window_start, failures) VALUES ($1, $2, 1) \
            ON CONFLICT (", $column, ") DO UPDATE SET \
            failures = CASE WHEN ", $table, ".window_start <= $3 THEN 1 \
                ELSE ", $table, ".failures + 1 END, \
            window_start = CASE WHEN ", $table, ".window_start <= $3 THEN $2 \
                ELSE ", $table, ".window_start END \
            RETURNING window_start, failures"
        );
        let stale = $now.unix() - i64::try_from($window.as_secs()).unwrap_or(i64::MAX);
        let (start, count): (i64, i64) = $crate::with_pool!($store, pool => async {
            sqlx::query(PRUNE).bind(stale).execute(pool).await?;
            sqlx::query_as(COUNT)
                .bind($key)
                .bind($now.unix())
                .bind(stale)
                .fetch_one(pool)
                .await
        }.await)
        .map_err($crate::store_error)?;
        $crate::client_auth::failure_window(Some(start), Some(count))
            .map(|w| w.expect("both parts are present"))
    }};
}
pub(crate) use record_failure;

/// The failure window read back, if the row has one.
pub(crate) fn failure_window(
    window_start: Option<i64>,
    failures: Option<i64>,
) -> Result<Option<AuthFailures>, StoreError> {
    match (window_start, failures) {
        (Some(start), Some(count)) => Ok(Some(AuthFailures {
            window_start: Timestamp::from_unix(start),
            count: u32::try_from(count)
                .map_err(|_| corrupt("failure count", &count.to_string()))?,
        })),
        _ => Ok(None),
    }
}

#[async_trait]
impl ClientAuthStore for SqlxStore {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn client_lookup(
        &self,
        client_id: &str,
        now: Timestamp,
    ) -> Result<ClientLookup, StoreError> {
        // `$1` comes first in the text: rusqlite numbers `$n` parameters in order of appearance.
        const SQL: &str = "SELECT a.seq, a.client_id, a.tenant_id, a.name, a.grant_types, \
            a.redirect_uris, a.requested_scopes, a.allow_service_tokens, a.enforce_pkce, \
            a.access_token_ttl, a.created_at, s.secret_hash, a.allow_token_introspection, \
            a.token_endpoint_auth_method, a.jwks, a.require_dpop, \
            a.require_pushed_authorization_requests, a.security_profile, a.jwks_uri, \
            a.rotate_refresh_tokens, s.expires_at AS secret_expires_at \
            FROM (SELECT * FROM apps WHERE client_id = $1) a \
            LEFT JOIN app_secrets s ON s.client_id = a.client_id \
                AND (s.expires_at IS NULL OR s.expires_at > $2)";
        let rows: Vec<LookupRow> = match &self.reads {
            Some(reader) => reader.read(|connection| {
                let mut statement = connection.prepare_cached(SQL)?;
                let rows =
                    statement.query_map((client_id, now.unix()), LookupRow::from_rusqlite)?;
                rows.collect()
            })?,
            None => with_pool!(self, pool => sqlx::query_as(SQL)
                .bind(client_id)
                .bind(now.unix())
                .fetch_all(pool)
                .await)
            .map_err(store_error)?,
        };
        let Some(first) = rows.first() else {
            return Ok(ClientLookup::default());
        };
        let secrets = rows
            .iter()
            .filter_map(|r| r.secret_hash.as_deref())
            .map(|h| {
                SecretHash::from_bytes(h)
                    .ok_or_else(|| StoreError::Corrupt("secret hash length".into()))
            })
            .collect::<Result<_, _>>()?;
        Ok(ClientLookup {
            app: first.app()?,
            secrets,
            valid_until: rows
                .iter()
                .filter_map(|r| r.secret_expires_at)
                .min()
                .map(Timestamp::from_unix),
        })
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn record_auth_failure(
        &self,
        key: &str,
        now: Timestamp,
        window: Duration,
    ) -> Result<AuthFailures, StoreError> {
        record_failure!(self, "client_auth_failures", "client_id", key, now, window)
    }
}
