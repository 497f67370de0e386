//! The bearer guards of the contract's routes, and the answer a refused bearer gets.

use http::HeaderName;

use crate::http::ctx::Ctx;
use crate::http::error::{ApiError, ErrorFormat};
use crate::http::reply::ResponseBody;
use crate::id::TenantId;
use crate::token::{Admin, Bearer, Rejection};

/// The header that names the tenant a GraphQL request acts in.
pub(crate) const TENANT_HEADER: HeaderName = HeaderName::from_static("x-tenant-id");

/// A verified bearer whose tenant the request's `X-Tenant-ID` header names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantBearer(pub Bearer);

pub(super) async fn admin(ctx: Ctx) -> Result<(Ctx, Admin), ApiError> {
    let admin = ctx.core.tokens().check_admin(&ctx.parts).await?;
    Ok((ctx, admin))
}

pub(super) async fn scoped(ctx: Ctx, scope: &'static str) -> Result<(Ctx, Bearer), ApiError> {
    let bearer = ctx.core.tokens().check_bearer(&ctx.parts, scope).await?;
    Ok((ctx, bearer))
}

pub(super) async fn tenant(ctx: Ctx) -> Result<(Ctx, TenantBearer), ApiError> {
    let bearer = ctx.core.tokens().check_any_bearer(&ctx.parts).await?;
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

impl Rejection {
    /// The answer to send: RFC 9457 problem details with the RFC 6750 challenge.
    pub fn into_response(self) -> http::Response<ResponseBody> {
        ApiError::Bearer(self).render(ErrorFormat::Problem)
    }
}
