//! Sealed signing keys with their lifecycle, and revoked tokens.

use async_trait::async_trait;
use knogin_core::store::{KeyStore, RevocationStore, StoreError, StoredKey};
use knogin_core::{KeyId, Timestamp};

use crate::{SqlxStore, store_error, transaction, with_pool};

/// Revokes the token `$1` (a `jti`) valid until `$2`, at `$3`; revoking twice is fine.
pub(crate) const REVOKE_TOKEN: &str = "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) \
    VALUES ($1, $2, $3) ON CONFLICT (jti) DO NOTHING";

#[derive(sqlx::FromRow)]
struct KeyRow {
    kid: String,
    algorithm: String,
    sealed_private_key: Vec<u8>,
    created_at: i64,
    activates_at: i64,
    retires_at: Option<i64>,
    removed_at: Option<i64>,
}

const INSERT_KEY: &str = "INSERT INTO signing_keys \
    (kid, algorithm, sealed_private_key, created_at, activates_at, retires_at, removed_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Binds a key's columns to [`INSERT_KEY`].
macro_rules! bind_key {
    ($query:expr, $key:expr) => {
        $query
            .bind($key.kid.as_str())
            .bind(&$key.algorithm)
            .bind(&$key.sealed_private_key)
            .bind($key.created_at.unix())
            .bind($key.activates_at.unix())
            .bind($key.retires_at.map(Timestamp::unix))
            .bind($key.removed_at.map(Timestamp::unix))
    };
}

#[async_trait]
impl KeyStore for SqlxStore {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn insert_first_signing_key(&self, key: &StoredKey) -> Result<bool, StoreError> {
        // The genesis row's primary key admits one first key per database; a racing instance
        // waits on it and fails with a unique violation, and its key insert rolls back too.
        const GENESIS: &str = "INSERT INTO signing_key_genesis (id, kid) VALUES (1, $1)";
        let result = with_pool!(self, pool => transaction(|| async move {
            let mut tx = pool.begin().await?;
            bind_key!(sqlx::query(INSERT_KEY), key).execute(&mut *tx).await?;
            sqlx::query(GENESIS).bind(key.kid.as_str()).execute(&mut *tx).await?;
            tx.commit().await
        }).await);
        match result.map_err(store_error) {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn rotate_signing_key(
        &self,
        key: &StoredKey,
        removed_at: Timestamp,
    ) -> Result<(), StoreError> {
        const RETIRE: &str = "UPDATE signing_keys SET retires_at = $1, removed_at = $2 \
                              WHERE retires_at IS NULL";
        with_pool!(self, pool => transaction(|| async move {
            let mut tx = pool.begin().await?;
            sqlx::query(RETIRE)
                .bind(key.activates_at.unix())
                .bind(removed_at.unix())
                .execute(&mut *tx)
                .await?;
            bind_key!(sqlx::query(INSERT_KEY), key).execute(&mut *tx).await?;
            tx.commit().await
        }).await)
        .map_err(store_error)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        const SQL: &str = "SELECT kid, algorithm, sealed_private_key, created_at, activates_at, \
                           retires_at, removed_at FROM signing_keys ORDER BY seq";
        let rows: Vec<KeyRow> = with_pool!(self, pool => sqlx::query_as(SQL).fetch_all(pool).await)
            .map_err(store_error)?;
        Ok(rows
            .into_iter()
            .map(|r| StoredKey {
                kid: KeyId::new(r.kid),
                algorithm: r.algorithm,
                sealed_private_key: r.sealed_private_key,
                created_at: Timestamp::from_unix(r.created_at),
                activates_at: Timestamp::from_unix(r.activates_at),
                retires_at: r.retires_at.map(Timestamp::from_unix),
                removed_at: r.removed_at.map(Timestamp::from_unix),
            })
            .collect())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn withdraw_signing_key(&self, kid: &KeyId, now: Timestamp) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE signing_keys SET removed_at = $2, \
            retires_at = CASE WHEN retires_at IS NULL OR retires_at > $2 THEN $2 \
                ELSE retires_at END \
            WHERE kid = $1 AND (removed_at IS NULL OR removed_at > $2)";
        let done = with_pool!(self, pool => sqlx::query(SQL)
            .bind(kid.as_str())
            .bind(now.unix())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .map_err(store_error)?;
        Ok(done == 1)
    }
}

#[async_trait]
impl RevocationStore for SqlxStore {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn revoke_token(
        &self,
        jti: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => sqlx::query(REVOKE_TOKEN)
            .bind(jti)
            .bind(expires_at.unix())
            .bind(now.unix())
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(store_error)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn revoked_tokens(&self, now: Timestamp) -> Result<Vec<String>, StoreError> {
        const SQL: &str = "SELECT jti FROM revoked_tokens WHERE expires_at > $1";
        with_pool!(self, pool => sqlx::query_scalar(SQL).bind(now.unix()).fetch_all(pool).await)
            .map_err(store_error)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn cut_off_tokens(&self, key: &str, not_before: Timestamp) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO token_cutoffs (key, not_before) VALUES ($1, $2) \
            ON CONFLICT (key) DO UPDATE SET not_before = \
            CASE WHEN excluded.not_before > token_cutoffs.not_before \
                THEN excluded.not_before ELSE token_cutoffs.not_before END";
        with_pool!(self, pool => sqlx::query(SQL)
            .bind(key)
            .bind(not_before.unix())
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(store_error)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn token_cutoffs(&self) -> Result<Vec<(String, Timestamp)>, StoreError> {
        const SQL: &str = "SELECT key, not_before FROM token_cutoffs";
        let rows: Vec<(String, i64)> =
            with_pool!(self, pool => sqlx::query_as(SQL).fetch_all(pool).await)
                .map_err(store_error)?;
        Ok(rows
            .into_iter()
            .map(|(key, at)| (key, Timestamp::from_unix(at)))
            .collect())
    }
}
