//! What follows a delivery attempt: success, a retry on the schedule (with jitter), a retry when
//! the receiver asked for one (`Retry-After` on 429 or 503, up to a cap), or giving up.

use std::time::Duration;

use crate::clock::Timestamp;
use crate::store::NextStep;

/// The default retry schedule: the delays after the first, second, … failed attempt.
pub const DEFAULT_RETRY_DELAYS: [Duration; 6] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
];

/// The longest `Retry-After` honoured by default.
pub const DEFAULT_RETRY_AFTER_CAP: Duration = Duration::from_secs(3600);

/// How failed deliveries are retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The delay before each retry; after the last, the delivery fails.
    pub delays: Vec<Duration>,
    /// The longest `Retry-After` honoured.
    pub retry_after_cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            delays: DEFAULT_RETRY_DELAYS.to_vec(),
            retry_after_cap: DEFAULT_RETRY_AFTER_CAP,
        }
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The receiver answered with this status (and, on 429 or 503, perhaps `Retry-After`).
    Answered {
        /// The HTTP status.
        status: u16,
        /// The `Retry-After` delay, if given.
        retry_after: Option<Duration>,
    },
    /// No answer: the connection failed, the target was refused, or the attempt timed out.
    NoAnswer,
}

/// Parses a `Retry-After` value given in seconds (an HTTP date is not honoured).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Parses a duration like `200ms`, `5s`, `30m`, `2h` or `30d` (a number and a unit); `0` alone
/// is zero.
///
/// ```
/// # use std::time::Duration;
/// use knogin_core::webhooks::parse_duration;
/// assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(30 * 86_400)));
/// assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
/// assert!(parse_duration("30").is_err());
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let part = text.trim();
    if part == "0" {
        return Ok(Duration::ZERO);
    }
    let split = part
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{part:?} has no unit (ms, s, m, h or d)"))?;
    let (number, unit) = part.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{part:?} is not a number and a unit"))?;
    let seconds = |factor: u64| {
        n.checked_mul(factor)
            .map(Duration::from_secs)
            .ok_or_else(|| format!("{part:?} is too long"))
    };
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => seconds(1),
        "m" => seconds(60),
        "h" => seconds(3600),
        "d" => seconds(86_400),
        other => Err(format!("unknown unit {other:?}: use ms, s, m, h or d")),
    }
}

impl RetryPolicy {
    /// Parses a schedule like `5s,5m,30m,2h` or `200ms,500ms,1s` (each a [`parse_duration`]).
    pub fn parse_delays(text: &str) -> Result<Vec<Duration>, String> {
        text.split(',').map(parse_duration).collect()
    }

    /// What follows an attempt that ended with `outcome`, when `attempts` attempts (this one
    /// included) were made, at `now`. `jitter` in `[0, 1)` spreads retries by up to ±20 %.
    pub fn next_step(
        &self,
        outcome: Outcome,
        attempts: u32,
        now: Timestamp,
        jitter: f64,
    ) -> NextStep {
        let retries_left = usize::try_from(attempts).is_ok_and(|n| n <= self.delays.len());
        match outcome {
            Outcome::Answered { status, .. } if (200..300).contains(&status) => NextStep::Succeeded,
            Outcome::Answered { status: 410, .. } => NextStep::FailedAndDisable,
            _ if !retries_left => NextStep::Failed,
            Outcome::Answered {
                status: 429 | 503,
                retry_after: Some(wait),
            } => NextStep::RetryAt(now.plus(wait.min(self.retry_after_cap))),
            _ => {
                let index = usize::try_from(attempts)
                    .unwrap_or(usize::MAX)
                    .saturating_sub(1);
                let base = self.delays[index];
                let factor = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
                NextStep::RetryAt(now.plus(base.mul_f64(factor)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp::from_unix(1_800_000_000);

    fn answered(status: u16) -> Outcome {
        Outcome::Answered {
            status,
            retry_after: None,
        }
    }

    #[test]
    fn the_schedule_runs_out_into_failure() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.next_step(answered(204), 1, NOW, 0.5),
            NextStep::Succeeded
        );
        assert_eq!(
            policy.next_step(answered(410), 1, NOW, 0.5),
            NextStep::FailedAndDisable
        );
        assert_eq!(
            policy.next_step(answered(500), 1, NOW, 0.5),
            NextStep::RetryAt(NOW.plus(Duration::from_secs(5)))
        );
        assert_eq!(
            policy.next_step(Outcome::NoAnswer, 2, NOW, 0.5),
            NextStep::RetryAt(NOW.plus(Duration::from_secs(300)))
        );
        assert_eq!(
            policy.next_step(answered(302), 6, NOW, 0.5),
            NextStep::RetryAt(NOW.plus(Duration::from_secs(36_000)))
        );
        assert_eq!(
            policy.next_step(answered(500), 7, NOW, 0.5),
            NextStep::Failed
        );
        // Jitter spreads a retry by up to 20 % either way.
        let early = policy.next_step(answered(500), 2, NOW, 0.0);
        let late = policy.next_step(answered(500), 2, NOW, 0.999);
        assert_eq!(early, NextStep::RetryAt(NOW.plus(Duration::from_secs(240))));
        assert_eq!(late, NextStep::RetryAt(NOW.plus(Duration::from_secs(359))));
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let policy = RetryPolicy::default();
        let asked = |status, secs| Outcome::Answered {
            status,
            retry_after: Some(Duration::from_secs(secs)),
        };
        assert_eq!(
            policy.next_step(asked(429, 120), 1, NOW, 0.5),
            NextStep::RetryAt(NOW.plus(Duration::from_secs(120)))
        );
        assert_eq!(
            policy.next_step(asked(503, 86_400), 1, NOW, 0.5),
            NextStep::RetryAt(NOW.plus(Duration::from_secs(3600)))
        );
        assert_eq!(parse_retry_after(" 30 "), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn schedules_parse_with_units() {
        assert_eq!(
            RetryPolicy::parse_delays("200ms,500ms,1s,2m,1h"),
            Ok(vec![
                Duration::from_millis(200),
                Duration::from_millis(500),
                Duration::from_secs(1),
                Duration::from_secs(120),
                Duration::from_secs(3600)
            ])
        );
        assert!(RetryPolicy::parse_delays("5").is_err());
        assert!(RetryPolicy::parse_delays("5w").is_err());
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert!(parse_duration("99999999999999999d").is_err());
    }
}
