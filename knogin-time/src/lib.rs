//! Time, injected: knogin never reads the system clock itself.
//!
//! Everything in knogin that depends on "now" (token expiry, secret grace periods, key ids, a
//! verifier's JWKS cache) asks a [`Clock`]. Production code uses [`SystemClock`]; tests use
//! [`ManualClock`] and move time by hand. The issuer (`knogin-core`) and the verifier
//! (`knogin-verifier`) share this crate, so one manual clock drives both in a test.
#![forbid(unsafe_code)]

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A point in time with one-second resolution, as seconds since the Unix epoch.
///
/// Seconds are what JWTs (`iat`, `exp`) and the stores keep, so every record round-trips exactly.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The timestamp `seconds` after the Unix epoch.
    pub const fn from_unix(seconds: i64) -> Self {
        Self(seconds)
    }

    /// Seconds since the Unix epoch.
    pub const fn unix(self) -> i64 {
        self.0
    }

    /// This timestamp moved `by` into the future (saturating, sub-second parts dropped).
    #[must_use]
    pub fn plus(self, by: Duration) -> Self {
        Self(
            self.0
                .saturating_add(i64::try_from(by.as_secs()).unwrap_or(i64::MAX)),
        )
    }

    /// The calendar date and time in UTC, or `None` outside the range `time` can represent.
    pub fn to_datetime(self) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp(self.0).ok()
    }

    /// Parses an RFC 3339 date and time (any offset), e.g. `2026-03-24T10:00:00Z`.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        OffsetDateTime::parse(text, &Rfc3339)
            .ok()
            .map(|t| Self(t.unix_timestamp()))
    }

    /// RFC 3339 form in UTC, e.g. `2026-03-24T10:00:00Z`.
    pub fn to_rfc3339(self) -> String {
        self.to_datetime()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| self.0.to_string())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// A source of the current time.
///
/// Implement it to control time in your own tests, or use [`ManualClock`].
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        Timestamp(i64::try_from(since.as_secs()).unwrap_or(i64::MAX))
    }
}

/// A clock that only moves when told to: for tests of expiry and grace periods.
///
/// ```
/// use std::time::Duration;
/// use knogin_time::{Clock, ManualClock, Timestamp};
///
/// let clock = ManualClock::new(Timestamp::from_unix(1_800_000_000));
/// clock.advance(Duration::from_secs(600));
/// assert_eq!(clock.now().unix(), 1_800_000_600);
/// ```
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock standing at `at`.
    pub fn new(at: Timestamp) -> Self {
        Self(AtomicI64::new(at.0))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let secs = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
        self.0.fetch_add(secs, Ordering::SeqCst);
    }

    /// Sets the clock to `at`, forwards or backwards.
    pub fn set(&self, at: Timestamp) {
        self.0.store(at.0, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_is_utc_with_seconds() {
        assert_eq!(
            Timestamp::from_unix(1_774_346_400).to_rfc3339(),
            "2026-03-24T10:00:00Z"
        );
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(Timestamp::from_unix(100));
        assert_eq!(clock.now(), Timestamp::from_unix(100));
        clock.advance(Duration::from_secs(5));
        assert_eq!(clock.now(), Timestamp::from_unix(105));
        clock.set(Timestamp::from_unix(7));
        assert_eq!(clock.now().unix(), 7);
    }
}
