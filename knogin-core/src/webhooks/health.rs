//! The health rule: what recorded attempts do to their subscriptions. A success makes a
//! subscription healthy; a failure marks it failing since then, unless it was failing already;
//! an attempt that carries a disable reason disables it. Every store applies this one fold, so
//! the rule is written once.

use std::collections::BTreeMap;

use crate::clock::Timestamp;
use crate::id::{TenantId, WebhookId};
use crate::store::{Attempt, NextStep};

/// What `failing_since` becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailingSince {
    /// The last attempt succeeded: the subscription is healthy (`failing_since` is cleared).
    Cleared,
    /// It is failing since `since`, or since its earlier `failing_since` when it was already
    /// failing and `keep_earlier` (no attempt of the batch succeeded).
    Since {
        /// The first failure after the batch's last success, or the batch's first failure.
        since: Timestamp,
        /// Whether a `failing_since` already stored wins over `since`.
        keep_earlier: bool,
    },
}

impl FailingSince {
    /// The new `failing_since`, from the `current` one.
    pub fn apply(self, current: Option<Timestamp>) -> Option<Timestamp> {
        match self {
            Self::Cleared => None,
            Self::Since {
                since,
                keep_earlier: true,
            } => Some(current.unwrap_or(since)),
            Self::Since { since, .. } => Some(since),
        }
    }
}

/// What a batch of attempts does to one subscription, as if each had been recorded alone, in
/// order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthChange {
    /// The subscription's tenant.
    pub tenant: TenantId,
    /// The subscription.
    pub webhook: WebhookId,
    /// What its `failing_since` becomes.
    pub failing_since: FailingSince,
    /// When set, it is disabled with this reason (the batch's last).
    pub disable_reason: Option<String>,
}

/// The health changes of `recorded` attempts, each with the subscription it belongs to (`None`
/// for one that was not recorded), one change per subscription, in subscription id order:
/// stores that lock rows lock them in one order, so concurrent recorders cannot deadlock.
pub fn fold<'a>(
    recorded: impl IntoIterator<Item = (&'a Attempt, Option<(&'a TenantId, &'a WebhookId)>)>,
) -> Vec<HealthChange> {
    let mut changes: BTreeMap<&WebhookId, HealthChange> = BTreeMap::new();
    for (attempt, owner) in recorded {
        let Some((tenant, webhook)) = owner else {
            continue;
        };
        let change = changes.entry(webhook).or_insert_with(|| HealthChange {
            tenant: tenant.clone(),
            webhook: webhook.clone(),
            failing_since: FailingSince::Since {
                since: attempt.attempted_at,
                keep_earlier: true,
            },
            disable_reason: None,
        });
        change.failing_since = match (attempt.next, change.failing_since) {
            (NextStep::Succeeded, _) => FailingSince::Cleared,
            (_, FailingSince::Cleared) => FailingSince::Since {
                since: attempt.attempted_at,
                keep_earlier: false,
            },
            (_, failing) => failing,
        };
        if attempt.disable_reason.is_some() {
            change.disable_reason.clone_from(&attempt.disable_reason);
        }
    }
    changes.into_values().collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn attempt(at: i64, next: NextStep, disable_reason: Option<&str>) -> Attempt {
        Attempt {
            attempted_at: Timestamp::from_unix(at),
            response_status: None,
            duration_ms: 1,
            response_body: None,
            next,
            disable_reason: disable_reason.map(str::to_owned),
        }
    }

    #[test]
    fn a_batch_changes_each_subscription_as_its_attempts_would_one_by_one() {
        let tenant = TenantId::parse("acme").unwrap();
        let ids: Vec<WebhookId> = (0..4).map(|_| WebhookId::generate()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        let [a, b, c, d] = [&sorted[0], &sorted[1], &sorted[2], &sorted[3]];
        let retry = NextStep::RetryAt(Timestamp::from_unix(0).plus(Duration::from_secs(60)));
        let attempts = [
            (attempt(1, NextStep::Succeeded, None), Some(b)),
            (attempt(2, retry, None), Some(a)),
            (attempt(3, retry, None), Some(a)),
            (attempt(4, retry, None), Some(b)),
            (attempt(5, NextStep::Succeeded, None), Some(c)),
            (attempt(6, retry, None), Some(c)),
            (attempt(7, NextStep::Succeeded, None), Some(c)),
            (
                attempt(8, NextStep::FailedAndDisable, Some("gone")),
                Some(d),
            ),
            (attempt(9, NextStep::Succeeded, None), None),
        ];
        let changes = fold(
            attempts
                .iter()
                .map(|(at, owner)| (at, owner.map(|w| (&tenant, w)))),
        );
        let since = |at, keep_earlier| FailingSince::Since {
            since: Timestamp::from_unix(at),
            keep_earlier,
        };
        let summary: Vec<_> = changes
            .iter()
            .map(|c| (&c.webhook, c.failing_since, c.disable_reason.as_deref()))
            .collect();
        assert_eq!(
            summary,
            [
                // Failures only: the first failure, unless the subscription was failing already.
                (a, since(2, true), None),
                // A success, then a failure: failing since that failure, whatever was before.
                (b, since(4, false), None),
                // Ending on a success: healthy.
                (c, FailingSince::Cleared, None),
                (d, since(8, true), Some("gone")),
            ]
        );
    }

    #[test]
    fn applying_a_change_keeps_an_earlier_failure_only_when_told() {
        let (t1, t2) = (Timestamp::from_unix(1), Timestamp::from_unix(2));
        let keep = FailingSince::Since {
            since: t2,
            keep_earlier: true,
        };
        let reset = FailingSince::Since {
            since: t2,
            keep_earlier: false,
        };
        assert_eq!(keep.apply(Some(t1)), Some(t1));
        assert_eq!(keep.apply(None), Some(t2));
        assert_eq!(reset.apply(Some(t1)), Some(t2));
        assert_eq!(FailingSince::Cleared.apply(Some(t1)), None);
    }
}
