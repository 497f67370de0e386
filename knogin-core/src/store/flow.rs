//! Short-lived state every instance shares: what a person's way through the authorization
//! endpoint stores between requests (browser sessions, the login and consent forms waiting to be
//! submitted, their CSRF tokens), the JWTs clients may use once, and the failed sign-ins that
//! rate-limit password guessing.
//!
//! Everything lives in the store, so any instance can serve any step. Each state is keyed by the
//! hash of a random token that only the browser holds (in a cookie or a form field), and ends at
//! its own time.

use std::time::Duration;

use async_trait::async_trait;

use super::{AuthFailures, StoreError};
use crate::clock::Timestamp;
use crate::secret::SecretHash;

/// What a piece of flow state is. States of different kinds never answer for each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FlowKind {
    /// A signed-in browser session of the built-in password login; the value names the user.
    Session,
    /// A login form shown and not yet submitted; the value is the request it returns to.
    LoginForm,
    /// An authorization request waiting for the user's decision on the consent page.
    Consent,
    /// A JWT a client may use once (a client assertion), recorded until it expires; the key is
    /// the hash of its client and `jti`.
    UsedJti,
    /// A pushed authorization request (RFC 9126); the value is its query, the key the hash of
    /// its `request_uri`.
    PushedRequest,
}

impl FlowKind {
    /// The kind as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::LoginForm => "login_form",
            Self::Consent => "consent",
            Self::UsedJti => "used_jti",
            Self::PushedRequest => "pushed_request",
        }
    }
}

/// One piece of flow state to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowState {
    /// What it is.
    pub kind: FlowKind,
    /// The hash of the token the browser holds.
    pub key: SecretHash,
    /// What it holds (the core's own encoding; opaque to the store).
    pub value: String,
    /// When it ends.
    pub expires_at: Timestamp,
}

/// Flow state and sign-in failures.
#[async_trait]
pub trait FlowStore: Send + Sync {
    /// Stores `state`. States that ended before `now` (of any kind) may be deleted meanwhile.
    /// [`StoreError::Conflict`] if its kind and key are taken.
    async fn put_state(&self, state: &FlowState, now: Timestamp) -> Result<(), StoreError>;

    /// The value of the state `kind`/`key` if it is still live at `now`; it stays.
    async fn state(
        &self,
        kind: FlowKind,
        key: &SecretHash,
        now: Timestamp,
    ) -> Result<Option<String>, StoreError>;

    /// Takes the state `kind`/`key` out if it is still live at `now`: of several concurrent
    /// calls, at most one gets the value (a form is submitted once).
    async fn take_state(
        &self,
        kind: FlowKind,
        key: &SecretHash,
        now: Timestamp,
    ) -> Result<Option<String>, StoreError>;

    /// Counts a sign-in attempt under `key` (a user name or a client address, as the caller
    /// spells it) as failed, atomically, before its password is checked: in a new window
    /// starting at `now` when there is none or it began `window` or longer ago (such stale
    /// windows may be deleted), else one more in the current window. Of concurrent calls, each
    /// sees its own count. A sign-in that then succeeds gives it back
    /// ([`FlowStore::release_sign_in_attempt`]).
    async fn record_sign_in_failure(
        &self,
        key: &str,
        now: Timestamp,
        window: Duration,
    ) -> Result<AuthFailures, StoreError>;

    /// Gives back one attempt counted under `key` in its current window (one that began less
    /// than `window` before `now`), if there is one: the sign-in succeeded.
    async fn release_sign_in_attempt(
        &self,
        key: &str,
        now: Timestamp,
        window: Duration,
    ) -> Result<(), StoreError>;

    /// The failed sign-ins under `key` in its window, if one began less than `window` before
    /// `now`.
    async fn sign_in_failures(
        &self,
        key: &str,
        now: Timestamp,
        window: Duration,
    ) -> Result<Option<AuthFailures>, StoreError>;
}
