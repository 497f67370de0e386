//! Checking a request's `Authorization: Bearer …` header (RFC 6750) with this issuer's tokens.

use http::HeaderMap;
use http::header::AUTHORIZATION;

use super::Tokens;
use crate::id::TenantId;
use crate::token::{AccessClaims, Admin, Bearer, Rejection, TokenError, TokenKind};

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

impl Tokens<'_> {
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
