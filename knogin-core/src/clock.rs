//! Time, injected: the core never reads the system clock itself.
//!
//! Everything that depends on "now" (token expiry, secret grace periods, key ids) asks a
//! [`Clock`]. Production code uses [`SystemClock`]; tests use [`ManualClock`] and move time by
//! hand. These are `knogin-time`'s types, shared with the verifier.

pub use knogin_time::{Clock, ManualClock, Sleep, SystemClock, Timestamp};
