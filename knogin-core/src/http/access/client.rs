//! OAuth client authentication (RFC 6749 §2.3.1): `client_secret_basic` or `client_secret_post`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use http::header::AUTHORIZATION;

use super::rejection::ClientRejection;
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

/// A client that proved it holds a current secret of its app. Only the client-authentication
/// guard makes one, so a handler that takes it cannot run for a client that did not prove it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedClient {
    pub(crate) app: App,
    method: ClientAuthMethod,
}

impl AuthenticatedClient {
    /// The client's app (any tenant: the client id alone names it).
    pub fn app(&self) -> &App {
        &self.app
    }

    /// How it authenticated.
    pub fn method(&self) -> ClientAuthMethod {
        self.method
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
    match ctx.core.apps().authenticate(&id, &secret, from).await {
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
