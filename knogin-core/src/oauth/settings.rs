//! The embedder's token lifetimes and client-authentication limit.

use std::time::Duration;

use crate::apps::Governance;
use crate::clock::Timestamp;
use crate::store::AuthFailures;

/// The default lifetime of an access token from the token endpoint: 1 hour.
pub const DEFAULT_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// The default lifetime of a service token: 1 hour.
pub const DEFAULT_SERVICE_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// The default longest lifetime an app's governance or a service-token request may ask for:
/// 24 hours.
pub const DEFAULT_MAX_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

/// The default number of failed client authentications allowed per window.
pub const DEFAULT_AUTH_FAILURES: u32 = 10;

/// The default window failed client authentications are counted in: 1 minute.
pub const DEFAULT_AUTH_WINDOW: Duration = Duration::from_secs(60);

/// The default lifetime of an authorization code: 1 minute (RFC 6749 §4.1.2 recommends at most
/// 10).
pub const DEFAULT_CODE_TTL: Duration = Duration::from_secs(60);

/// The longest lifetime an authorization code may be given: 10 minutes.
pub const MAX_CODE_TTL: Duration = Duration::from_secs(600);

/// The default time a refresh token lives unused: 14 days.
pub const DEFAULT_REFRESH_IDLE: Duration = Duration::from_secs(14 * 86_400);

/// The default time a family of refresh tokens lives from its authorization, however often it is
/// used: 90 days.
pub const DEFAULT_REFRESH_ABSOLUTE: Duration = Duration::from_secs(90 * 86_400);

/// How long the authorization-code flow's codes and refresh tokens live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FlowLifetimes {
    pub(crate) code: Duration,
    pub(crate) refresh_idle: Duration,
    pub(crate) refresh_absolute: Duration,
}

impl Default for FlowLifetimes {
    fn default() -> Self {
        Self {
            code: DEFAULT_CODE_TTL,
            refresh_idle: DEFAULT_REFRESH_IDLE,
            refresh_absolute: DEFAULT_REFRESH_ABSOLUTE,
        }
    }
}

impl FlowLifetimes {
    /// Whether the code lives above zero and at most [`MAX_CODE_TTL`], and a refresh token's idle
    /// time is above zero and at most its family's lifetime.
    pub(crate) fn valid(&self) -> bool {
        !self.code.is_zero()
            && self.code <= MAX_CODE_TTL
            && !self.refresh_idle.is_zero()
            && self.refresh_idle <= self.refresh_absolute
    }

    /// When a refresh token issued at `now` in a family ending at `family_end` expires unused.
    pub(crate) fn refresh_expiry(&self, now: Timestamp, family_end: Timestamp) -> Timestamp {
        now.plus(self.refresh_idle).min(family_end)
    }
}

/// How long the tokens of each kind live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lifetimes {
    pub(crate) access: Duration,
    pub(crate) max_access: Duration,
    pub(crate) service: Duration,
    pub(crate) max_service: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            access: DEFAULT_ACCESS_TOKEN_TTL,
            max_access: DEFAULT_MAX_TOKEN_TTL,
            service: DEFAULT_SERVICE_TOKEN_TTL,
            max_service: DEFAULT_MAX_TOKEN_TTL,
        }
    }
}

impl Lifetimes {
    /// Whether every lifetime is above zero and at most its maximum, and each maximum at most
    /// `cap`.
    pub(crate) fn valid(&self, cap: Duration) -> bool {
        let pair =
            |default: Duration, max: Duration| !default.is_zero() && default <= max && max <= cap;
        pair(self.access, self.max_access) && pair(self.service, self.max_service)
    }

    /// The longest any of these tokens may live.
    pub(crate) fn longest(&self) -> Duration {
        self.max_access.max(self.max_service)
    }

    /// The lifetime of an access token for an app with `governance`: its own if it set one
    /// (never above the maximum, which the embedder may have lowered since), else the default.
    pub(crate) fn access_for(&self, governance: &Governance) -> Duration {
        governance
            .access_token_ttl
            .map_or(self.access, |s| Duration::from_secs(u64::from(s)))
            .min(self.max_access)
    }
}

/// How many failed client authentications a client id may have in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AuthLimit {
    pub(crate) failures: u32,
    pub(crate) window: Duration,
}

impl Default for AuthLimit {
    fn default() -> Self {
        Self {
            failures: DEFAULT_AUTH_FAILURES,
            window: DEFAULT_AUTH_WINDOW,
        }
    }
}

impl AuthLimit {
    /// How long a client id with `failures` must wait at `now`, if it has reached the limit in a
    /// window that has not ended.
    pub(crate) fn wait(&self, failures: Option<AuthFailures>, now: Timestamp) -> Option<Duration> {
        let failures = failures?;
        let ends = failures.window_start.plus(self.window);
        (failures.count >= self.failures && ends > now)
            .then(|| Duration::from_secs(u64::try_from(ends.unix() - now.unix()).unwrap_or(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_holds_until_the_window_ends() {
        let limit = AuthLimit {
            failures: 3,
            window: Duration::from_secs(60),
        };
        let t0 = Timestamp::from_unix(1_000);
        let at = |count| {
            Some(AuthFailures {
                window_start: t0,
                count,
            })
        };
        assert_eq!(limit.wait(None, t0), None);
        assert_eq!(limit.wait(at(2), t0), None);
        assert_eq!(
            limit.wait(at(3), t0.plus(Duration::from_secs(15))),
            Some(Duration::from_secs(45))
        );
        assert_eq!(
            limit.wait(at(9), t0.plus(Duration::from_secs(60))),
            None,
            "the window ended"
        );
    }

    #[test]
    fn an_apps_lifetime_is_its_own_within_the_maximum() {
        let lifetimes = Lifetimes {
            max_access: Duration::from_secs(7200),
            ..Lifetimes::default()
        };
        let with = |ttl| Governance {
            access_token_ttl: ttl,
            ..Governance::default()
        };
        assert_eq!(lifetimes.access_for(&with(None)), DEFAULT_ACCESS_TOKEN_TTL);
        assert_eq!(
            lifetimes.access_for(&with(Some(600))),
            Duration::from_secs(600)
        );
        assert_eq!(
            lifetimes.access_for(&with(Some(86_400))),
            Duration::from_secs(7200),
            "clamped to a lowered maximum"
        );
        assert!(lifetimes.valid(Duration::from_secs(7 * 86_400)));
        assert!(
            !Lifetimes {
                access: Duration::ZERO,
                ..lifetimes
            }
            .valid(Duration::MAX)
        );
        assert!(
            !Lifetimes {
                access: Duration::from_secs(7201),
                ..lifetimes
            }
            .valid(Duration::MAX)
        );
        assert!(
            !lifetimes.valid(Duration::from_secs(3600)),
            "a maximum above the cap"
        );
    }
}

/// How long tokens and codes live, for [`Builder::lifetimes`](crate::Builder::lifetimes).
///
/// ```
/// use std::time::Duration;
/// use knogin_core::oauth::TokenLifetimes;
///
/// let hour = Duration::from_secs(3600);
/// let lifetimes = TokenLifetimes::default()
///     .access(hour / 4, hour)
///     .refresh(Duration::from_secs(7 * 86_400), Duration::from_secs(30 * 86_400));
/// # let _ = lifetimes;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenLifetimes {
    pub(crate) tokens: Lifetimes,
    pub(crate) flow: FlowLifetimes,
}

impl TokenLifetimes {
    /// The lifetime of access tokens from the token endpoint (default: 1 hour), and the longest
    /// an app's governance `access_token_ttl` may ask for (default: 24 hours).
    #[must_use]
    pub fn access(mut self, default: Duration, max: Duration) -> Self {
        self.tokens.access = default;
        self.tokens.max_access = max;
        self
    }

    /// The lifetime of service tokens (default: 1 hour), and the longest a request's
    /// `expires_in` may ask for (default: 24 hours).
    #[must_use]
    pub fn service(mut self, default: Duration, max: Duration) -> Self {
        self.tokens.service = default;
        self.tokens.max_service = max;
        self
    }

    /// How long an authorization code may wait to be redeemed (default [`DEFAULT_CODE_TTL`],
    /// at most [`MAX_CODE_TTL`]).
    #[must_use]
    pub fn authorization_code(mut self, ttl: Duration) -> Self {
        self.flow.code = ttl;
        self
    }

    /// How long a refresh token lives unused (`idle`, default 14 days) and how long a family of
    /// refresh tokens lives from its authorization however often it is used (`absolute`,
    /// default 90 days).
    #[must_use]
    pub fn refresh(mut self, idle: Duration, absolute: Duration) -> Self {
        self.flow.refresh_idle = idle;
        self.flow.refresh_absolute = absolute;
        self
    }
}
