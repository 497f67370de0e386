//! The built-in password login over HTTP: a [`UserAuthenticator`] whose login step is an
//! accessible HTML form and whose session is a cookie. The policy (users, limits, sessions) is
//! [`crate::login`]; this module shows the form, checks its token and sets the cookies.
//!
//! Enable it with [`Builder::password_login`](crate::Builder::password_login). The login form
//! posts to `POST /v1/oauth/login`; a form token protects it against cross-site request forgery:
//! an HMAC (under a key derived from the master key, so any instance checks it) over its expiry,
//! a nonce also set as a cookie, and the authorization request it returns to. Showing the form
//! writes nothing, so anonymous visitors cannot grow the store; its one use is recorded when it
//! is submitted (a form is accepted once, from the browser it was shown to). A successful
//! sign-in sets the session cookie and returns the browser to the authorization request it came
//! from.

mod cookies;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::header::{RETRY_AFTER, SET_COOKIE};
use http::request::Parts;
use http::{HeaderValue, Response, StatusCode};
use subtle::ConstantTimeEq as _;

use self::cookies::CookieJar;
use super::body::Form;
use super::error::{ApiError, ErrorFormat, Reply};
use super::html;
use super::proxies::ClientAddr;
use super::redirect::redirect;
use super::reply::ResponseBody;
use super::users::{LoginStep, UserAuthenticator};
use crate::audit::{Actor, AuditKind};
use crate::clock::{Clock, Timestamp};
use crate::keys::MasterKey;
use crate::login::{Login, PasswordUsers, SignIn, SignInError, SignInSettings};
use crate::oauth::SignedInUser;
use crate::secret::SecretHash;
use crate::shared::Core;
use crate::store::{FlowKind, FlowState, Store, StoreError};

/// The session cookie.
const SESSION_COOKIE: &str = "knogin_session";
/// The cookie binding a login form to the browser it was shown to.
const LOGIN_COOKIE: &str = "knogin_login";
/// How long a login form may wait to be submitted.
const LOGIN_FORM_TTL: Duration = Duration::from_secs(1800);

/// The built-in login (see the module docs).
pub(crate) struct PasswordLogin {
    login: Login,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    cookies: CookieJar,
    /// The key login-form tokens are signed with.
    form_key: hmac::Key,
}

impl std::fmt::Debug for PasswordLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordLogin")
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

impl PasswordLogin {
    pub(crate) fn new(
        users: Arc<PasswordUsers>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        master_key: &MasterKey,
        issuer: &str,
        settings: SignInSettings,
    ) -> Self {
        Self {
            login: Login::new(users, Arc::clone(&store), Arc::clone(&clock), settings),
            store,
            clock,
            cookies: CookieJar::for_issuer(issuer),
            form_key: hmac::Key::new(
                hmac::HMAC_SHA256,
                &master_key.derive(b"knogin/v2/login-form\0")[..],
            ),
        }
    }

    /// The MAC of a login form expiring at `expires` (unix seconds), with `nonce`, returning to
    /// `return_to`.
    fn form_mac(&self, expires: i64, nonce: &str, return_to: &str) -> String {
        let data = format!("{expires}\0{nonce}\0{return_to}");
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.form_key, data.as_bytes()))
    }

    /// The return query of a login form, if `token` (from the form) is one this server made for
    /// the browser holding `nonce` (its cookie), returning to `return_to`, and not expired.
    fn check_form(&self, token: &str, nonce: &str, return_to: &str) -> bool {
        let mut parts = token.splitn(3, '.');
        let (Some(expires), Some(token_nonce), Some(mac)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let Ok(expires) = expires.parse::<i64>() else {
            return false;
        };
        let expected = self.form_mac(expires, token_nonce, return_to);
        let bound = bool::from(token_nonce.as_bytes().ct_eq(nonce.as_bytes()));
        let genuine = bool::from(expected.as_bytes().ct_eq(mac.as_bytes()));
        bound && genuine && expires > self.clock.now().unix()
    }

    /// A login form returning to the authorization request `return_to` (its query string): a
    /// new signed form token, its nonce set as a cookie. Nothing is stored.
    fn form(
        &self,
        return_to: &str,
        username: &str,
        error: Option<&str>,
        status: StatusCode,
    ) -> Response<ResponseBody> {
        let expires = self.clock.now().plus(LOGIN_FORM_TTL).unix();
        let nonce = crate::random::hex(16);
        let token = format!(
            "{expires}.{nonce}.{}",
            self.form_mac(expires, &nonce, return_to)
        );
        let page = html::login::page(&token, return_to, username, error);
        let mut response = html::response(status, page);
        response.headers_mut().append(
            SET_COOKIE,
            self.cookies.set(LOGIN_COOKIE, &nonce, LOGIN_FORM_TTL),
        );
        response
    }

    /// The authorization request a posted login form returns to, if the form is genuine (made
    /// here, for the browser posting it, unexpired) and this is its first use, which is recorded
    /// now: a second submission of the same form finds it taken.
    async fn take_form(
        &self,
        parts: &Parts,
        form: &Form,
        now: Timestamp,
    ) -> Result<Option<String>, ApiError> {
        let field = form.get("csrf_token").unwrap_or_default();
        let return_to = form.get("return_to").unwrap_or_default();
        let genuine = self
            .cookies
            .read(parts, LOGIN_COOKIE)
            .is_some_and(|nonce| self.check_form(field, &nonce, return_to));
        if !genuine {
            return Ok(None);
        }
        let used = FlowState {
            kind: FlowKind::LoginForm,
            key: SecretHash::of(field),
            value: String::new(),
            expires_at: now.plus(LOGIN_FORM_TTL),
        };
        match self.store.put_state(&used, now).await {
            Ok(()) => Ok(Some(return_to.to_owned())),
            Err(StoreError::Conflict) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The login form again, with `message` and `status`, and `Retry-After: wait`.
    fn refuse(
        &self,
        return_to: &str,
        username: &str,
        message: &str,
        status: StatusCode,
        wait: Duration,
    ) -> Response<ResponseBody> {
        let mut response = self.form(return_to, username, Some(message), status);
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
        response
    }

    /// Handles a posted login form: the form token must be live and match the browser's cookie;
    /// then [`Login::sign_in`] decides. Success starts a session and returns the browser to its
    /// authorization request.
    pub(crate) async fn submit(&self, core: &Core, parts: &Parts, form: &Form) -> Reply {
        let now = self.clock.now();
        let return_to = self.take_form(parts, form, now).await?;
        let Some(return_to) = return_to else {
            return Err(ApiError::BadRequest(
                "This sign-in form has expired or was already used. Go back to the application \
                 and start again."
                    .into(),
            ));
        };
        let username = form.get("username").unwrap_or_default();
        let password = form.get("password").unwrap_or_default();
        let from = parts.extensions.get::<ClientAddr>().map(|ClientAddr(a)| *a);
        let signed_in =
            self.login
                .sign_in(username, password, from)
                .await
                .map_err(|e| match e {
                    SignInError::Store(e) => ApiError::from(e),
                    SignInError::Check(e) => ApiError::Internal(Box::new(e)),
                })?;
        // The name only when it is a user's: people type their password into it by mistake.
        let audit = |kind: AuditKind| {
            let name = if self.login.knows(username) {
                username
            } else {
                ""
            };
            let mut audit = core.audit(kind, Actor::User(name.to_owned()));
            if kind == AuditKind::SignInFailed {
                audit = audit.failed();
            }
            if let Some(addr) = from {
                audit = audit.detail("from", addr.to_string());
            }
            audit
        };
        let session = match signed_in {
            SignIn::Busy => {
                let message = "Many people are signing in right now. Try again in a moment.";
                let busy = StatusCode::SERVICE_UNAVAILABLE;
                return Ok(self.refuse(
                    &return_to,
                    username,
                    message,
                    busy,
                    Duration::from_secs(1),
                ));
            }
            SignIn::Limited(wait) => {
                let minutes = wait.as_secs().div_ceil(60);
                let message = format!(
                    "Too many failed sign-ins. Try again in {minutes} minute{}.",
                    if minutes == 1 { "" } else { "s" }
                );
                let limited = StatusCode::TOO_MANY_REQUESTS;
                audit(AuditKind::SignInFailed)
                    .detail("reason", "rate_limited")
                    .record();
                return Ok(self.refuse(&return_to, username, &message, limited, wait));
            }
            SignIn::Refused => {
                // The name only at DEBUG: people type their password into it by mistake.
                tracing::info!("a sign-in failed");
                tracing::debug!(username = ?username, "a sign-in failed");
                audit(AuditKind::SignInFailed)
                    .detail("reason", "wrong_username_or_password")
                    .record();
                return Ok(self.form(
                    &return_to,
                    username,
                    Some("The username or password is not right."),
                    StatusCode::OK,
                ));
            }
            SignIn::SignedIn(session) => {
                audit(AuditKind::SignInSucceeded).record();
                session
            }
        };
        let location = if return_to.is_empty() {
            "authorize".to_owned()
        } else {
            format!("authorize?{return_to}")
        };
        let mut response = redirect(StatusCode::SEE_OTHER, &location)?;
        let headers = response.headers_mut();
        headers.append(
            SET_COOKIE,
            self.cookies
                .set(SESSION_COOKIE, session.expose(), self.login.session_ttl()),
        );
        headers.append(SET_COOKIE, self.cookies.clear(LOGIN_COOKIE));
        Ok(response)
    }
}

impl PasswordLogin {
    /// Signs the browser out: its session ends in the store (on every instance) and its cookie
    /// is cleared. Answers a page saying so, whether or not it was signed in.
    pub(crate) async fn sign_out(&self, parts: &Parts) -> Reply {
        if let Some(session) = self.cookies.read(parts, SESSION_COOKIE) {
            self.login.end_session(&session).await?;
        }
        let mut response = html::response(StatusCode::OK, html::login::signed_out());
        response
            .headers_mut()
            .append(SET_COOKIE, self.cookies.clear(SESSION_COOKIE));
        Ok(response)
    }
}

#[async_trait]
impl UserAuthenticator for PasswordLogin {
    async fn authenticate(&self, request: &Parts) -> Result<SignedInUser, LoginStep> {
        if let Some(session) = self.cookies.read(request, SESSION_COOKIE) {
            match self.login.session(&session).await {
                Ok(Some((name, tenants))) => return Ok(SignedInUser::new(name, tenants)),
                Ok(None) => {}
                Err(e) => return Err(LoginStep(ApiError::from(e).render(ErrorFormat::Html))),
            }
        }
        let query = request.uri.query().unwrap_or("");
        Err(LoginStep(self.form(query, "", None, StatusCode::OK)))
    }
}
