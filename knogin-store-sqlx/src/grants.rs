//! The authorization-code flow's grants: codes, refresh tokens in families, consents.
//!
//! Each use is one conditional `UPDATE … RETURNING`, so of racing redemptions the database
//! lets exactly one through. Writes into a family first lock its row (`UPDATE token_families`),
//! so storing a refresh token and revoking its family run one after the other, and neither can
//! miss the other's access token.

use async_trait::async_trait;
use knogin_core::store::{
    CodeRedemption, GrantStore, RefreshUse, StoreError, StoredCode, StoredRefresh, UserGrant,
};
use knogin_core::{AppId, ScopeSet, SecretHash, TenantId, Timestamp};

use crate::apps::corrupt;
use crate::keys::REVOKE_TOKEN;
use crate::{SqlxStore, store_error, transaction, with_pool};

/// How long past their end codes and families are kept, so a late replay is still recognised.
const KEEP_AFTER_END: i64 = 86_400;

/// The grant columns every code and refresh token row carries.
#[derive(sqlx::FromRow)]
struct GrantColumns {
    client_id: String,
    tenant_id: String,
    subject: String,
    scopes: String,
    resource: Option<String>,
}

impl GrantColumns {
    fn grant(self) -> Result<UserGrant, StoreError> {
        Ok(UserGrant {
            client_id: AppId::parse(&self.client_id)
                .ok_or_else(|| corrupt("client_id", &self.client_id))?,
            tenant: TenantId::parse(&self.tenant_id)
                .ok_or_else(|| corrupt("tenant_id", &self.tenant_id))?,
            subject: self.subject,
            scopes: ScopeSet::parse(&self.scopes).map_err(|e| corrupt("scope", &e.0))?,
            resource: self.resource,
        })
    }
}

fn hash(bytes: &[u8]) -> Result<SecretHash, StoreError> {
    SecretHash::from_bytes(bytes).ok_or_else(|| StoreError::Corrupt("hash length".into()))
}

#[derive(sqlx::FromRow)]
struct CodeRow {
    code_hash: Vec<u8>,
    family: String,
    #[sqlx(flatten)]
    grant: GrantColumns,
    redirect_uri: String,
    code_challenge: Option<String>,
    expires_at: i64,
    family_expires_at: i64,
}

impl TryFrom<CodeRow> for StoredCode {
    type Error = StoreError;

    fn try_from(row: CodeRow) -> Result<Self, StoreError> {
        Ok(StoredCode {
            code_hash: hash(&row.code_hash)?,
            family: row.family,
            grant: row.grant.grant()?,
            redirect_uri: row.redirect_uri,
            code_challenge: row.code_challenge,
            expires_at: Timestamp::from_unix(row.expires_at),
            family_expires_at: Timestamp::from_unix(row.family_expires_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct RefreshRow {
    token_hash: Vec<u8>,
    family: String,
    #[sqlx(flatten)]
    grant: GrantColumns,
    access_jti: String,
    access_expires_at: i64,
    created_at: i64,
    expires_at: i64,
    family_expires_at: i64,
}

impl TryFrom<RefreshRow> for StoredRefresh {
    type Error = StoreError;

    fn try_from(row: RefreshRow) -> Result<Self, StoreError> {
        Ok(StoredRefresh {
            token_hash: hash(&row.token_hash)?,
            family: row.family,
            grant: row.grant.grant()?,
            access_jti: row.access_jti,
            access_expires_at: Timestamp::from_unix(row.access_expires_at),
            created_at: Timestamp::from_unix(row.created_at),
            expires_at: Timestamp::from_unix(row.expires_at),
            family_expires_at: Timestamp::from_unix(row.family_expires_at),
        })
    }
}

/// The columns a [`CodeRow`] reads, for `concat!` into literal SQL.
macro_rules! code_columns {
    () => {
        "code_hash, family, client_id, tenant_id, subject, scopes, redirect_uri, code_challenge, \
         expires_at, family_expires_at, resource"
    };
}

/// The columns a [`RefreshRow`] reads, for `concat!` into literal SQL.
macro_rules! refresh_columns {
    () => {
        "token_hash, family, client_id, tenant_id, subject, scopes, access_jti, access_expires_at, \
         created_at, expires_at, family_expires_at, resource"
    };
}

/// Whether the row's `family` exists and is not revoked, for `concat!` into a `WHERE` clause.
macro_rules! family_live {
    () => {
        "family IN (SELECT id FROM token_families WHERE revoked_at IS NULL)"
    };
}

#[async_trait]
impl GrantStore for SqlxStore {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn insert_code(&self, code: &StoredCode, now: Timestamp) -> Result<(), StoreError> {
        const PRUNE: &str = "DELETE FROM token_families WHERE expires_at <= $1";
        const PRUNE_CODES: &str = "DELETE FROM authorization_codes WHERE expires_at <= $1";
        const FAMILY: &str = "INSERT INTO token_families (id, client_id, created_at, expires_at) \
            VALUES ($1, $2, $3, $4)";
        const INSERT: &str = concat!(
            "INSERT INTO authorization_codes (",
            code_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        let stale = now.unix() - KEEP_AFTER_END;
        let grant = &code.grant;
        with_pool!(self, pool => transaction(|| async {
            let mut tx = pool.begin().await?;
            sqlx::query(PRUNE).bind(stale).execute(&mut *tx).await?;
            sqlx::query(PRUNE_CODES).bind(stale).execute(&mut *tx).await?;
            sqlx::query(FAMILY)
                .bind(&code.family)
                .bind(grant.client_id.as_str())
                .bind(now.unix())
                .bind(code.family_expires_at.unix())
                .execute(&mut *tx)
                .await?;
            sqlx::query(INSERT)
                .bind(code.code_hash.as_bytes())
                .bind(&code.family)
                .bind(grant.client_id.as_str())
                .bind(grant.tenant.as_str())
                .bind(&grant.subject)
                .bind(grant.scopes.to_string())
                .bind(&code.redirect_uri)
                .bind(code.code_challenge.as_deref())
                .bind(code.expires_at.unix())
                .bind(code.family_expires_at.unix())
                .bind(grant.resource.as_deref())
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        }).await)
        .map_err(store_error)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn redeem_code(
        &self,
        code_hash: &SecretHash,
        now: Timestamp,
    ) -> Result<CodeRedemption, StoreError> {
        const REDEEM: &str = concat!(
            "UPDATE authorization_codes SET redeemed_at = $2 \
             WHERE code_hash = $1 AND redeemed_at IS NULL AND expires_at > $2 RETURNING ",
            code_columns!()
        );
        const SEEN: &str = "SELECT family FROM authorization_codes WHERE code_hash = $1 AND redeemed_at IS NOT NULL";
        let (won, replayed): (Option<CodeRow>, Option<String>) = with_pool!(self, pool => async {
            let won: Option<CodeRow> = sqlx::query_as(REDEEM)
                .bind(code_hash.as_bytes())
                .bind(now.unix())
                .fetch_optional(pool)
                .await?;
            if won.is_some() {
                return Ok((won, None));
            }
            let family = sqlx::query_scalar(SEEN)
                .bind(code_hash.as_bytes())
                .fetch_optional(pool)
                .await?;
            Ok::<_, sqlx::Error>((None, family))
        }.await)
        .map_err(store_error)?;
        Ok(match (won, replayed) {
            (Some(row), _) => CodeRedemption::Redeemed(Box::new(row.try_into()?)),
            (None, Some(family)) => CodeRedemption::Replayed { family },
            (None, None) => CodeRedemption::Invalid,
        })
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn insert_refresh(
        &self,
        token: &StoredRefresh,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        // Locks the family's row: a concurrent revocation runs wholly before or after this.
        const LOCK: &str =
            "UPDATE token_families SET created_at = created_at WHERE id = $1 RETURNING revoked_at";
        const INSERT: &str = concat!(
            "INSERT INTO refresh_tokens (",
            refresh_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        );
        let grant = &token.grant;
        with_pool!(self, pool => transaction(|| async {
            let mut tx = pool.begin().await?;
            let revoked: Option<Option<i64>> = sqlx::query_scalar(LOCK)
                .bind(&token.family)
                .fetch_optional(&mut *tx)
                .await?;
            let live = matches!(revoked, Some(None));
            sqlx::query(INSERT)
                .bind(token.token_hash.as_bytes())
                .bind(&token.family)
                .bind(grant.client_id.as_str())
                .bind(grant.tenant.as_str())
                .bind(&grant.subject)
                .bind(grant.scopes.to_string())
                .bind(&token.access_jti)
                .bind(token.access_expires_at.unix())
                .bind(token.created_at.unix())
                .bind(token.expires_at.unix())
                .bind(token.family_expires_at.unix())
                .bind(grant.resource.as_deref())
                .execute(&mut *tx)
                .await?;
            if !live {
                sqlx::query(REVOKE_TOKEN)
                    .bind(&token.access_jti)
                    .bind(token.access_expires_at.unix())
                    .bind(now.unix())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await.map(|()| live)
        }).await)
        .map_err(store_error)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn use_refresh(
        &self,
        token_hash: &SecretHash,
        now: Timestamp,
    ) -> Result<RefreshUse, StoreError> {
        const ROTATE: &str = concat!(
            "UPDATE refresh_tokens SET rotated_at = $2 \
             WHERE token_hash = $1 AND rotated_at IS NULL AND expires_at > $2 AND ",
            family_live!(),
            " RETURNING ",
            refresh_columns!()
        );
        const SEEN: &str = concat!(
            "SELECT family FROM refresh_tokens \
             WHERE token_hash = $1 AND rotated_at IS NOT NULL AND ",
            family_live!()
        );
        let (current, reused): (Option<RefreshRow>, Option<String>) =
            with_pool!(self, pool => async {
            let current: Option<RefreshRow> = sqlx::query_as(ROTATE)
                .bind(token_hash.as_bytes())
                .bind(now.unix())
                .fetch_optional(pool)
                .await?;
            if current.is_some() {
                return Ok((current, None));
            }
            let family = sqlx::query_scalar(SEEN)
                .bind(token_hash.as_bytes())
                .fetch_optional(pool)
                .await?;
            Ok::<_, sqlx::Error>((None, family))
        }.await)
            .map_err(store_error)?;
        Ok(match (current, reused) {
            (Some(row), _) => RefreshUse::Current(Box::new(row.try_into()?)),
            (None, Some(family)) => RefreshUse::Reused { family },
            (None, None) => RefreshUse::Invalid,
        })
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn keep_refresh(
        &self,
        token_hash: &SecretHash,
        access_jti: &str,
        access_expires_at: Timestamp,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Option<StoredRefresh>, StoreError> {
        // The family's row is locked first: a concurrent revocation runs wholly before or after.
        const LOCK: &str = "UPDATE token_families SET created_at = created_at \
            WHERE id = (SELECT family FROM refresh_tokens WHERE token_hash = $1) \
            AND revoked_at IS NULL RETURNING id";
        const FIND: &str = concat!(
            "SELECT ",
            refresh_columns!(),
            " FROM refresh_tokens \
             WHERE token_hash = $1 AND rotated_at IS NULL AND expires_at > $2"
        );
        const EXTEND: &str = "UPDATE refresh_tokens SET expires_at = $2 WHERE token_hash = $1";
        const RECORD: &str =
            "INSERT INTO family_access_tokens (jti, family, expires_at) VALUES ($1, $2, $3)";
        let row: Option<RefreshRow> = with_pool!(self, pool => transaction(|| async {
            let mut tx = pool.begin().await?;
            let family: Option<String> = sqlx::query_scalar(LOCK)
                .bind(token_hash.as_bytes())
                .fetch_optional(&mut *tx)
                .await?;
            let Some(family) = family else {
                return Ok(None);
            };
            let row: Option<RefreshRow> = sqlx::query_as(FIND)
                .bind(token_hash.as_bytes())
                .bind(now.unix())
                .fetch_optional(&mut *tx)
                .await?;
            if row.is_none() {
                return Ok(None);
            }
            sqlx::query(EXTEND)
                .bind(token_hash.as_bytes())
                .bind(expires_at.unix())
                .execute(&mut *tx)
                .await?;
            sqlx::query(RECORD)
                .bind(access_jti)
                .bind(&family)
                .bind(access_expires_at.unix())
                .execute(&mut *tx)
                .await?;
            tx.commit().await.map(|()| row)
        }).await)
        .map_err(store_error)?;
        row.map(TryInto::try_into).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn find_refresh(
        &self,
        token_hash: &SecretHash,
        now: Timestamp,
    ) -> Result<Option<StoredRefresh>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            refresh_columns!(),
            " FROM refresh_tokens \
             WHERE token_hash = $1 AND rotated_at IS NULL AND expires_at > $2 AND ",
            family_live!()
        );
        let row: Option<RefreshRow> = with_pool!(self, pool => sqlx::query_as(SQL)
            .bind(token_hash.as_bytes())
            .bind(now.unix())
            .fetch_optional(pool)
            .await)
        .map_err(store_error)?;
        row.map(TryInto::try_into).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn revoke_family(
        &self,
        family: &str,
        now: Timestamp,
    ) -> Result<Vec<(String, Timestamp)>, StoreError> {
        const MARK: &str =
            "UPDATE token_families SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1";
        /// Every access token of the family: beside a refresh token, or from a kept one.
        macro_rules! issued {
            () => {
                "SELECT access_jti, access_expires_at FROM refresh_tokens WHERE family = $1 \
                 UNION ALL SELECT jti, expires_at FROM family_access_tokens WHERE family = $1"
            };
        }
        // `WHERE true` tells SQLite's parser that `ON CONFLICT` is the upsert's.
        const REVOKE: &str = concat!(
            "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) \
             SELECT access_jti, access_expires_at, $2 FROM (",
            issued!(),
            ") issued WHERE true ON CONFLICT (jti) DO NOTHING"
        );
        const ISSUED: &str = issued!();
        let rows: Vec<(String, i64)> = with_pool!(self, pool => transaction(|| async {
            let mut tx = pool.begin().await?;
            sqlx::query(MARK).bind(family).bind(now.unix()).execute(&mut *tx).await?;
            sqlx::query(REVOKE).bind(family).bind(now.unix()).execute(&mut *tx).await?;
            let rows = sqlx::query_as(ISSUED).bind(family).fetch_all(&mut *tx).await?;
            tx.commit().await.map(|()| rows)
        }).await)
        .map_err(store_error)?;
        Ok(rows
            .into_iter()
            .map(|(jti, exp)| (jti, Timestamp::from_unix(exp)))
            .collect())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn remember_consent(
        &self,
        client_id: &AppId,
        tenant: &TenantId,
        subject: &str,
        scopes: &ScopeSet,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO consents (client_id, tenant_id, subject, scopes, \
            granted_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (client_id, tenant_id, subject) \
            DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at";
        with_pool!(self, pool => sqlx::query(SQL)
            .bind(client_id.as_str())
            .bind(tenant.as_str())
            .bind(subject)
            .bind(scopes.to_string())
            .bind(now.unix())
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(store_error)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn consented_scopes(
        &self,
        client_id: &AppId,
        tenant: &TenantId,
        subject: &str,
    ) -> Result<Option<ScopeSet>, StoreError> {
        const SQL: &str = "SELECT scopes FROM consents \
            WHERE client_id = $1 AND tenant_id = $2 AND subject = $3";
        let scopes: Option<String> = with_pool!(self, pool => sqlx::query_scalar(SQL)
            .bind(client_id.as_str())
            .bind(tenant.as_str())
            .bind(subject)
            .fetch_optional(pool)
            .await)
        .map_err(store_error)?;
        scopes
            .map(|s| ScopeSet::parse(&s).map_err(|e| corrupt("scope", &e.0)))
            .transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn forget_consent(
        &self,
        client_id: &AppId,
        tenant: &TenantId,
        subject: &str,
    ) -> Result<bool, StoreError> {
        const SQL: &str =
            "DELETE FROM consents WHERE client_id = $1 AND tenant_id = $2 AND subject = $3";
        let done = with_pool!(self, pool => sqlx::query(SQL)
            .bind(client_id.as_str())
            .bind(tenant.as_str())
            .bind(subject)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .map_err(store_error)?;
        Ok(done > 0)
    }
}
