//! Bearer authentication (RFC 6750), for the contract's routes and for an embedder's own.

use http::header::AUTHORIZATION;
use http::{HeaderMap, Response, StatusCode};

use super::ResponseBody;
use super::error::ApiError;
use crate::id::TenantId;
use crate::knogin::Knogin;
use crate::token::{AccessClaims, TokenError};

/// A verified bearer token: its claims and the tenant it acts in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bearer {
    /// The tenant the token acts in; scope every lookup to it.
    pub tenant: TenantId,
    /// Every claim of the token.
    pub claims: AccessClaims,
}

/// Why a request's bearer token was refused. Renders as an RFC 9457 problem with the RFC 6750
/// `WWW-Authenticate` challenge.
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
}

impl Rejection {
    /// 401 for a missing or invalid token, 403 for a missing scope.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Missing | Self::Invalid(_) => StatusCode::UNAUTHORIZED,
            Self::InsufficientScope(_) => StatusCode::FORBIDDEN,
        }
    }

    /// The answer to send.
    pub fn into_response(self) -> Response<ResponseBody> {
        ApiError::Bearer(self).into_response()
    }
}

impl Knogin {
    /// Verifies the `Authorization: Bearer …` header of a request and, when `scope` is given,
    /// that the token carries it. Use it to guard your own routes with this issuer's tokens.
    ///
    /// ```
    /// # fn example(knogin: &knogin_core::Knogin, request: &http::Request<()>) -> http::Response<knogin_core::http::ResponseBody> {
    /// match knogin.authorize(request.headers(), Some("incidents:read")) {
    ///     Ok(bearer) => http::Response::new(format!("hello, tenant {}", bearer.tenant).into()),
    ///     Err(rejection) => rejection.into_response(),
    /// }
    /// # }
    /// ```
    pub fn authorize(&self, headers: &HeaderMap, scope: Option<&str>) -> Result<Bearer, Rejection> {
        let header = headers.get(AUTHORIZATION).ok_or(Rejection::Missing)?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|t| !t.is_empty())
            .ok_or(TokenError::Malformed)?;
        let claims = self.verify_token(token)?;
        if let Some(scope) = scope.filter(|s| !claims.has_scope(s)) {
            return Err(Rejection::InsufficientScope(scope.to_owned()));
        }
        let tenant = TenantId::parse(&claims.tenant).ok_or(TokenError::Malformed)?;
        Ok(Bearer { tenant, claims })
    }
}
