//! Tenants.

use async_trait::async_trait;
use knogin_core::store::{StoreError, TenantStore};
use knogin_core::{TenantId, Timestamp};

use crate::{SqlxStore, store_error, with_pool};

#[async_trait]
impl TenantStore for SqlxStore {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn ensure_tenant(&self, tenant: &TenantId, now: Timestamp) -> Result<bool, StoreError> {
        const SQL: &str =
            "INSERT INTO tenants (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING";
        let done = with_pool!(self, pool => sqlx::query(SQL)
            .bind(tenant.as_str())
            .bind(now.unix())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .map_err(store_error)?;
        Ok(done == 1)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn tenant_exists(&self, tenant: &TenantId) -> Result<bool, StoreError> {
        const SQL: &str = "SELECT count(*) FROM tenants WHERE id = $1";
        let n: i64 = with_pool!(self, pool => sqlx::query_scalar(SQL)
            .bind(tenant.as_str())
            .fetch_one(pool)
            .await)
        .map_err(store_error)?;
        Ok(n > 0)
    }
}
