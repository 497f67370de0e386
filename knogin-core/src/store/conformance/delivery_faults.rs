//! Conformance checks of deliveries when things go wrong: answers the database cannot store,
//! attempts that are never recorded, and subscriptions paused with deliveries queued.

use std::time::Duration;

use super::deliveries::{attempt, event, subscribe, three_claimed};
use super::{T0, tenant};
use crate::store::{DeliveryStatus, MAX_UNRECORDED_CLAIMS, NextStep, Store, UNRECORDED_BODY};

/// An answer the database cannot store as text (a NUL, which PostgreSQL refuses) does not keep
/// the other attempts of its batch from being recorded, and its own attempt is recorded too.
pub async fn an_unstorable_answer_does_not_sink_its_batch(store: &dyn Store) {
    let (webhook, claimed) = three_claimed(store).await;
    let batch: Vec<_> = claimed
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut done = attempt(NextStep::Succeeded, 200);
            if i == 1 {
                done.response_body = Some("bad\0answer".into());
            }
            (c.delivery.id.clone(), c.lease.clone(), done)
        })
        .collect();
    assert_eq!(
        store.record_attempts(&batch).await.unwrap(),
        [true, true, true]
    );
    let history = store
        .deliveries(&tenant("t1"), &webhook, None, None, 10)
        .await
        .unwrap()
        .deliveries;
    assert!(
        history
            .iter()
            .all(|d| d.status == DeliveryStatus::Succeeded && d.attempts == 1),
        "{history:?}"
    );
    let ok = history
        .iter()
        .filter(|d| d.response_body.as_deref() == Some("ok"))
        .count();
    assert_eq!(ok, 2, "{history:?}");
    assert!(
        store
            .claim_due(
                T0.plus(Duration::from_secs(60)),
                Duration::from_secs(60),
                10
            )
            .await
            .unwrap()
            .is_empty()
    );
}

/// A delivery claimed [`MAX_UNRECORDED_CLAIMS`] times in a row without a recorded attempt fails
/// at its next claim; a deferral gives its claim back, and a recorded attempt starts the count
/// again.
pub async fn a_delivery_never_recorded_fails_after_its_claims_run_out(store: &dyn Store) {
    let webhook = subscribe(store, "t1", &["incident.updated"], false).await;
    store
        .publish(&event("t1", "incident.updated"))
        .await
        .unwrap();
    let lease = Duration::from_secs(60);
    let mut now = T0;
    // One claim given back by a deferral, then one recorded retry: neither counts.
    let first = store.claim_due(now, lease, 1).await.unwrap().remove(0);
    assert!(
        store
            .defer_delivery(&first.delivery.id, &first.lease, now)
            .await
            .unwrap()
    );
    let second = store.claim_due(now, lease, 1).await.unwrap().remove(0);
    assert!(
        store
            .record_attempt(
                &second.delivery.id,
                &second.lease,
                &attempt(NextStep::RetryAt(now), 503)
            )
            .await
            .unwrap()
    );
    for n in 0..MAX_UNRECORDED_CLAIMS {
        let claimed = store.claim_due(now, lease, 1).await.unwrap();
        assert_eq!(claimed.len(), 1, "claim {n}");
        now = now.plus(lease);
    }
    assert!(store.claim_due(now, lease, 1).await.unwrap().is_empty());
    let history = store
        .deliveries(&tenant("t1"), &webhook, None, None, 10)
        .await
        .unwrap()
        .deliveries;
    assert_eq!(
        (
            history[0].status,
            history[0].attempts,
            history[0].next_attempt_at
        ),
        (DeliveryStatus::Failed, 1, None)
    );
    assert_eq!(history[0].response_body.as_deref(), Some(UNRECORDED_BODY));
}

/// The deliveries of a disabled subscription are parked at their next claim (test sends
/// excepted) and are due again when it is enabled.
pub async fn a_disabled_subscription_s_deliveries_wait_until_it_is_enabled(store: &dyn Store) {
    let webhook = subscribe(store, "t1", &["incident.updated"], false).await;
    store
        .publish(&event("t1", "incident.updated"))
        .await
        .unwrap();
    let mut stored = store
        .webhook(&tenant("t1"), &webhook)
        .await
        .unwrap()
        .unwrap();
    stored.webhook.disabled = true;
    assert!(store.replace_webhook(&stored).await.unwrap());
    let test = store
        .publish_to(&event("t1", "webhook.test"), &webhook)
        .await
        .unwrap()
        .unwrap();
    let lease = Duration::from_secs(60);
    let claimed = store.claim_due(T0, lease, 10).await.unwrap();
    assert_eq!(
        claimed.iter().map(|c| &c.delivery.id).collect::<Vec<_>>(),
        [&test],
        "only the test send goes to a disabled subscription"
    );
    let done = attempt(NextStep::Succeeded, 200);
    assert!(
        store
            .record_attempt(&test, &claimed[0].lease, &done)
            .await
            .unwrap()
    );
    let later = T0.plus(Duration::from_secs(3600));
    assert!(store.claim_due(later, lease, 10).await.unwrap().is_empty());
    let parked = store
        .deliveries(
            &tenant("t1"),
            &webhook,
            Some(DeliveryStatus::Queued),
            None,
            10,
        )
        .await
        .unwrap()
        .deliveries;
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].next_attempt_at, None);

    stored.version += 1;
    stored.webhook.disabled = false;
    stored.webhook.updated_at = later;
    assert!(store.replace_webhook(&stored).await.unwrap());
    let claimed = store.claim_due(later, lease, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].event.event_type, "incident.updated");
}
