//! Apps and their client secrets.

use async_trait::async_trait;
use knogin_core::apps::{
    App, ClientJwks, ClientJwksUri, ClientKeys, Governance, GovernancePatch, GrantType, Override,
    RedirectUri, SecurityProfile, TokenEndpointAuthMethod,
};
use knogin_core::store::{AppPage, AppStore, Cursor, StoreError};
use knogin_core::{AppId, ScopeSet, ScopeToken, SecretHash, TenantId, Timestamp};

use crate::{SqlxStore, page_of, store_error, transaction, with_pool};

/// The columns an [`AppRow`] reads, for `concat!` into literal SQL.
macro_rules! app_columns {
    () => {
        "seq, client_id, tenant_id, name, grant_types, redirect_uris, requested_scopes, \
         allow_service_tokens, enforce_pkce, access_token_ttl, created_at, \
         allow_token_introspection, token_endpoint_auth_method, jwks, require_dpop, \
         require_pushed_authorization_requests, security_profile, jwks_uri, rotate_refresh_tokens"
    };
}

#[derive(sqlx::FromRow)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "a row of the apps table: one column each"
)]
pub(crate) struct AppRow {
    pub(crate) seq: i64,
    pub(crate) client_id: String,
    pub(crate) tenant_id: String,
    pub(crate) name: String,
    pub(crate) grant_types: String,
    pub(crate) redirect_uris: String,
    pub(crate) requested_scopes: String,
    pub(crate) allow_service_tokens: bool,
    pub(crate) enforce_pkce: bool,
    pub(crate) allow_token_introspection: bool,
    pub(crate) access_token_ttl: Option<i64>,
    pub(crate) created_at: i64,
    pub(crate) token_endpoint_auth_method: String,
    pub(crate) jwks: Option<String>,
    pub(crate) require_dpop: bool,
    pub(crate) require_pushed_authorization_requests: bool,
    pub(crate) security_profile: Option<String>,
    pub(crate) jwks_uri: Option<String>,
    pub(crate) rotate_refresh_tokens: bool,
}

pub(crate) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

pub(crate) fn json_list(column: &str, text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text).map_err(|_| corrupt(column, text))
}

impl TryFrom<AppRow> for App {
    type Error = StoreError;

    fn try_from(row: AppRow) -> Result<Self, StoreError> {
        Ok(App {
            client_id: AppId::parse(&row.client_id)
                .ok_or_else(|| corrupt("client_id", &row.client_id))?,
            tenant_id: TenantId::parse(&row.tenant_id)
                .ok_or_else(|| corrupt("tenant_id", &row.tenant_id))?,
            name: row.name,
            grant_types: json_list("grant_types", &row.grant_types)?
                .iter()
                .map(|g| GrantType::parse(g).ok_or_else(|| corrupt("grant type", g)))
                .collect::<Result<_, _>>()?,
            redirect_uris: json_list("redirect_uris", &row.redirect_uris)?
                .into_iter()
                .map(RedirectUri::from_stored)
                .collect(),
            requested_scopes: ScopeSet::new(json_list("requested_scopes", &row.requested_scopes)?)
                .map_err(|e| corrupt("requested scope", &e.0))?,
            created_at: Timestamp::from_unix(row.created_at),
            governance: Governance {
                allow_service_tokens: row.allow_service_tokens,
                enforce_pkce: row.enforce_pkce,
                allow_token_introspection: row.allow_token_introspection,
                require_dpop: row.require_dpop,
                require_pushed_authorization_requests: row.require_pushed_authorization_requests,
                rotate_refresh_tokens: row.rotate_refresh_tokens,
                security_profile: row
                    .security_profile
                    .as_deref()
                    .map(|p| {
                        SecurityProfile::parse(p).ok_or_else(|| corrupt("security_profile", p))
                    })
                    .transpose()?,
                access_token_ttl: row
                    .access_token_ttl
                    .map(|t| {
                        u32::try_from(t).map_err(|_| corrupt("access_token_ttl", &t.to_string()))
                    })
                    .transpose()?,
            },
            token_endpoint_auth_method: TokenEndpointAuthMethod::parse(
                &row.token_endpoint_auth_method,
            )
            .ok_or_else(|| {
                corrupt(
                    "token_endpoint_auth_method",
                    &row.token_endpoint_auth_method,
                )
            })?,
            client_keys: client_keys(row.jwks, row.jwks_uri)?,
        })
    }
}

/// An app's keys as stored: a JWK Set, or the URL it is published at.
fn client_keys(
    jwks: Option<String>,
    jwks_uri: Option<String>,
) -> Result<Option<ClientKeys>, StoreError> {
    if let Some(text) = jwks {
        let document = serde_json::from_str(&text).map_err(|_| corrupt("jwks", &text))?;
        return ClientJwks::parse(document)
            .map(|jwks| Some(ClientKeys::Jwks(jwks)))
            .map_err(|_| corrupt("jwks", &text));
    }
    jwks_uri
        .map(|uri| {
            ClientJwksUri::from_stored(&uri)
                .map(ClientKeys::JwksUri)
                .ok_or_else(|| corrupt("jwks_uri", &uri))
        })
        .transpose()
}

/// The JWK Set of an app's keys and the URL of its published keys, as stored.
fn keys_text(app: &App) -> (Option<String>, Option<&str>) {
    match &app.client_keys {
        Some(ClientKeys::Jwks(jwks)) => (Some(jwks.document().to_string()), None),
        Some(ClientKeys::JwksUri(uri)) => (None, Some(uri.as_str())),
        _ => (None, None),
    }
}

pub(crate) fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("lists of strings serialize")
}

#[async_trait]
impl AppStore for SqlxStore {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn insert_app(&self, app: &App, secret: Option<&SecretHash>) -> Result<(), StoreError> {
        const INSERT_APP: &str = "INSERT INTO apps (client_id, tenant_id, name, grant_types, \
            redirect_uris, requested_scopes, allow_service_tokens, enforce_pkce, access_token_ttl, \
            created_at, allow_token_introspection, token_endpoint_auth_method, jwks, require_dpop, \
            require_pushed_authorization_requests, security_profile, jwks_uri, rotate_refresh_tokens) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)";
        const INSERT_SECRET: &str =
            "INSERT INTO app_secrets (client_id, secret_hash, created_at) VALUES ($1, $2, $3)";
        let grants: Vec<&str> = app.grant_types.iter().map(|g| g.as_str()).collect();
        let uris: Vec<&str> = app.redirect_uris.iter().map(RedirectUri::as_str).collect();
        let scopes: Vec<&str> = app
            .requested_scopes
            .iter()
            .map(ScopeToken::as_str)
            .collect();
        let (grants, uris, scopes) = (&to_json(&grants), &to_json(&uris), &to_json(&scopes));
        let (jwks, jwks_uri) = &keys_text(app);
        with_pool!(self, pool => transaction(|| async move {
            let mut tx = pool.begin().await?;
            sqlx::query(INSERT_APP)
                .bind(app.client_id.as_str())
                .bind(app.tenant_id.as_str())
                .bind(&app.name)
                .bind(grants)
                .bind(uris)
                .bind(scopes)
                .bind(app.governance.allow_service_tokens)
                .bind(app.governance.enforce_pkce)
                .bind(app.governance.access_token_ttl.map(i64::from))
                .bind(app.created_at.unix())
                .bind(app.governance.allow_token_introspection)
                .bind(app.token_endpoint_auth_method.as_str())
                .bind(jwks.as_deref())
                .bind(app.governance.require_dpop)
                .bind(app.governance.require_pushed_authorization_requests)
                .bind(app.governance.security_profile.map(SecurityProfile::as_str))
                .bind(*jwks_uri)
                .bind(app.governance.rotate_refresh_tokens)
                .execute(&mut *tx)
                .await?;
            if let Some(secret) = secret {
                sqlx::query(INSERT_SECRET)
                    .bind(app.client_id.as_str())
                    .bind(secret.as_bytes())
                    .bind(app.created_at.unix())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        }).await)
        .map_err(store_error)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn get_app(&self, tenant: &TenantId, id: &AppId) -> Result<Option<App>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            app_columns!(),
            " FROM apps WHERE client_id = $1 AND tenant_id = $2"
        );
        let row: Option<AppRow> = with_pool!(self, pool => sqlx::query_as(SQL)
            .bind(id.as_str())
            .bind(tenant.as_str())
            .fetch_optional(pool)
            .await)
        .map_err(store_error)?;
        row.map(App::try_from).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn list_apps(
        &self,
        tenant: &TenantId,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<AppPage, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            app_columns!(),
            " FROM apps WHERE tenant_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT CAST($3 AS BIGINT)"
        );
        let before = after.map_or(i64::MAX, |c| c.0);
        let rows: Vec<AppRow> = with_pool!(self, pool => sqlx::query_as(SQL)
            .bind(tenant.as_str())
            .bind(before)
            .bind(i64::from(limit) + 1)
            .fetch_all(pool)
            .await)
        .map_err(store_error)?;
        let (apps, next) = page_of(rows, limit, |r| r.seq, App::try_from)?;
        Ok(AppPage { apps, next })
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn update_governance(
        &self,
        tenant: &TenantId,
        id: &AppId,
        patch: GovernancePatch,
    ) -> Result<Option<Governance>, StoreError> {
        const SQL: &str = concat!(
            "UPDATE apps SET \
            allow_service_tokens = COALESCE($1, allow_service_tokens), \
            enforce_pkce = COALESCE($2, enforce_pkce), \
            access_token_ttl = CASE WHEN $3 THEN $4 ELSE access_token_ttl END, \
            allow_token_introspection = COALESCE($7, allow_token_introspection), \
            require_dpop = COALESCE($8, require_dpop), \
            require_pushed_authorization_requests = \
                COALESCE($9, require_pushed_authorization_requests), \
            security_profile = CASE WHEN $10 THEN $11 ELSE security_profile END, \
            rotate_refresh_tokens = COALESCE($12, rotate_refresh_tokens) \
            WHERE client_id = $5 AND tenant_id = $6 RETURNING ",
            app_columns!()
        );
        let ttl = patch.access_token_ttl;
        let row: Option<AppRow> = with_pool!(self, pool => sqlx::query_as(SQL)
            .bind(patch.allow_service_tokens)
            .bind(patch.enforce_pkce)
            .bind(ttl.is_some())
            .bind(ttl.and_then(Override::value).map(i64::from))
            .bind(id.as_str())
            .bind(tenant.as_str())
            .bind(patch.allow_token_introspection)
            .bind(patch.require_dpop)
            .bind(patch.require_pushed_authorization_requests)
            .bind(patch.security_profile.is_some())
            .bind(
                patch
                    .security_profile
                    .and_then(Override::value)
                    .map(SecurityProfile::as_str),
            )
            .bind(patch.rotate_refresh_tokens)
            .fetch_optional(pool)
            .await)
        .map_err(store_error)?;
        row.map(|r| App::try_from(r).map(|app| app.governance))
            .transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn rotate_secret(
        &self,
        tenant: &TenantId,
        id: &AppId,
        new: &SecretHash,
        now: Timestamp,
        old_valid_until: Timestamp,
    ) -> Result<bool, StoreError> {
        // Writing the app row first takes its lock (SQLite: the database's), so concurrent
        // rotations of one app run one after the other.
        const MARK: &str =
            "UPDATE apps SET secret_rotated_at = $1 WHERE client_id = $2 AND tenant_id = $3";
        const PRUNE: &str = "DELETE FROM app_secrets WHERE client_id = $1 AND expires_at IS NOT NULL AND expires_at <= $2";
        const RETIRE: &str = "UPDATE app_secrets SET expires_at = $1 \
            WHERE client_id = $2 AND (expires_at IS NULL OR expires_at > $1)";
        const INSERT: &str =
            "INSERT INTO app_secrets (client_id, secret_hash, created_at) VALUES ($1, $2, $3)";
        with_pool!(self, pool => transaction(|| async move {
            let mut tx = pool.begin().await?;
            let marked = sqlx::query(MARK)
                .bind(now.unix())
                .bind(id.as_str())
                .bind(tenant.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if marked == 0 {
                tx.rollback().await?;
                return Ok(false);
            }
            sqlx::query(PRUNE).bind(id.as_str()).bind(now.unix()).execute(&mut *tx).await?;
            sqlx::query(RETIRE)
                .bind(old_valid_until.unix())
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
            sqlx::query(INSERT)
                .bind(id.as_str())
                .bind(new.as_bytes())
                .bind(now.unix())
                .execute(&mut *tx)
                .await?;
            tx.commit().await.map(|()| true)
        }).await)
        .map_err(store_error)
    }
}
