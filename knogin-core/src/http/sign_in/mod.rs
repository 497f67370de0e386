//! The built-in password login: a [`UserAuthenticator`] whose login step is an accessible HTML
//! form, whose sessions live in the store, and whose failed attempts are rate-limited per user
//! and per client address in the store, so every instance enforces the same limit.
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
mod users;

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
use tokio::sync::Semaphore;

use self::cookies::CookieJar;
pub use self::users::{MAX_USERNAME_LEN, PasswordUserError, PasswordUsers};
use super::access::{LoginStep, SignedInUser, UserAuthenticator};
use super::body::Form;
use super::error::{ApiError, ErrorFormat};
use super::{ClientAddr, Reply, ResponseBody, html};
use crate::address::address_key;
use crate::clock::{Clock, Timestamp};
use crate::keys::MasterKey;
use crate::secret::{FlowToken, SecretHash};
use crate::store::{FlowKind, FlowState, Store, StoreError};

/// The session cookie.
const SESSION_COOKIE: &str = "knogin_session";
/// The cookie binding a login form to the browser it was shown to.
const LOGIN_COOKIE: &str = "knogin_login";
/// How long a login form may wait to be submitted.
const LOGIN_FORM_TTL: Duration = Duration::from_secs(1800);

/// How the built-in login limits password guessing: at most `per_user` failed sign-ins under one
/// user name and `per_address` from one client address (an IPv6 /64) in `window`; beyond that,
/// sign-ins there are refused (429 with `Retry-After`) until the window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInLimits {
    /// Failed sign-ins allowed per user name in a window.
    pub per_user: u32,
    /// Failed sign-ins allowed per client address in a window.
    pub per_address: u32,
    /// The window.
    pub window: Duration,
}

impl Default for SignInLimits {
    /// 5 per user and 20 per address in 15 minutes.
    fn default() -> Self {
        Self {
            per_user: 5,
            per_address: 20,
            window: Duration::from_secs(900),
        }
    }
}

/// How long a session of the built-in login lasts unless the builder says otherwise.
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(8 * 3600);

/// The built-in login (see the module docs).
pub(crate) struct PasswordLogin {
    users: Arc<PasswordUsers>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    cookies: CookieJar,
    limits: SignInLimits,
    session_ttl: Duration,
    /// Password checks that may run at once.
    verifications: Arc<Semaphore>,
    /// The key login-form tokens are signed with.
    form_key: hmac::Key,
}

impl std::fmt::Debug for PasswordLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordLogin")
            .field("users", &self.users)
            .field("limits", &self.limits)
            .field("session_ttl", &self.session_ttl)
            .finish_non_exhaustive()
    }
}

/// How many password checks run at once unless the embedder says otherwise: two per core. Each
/// holds 19 MiB, and more at once would only queue for the cores anyway.
pub fn default_sign_in_concurrency() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get() * 2)
}

/// How the built-in login limits and keeps sign-ins, for
/// [`Builder::sign_in`](crate::Builder::sign_in).
///
/// ```
/// use std::time::Duration;
/// use knogin_core::http::SignInSettings;
///
/// let settings = SignInSettings::default()
///     .session_ttl(Duration::from_secs(3600))
///     .concurrency(4);
/// # let _ = settings;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInSettings {
    pub(crate) limits: SignInLimits,
    pub(crate) session_ttl: Duration,
    pub(crate) concurrency: usize,
}

impl Default for SignInSettings {
    fn default() -> Self {
        Self {
            limits: SignInLimits::default(),
            session_ttl: DEFAULT_SESSION_TTL,
            concurrency: default_sign_in_concurrency(),
        }
    }
}

impl SignInSettings {
    /// The limits on failed sign-ins (default: [`SignInLimits::default`]).
    #[must_use]
    pub fn limits(mut self, limits: SignInLimits) -> Self {
        self.limits = limits;
        self
    }

    /// How long a session lasts (default [`DEFAULT_SESSION_TTL`]).
    #[must_use]
    pub fn session_ttl(mut self, ttl: Duration) -> Self {
        self.session_ttl = ttl;
        self
    }

    /// How many password checks run at once (default [`default_sign_in_concurrency`], two per
    /// core). Each takes 19 MiB; a sign-in beyond the bound is answered 503 with
    /// `Retry-After`, so a burst of logins cannot exhaust memory.
    #[must_use]
    pub fn concurrency(mut self, checks: usize) -> Self {
        self.concurrency = checks.max(1);
        self
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
            users,
            store,
            clock,
            cookies: CookieJar::for_issuer(issuer),
            limits: settings.limits,
            session_ttl: settings.session_ttl,
            verifications: Arc::new(Semaphore::new(settings.concurrency.max(1))),
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

    /// Counts this attempt under each of `keys` before the password is checked (atomically, in
    /// the store: parallel guesses each see their own count) and says how long until every
    /// limit lets a sign-in through, when this attempt is beyond one.
    async fn reserve(
        &self,
        keys: &[(String, u32)],
        now: Timestamp,
    ) -> Result<Option<Duration>, ApiError> {
        let window = self.limits.window;
        let mut wait = None;
        for (key, limit) in keys {
            let counted = self.store.record_sign_in_failure(key, now, window).await?;
            if counted.count > *limit {
                let ends = counted.window_start.plus(window).unix() - now.unix();
                let ends = Duration::from_secs(u64::try_from(ends).unwrap_or(1).max(1));
                wait = Some(wait.map_or(ends, |w: Duration| w.max(ends)));
            }
        }
        Ok(wait)
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
    /// then a password check must be free (at most a few run at once: each takes 19 MiB), then
    /// the attempt is counted against the limits, then the password is checked (off the async
    /// threads). Success gives the attempt back, starts a session and returns the browser to its
    /// authorization request.
    pub(crate) async fn submit(&self, parts: &Parts, form: &Form) -> Reply {
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
        let Ok(permit) = Arc::clone(&self.verifications).try_acquire_owned() else {
            let message = "Many people are signing in right now. Try again in a moment.";
            let busy = StatusCode::SERVICE_UNAVAILABLE;
            return Ok(self.refuse(&return_to, username, message, busy, Duration::from_secs(1)));
        };
        let mut keys = vec![(user_key(username), self.limits.per_user)];
        if let Some(ClientAddr(addr)) = parts.extensions.get::<ClientAddr>() {
            keys.push((address_key(*addr), self.limits.per_address));
        }
        if let Some(wait) = self.reserve(&keys, now).await? {
            let minutes = wait.as_secs().div_ceil(60);
            let message = format!(
                "Too many failed sign-ins. Try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            );
            let limited = StatusCode::TOO_MANY_REQUESTS;
            return Ok(self.refuse(&return_to, username, &message, limited, wait));
        }
        let users = Arc::clone(&self.users);
        let (name, secret) = (
            username.to_owned(),
            zeroize::Zeroizing::new(password.to_owned()),
        );
        let verified = tokio::task::spawn_blocking(move || {
            let verified = users.verify(&name, &secret);
            drop(permit);
            verified
        })
        .await
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
        if !verified {
            // The name only at DEBUG: people type their password into it by mistake.
            tracing::info!("a sign-in failed");
            tracing::debug!(username = ?username, "a sign-in failed");
            return Ok(self.form(
                &return_to,
                username,
                Some("The username or password is not right."),
                StatusCode::OK,
            ));
        }
        for (key, _) in &keys {
            self.store
                .release_sign_in_attempt(key, now, self.limits.window)
                .await?;
        }
        let session = FlowToken::generate();
        let fingerprint = self.users.fingerprint(username).unwrap_or_default();
        let state = FlowState {
            kind: FlowKind::Session,
            key: session.hash(),
            value: format!("{fingerprint} {username}"),
            expires_at: now.plus(self.session_ttl),
        };
        self.store.put_state(&state, now).await?;
        let location = if return_to.is_empty() {
            "authorize".to_owned()
        } else {
            format!("authorize?{return_to}")
        };
        let mut response = super::redirect(StatusCode::SEE_OTHER, &location)?;
        let headers = response.headers_mut();
        headers.append(
            SET_COOKIE,
            self.cookies
                .set(SESSION_COOKIE, session.expose(), self.session_ttl),
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
            let now = self.clock.now();
            self.store
                .take_state(FlowKind::Session, &SecretHash::of(&session), now)
                .await?;
        }
        let mut response = html::response(StatusCode::OK, html::login::signed_out());
        response
            .headers_mut()
            .append(SET_COOKIE, self.cookies.clear(SESSION_COOKIE));
        Ok(response)
    }
}

/// The rate-limit key of a user name: a digest, so a name of any length or bytes makes a
/// short, plain key (and the store never holds what someone typed).
fn user_key(name: &str) -> String {
    format!("user:{}", SecretHash::of(name).short_hex())
}

#[async_trait]
impl UserAuthenticator for PasswordLogin {
    async fn authenticate(&self, request: &Parts) -> Result<SignedInUser, LoginStep> {
        let now = self.clock.now();
        if let Some(session) = self.cookies.read(request, SESSION_COOKIE) {
            match self
                .store
                .state(FlowKind::Session, &SecretHash::of(&session), now)
                .await
            {
                // A session ends when its user's password or memberships change.
                Ok(Some(value)) => {
                    if let Some((fingerprint, name)) = value.split_once(' ')
                        && let Some(tenants) = self.users.member(name, fingerprint)
                    {
                        return Ok(SignedInUser::new(name, tenants.iter().cloned()));
                    }
                }
                Ok(None) => {}
                Err(e) => return Err(LoginStep(ApiError::from(e).render(ErrorFormat::Html))),
            }
        }
        let query = request.uri.query().unwrap_or("");
        Err(LoginStep(self.form(query, "", None, StatusCode::OK)))
    }
}
