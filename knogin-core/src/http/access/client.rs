//! OAuth client authentication (RFC 6749 §2.3.1): `client_secret_basic` or `client_secret_post`.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use http::header::AUTHORIZATION;

use crate::apps::App;
use crate::http::ctx::Ctx;
use crate::http::error::ApiError;
use crate::oauth::ClientAuthError;
use crate::validation::ValidationErrors;

/// How a client presented its secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuthMethod {
    /// HTTP Basic with the URL-encoded client id and secret.
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
}

/// A client that proved it holds a current secret of its app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedClient {
    /// The client's app (any tenant: the client id alone names it).
    pub app: App,
    /// How it authenticated.
    pub method: ClientAuthMethod,
}

/// Why client authentication failed. An unknown client and a wrong secret are the same failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientRejection {
    /// The request carries no client credentials.
    #[error(
        "the request carries no client credentials: use HTTP Basic, or client_id and client_secret in the body"
    )]
    Missing,
    /// The credentials do not name a client with that secret.
    #[error("client authentication failed")]
    Failed {
        /// Whether the client used HTTP Basic (the answer then carries a `Basic` challenge).
        basic: bool,
    },
    /// The client id failed too often in the current window; the credentials were not checked.
    #[error(
        "client authentication failed too often; try again in {} seconds",
        retry_after.as_secs()
    )]
    Limited {
        /// Whether the client used HTTP Basic.
        basic: bool,
        /// How long until it may try again (the answer's `Retry-After`).
        retry_after: Duration,
    },
}

impl ClientRejection {
    /// The HTTP status: 401, or 429 when the caller was rate-limited.
    pub fn status(&self) -> http::StatusCode {
        match self {
            Self::Limited { .. } => http::StatusCode::TOO_MANY_REQUESTS,
            _ => http::StatusCode::UNAUTHORIZED,
        }
    }

    /// Whether the client tried HTTP Basic, so the 401 must carry `WWW-Authenticate: Basic`.
    pub fn used_basic(&self) -> bool {
        matches!(
            self,
            Self::Failed { basic: true } | Self::Limited { basic: true, .. }
        )
    }

    /// How long the client must wait before trying again, when it was rate-limited.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Limited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }
}

/// The client id and secret of an `Authorization: Basic` header, each URL-decoded (RFC 6749
/// §2.3.1); `None` without such a header.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, ClientRejection> {
    let Some(header) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let failed = ClientRejection::Failed { basic: true };
    let Some((scheme, encoded)) = header.to_str().ok().and_then(|h| h.split_once(' ')) else {
        return Err(failed);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| failed.clone())?;
    let text = String::from_utf8(decoded).map_err(|_| failed.clone())?;
    let (id, secret) = text.split_once(':').ok_or(failed)?;
    Ok(Some((form_decode(id), form_decode(secret))))
}

/// `application/x-www-form-urlencoded` decoding of one value.
fn form_decode(s: &str) -> String {
    form_urlencoded::parse(format!("v={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn both_methods() -> ApiError {
    let mut errors = ValidationErrors::default();
    errors.push(
        "client_secret",
        "is given both in the Authorization header and in the body; use one client authentication method",
    );
    ApiError::Invalid(errors)
}

pub(super) async fn authenticate(mut ctx: Ctx) -> Result<(Ctx, AuthenticatedClient), ApiError> {
    let basic = basic_credentials(&ctx.parts.headers)?;
    let form = ctx.form().await?;
    let posted_id = form.get("client_id").map(str::to_owned);
    let posted_secret = form.get("client_secret").map(str::to_owned);
    let (id, secret, method) = match (basic, posted_secret) {
        (Some(_), Some(_)) => return Err(both_methods()),
        (Some((id, secret)), None) => {
            if posted_id.as_ref().is_some_and(|p| *p != id) {
                let mut errors = ValidationErrors::default();
                errors.push(
                    "client_id",
                    "differs from the one in the Authorization header",
                );
                return Err(ApiError::Invalid(errors));
            }
            (id, secret, ClientAuthMethod::ClientSecretBasic)
        }
        (None, Some(secret)) => {
            let id = posted_id.ok_or(ClientRejection::Failed { basic: false })?;
            (id, secret, ClientAuthMethod::ClientSecretPost)
        }
        (None, None) => return Err(ClientRejection::Missing.into()),
    };
    let basic = method == ClientAuthMethod::ClientSecretBasic;
    let from = ctx
        .parts
        .extensions
        .get::<crate::http::ClientAddr>()
        .map(|a| a.0);
    match ctx.knogin.apps().authenticate(&id, &secret, from).await {
        Ok(app) => Ok((ctx, AuthenticatedClient { app, method })),
        Err(ClientAuthError::Failed) => Err(ClientRejection::Failed { basic }.into()),
        Err(ClientAuthError::Limited { retry_after }) => {
            Err(ClientRejection::Limited { basic, retry_after }.into())
        }
        Err(e) => Err(ApiError::Internal(Box::new(e))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_url_decoded() {
        let mut headers = HeaderMap::new();
        let raw = STANDARD.encode("app%5F1:s%2Bc+r%3At");
        headers.insert(AUTHORIZATION, format!("Basic {raw}").parse().unwrap());
        assert_eq!(
            basic_credentials(&headers).unwrap(),
            Some(("app_1".into(), "s+c r:t".into()))
        );
        headers.insert(AUTHORIZATION, "Basic !!".parse().unwrap());
        assert!(basic_credentials(&headers).unwrap_err().used_basic());
        headers.insert(AUTHORIZATION, "Bearer x".parse().unwrap());
        assert_eq!(basic_credentials(&headers).unwrap(), None);
    }
}
