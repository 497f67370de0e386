//! The authorization endpoint (RFC 6749 §4.1.1) and the pages a person sees on the way: the
//! login step, the consent page and its decision, and the built-in login form's submission.
//! Errors are HTML pages (a person is reading), or redirects to the client once it is verified.

use http::StatusCode;

#[cfg(feature = "password-login")]
use super::access::public;
use super::access::{Visitor, user};
use super::ctx::Ctx;
use super::docs::content::{Audience, Host, Section};
use super::error::ApiError;
use super::table::{Row, route};
use super::{Reply, html, redirect};
use crate::audit::{Actor, AuditKind};
use crate::oauth::AuthorizeError;

/// The parameters of an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, RFC 8707).
const AUTHORIZATION_QUERY: &[(&str, &[&str])] = &[
    ("response_type", &["code"]),
    ("client_id", &[]),
    ("redirect_uri", &[]),
    ("scope", &[]),
    ("state", &[]),
    ("code_challenge", &[]),
    ("code_challenge_method", &["S256"]),
    ("resource", &[]),
];

/// The authorization endpoint's routes.
pub(super) fn routes() -> Vec<Row> {
    #[cfg_attr(not(feature = "password-login"), expect(unused_mut))]
    let mut rows = vec![
        route!(GET  "/v1/oauth/authorize" => user(authorize), Html, "Authorization endpoint: sign in and consent (RFC 6749 §4.1)")
            .query(AUTHORIZATION_QUERY)
            .answers_plain(StatusCode::FOUND, None),
        route!(POST "/v1/oauth/authorize" => user(decide),    Html, "The user's answer on the consent page")
            .answers_plain(StatusCode::SEE_OTHER, None),
    ];
    #[cfg(feature = "password-login")]
    rows.push(
        route!(POST "/v1/oauth/login" => public(login), Html, "The built-in login form's submission")
            .answers_plain(StatusCode::SEE_OTHER, None)
            .refuses(&[StatusCode::NOT_FOUND, StatusCode::TOO_MANY_REQUESTS, StatusCode::SERVICE_UNAVAILABLE]),
    );
    #[cfg(feature = "password-login")]
    rows.push(
        route!(POST "/v1/oauth/logout" => public(logout), Html, "Sign out of the built-in login")
            .refuses(&[StatusCode::NOT_FOUND]),
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
    if let Some(pushed) = &request.pushed
        && !ctx.core.use_pushed_request(pushed).await?
    {
        return Err(ApiError::BadRequest(
            "This sign-in link was already used. Go back to the application and start again."
                .into(),
        ));
    }
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
    let kind = if approve {
        AuditKind::ConsentGranted
    } else {
        AuditKind::ConsentDenied
    };
    ctx.core
        .audit(kind, Actor::User(user.subject.clone()))
        .tenant(&request.tenant)
        .client(request.client_id.as_str())
        .detail("scope", request.scopes.to_string())
        .record();
    redirect(StatusCode::SEE_OTHER, &location)
}

/// The built-in login form's submission; a server without the built-in login has no such page.
#[cfg(feature = "password-login")]
async fn login(mut ctx: Ctx) -> Reply {
    if let Some(login) = ctx.http.password_login.clone() {
        let form = ctx.form().await?;
        return login.submit(&ctx.core, &ctx.parts, &form).await;
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

/// The docs section of `oauth-authorize`: Start OAuth authorization code flow.
pub(crate) const OAUTH_AUTHORIZE_SECTION: Section = Section {
    id: "oauth-authorize",
    methods: &["GET"],
    path: "/v1/oauth/authorize",
    title: "Start OAuth authorization code flow",
    host: Host::Auth,
    auth: "OAuth authorization code",
    audience: Audience::Integrators,
    description: "Initiates the authorization flow for integrations that act on behalf of a signed-in user.",
    notes: &[
        "Authorization requests should use the redirect URIs and scopes already approved on the platform app.",
        "PKCE should be used whenever a confidential client secret is not available.",
    ],
    request: (
        "text",
        "{auth}/v1/oauth/authorize?response_type=code&client_id=app_123&redirect_uri=https%3A%2F%2Fintegrator.example%2Fcallback&scope=webhooks%3Awrite&state=<opaque-state>&code_challenge=<pkce-challenge>&code_challenge_method=S256",
    ),
    response: (
        "text",
        "302 redirect to the registered redirect URI with either ?code=<authorization-code> or an OAuth error.",
    ),
};

/// The docs section of `oauth-consent`: Answer the consent page.
pub(crate) const OAUTH_CONSENT_SECTION: Section = Section {
    id: "oauth-consent",
    methods: &["POST"],
    path: "/v1/oauth/authorize",
    title: "Answer the consent page",
    host: Host::Auth,
    auth: "Signed-in user (the consent form)",
    audience: Audience::Integrators,
    description: "Receives the user's answer on the consent page the authorization endpoint showed; integrations never call it themselves.",
    notes: &[
        "The form carries a one-time token bound to the user's session; a replayed or foreign form is refused.",
        "Approval redirects with a code, denial with error=access_denied, both with state and iss (RFC 9207).",
    ],
    request: (
        "text",
        "POST {auth}/v1/oauth/authorize (form fields: consent token, decision), sent by the user's browser",
    ),
    response: (
        "text",
        "302 redirect to the registered redirect URI with ?code=<authorization-code>&state=<opaque-state>&iss=<issuer>, or error=access_denied.",
    ),
};

/// The docs section of `oauth-login`: Sign in on the built-in login page.
pub(crate) const OAUTH_LOGIN_SECTION: Section = Section {
    id: "oauth-login",
    methods: &["POST"],
    path: "/v1/oauth/login",
    title: "Sign in on the built-in login page",
    host: Host::Auth,
    auth: "The login form",
    audience: Audience::Integrators,
    description: "Receives the built-in login form when the server signs users in itself; embedders with their own sign-in do not serve it.",
    notes: &[
        "Failed sign-ins are limited per user and per address; over the limit the answer is 429 with Retry-After.",
    ],
    request: (
        "text",
        "POST {auth}/v1/oauth/login (form fields: username, password, form token), sent by the user's browser",
    ),
    response: (
        "text",
        "303 redirect back to the authorization request, now signed in; the login page again after a failure.",
    ),
};

/// The docs section of `oauth-logout`: Sign out of the built-in login.
pub(crate) const OAUTH_LOGOUT_SECTION: Section = Section {
    id: "oauth-logout",
    methods: &["POST"],
    path: "/v1/oauth/logout",
    title: "Sign out of the built-in login",
    host: Host::Auth,
    auth: "The browser's session cookie",
    audience: Audience::Integrators,
    description: "Ends the browser's session of the built-in login, on every instance; the next authorization request asks the user to sign in again.",
    notes: &[
        "Served only when the server signs users in itself; tokens already issued stay valid until they expire or are revoked.",
    ],
    request: (
        "text",
        "POST {auth}/v1/oauth/logout, sent by the user's browser",
    ),
    response: ("text", "200 with a page saying the user is signed out."),
};
