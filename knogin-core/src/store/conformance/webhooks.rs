//! Conformance checks of webhook subscriptions.

use std::time::Duration;

use super::{T0, tenant};
use crate::id::{AppId, WebhookId};
use crate::store::{Cursor, Store, StoreError};
use crate::webhooks::{StoredWebhook, Webhook};

/// The app that owns the even-numbered subscriptions; the odd ones predate owners.
fn owner() -> AppId {
    AppId::parse("app_0123456789abcdef0123456789abcdef").unwrap()
}

fn subscription(tenant_id: &str, n: u64) -> StoredWebhook {
    StoredWebhook {
        webhook: Webhook {
            id: WebhookId::generate(),
            tenant: tenant(tenant_id),
            owner: n.is_multiple_of(2).then(owner),
            url: format!("https://integrator.example/hooks/{n}"),
            events: vec!["incident.updated".into(), "case.updated".into()],
            description: n.is_multiple_of(2).then(|| format!("hook {n}")),
            disabled: false,
            disabled_reason: None,
            rate_limit: n.is_multiple_of(3).then_some(50),
            created_at: T0.plus(Duration::from_secs(n)),
            updated_at: T0.plus(Duration::from_secs(n)),
        },
        secret: vec![1, 2, 3, u8::try_from(n).unwrap_or(0)],
        previous_secret: None,
        failing_since: None,
        version: 0,
    }
}

/// A subscription reads back whole within its tenant and nowhere else; it needs its tenant.
pub async fn webhooks_round_trip_within_their_tenant(store: &dyn Store) {
    let orphan = subscription("nobody", 1);
    assert!(matches!(
        store.insert_webhook(&orphan).await,
        Err(StoreError::MissingParent)
    ));
    store.ensure_tenant(&tenant("t1"), T0).await.unwrap();
    store.ensure_tenant(&tenant("t2"), T0).await.unwrap();
    let stored = subscription("t1", 2);
    store.insert_webhook(&stored).await.unwrap();
    let id = &stored.webhook.id;
    assert_eq!(
        store.webhook(&tenant("t1"), id).await.unwrap(),
        Some(stored.clone())
    );
    assert_eq!(store.webhook(&tenant("t2"), id).await.unwrap(), None);
    assert!(matches!(
        store.insert_webhook(&stored).await,
        Err(StoreError::Conflict)
    ));

    let mut changed = stored.clone();
    changed.webhook.events = vec!["incident.closed".into()];
    changed.webhook.disabled = true;
    changed.previous_secret = Some((stored.secret.clone(), T0.plus(Duration::from_secs(86_400))));
    changed.secret = vec![9, 9];
    let foreign = StoredWebhook {
        webhook: Webhook {
            tenant: tenant("t2"),
            ..changed.webhook.clone()
        },
        ..changed.clone()
    };
    assert!(!store.replace_webhook(&foreign).await.unwrap());
    assert!(store.replace_webhook(&changed).await.unwrap());
    let read = store.webhook(&tenant("t1"), id).await.unwrap().unwrap();
    assert_eq!(read.version, 1, "each change counts a version");
    assert_eq!(
        read,
        StoredWebhook {
            version: 1,
            ..changed.clone()
        }
    );
    // A change made on what was read before that one is refused, and changes nothing.
    let stale = StoredWebhook {
        secret: stored.secret.clone(),
        ..changed.clone()
    };
    assert!(!store.replace_webhook(&stale).await.unwrap());
    let changed = read;

    let later = T0.plus(Duration::from_secs(10));
    assert!(
        !store
            .delete_webhook(&tenant("t2"), id, later)
            .await
            .unwrap()
    );
    assert!(
        store
            .delete_webhook(&tenant("t1"), id, later)
            .await
            .unwrap()
    );
    assert_eq!(store.webhook(&tenant("t1"), id).await.unwrap(), None);
    assert!(
        !store
            .delete_webhook(&tenant("t1"), id, later)
            .await
            .unwrap()
    );
    assert!(!store.replace_webhook(&changed).await.unwrap());
}

/// Listing is newest first, in pages, within the tenant (and its owner's, when asked), without
/// deleted subscriptions; the tenant's live subscriptions are counted.
pub async fn webhooks_list_newest_first_in_pages(store: &dyn Store) {
    store.ensure_tenant(&tenant("t1"), T0).await.unwrap();
    store.ensure_tenant(&tenant("t2"), T0).await.unwrap();
    let mut ids = Vec::new();
    for n in 0..5 {
        let stored = subscription("t1", n);
        store.insert_webhook(&stored).await.unwrap();
        ids.push(stored.webhook.id);
    }
    store.insert_webhook(&subscription("t2", 9)).await.unwrap();
    store
        .delete_webhook(&tenant("t1"), &ids[2], T0)
        .await
        .unwrap();
    let first = store
        .list_webhooks(&tenant("t1"), None, None, 2)
        .await
        .unwrap();
    let listed: Vec<&WebhookId> = first.webhooks.iter().map(|w| &w.id).collect();
    assert_eq!(listed, [&ids[4], &ids[3]]);
    let second = store
        .list_webhooks(&tenant("t1"), None, first.next, 2)
        .await
        .unwrap();
    let listed: Vec<&WebhookId> = second.webhooks.iter().map(|w| &w.id).collect();
    assert_eq!(listed, [&ids[1], &ids[0]]);
    assert_eq!(second.next, None, "the second page is the last");
    assert!(
        store
            .list_webhooks(&tenant("t1"), None, Some(Cursor(i64::MAX)), 10)
            .await
            .unwrap()
            .webhooks
            .len()
            == 4
    );
    let owned = store
        .list_webhooks(&tenant("t1"), Some(&owner()), None, 10)
        .await
        .unwrap();
    let listed: Vec<&WebhookId> = owned.webhooks.iter().map(|w| &w.id).collect();
    assert_eq!(listed, [&ids[4], &ids[0]]);
    assert!(
        store
            .list_webhooks(&tenant("t2"), Some(&owner()), None, 10)
            .await
            .unwrap()
            .webhooks
            .is_empty()
    );
    assert_eq!(store.count_webhooks(&tenant("t1")).await.unwrap(), 4);
    assert_eq!(store.count_webhooks(&tenant("t3")).await.unwrap(), 0);
}
