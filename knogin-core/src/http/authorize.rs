//! The authorization endpoint (RFC 6749 §4.1.1) and the pages a person sees on the way: the
//! login step, the consent page and its decision, and the built-in login form's submission.
//! Errors are HTML pages (a person is reading), or redirects to the client once it is verified.

use http::StatusCode;

#[cfg(feature = "password-login")]
use super::access::public;
use super::access::{Visitor, user};
use super::ctx::Ctx;
use super::error::ApiError;
use super::table::{Row, route};
use super::{Reply, html, redirect};
use crate::oauth::AuthorizeError;

/// The authorization endpoint's routes.
pub(super) fn routes() -> Vec<Row> {
    #[cfg_attr(not(feature = "password-login"), expect(unused_mut))]
    let mut rows = vec![
        route!(GET  "/v1/oauth/authorize" => user(authorize), Html, "Authorization endpoint: sign in and consent (RFC 6749 §4.1)"),
        route!(POST "/v1/oauth/authorize" => user(decide),    Html, "The user's answer on the consent page"),
    ];
    #[cfg(feature = "password-login")]
    rows.push(route!(POST "/v1/oauth/login" => public(login), Html, "The built-in login form's submission"));
    #[cfg(feature = "password-login")]
    rows.push(
        route!(POST "/v1/oauth/logout" => public(logout), Html, "Sign out of the built-in login"),
    );
    rows
}

/// A refused authorization request: a page for the user, or a redirect to the client.
fn refusal(ctx: &Ctx, error: AuthorizeError) -> ApiError {
    match error {
        AuthorizeError::Page(message) => ApiError::BadRequest(message.into()),
        AuthorizeError::Redirect(to) => {
            match redirect(StatusCode::FOUND, &to.location(ctx.core.issuer())) {
                Ok(answer) => ApiError::Answer(Box::new(answer)),
                Err(e) => e,
            }
        }
        AuthorizeError::Store(e) => e.into(),
    }
}

/// Checks the request, then signs the user in (or shows the login step), then either answers at
/// once (a remembered consent) or shows the consent page.
async fn authorize(ctx: Ctx, visitor: Visitor) -> Reply {
    let query = ctx.parts.uri.query().unwrap_or("");
    let request = match ctx.core.authorization_request(query).await {
        Ok(request) => request,
        Err(e) => return Err(refusal(&ctx, e)),
    };
    let user = visitor.sign_in(&ctx.parts).await?;
    if !user.is_member_of(&request.tenant) {
        return redirect(StatusCode::FOUND, &ctx.core.refuse_outsider(&request));
    }
    if ctx.core.consent_remembered(&request, &user).await? {
        let location = ctx.core.approve(&request, &user).await?;
        return redirect(StatusCode::FOUND, &location);
    }
    let token = ctx.core.await_consent(&request, &user.subject).await?;
    let page = html::consent::page(&request, ctx.core.scopes(), &user.subject, token.expose());
    Ok(html::response(StatusCode::OK, page))
}

/// The consent form's answer: the pending request it carries, taken once, for the same user.
async fn decide(mut ctx: Ctx, visitor: Visitor) -> Reply {
    let form = ctx.form().await?;
    let user = visitor.sign_in(&ctx.parts).await?;
    let approve = match form.get("decision") {
        Some("approve") => true,
        Some("deny") => false,
        _ => {
            return Err(ApiError::BadRequest(
                "The consent form's answer is missing: choose Allow or Deny.".into(),
            ));
        }
    };
    let pending = match form.get("csrf_token") {
        Some(token) => ctx.core.take_consent(token, &user.subject).await?,
        None => None,
    };
    let Some(request) = pending else {
        return Err(ApiError::BadRequest(
            "This consent form has expired or was already answered. Go back to the application \
             and start again."
                .into(),
        ));
    };
    let location = if approve {
        ctx.core.approve(&request, &user).await?
    } else {
        ctx.core.deny(&request)
    };
    redirect(StatusCode::SEE_OTHER, &location)
}

/// The built-in login form's submission; a server without the built-in login has no such page.
#[cfg(feature = "password-login")]
async fn login(mut ctx: Ctx) -> Reply {
    if let Some(login) = ctx.http.password_login.clone() {
        let form = ctx.form().await?;
        return login.submit(&ctx.parts, &form).await;
    }
    Err(ApiError::NotFound(
        "This server signs users in elsewhere: go back to the application and start again.",
    ))
}

/// Signs the browser out of the built-in login; a server without it has no such page.
#[cfg(feature = "password-login")]
async fn logout(ctx: Ctx) -> Reply {
    if let Some(login) = ctx.http.password_login.clone() {
        return login.sign_out(&ctx.parts).await;
    }
    Err(ApiError::NotFound(
        "This server signs users in elsewhere: sign out there.",
    ))
}
