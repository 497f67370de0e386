//! Sealed signing keys.

use async_trait::async_trait;
use knogin_core::store::{KeyStore, StoreError, StoredKey};
use knogin_core::{KeyId, Timestamp};

use crate::{SqlxStore, store_error, with_pool};

#[derive(sqlx::FromRow)]
struct KeyRow {
    kid: String,
    algorithm: String,
    sealed_private_key: Vec<u8>,
    created_at: i64,
}

#[async_trait]
impl KeyStore for SqlxStore {
    async fn insert_signing_key(&self, key: &StoredKey) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO signing_keys (kid, algorithm, sealed_private_key, created_at) \
                           VALUES ($1, $2, $3, $4)";
        with_pool!(self, pool => sqlx::query(SQL)
            .bind(key.kid.as_str())
            .bind(&key.algorithm)
            .bind(&key.sealed_private_key)
            .bind(key.created_at.unix())
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(store_error)
    }

    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        const SQL: &str = "SELECT kid, algorithm, sealed_private_key, created_at \
                           FROM signing_keys ORDER BY seq";
        let rows: Vec<KeyRow> = with_pool!(self, pool => sqlx::query_as(SQL).fetch_all(pool).await)
            .map_err(store_error)?;
        Ok(rows
            .into_iter()
            .map(|r| StoredKey {
                kid: KeyId::new(r.kid),
                algorithm: r.algorithm,
                sealed_private_key: r.sealed_private_key,
                created_at: Timestamp::from_unix(r.created_at),
            })
            .collect())
    }
}
