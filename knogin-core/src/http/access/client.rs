//! OAuth client authentication: `client_secret_basic` or `client_secret_post` (RFC 6749
//! §2.3.1), or `private_key_jwt` (RFC 7523 §2.2).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use http::header::AUTHORIZATION;

use super::rejection::ClientRejection;
use crate::apps::App;
use crate::http::ctx::Ctx;
use crate::http::error::ApiError;
use crate::oauth::{ClientAuthError, JWT_BEARER_ASSERTION};
use crate::validation::ValidationErrors;

/// How a client presented its secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuthMethod {
    /// HTTP Basic with the URL-encoded client id and secret.
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// A JWT signed with one of the app's keys, in `client_assertion`.
    PrivateKeyJwt,
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

/// `application/x-www-form-urlencoded` decoding of one value: `+` is a space, `%XX` a byte
/// (invalid UTF-8 replaced), and anything else, `&` and `=` included, itself.
fn form_decode(s: &str) -> String {
    if !s.contains(['%', '+']) {
        return s.to_owned();
    }
    let spaced = s.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

fn both_methods() -> ApiError {
    let mut errors = ValidationErrors::default();
    errors.push(
        "client_secret",
        "is given more than one way (Authorization header, body, client_assertion); use one client authentication method",
    );
    ApiError::Invalid(errors)
}

/// The `private_key_jwt` client: its assertion checked, or why not.
async fn by_assertion(
    ctx: &Ctx,
    client_id: Option<&str>,
    assertion_type: Option<&str>,
    assertion: Option<&str>,
) -> Result<AuthenticatedClient, ApiError> {
    let mut errors = ValidationErrors::default();
    if assertion_type != Some(JWT_BEARER_ASSERTION) {
        errors.push(
            "client_assertion_type",
            format!("must be {JWT_BEARER_ASSERTION} with a client_assertion"),
        );
    }
    let Some(assertion) = assertion.filter(|_| errors.is_empty()) else {
        if assertion.is_none() {
            errors.push("client_assertion", "is required with client_assertion_type");
        }
        return Err(ApiError::Invalid(errors));
    };
    let method = ClientAuthMethod::PrivateKeyJwt;
    let authenticated = ctx
        .core
        .apps()
        .authenticate_assertion(client_id, assertion, client_addr(ctx))
        .await;
    match authenticated {
        Ok(app) => Ok(AuthenticatedClient { app, method }),
        Err(e) => Err(refusal(e, false)),
    }
}

/// The caller's address, when the adapter knows it.
fn client_addr(ctx: &Ctx) -> Option<std::net::IpAddr> {
    ctx.parts
        .extensions
        .get::<crate::http::ClientAddr>()
        .map(|a| a.0)
}

/// The answer to a failed client authentication.
fn refusal(e: ClientAuthError, basic: bool) -> ApiError {
    match e {
        ClientAuthError::Failed => ClientRejection::Failed { basic }.into(),
        ClientAuthError::Limited { retry_after } => {
            ClientRejection::Limited { basic, retry_after }.into()
        }
        e => ApiError::Internal(Box::new(e)),
    }
}

pub(super) async fn authenticate(mut ctx: Ctx) -> Result<(Ctx, AuthenticatedClient), ApiError> {
    let basic = basic_credentials(&ctx.parts.headers)?;
    let form = ctx.form().await?;
    let posted_id = form.get("client_id").map(str::to_owned);
    let posted_secret = form.get("client_secret").map(str::to_owned);
    let assertion_type = form.get("client_assertion_type");
    let assertion = form.get("client_assertion");
    if assertion_type.is_some() || assertion.is_some() {
        if basic.is_some() || posted_secret.is_some() {
            return Err(both_methods());
        }
        let (assertion_type, assertion) = (
            assertion_type.map(str::to_owned),
            assertion.map(str::to_owned),
        );
        let client = by_assertion(
            &ctx,
            posted_id.as_deref(),
            assertion_type.as_deref(),
            assertion.as_deref(),
        )
        .await?;
        return Ok((ctx, client));
    }
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
    let from = client_addr(&ctx);
    match ctx.core.apps().authenticate(&id, &secret, from).await {
        Ok(app) => Ok((ctx, AuthenticatedClient { app, method })),
        Err(e) => Err(refusal(e, basic)),
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
        let raw = STANDARD.encode("app_1:a&b=c:d%26");
        headers.insert(AUTHORIZATION, format!("Basic {raw}").parse().unwrap());
        assert_eq!(
            basic_credentials(&headers).unwrap(),
            Some(("app_1".into(), "a&b=c:d&".into())),
            "only the first colon splits, and nothing else is a separator"
        );
        headers.insert(AUTHORIZATION, "Basic !!".parse().unwrap());
        assert!(basic_credentials(&headers).unwrap_err().used_basic());
        headers.insert(AUTHORIZATION, "Bearer x".parse().unwrap());
        assert_eq!(basic_credentials(&headers).unwrap(), None);
    }
}
