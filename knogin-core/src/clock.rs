//! Time, injected: the core never reads the system clock itself.
//!
//! Everything that depends on "now" (token expiry, secret grace periods, key ids) asks a
//! [`Clock`]. Production code uses [`SystemClock`]; tests use [`ManualClock`] and move time by
//! hand. These are `knogin-time`'s types, shared with the verifier.

pub use knogin_time::{Clock, ManualClock, Sleep, SystemClock, Timestamp};

use std::time::Duration;

/// How long after `earlier` `later` is; zero when it is not later.
pub(crate) fn between(earlier: Timestamp, later: Timestamp) -> Duration {
    Duration::from_secs(u64::try_from(later.unix().saturating_sub(earlier.unix())).unwrap_or(0))
}

/// `at` moved `by` into the past (saturating, sub-second parts dropped): the twin of
/// [`Timestamp::plus`].
pub(crate) fn before(at: Timestamp, by: Duration) -> Timestamp {
    let by = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
    Timestamp::from_unix(at.unix().saturating_sub(by))
}
