//! Checking a request's access token (RFC 6750 `Authorization: Bearer …`, RFC 9449
//! `Authorization: DPoP …` with its proof) with this issuer's tokens.

use knogin_verifier::jose::DpopError;
use knogin_verifier::{NoToken, TokenScheme, presented_token};

use super::Tokens;
use super::dpop::DpopFailure;
use crate::id::TenantId;
use crate::token::{
    AccessClaims, Admin, Bearer, DpopRejection, Rejection, RequestHead, TokenError, TokenKind,
};

/// The scheme and token of the `Authorization` header.
fn presented(request: &impl RequestHead) -> Result<(TokenScheme, &str), Rejection> {
    presented_token(request.headers()).map_err(|e| match e {
        NoToken::Missing => Rejection::Missing,
        _ => Rejection::Invalid(TokenError::Malformed),
    })
}

fn tenant_of(claims: &AccessClaims) -> Result<TenantId, Rejection> {
    TenantId::parse(&claims.tenant).ok_or(Rejection::Invalid(TokenError::Malformed))
}

impl From<DpopFailure> for Rejection {
    fn from(e: DpopFailure) -> Self {
        match e {
            DpopFailure::Refused(e) => Self::Dpop(e),
            DpopFailure::Store(e) => {
                tracing::error!(error = %e, "could not record a DPoP proof");
                Self::Unavailable
            }
        }
    }
}

impl Tokens<'_> {
    /// Verifies the access token of `request` (an [`http::Request`] or its
    /// [`Parts`](http::request::Parts)) and that it carries `scope`. Use it to guard your own
    /// routes with this issuer's tokens.
    ///
    /// A token is taken as `Authorization: Bearer …` (RFC 6750) or, when it is DPoP-bound, as
    /// `Authorization: DPoP …` with the request's `DPoP` proof (RFC 9449 §7), checked against
    /// the request's method and URL and used once. A DPoP-bound token presented as a bearer is
    /// refused.
    ///
    /// ```
    /// # async fn example(knogin: &knogin_core::Knogin, request: &http::Request<()>) -> http::Response<knogin_core::http::ResponseBody> {
    /// match knogin.tokens().check_bearer(request, "incidents:read").await {
    ///     Ok(bearer) => http::Response::new(format!("hello, tenant {}", bearer.tenant).into()),
    ///     Err(rejection) => rejection.into_response(),
    /// }
    /// # }
    /// ```
    pub async fn check_bearer(
        &self,
        request: &impl RequestHead,
        scope: &str,
    ) -> Result<Bearer, Rejection> {
        let bearer = self.check_any_bearer(request).await.map_err(|r| match r {
            Rejection::AdminToken => Rejection::InsufficientScope(scope.to_owned()),
            r => r,
        })?;
        if !bearer.claims.has_scope(scope) {
            return Err(Rejection::InsufficientScope(scope.to_owned()));
        }
        Ok(bearer)
    }

    /// Verifies the access token of `request` as [`Tokens::check_bearer`] does: an access or
    /// service token of this issuer, whatever its scopes (check them with
    /// [`AccessClaims::has_scope`]). An admin token is refused (403): it is for the platform
    /// routes only.
    pub async fn check_any_bearer(&self, request: &impl RequestHead) -> Result<Bearer, Rejection> {
        let (claims, kind) = self.presented_token(request).await?;
        if kind != TokenKind::Access {
            return Err(Rejection::AdminToken);
        }
        Ok(Bearer {
            tenant: tenant_of(&claims)?,
            claims,
        })
    }

    /// Verifies that `request` carries an admin token of this issuer. An access or service
    /// token is refused (403) whatever its scopes: admin rights are a kind of token, not a scope
    /// string.
    pub async fn check_admin(&self, request: &impl RequestHead) -> Result<Admin, Rejection> {
        let (claims, kind) = self.presented_token(request).await?;
        if kind != TokenKind::Admin {
            return Err(Rejection::NotAdmin);
        }
        Ok(Admin {
            tenant: tenant_of(&claims)?,
            claims,
        })
    }

    /// The claims of the token `request` presents, in the scheme its binding asks for: a bound
    /// token with a proof by its key, any other as a bearer.
    async fn presented_token(
        &self,
        request: &impl RequestHead,
    ) -> Result<(AccessClaims, TokenKind), Rejection> {
        let (scheme, token) = presented(request)?;
        let (claims, kind) = self.verify(token).await?;
        match (scheme, claims.dpop_jkt()) {
            (TokenScheme::Bearer, None) => {}
            (TokenScheme::Bearer, Some(_)) => {
                return Err(Rejection::Dpop(DpopRejection::BoundToken));
            }
            (_, None) => return Err(Rejection::Dpop(DpopRejection::UnboundToken)),
            (_, Some(jkt)) => {
                let proof = self.knogin.dpop_proof(request, Some(token)).await?;
                let Some(proof) = proof else {
                    let missing = DpopError::Missing.to_string();
                    return Err(Rejection::Dpop(DpopRejection::Invalid(missing)));
                };
                if proof.jkt != jkt {
                    let other = DpopError::OtherKey.to_string();
                    return Err(Rejection::Dpop(DpopRejection::Invalid(other)));
                }
            }
        }
        Ok((claims, kind))
    }
}
