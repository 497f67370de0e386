//! The OAuth routes: the token endpoint, introspection, revocation and the authorization server
//! metadata. Each handler parses, calls one operation on [`Knogin`](crate::Knogin), and renders.

use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use serde::Serialize;

use super::access::{AuthenticatedClient, client, public};
use super::body::Form;
use super::ctx::Ctx;
use super::error::ApiError;
use super::table::{Row, route};
use super::{Reply, ResponseBody, json_no_store};
use crate::oauth::{self, GrantError};
use crate::secret::RefreshToken;

/// The OAuth routes.
pub(super) fn routes() -> Vec<Row> {
    vec![
        route!(POST "/v1/oauth/token"                         => client(token),      OAuth,   "Exchange or mint access tokens"),
        route!(POST "/v1/oauth/introspect"                    => client(introspect), OAuth,   "Introspect a token (RFC 7662)"),
        route!(POST "/v1/oauth/revoke"                        => client(revoke),     OAuth,   "Revoke a token (RFC 7009)"),
        route!(GET  "/.well-known/oauth-authorization-server" => public(metadata),   Problem, "Authorization server metadata (RFC 8414)"),
    ]
}

/// The required parameter `name`, or `invalid_request` naming it.
fn required<'f>(form: &'f Form, name: &str) -> Result<&'f str, ApiError> {
    Ok(oauth::required(form.get(name), name)?)
}

#[derive(Serialize)]
struct TokenBody<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: u64,
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
}

async fn token(mut ctx: Ctx, client: AuthenticatedClient) -> Reply {
    let form = ctx.form().await?;
    let issued = match required(&form, "grant_type")? {
        "client_credentials" => {
            ctx.core
                .client_credentials(&client.app, form.get("scope"), form.get("resource"))
                .await?
        }
        "authorization_code" => {
            ctx.core
                .redeem_code(
                    &client.app,
                    form.get("code"),
                    form.get("redirect_uri"),
                    form.get("code_verifier"),
                    form.get("resource"),
                )
                .await?
        }
        "refresh_token" => {
            ctx.core
                .refresh_grant(
                    &client.app,
                    form.get("refresh_token"),
                    form.get("scope"),
                    form.get("resource"),
                )
                .await?
        }
        other => return Err(GrantError::UnsupportedGrantType(other.to_owned()).into()),
    };
    Ok(json_no_store(
        StatusCode::OK,
        &TokenBody {
            access_token: issued.token.expose(),
            token_type: "Bearer",
            expires_in: issued.expires_in.as_secs(),
            scope: issued.scopes.to_string(),
            refresh_token: issued.refresh_token.as_ref().map(RefreshToken::expose),
        },
    ))
}

async fn introspect(mut ctx: Ctx, client: AuthenticatedClient) -> Reply {
    let form = ctx.form().await?;
    let token = required(&form, "token")?;
    let answer = ctx.core.introspect(&client.app, token).await;
    Ok(json_no_store(StatusCode::OK, &answer))
}

async fn revoke(mut ctx: Ctx, client: AuthenticatedClient) -> Reply {
    let form = ctx.form().await?;
    let token = required(&form, "token")?;
    // An unknown `token_type_hint` is ignored (RFC 7009 §2.1): the token is looked up anyway.
    ctx.core.revoke_for(&client.app, token).await?;
    let mut response = Response::new(ResponseBody::default());
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn metadata(ctx: Ctx) -> Reply {
    let mut response = Response::new(ResponseBody::new(ctx.http.metadata.clone()));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    Ok(response)
}
