//! Conformance checks of the delivery backlog and of purging events (retention and erasure).

use std::time::Duration;

use super::deliveries::{attempt, event, subscribe};
use super::{T0, tenant};
use crate::id::WebhookId;
use crate::store::{Backlog, DeliveryStatus, Event, NextStep, PurgeFilter, Purged, Store};

/// An event of `tenant_id` published at `at`.
fn event_at(tenant_id: &str, at: crate::clock::Timestamp) -> Event {
    Event {
        created_at: at,
        ..event(tenant_id, "incident.updated")
    }
}

/// The backlog counts the deliveries due, leased or not, and says since when the oldest is due.
pub async fn the_backlog_counts_due_deliveries_and_the_oldest(store: &dyn Store) {
    subscribe(store, "t1", &["incident.updated"], false).await;
    assert_eq!(store.backlog(T0).await.unwrap(), Backlog::default());
    store.publish(&event_at("t1", T0)).await.unwrap();
    store
        .publish(&event_at("t1", T0.plus(Duration::from_secs(10))))
        .await
        .unwrap();
    let now = T0.plus(Duration::from_secs(5));
    assert_eq!(
        store.backlog(now).await.unwrap(),
        Backlog {
            due: 1,
            oldest_due_at: Some(T0)
        }
    );
    let later = T0.plus(Duration::from_secs(20));
    let claimed = store
        .claim_due(later, Duration::from_secs(60), 1)
        .await
        .unwrap();
    assert_eq!(store.backlog(later).await.unwrap().due, 2, "leased is due");
    store
        .record_attempt(
            &claimed[0].delivery.id,
            &claimed[0].lease,
            &attempt(NextStep::Succeeded, 200),
        )
        .await
        .unwrap();
    assert_eq!(
        store.backlog(later).await.unwrap(),
        Backlog {
            due: 1,
            oldest_due_at: Some(T0.plus(Duration::from_secs(10)))
        }
    );
}

/// Two subscriptions of `t1` and one of `t2`; three `t1` events a second apart from `T0`, one
/// of `t2` at `T0`, and one of `t1` at the returned time, claimed then. Every delivery is
/// finished (failed) but one of the third event's, which is retrying, and the newest event's,
/// still leased. Returns the subscriptions and the newest event's time.
async fn finished_and_pending(
    store: &dyn Store,
) -> (WebhookId, WebhookId, WebhookId, crate::clock::Timestamp) {
    let a = subscribe(store, "t1", &["incident.updated"], false).await;
    let b = subscribe(store, "t1", &["incident.updated"], false).await;
    let other = subscribe(store, "t2", &["incident.updated"], false).await;
    for n in 0..3 {
        store
            .publish(&event_at("t1", T0.plus(Duration::from_secs(n))))
            .await
            .unwrap();
    }
    store.publish(&event_at("t2", T0)).await.unwrap();
    let newer = T0.plus(Duration::from_secs(100));
    store.publish(&event_at("t1", newer)).await.unwrap();
    let claimed = store
        .claim_due(newer, Duration::from_secs(60), 100)
        .await
        .unwrap();
    let third = T0.plus(Duration::from_secs(2));
    let mut kept_retrying = false;
    for c in &claimed {
        let next = if c.event.created_at == third && !kept_retrying {
            kept_retrying = true;
            NextStep::RetryAt(newer.plus(Duration::from_secs(600)))
        } else if c.event.created_at == newer {
            continue;
        } else {
            NextStep::Failed
        };
        store
            .record_attempt(&c.delivery.id, &c.lease, &attempt(next, 500))
            .await
            .unwrap();
    }
    (a, b, other, newer)
}

/// A purge deletes finished events with all their deliveries, oldest first and in batches,
/// keeps those with pending deliveries unless told, and keeps other tenants' and newer ones.
pub async fn purges_delete_finished_events_with_their_deliveries(store: &dyn Store) {
    let (a, b, other, newer) = finished_and_pending(store).await;
    let t1_before = |include_pending| PurgeFilter {
        tenant: Some(tenant("t1")),
        before: Some(T0.plus(Duration::from_secs(50))),
        include_pending,
    };
    assert_eq!(
        store.purge_events(&t1_before(false), 1).await.unwrap(),
        Purged {
            events: 1,
            deliveries: 2
        }
    );
    assert_eq!(
        store.purge_events(&t1_before(false), 10).await.unwrap(),
        Purged {
            events: 1,
            deliveries: 2
        }
    );
    assert_eq!(
        store.purge_events(&t1_before(false), 10).await.unwrap(),
        Purged::default(),
        "the third event has a pending delivery"
    );
    let history = |webhook| async move {
        store
            .deliveries(&tenant("t1"), webhook, None, None, 10)
            .await
            .unwrap()
            .deliveries
    };
    let left = history(&a).await;
    assert_eq!(left.len(), 2, "the third and the newer event's");
    assert!(
        left.iter()
            .all(|d| d.created_at >= T0.plus(Duration::from_secs(2)))
    );
    assert_eq!(history(&b).await.len(), 2);

    assert_eq!(
        store.purge_events(&t1_before(true), 10).await.unwrap(),
        Purged {
            events: 1,
            deliveries: 2
        }
    );
    let left = history(&a).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].created_at, newer);
    assert_eq!(left[0].status, DeliveryStatus::Queued);
    // Nothing of t2 went; a purge of every tenant takes its finished event.
    let t2 = store
        .deliveries(&tenant("t2"), &other, None, None, 10)
        .await
        .unwrap();
    assert_eq!(t2.deliveries.len(), 1);
    let everyone = PurgeFilter {
        tenant: None,
        before: None,
        include_pending: false,
    };
    assert_eq!(
        store.purge_events(&everyone, 10).await.unwrap(),
        Purged {
            events: 1,
            deliveries: 1
        }
    );
    // The newer event's deliveries are still due and claimable.
    assert_eq!(store.backlog(newer).await.unwrap().due, 2);
}
