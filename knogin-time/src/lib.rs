//! Time, injected: knogin never reads the system clock itself.
//!
//! Everything in knogin that depends on "now" (token expiry, secret grace periods, key ids, a
//! verifier's JWKS cache) asks a [`Clock`]. Production code uses [`SystemClock`]; tests use
//! [`ManualClock`] and move time by hand. The issuer (`knogin-core`) and the verifier
//! (`knogin-verifier`) share this crate, so one manual clock drives both in a test.
#![forbid(unsafe_code)]

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

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

/// A wait on a [`Clock`]: resolves once the clock has moved far enough.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A source of the current time, and of waits on it.
///
/// Implement it to control time in your own tests, or use [`ManualClock`].
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> Timestamp;

    /// A wait that resolves once `duration` has passed on this clock: on tokio's timer for
    /// [`SystemClock`] (so within a tokio runtime), when advanced that far for [`ManualClock`].
    fn sleep(&self, duration: Duration) -> Sleep;

    /// A wait that resolves once this clock reads `at` or later (at once if it already does).
    fn sleep_until(&self, at: Timestamp) -> Sleep {
        let ahead = at.unix().saturating_sub(self.now().unix());
        self.sleep(Duration::from_secs(u64::try_from(ahead).unwrap_or(0)))
    }
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

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock that only moves when told to: for tests of expiry, grace periods and anything that
/// waits. Its waits ([`Clock::sleep`]) resolve when [`advance`](Self::advance) or
/// [`set`](Self::set) moves it past their deadlines, never on their own, so a test steps
/// through time without real waiting.
///
/// ```
/// use std::time::Duration;
/// use knogin_time::{Clock, ManualClock, Timestamp};
///
/// # tokio_test();
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn tokio_test() {
/// let clock = ManualClock::new(Timestamp::from_unix(1_800_000_000));
/// let wait = clock.sleep(Duration::from_secs(60));
/// clock.advance(Duration::from_secs(600));
/// assert_eq!(clock.now().unix(), 1_800_000_600);
/// wait.await; // already past its deadline
/// # }
/// ```
#[derive(Debug)]
pub struct ManualClock {
    /// Nanoseconds since the epoch; waits watch it.
    nanos: watch::Sender<i128>,
}

const NANOS: i128 = 1_000_000_000;

impl ManualClock {
    /// A clock standing at `at`.
    pub fn new(at: Timestamp) -> Self {
        Self {
            nanos: watch::Sender::new(i128::from(at.0) * NANOS),
        }
    }

    /// Moves the clock forward by `by` (sub-second steps add up), waking the waits it passes.
    pub fn advance(&self, by: Duration) {
        let by = i128::try_from(by.as_nanos()).unwrap_or(i128::MAX);
        self.nanos.send_modify(|n| *n = n.saturating_add(by));
    }

    /// Sets the clock to `at`, forwards or backwards, waking the waits it passes.
    pub fn set(&self, at: Timestamp) {
        self.nanos.send_replace(i128::from(at.0) * NANOS);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        let seconds = self.nanos.borrow().div_euclid(NANOS);
        Timestamp(i64::try_from(seconds).unwrap_or(i64::MAX))
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        let mut moves = self.nanos.subscribe();
        let by = i128::try_from(duration.as_nanos()).unwrap_or(i128::MAX);
        let deadline = moves.borrow().saturating_add(by);
        Box::pin(async move {
            // The sender lives as long as the clock; a clock dropped never wakes its waits.
            if moves.wait_for(|now| *now >= deadline).await.is_err() {
                std::future::pending::<()>().await;
            }
        })
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

    #[tokio::test]
    async fn manual_waits_resolve_only_when_the_clock_passes_their_deadlines() {
        use std::task::Poll;

        let clock = ManualClock::new(Timestamp::from_unix(100));
        let mut short = clock.sleep(Duration::from_millis(10));
        let mut long = clock.sleep_until(Timestamp::from_unix(160));
        let pending = |wait: &mut Sleep| futures_poll(wait).is_pending();
        assert!(pending(&mut short) && pending(&mut long));
        clock.advance(Duration::from_millis(9));
        assert!(pending(&mut short));
        clock.advance(Duration::from_millis(1));
        assert_eq!(futures_poll(&mut short), Poll::Ready(()));
        assert_eq!(clock.now().unix(), 100, "sub-second steps keep the second");
        clock.set(Timestamp::from_unix(159));
        assert!(pending(&mut long));
        clock.advance(Duration::from_secs(1));
        assert_eq!(futures_poll(&mut long), Poll::Ready(()));
        // A wait whose deadline has passed resolves at once.
        assert_eq!(
            futures_poll(&mut clock.sleep_until(Timestamp::from_unix(7))),
            Poll::Ready(())
        );
    }

    /// Polls `wait` once.
    fn futures_poll(wait: &mut Sleep) -> std::task::Poll<()> {
        let waker = std::task::Waker::noop();
        wait.as_mut()
            .poll(&mut std::task::Context::from_waker(waker))
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
