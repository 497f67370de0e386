//! The built-in password login's policy, apart from HTTP: the users and their argon2id hashes
//! ([`PasswordUsers`]), the limits on failed sign-ins (counted in the store, so every instance
//! enforces the same ones), and sessions (kept in the store). `http::sign_in` only shows the
//! form, checks its token and sets the cookies.
//!
//! Enable it with [`Builder::password_login`](crate::Builder::password_login).

mod users;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

pub use self::users::{MAX_USERNAME_LEN, PasswordUserError, PasswordUsers};
use crate::address::address_key;
use crate::clock::{Clock, Timestamp};
use crate::id::TenantId;
use crate::secret::{FlowToken, SecretHash};
use crate::store::{FlowKind, FlowState, Store, StoreError};

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
/// use knogin_core::login::SignInSettings;
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

/// How a sign-in ended.
pub(crate) enum SignIn {
    /// Every password check is taken: try again in a moment.
    Busy,
    /// The user name or the address is over its limit until this long has passed.
    Limited(Duration),
    /// The name or the password is not right (counted against both limits).
    Refused,
    /// Signed in: the new session's token, for the cookie.
    SignedIn(FlowToken),
}

/// Why a sign-in could not be decided.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SignInError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The password check did not finish.
    #[error("the password check failed: {0}")]
    Check(#[from] tokio::task::JoinError),
}

/// The built-in login's policy (see the module docs).
pub(crate) struct Login {
    users: Arc<PasswordUsers>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    limits: SignInLimits,
    session_ttl: Duration,
    /// Password checks that may run at once.
    verifications: Arc<Semaphore>,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("users", &self.users)
            .field("limits", &self.limits)
            .field("session_ttl", &self.session_ttl)
            .finish_non_exhaustive()
    }
}

impl Login {
    pub(crate) fn new(
        users: Arc<PasswordUsers>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        settings: SignInSettings,
    ) -> Self {
        Self {
            users,
            store,
            clock,
            limits: settings.limits,
            session_ttl: settings.session_ttl,
            verifications: Arc::new(Semaphore::new(settings.concurrency.max(1))),
        }
    }

    /// Whether `name` is one of the users (so a failed sign-in may name them).
    pub(crate) fn knows(&self, name: &str) -> bool {
        self.users.fingerprint(name).is_some()
    }

    /// How long a session lasts.
    pub(crate) fn session_ttl(&self) -> Duration {
        self.session_ttl
    }

    /// Signs `username` in with `password`, from `from` when the address is known: a password
    /// check must be free (at most a few run at once: each takes 19 MiB), then the attempt is
    /// counted against the limits, then the password is checked (off the async threads).
    /// Success gives the attempt back and starts a session.
    pub(crate) async fn sign_in(
        &self,
        username: &str,
        password: &str,
        from: Option<IpAddr>,
    ) -> Result<SignIn, SignInError> {
        let now = self.clock.now();
        let Ok(permit) = Arc::clone(&self.verifications).try_acquire_owned() else {
            return Ok(SignIn::Busy);
        };
        let mut keys = vec![(user_key(username), self.limits.per_user)];
        if let Some(addr) = from {
            keys.push((address_key(addr), self.limits.per_address));
        }
        if let Some(wait) = self.reserve(&keys, now).await? {
            crate::metrics::sign_in_failed();
            return Ok(SignIn::Limited(wait));
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
        .await?;
        if !verified {
            crate::metrics::sign_in_failed();
            return Ok(SignIn::Refused);
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
        Ok(SignIn::SignedIn(session))
    }

    /// The user of session `token` and their tenants, while it lasts: a session ends when its
    /// user's password or memberships change.
    pub(crate) async fn session(
        &self,
        token: &str,
    ) -> Result<Option<(String, Vec<TenantId>)>, StoreError> {
        let now = self.clock.now();
        let value = self
            .store
            .state(FlowKind::Session, &SecretHash::of(token), now)
            .await?;
        Ok(value.and_then(|value| {
            let (fingerprint, name) = value.split_once(' ')?;
            let tenants = self.users.member(name, fingerprint)?;
            Some((name.to_owned(), tenants.to_vec()))
        }))
    }

    /// Ends session `token` (on every instance).
    pub(crate) async fn end_session(&self, token: &str) -> Result<(), StoreError> {
        let now = self.clock.now();
        self.store
            .take_state(FlowKind::Session, &SecretHash::of(token), now)
            .await?;
        Ok(())
    }

    /// Counts this attempt under each of `keys` before the password is checked (atomically, in
    /// the store: parallel guesses each see their own count) and says how long until every
    /// limit lets a sign-in through, when this attempt is beyond one.
    async fn reserve(
        &self,
        keys: &[(String, u32)],
        now: Timestamp,
    ) -> Result<Option<Duration>, StoreError> {
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
}

/// The rate-limit key of a user name: a digest, so a name of any length or bytes makes a
/// short, plain key (and the store never holds what someone typed).
fn user_key(name: &str) -> String {
    format!("user:{}", SecretHash::of(name).short_hex())
}
