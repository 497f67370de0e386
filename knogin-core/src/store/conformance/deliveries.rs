//! Conformance checks of events and deliveries: the outbox fan-out, leases, attempts.

use std::collections::HashSet;
use std::time::Duration;

use super::{T0, tenant};
use crate::clock::Timestamp;
use crate::id::{DeliveryId, EventId, WebhookId};
use crate::store::{Attempt, ClaimedDelivery, DeliveryStatus, Event, NextStep, Store, StoreError};
use crate::webhooks::{StoredWebhook, Webhook};

pub(super) async fn subscribe(
    store: &dyn Store,
    tenant_id: &str,
    events: &[&str],
    disabled: bool,
) -> WebhookId {
    store.ensure_tenant(&tenant(tenant_id), T0).await.unwrap();
    let stored = StoredWebhook {
        webhook: Webhook {
            id: WebhookId::generate(),
            tenant: tenant(tenant_id),
            owner: None,
            url: "https://integrator.example/hooks".into(),
            events: events.iter().map(|e| (*e).to_owned()).collect(),
            description: None,
            disabled,
            disabled_reason: None,
            rate_limit: None,
            created_at: T0,
            updated_at: T0,
        },
        secret: vec![7; 8],
        previous_secret: None,
        failing_since: None,
        version: 0,
    };
    store.insert_webhook(&stored).await.unwrap();
    stored.webhook.id
}

pub(super) fn event(tenant_id: &str, event_type: &str) -> Event {
    Event {
        id: EventId::generate(),
        tenant: tenant(tenant_id),
        event_type: event_type.into(),
        data: r#"{"id":"inc_1"}"#.into(),
        created_at: T0,
    }
}

/// A subscription of `t1` to `incident.updated`, three events published to it, and their
/// deliveries claimed at `T0` for a minute.
pub(super) async fn three_claimed(store: &dyn Store) -> (WebhookId, Vec<ClaimedDelivery>) {
    let webhook = subscribe(store, "t1", &["incident.updated"], false).await;
    for _ in 0..3 {
        store
            .publish(&event("t1", "incident.updated"))
            .await
            .unwrap();
    }
    let claimed = store
        .claim_due(T0, Duration::from_secs(60), 10)
        .await
        .unwrap();
    (webhook, claimed)
}

/// Since when every attempt to `t1`'s subscription `webhook` has failed.
async fn failing_since(store: &dyn Store, webhook: &WebhookId) -> Option<Timestamp> {
    store
        .webhook(&tenant("t1"), webhook)
        .await
        .unwrap()
        .unwrap()
        .failing_since
}

pub(super) fn attempt(next: NextStep, status: u16) -> Attempt {
    Attempt {
        attempted_at: T0,
        response_status: Some(status),
        duration_ms: 12,
        response_body: Some("ok".into()),
        next,
        disable_reason: (next == NextStep::FailedAndDisable).then(|| "gone".to_owned()),
    }
}

/// An event gets one queued delivery per enabled, live subscription of its tenant naming its
/// type; a test send goes to one live subscription of the tenant, disabled or not.
pub async fn publishing_fans_out_to_matching_enabled_subscriptions(store: &dyn Store) {
    let a = subscribe(store, "t1", &["incident.updated"], false).await;
    let b = subscribe(store, "t1", &["case.updated", "incident.updated"], false).await;
    let c = subscribe(store, "t1", &["case.updated"], false).await;
    let off = subscribe(store, "t1", &["incident.updated"], true).await;
    let gone = subscribe(store, "t1", &["incident.updated"], false).await;
    let other = subscribe(store, "t2", &["incident.updated"], false).await;
    store
        .delete_webhook(&tenant("t1"), &gone, T0)
        .await
        .unwrap();

    let made = store
        .publish(&event("t1", "incident.updated"))
        .await
        .unwrap();
    assert_eq!(made.len(), 2);
    for (webhook, count) in [(&a, 1), (&b, 1), (&c, 0), (&off, 0), (&gone, 0)] {
        let page = store
            .deliveries(&tenant("t1"), webhook, None, None, 10)
            .await
            .unwrap();
        assert_eq!(page.deliveries.len(), count, "{webhook:?}");
        if let Some(d) = page.deliveries.first() {
            assert_eq!(
                (d.status, d.attempts, d.next_attempt_at),
                (DeliveryStatus::Queued, 0, Some(T0))
            );
            assert_eq!(d.event_type, "incident.updated");
            assert!(made.contains(&d.id));
        }
    }
    assert!(
        store
            .deliveries(&tenant("t2"), &other, None, None, 10)
            .await
            .unwrap()
            .deliveries
            .is_empty()
    );

    let test = event("t1", "webhook.test");
    assert!(store.publish_to(&test, &off).await.unwrap().is_some());
    assert_eq!(
        store
            .publish_to(&event("t1", "webhook.test"), &other)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .publish_to(&event("t1", "webhook.test"), &gone)
            .await
            .unwrap(),
        None
    );
}

/// A due delivery is claimed by one claimer until its lease ends; then it is due again.
pub async fn deliveries_are_claimed_once_until_their_lease_ends(store: &dyn Store) {
    subscribe(store, "t1", &["incident.updated"], false).await;
    for _ in 0..6 {
        store
            .publish(&event("t1", "incident.updated"))
            .await
            .unwrap();
    }
    let lease = Duration::from_secs(60);
    let first = store.claim_due(T0, lease, 4).await.unwrap();
    let second = store.claim_due(T0, lease, 4).await.unwrap();
    assert_eq!((first.len(), second.len()), (4, 2));
    assert!(store.claim_due(T0, lease, 4).await.unwrap().is_empty());
    let claimed = &first[0];
    assert_eq!(claimed.event.data, r#"{"id":"inc_1"}"#);
    assert_eq!(claimed.webhook.webhook.id, claimed.delivery.webhook_id);
    assert_eq!(claimed.webhook.secret, vec![7; 8]);

    // The leases end: four claimers at once share the six without overlap.
    let later = T0.plus(lease);
    let (w, x, y, z) = tokio::join!(
        store.claim_due(later, lease, 2),
        store.claim_due(later, lease, 2),
        store.claim_due(later, lease, 2),
        store.claim_due(later, lease, 2),
    );
    let ids: Vec<DeliveryId> = [w, x, y, z]
        .into_iter()
        .flat_map(|c| c.unwrap())
        .map(|c| c.delivery.id)
        .collect();
    assert_eq!(ids.len(), 6, "{ids:?}");
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 6);
}

/// An attempt is recorded only under the lease that claimed it, and decides what follows.
pub async fn attempts_are_recorded_under_their_lease(store: &dyn Store) {
    let webhook = subscribe(store, "t1", &["incident.updated"], false).await;
    store
        .publish(&event("t1", "incident.updated"))
        .await
        .unwrap();
    let lease = Duration::from_secs(60);
    let claimed = store.claim_due(T0, lease, 10).await.unwrap().remove(0);
    let id = &claimed.delivery.id;
    let retry_at = T0.plus(Duration::from_secs(5));
    let retry = attempt(NextStep::RetryAt(retry_at), 503);
    assert!(
        !store
            .record_attempt(id, "another-lease", &retry)
            .await
            .unwrap()
    );
    assert!(
        store
            .record_attempt(id, &claimed.lease, &retry)
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_attempt(id, &claimed.lease, &retry)
            .await
            .unwrap(),
        "the lease was released"
    );
    let d = store
        .deliveries(&tenant("t1"), &webhook, None, None, 1)
        .await
        .unwrap()
        .deliveries
        .remove(0);
    assert_eq!(
        (d.status, d.attempts, d.next_attempt_at),
        (DeliveryStatus::Retrying, 1, Some(retry_at))
    );
    assert_eq!(
        (d.response_status, d.duration_ms, d.response_body.as_deref()),
        (Some(503), Some(12), Some("ok"))
    );
    assert_eq!(d.attempted_at, Some(T0));
    assert!(
        store.claim_due(T0, lease, 10).await.unwrap().is_empty(),
        "not due before its retry"
    );

    let again = store
        .claim_due(retry_at, lease, 10)
        .await
        .unwrap()
        .remove(0);
    assert!(
        store
            .record_attempt(id, &again.lease, &attempt(NextStep::Succeeded, 204))
            .await
            .unwrap()
    );
    let done = store
        .deliveries(
            &tenant("t1"),
            &webhook,
            Some(DeliveryStatus::Succeeded),
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(done.deliveries.len(), 1);
    assert_eq!(done.deliveries[0].next_attempt_at, None);
    assert!(
        store
            .claim_due(T0.plus(lease * 10), lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .deliveries(
                &tenant("t1"),
                &webhook,
                Some(DeliveryStatus::Failed),
                None,
                10
            )
            .await
            .unwrap()
            .deliveries
            .is_empty()
    );
}

/// An endpoint that answers `410 Gone` fails its delivery and has its subscription disabled.
pub async fn gone_fails_the_delivery_and_disables_its_subscription(store: &dyn Store) {
    let webhook = subscribe(store, "t1", &["incident.updated"], false).await;
    store
        .publish(&event("t1", "incident.updated"))
        .await
        .unwrap();
    let lease = Duration::from_secs(60);
    let gone = store.claim_due(T0, lease, 10).await.unwrap().remove(0);
    assert!(
        store
            .record_attempt(
                &gone.delivery.id,
                &gone.lease,
                &attempt(NextStep::FailedAndDisable, 410)
            )
            .await
            .unwrap()
    );
    let disabled = store
        .webhook(&tenant("t1"), &webhook)
        .await
        .unwrap()
        .unwrap();
    assert!(disabled.webhook.disabled);
    assert_eq!(disabled.webhook.disabled_reason.as_deref(), Some("gone"));
    assert_eq!(disabled.failing_since, Some(T0));
    let failed = store
        .deliveries(
            &tenant("t1"),
            &webhook,
            Some(DeliveryStatus::Failed),
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(failed.deliveries.len(), 1);
}

/// A failed attempt marks its subscription failing since then, a later failure keeps the first
/// time, and a success clears it; a success on a healthy subscription changes nothing.
pub async fn failing_since_marks_the_first_failure_until_a_success(store: &dyn Store) {
    let webhook = subscribe(store, "t1", &["incident.updated"], false).await;
    let lease = Duration::from_secs(60);
    let steps = [
        (NextStep::Succeeded, 200, T0, None),
        (NextStep::RetryAt(T0.plus(lease)), 500, T0, Some(T0)),
        (
            NextStep::RetryAt(T0.plus(lease)),
            500,
            T0.plus(lease),
            Some(T0),
        ),
        (NextStep::Succeeded, 200, T0.plus(lease), None),
    ];
    for (next, status, at, expected) in steps {
        store
            .publish(&event("t1", "incident.updated"))
            .await
            .unwrap();
        let claimed = store.claim_due(at, lease, 1).await.unwrap().remove(0);
        let attempt = Attempt {
            attempted_at: at,
            ..attempt(next, status)
        };
        assert!(
            store
                .record_attempt(&claimed.delivery.id, &claimed.lease, &attempt)
                .await
                .unwrap()
        );
        assert_eq!(
            failing_since(store, &webhook).await,
            expected,
            "after {next:?}"
        );
    }
}

/// A batch of attempts changes each subscription's health as recording them one by one, in
/// order, would: the first failure after the last success marks it failing, an earlier mark is
/// kept through failures, and a success in the middle does not hide a later failure.
pub async fn a_batch_changes_health_as_its_attempts_would_one_by_one(store: &dyn Store) {
    let mixed = subscribe(store, "t1", &["incident.updated"], false).await;
    let failing = subscribe(store, "t1", &["case.updated"], false).await;
    let lease = Duration::from_secs(60);
    let retry = NextStep::RetryAt(T0.plus(lease));
    // `failing` has been failing since T0.
    store.publish(&event("t1", "case.updated")).await.unwrap();
    let first = store.claim_due(T0, lease, 1).await.unwrap().remove(0);
    let recorded = store
        .record_attempt(&first.delivery.id, &first.lease, &attempt(retry, 500))
        .await
        .unwrap();
    assert!(recorded);
    for _ in 0..3 {
        store
            .publish(&event("t1", "incident.updated"))
            .await
            .unwrap();
        store.publish(&event("t1", "case.updated")).await.unwrap();
    }
    let claimed = store.claim_due(T0, lease, 10).await.unwrap();
    assert_eq!(claimed.len(), 6);
    let at = |s| T0.plus(Duration::from_secs(s));
    let (mut to_mixed, mut to_failing) = (0, 0);
    let batch: Vec<_> = claimed
        .iter()
        .map(|c| {
            let step = if c.webhook.webhook.id == mixed {
                to_mixed += 1;
                [(retry, 500), (NextStep::Succeeded, 200), (retry, 503)][to_mixed - 1]
            } else {
                to_failing += 1;
                (retry, 500)
            };
            let seconds = u64::try_from(to_mixed * 10 + to_failing).unwrap();
            let attempt = Attempt {
                attempted_at: at(seconds),
                ..attempt(step.0, step.1)
            };
            (c.delivery.id.clone(), c.lease.clone(), attempt)
        })
        .collect();
    assert_eq!(store.record_attempts(&batch).await.unwrap(), vec![true; 6]);
    let last_failure_of_mixed = batch
        .iter()
        .zip(&claimed)
        .filter(|(_, c)| c.webhook.webhook.id == mixed)
        .map(|((.., a), _)| a.attempted_at)
        .next_back();
    assert_eq!(failing_since(store, &mixed).await, last_failure_of_mixed);
    assert_eq!(failing_since(store, &failing).await, Some(T0));
}

/// An event belongs to its tenant: publishing for a tenant the store does not have stores
/// nothing and is [`StoreError::MissingParent`].
pub async fn publishing_for_an_unknown_tenant_is_refused(store: &dyn Store) {
    let refused = store.publish(&event("nobody", "incident.updated")).await;
    assert!(
        matches!(refused, Err(StoreError::MissingParent)),
        "{refused:?}"
    );
    let refused = store
        .publish_many(&[event("nobody", "incident.updated")])
        .await;
    assert!(
        matches!(refused, Err(StoreError::MissingParent)),
        "{refused:?}"
    );
}

/// Deleting a subscription cancels its deliveries not yet made; its history stays readable.
pub async fn deleting_a_subscription_cancels_its_pending_deliveries(store: &dyn Store) {
    let webhook = subscribe(store, "t1", &["incident.updated"], false).await;
    store
        .publish(&event("t1", "incident.updated"))
        .await
        .unwrap();
    store
        .publish(&event("t1", "incident.updated"))
        .await
        .unwrap();
    let lease = Duration::from_secs(60);
    let claimed = store.claim_due(T0, lease, 1).await.unwrap().remove(0);
    assert!(
        store
            .record_attempt(
                &claimed.delivery.id,
                &claimed.lease,
                &attempt(NextStep::Succeeded, 200)
            )
            .await
            .unwrap()
    );
    assert!(
        store
            .delete_webhook(&tenant("t1"), &webhook, T0)
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_due(T0.plus(lease), lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let history = store
        .deliveries(&tenant("t1"), &webhook, None, None, 10)
        .await
        .unwrap();
    let statuses: Vec<DeliveryStatus> = history.deliveries.iter().map(|d| d.status).collect();
    assert_eq!(
        statuses,
        [DeliveryStatus::Cancelled, DeliveryStatus::Succeeded]
    );
}

/// A delivery can be made due again by id, and failed ones since a time all at once; neither
/// for another tenant's or a deleted subscription.
pub async fn deliveries_can_be_sent_again(store: &dyn Store) {
    let webhook = subscribe(store, "t1", &["incident.updated"], false).await;
    let lease = Duration::from_secs(60);
    let old = Event {
        created_at: T0.plus(Duration::from_secs(1)),
        ..event("t1", "incident.updated")
    };
    store
        .publish(&event("t1", "incident.updated"))
        .await
        .unwrap();
    store.publish(&old).await.unwrap();
    for claimed in store.claim_due(T0.plus(lease), lease, 10).await.unwrap() {
        let failed = attempt(NextStep::Failed, 500);
        assert!(
            store
                .record_attempt(&claimed.delivery.id, &claimed.lease, &failed)
                .await
                .unwrap()
        );
    }
    let later = T0.plus(Duration::from_secs(100));
    assert_eq!(
        store
            .recover_deliveries(&tenant("t2"), &webhook, T0, later)
            .await
            .unwrap(),
        0
    );
    let since = T0.plus(Duration::from_secs(1));
    assert_eq!(
        store
            .recover_deliveries(&tenant("t1"), &webhook, since, later)
            .await
            .unwrap(),
        1
    );
    let due = store.claim_due(later, lease, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].event.id, old.id);
    assert_eq!(due[0].delivery.attempts, 1);

    let failed = store
        .deliveries(
            &tenant("t1"),
            &webhook,
            Some(DeliveryStatus::Failed),
            None,
            10,
        )
        .await
        .unwrap();
    let id = &failed.deliveries[0].id;
    assert!(
        !store
            .retry_delivery(&tenant("t2"), &webhook, id, later)
            .await
            .unwrap()
    );
    assert!(
        store
            .retry_delivery(&tenant("t1"), &webhook, id, later)
            .await
            .unwrap()
    );
    assert!(
        !store
            .retry_delivery(&tenant("t1"), &webhook, &DeliveryId::generate(), later)
            .await
            .unwrap()
    );
    let queued = store
        .deliveries(
            &tenant("t1"),
            &webhook,
            Some(DeliveryStatus::Queued),
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        queued.deliveries.len(),
        2,
        "the recovered one (leased) and the resent one"
    );
    store
        .delete_webhook(&tenant("t1"), &webhook, later)
        .await
        .unwrap();
    assert!(
        !store
            .retry_delivery(&tenant("t1"), &webhook, id, later)
            .await
            .unwrap()
    );
}

/// Send slots are counted per subscription and second; a deferred delivery waits, unattempted.
pub async fn send_slots_are_counted_per_second_and_deferred_deliveries_wait(store: &dyn Store) {
    let webhook = subscribe(store, "t1", &["incident.updated"], false).await;
    let other = subscribe(store, "t1", &["case.updated"], false).await;
    let second = |s| T0.plus(Duration::from_secs(s));
    for _ in 0..2 {
        assert!(store.take_send_slot(&webhook, second(0), 2).await.unwrap());
    }
    assert!(!store.take_send_slot(&webhook, second(0), 2).await.unwrap());
    assert!(store.take_send_slot(&other, second(0), 2).await.unwrap());
    assert!(store.take_send_slot(&webhook, second(1), 2).await.unwrap());

    store
        .publish(&event("t1", "incident.updated"))
        .await
        .unwrap();
    let lease = Duration::from_secs(60);
    let claimed = store.claim_due(T0, lease, 10).await.unwrap().remove(0);
    let id = &claimed.delivery.id;
    assert!(
        !store
            .defer_delivery(id, "another-lease", second(1))
            .await
            .unwrap()
    );
    assert!(
        store
            .defer_delivery(id, &claimed.lease, second(1))
            .await
            .unwrap()
    );
    assert!(store.claim_due(T0, lease, 10).await.unwrap().is_empty());
    let again = store
        .claim_due(second(1), lease, 10)
        .await
        .unwrap()
        .remove(0);
    assert_eq!((&again.delivery.id, again.delivery.attempts), (id, 0));
    assert_eq!(again.delivery.status, DeliveryStatus::Queued);
}

/// A batch of attempts is recorded together; one whose lease is not held is skipped.
pub async fn attempts_are_recorded_in_batches(store: &dyn Store) {
    let (_, claimed) = three_claimed(store).await;
    let batch: Vec<_> = claimed
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let lease = if i == 1 {
                "stale".to_owned()
            } else {
                c.lease.clone()
            };
            (
                c.delivery.id.clone(),
                lease,
                attempt(NextStep::Succeeded, 200),
            )
        })
        .collect();
    assert_eq!(
        store.record_attempts(&batch).await.unwrap(),
        [true, false, true]
    );
    let later = T0.plus(Duration::from_secs(60));
    let left = store
        .claim_due(later, Duration::from_secs(60), 10)
        .await
        .unwrap();
    assert_eq!(
        left.len(),
        1,
        "the unrecorded one is due again when its lease ends"
    );
    assert_eq!(left[0].delivery.id, claimed[1].delivery.id);
}

/// Eight claimers racing over 200 due deliveries, batch after batch, never share one.
pub async fn racing_claimers_never_share_a_delivery(store: &dyn Store) {
    subscribe(store, "t1", &["incident.updated"], false).await;
    for _ in 0..200 {
        store
            .publish(&event("t1", "incident.updated"))
            .await
            .unwrap();
    }
    let lease = Duration::from_secs(60);
    let claimer = || async {
        let mut mine = Vec::new();
        loop {
            let batch = store.claim_due(T0, lease, 7).await.unwrap();
            if batch.is_empty() {
                return mine;
            }
            mine.extend(batch.into_iter().map(|c| c.delivery.id));
        }
    };
    let all: Vec<DeliveryId> = futures_util::future::join_all((0..8).map(|_| claimer()))
        .await
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(all.len(), 200, "every delivery claimed once");
    assert_eq!(
        all.iter().collect::<HashSet<_>>().len(),
        200,
        "none claimed twice"
    );
}

/// A batch of events is published together, each with the deliveries `publish` would make,
/// listed in the order the events were published; another tenant's event in the batch goes to
/// its own subscriptions only.
pub async fn events_are_published_in_batches(store: &dyn Store) {
    let webhook = subscribe(store, "t1", &["incident.updated"], false).await;
    let elsewhere = subscribe(store, "t2", &["incident.updated"], false).await;
    let events = [
        event("t1", "incident.updated"),
        event("t1", "case.updated"),
        event("t2", "incident.updated"),
        event("t1", "incident.updated"),
    ];
    let made = store.publish_many(&events).await.unwrap();
    let counts: Vec<usize> = made.iter().map(Vec::len).collect();
    assert_eq!(counts, [1, 0, 1, 1]);
    let page = store
        .deliveries(&tenant("t1"), &webhook, None, None, 10)
        .await
        .unwrap();
    let listed: Vec<(&DeliveryId, &EventId)> = page
        .deliveries
        .iter()
        .map(|d| (&d.id, &d.event_id))
        .collect();
    assert_eq!(
        listed,
        [(&made[3][0], &events[3].id), (&made[0][0], &events[0].id)],
        "newest first, in the order published"
    );
    let theirs = store
        .deliveries(&tenant("t2"), &elsewhere, None, None, 10)
        .await
        .unwrap();
    assert_eq!(theirs.deliveries.len(), 1);
    assert_eq!(theirs.deliveries[0].id, made[2][0]);
    assert!(store.publish_many(&[]).await.unwrap().is_empty());
}
