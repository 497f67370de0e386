//! Bearer authentication (RFC 6750), for the contract's routes and for an embedder's own.

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderName, StatusCode};

use crate::http::ctx::Ctx;
use crate::http::error::ApiError;
use crate::id::TenantId;
use crate::token::{AccessClaims, TokenError, TokenKind};

/// The header that names the tenant a GraphQL request acts in.
pub(crate) const TENANT_HEADER: HeaderName = HeaderName::from_static("x-tenant-id");

/// A verified access or service token: its claims and the tenant it acts in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bearer {
    /// The tenant the token acts in; scope every lookup to it.
    pub tenant: TenantId,
    /// Every claim of the token.
    pub claims: AccessClaims,
}

/// A verified admin token: the operator's, for one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    /// The tenant the admin acts in; scope every lookup to it.
    pub tenant: TenantId,
    /// Every claim of the token.
    pub claims: AccessClaims,
}

/// A verified bearer whose tenant the request's `X-Tenant-ID` header names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantBearer(pub Bearer);

/// Why a request's bearer token was refused. Renders with the RFC 6750 `WWW-Authenticate`
/// challenge, in the route's error format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// No `Authorization` header.
    #[error("the request has no bearer token")]
    Missing,
    /// The header is not a bearer token this issuer accepts.
    #[error(transparent)]
    Invalid(#[from] TokenError),
    /// The token is valid but lacks the scope.
    #[error("the token lacks the {0} scope")]
    InsufficientScope(String),
    /// An access or service token on a route that needs an admin token: admin rights are a
    /// kind of token, not a scope any token can be granted.
    #[error("this route needs an admin token")]
    NotAdmin,
    /// An admin token where an access or service token is needed.
    #[error("an admin token is for the platform routes only")]
    AdminToken,
    /// The `X-Tenant-ID` header is missing, malformed, or names another tenant than the token's.
    #[error("the X-Tenant-ID header does not name the token's tenant")]
    TenantMismatch,
}

impl Rejection {
    /// 401 for a missing or invalid token, 403 for a valid token that may not do this.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Missing | Self::Invalid(_) => StatusCode::UNAUTHORIZED,
            Self::InsufficientScope(_)
            | Self::NotAdmin
            | Self::AdminToken
            | Self::TenantMismatch => StatusCode::FORBIDDEN,
        }
    }

    /// The answer to send: RFC 9457 problem details with the RFC 6750 challenge.
    pub fn into_response(self) -> http::Response<crate::http::ResponseBody> {
        crate::http::error::ApiError::Bearer(self).render(crate::http::ErrorFormat::Problem)
    }
}

/// The token of an `Authorization: Bearer …` header.
fn bearer_token(headers: &HeaderMap) -> Result<&str, Rejection> {
    let header = headers.get(AUTHORIZATION).ok_or(Rejection::Missing)?;
    header
        .to_str()
        .ok()
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
        .ok_or(Rejection::Invalid(TokenError::Malformed))
}

fn tenant_of(claims: &AccessClaims) -> Result<TenantId, Rejection> {
    TenantId::parse(&claims.tenant).ok_or(Rejection::Invalid(TokenError::Malformed))
}

pub(super) async fn admin(ctx: Ctx) -> Result<(Ctx, Admin), ApiError> {
    let admin = ctx.knogin.tokens().check_admin(&ctx.parts.headers).await?;
    Ok((ctx, admin))
}

pub(super) async fn scoped(ctx: Ctx, scope: &'static str) -> Result<(Ctx, Bearer), ApiError> {
    let bearer = ctx
        .knogin
        .tokens()
        .check_bearer(&ctx.parts.headers, scope)
        .await?;
    Ok((ctx, bearer))
}

pub(super) async fn tenant(ctx: Ctx) -> Result<(Ctx, TenantBearer), ApiError> {
    let bearer = ctx
        .knogin
        .tokens()
        .check_any_bearer(&ctx.parts.headers)
        .await?;
    let named = ctx
        .parts
        .headers
        .get(TENANT_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(TenantId::parse);
    if named.as_ref() != Some(&bearer.tenant) {
        return Err(Rejection::TenantMismatch.into());
    }
    Ok((ctx, TenantBearer(bearer)))
}

impl crate::knogin::Tokens<'_> {
    /// Verifies the `Authorization: Bearer …` header of a request and that the token carries
    /// `scope`. Use it to guard your own routes with this issuer's tokens.
    ///
    /// ```
    /// # async fn example(knogin: &knogin_core::Knogin, request: &http::Request<()>) -> http::Response<knogin_core::http::ResponseBody> {
    /// match knogin.tokens().check_bearer(request.headers(), "incidents:read").await {
    ///     Ok(bearer) => http::Response::new(format!("hello, tenant {}", bearer.tenant).into()),
    ///     Err(rejection) => rejection.into_response(),
    /// }
    /// # }
    /// ```
    pub async fn check_bearer(
        &self,
        headers: &HeaderMap,
        scope: &str,
    ) -> Result<Bearer, Rejection> {
        let bearer = self.check_any_bearer(headers).await.map_err(|r| match r {
            Rejection::AdminToken => Rejection::InsufficientScope(scope.to_owned()),
            r => r,
        })?;
        if !bearer.claims.has_scope(scope) {
            return Err(Rejection::InsufficientScope(scope.to_owned()));
        }
        Ok(bearer)
    }

    /// Verifies the `Authorization: Bearer …` header of a request: an access or service token
    /// of this issuer, whatever its scopes (check them with [`AccessClaims::has_scope`]). An
    /// admin token is refused (403): it is for the platform routes only.
    pub async fn check_any_bearer(&self, headers: &HeaderMap) -> Result<Bearer, Rejection> {
        let (claims, kind) = self.knogin.tokens().verify(bearer_token(headers)?).await?;
        if kind != TokenKind::Access {
            return Err(Rejection::AdminToken);
        }
        Ok(Bearer {
            tenant: tenant_of(&claims)?,
            claims,
        })
    }

    /// Verifies that the request carries an admin token of this issuer. An access or service
    /// token is refused (403) whatever its scopes: admin rights are a kind of token, not a scope
    /// string.
    pub async fn check_admin(&self, headers: &HeaderMap) -> Result<Admin, Rejection> {
        let (claims, kind) = self.knogin.tokens().verify(bearer_token(headers)?).await?;
        if kind != TokenKind::Admin {
            return Err(Rejection::NotAdmin);
        }
        Ok(Admin {
            tenant: tenant_of(&claims)?,
            claims,
        })
    }
}
