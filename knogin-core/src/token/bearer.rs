//! What a verified bearer token proves (RFC 6750), and why one was refused.

use http::StatusCode;
use knogin_verifier::AccessClaims;

use super::dpop::DpopRejection;
use super::verify::TokenError;
use crate::id::TenantId;

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
    /// The token's DPoP binding was not proven (RFC 9449 §7): a bound token without a valid
    /// proof by its key, or presented in the wrong scheme.
    #[error(transparent)]
    Dpop(#[from] DpopRejection),
    /// The DPoP proof could not be recorded as used: the store failed. Try again.
    #[error("the DPoP proof could not be checked now")]
    Unavailable,
}

impl Rejection {
    /// 401 for a missing or invalid token, 403 for a valid token that may not do this.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Missing | Self::Invalid(_) | Self::Dpop(_) => StatusCode::UNAUTHORIZED,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::InsufficientScope(_)
            | Self::NotAdmin
            | Self::AdminToken
            | Self::TenantMismatch => StatusCode::FORBIDDEN,
        }
    }
}
