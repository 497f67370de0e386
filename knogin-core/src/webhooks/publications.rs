//! Waking delivery workers when deliveries become due, instead of leaving them to the next poll.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use event_listener::{Event, EventListener};

/// Tells delivery workers that deliveries were published (or made due again). A handle
/// notifies it after its own publishes; a store that can hear other processes publish
/// notifies it too (see [`PublicationBus::watch`](crate::store::PublicationBus::watch)).
/// Cheap to clone: clones notify the same workers.
#[derive(Debug, Clone, Default)]
pub struct PublicationSignal(Arc<Event>);

impl PublicationSignal {
    /// Wakes every worker waiting on a [`PublicationSignal::listen`] future.
    pub fn notify(&self) {
        self.0.notify(usize::MAX);
    }

    /// A future that resolves at the next [`PublicationSignal::notify`]. It counts from the
    /// moment it is made, not from its first poll: made before a worker looks for due
    /// deliveries, it also catches a publication that lands while the worker looks.
    pub fn listen(&self) -> NextPublication {
        NextPublication(self.0.listen())
    }

    /// Whether every clone but this one is gone: nothing can be woken, and a task that
    /// forwards notifications to it may stop.
    pub fn is_orphaned(&self) -> bool {
        Arc::strong_count(&self.0) == 1
    }
}

/// Resolves at the next publication (see [`PublicationSignal::listen`]).
#[derive(Debug)]
#[must_use = "a listener does nothing unless awaited"]
pub struct NextPublication(EventListener);

impl Future for NextPublication {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

/// A handle's signal, and whether its store has been asked to feed it.
#[derive(Debug, Default)]
pub(crate) struct Publications {
    pub(crate) signal: PublicationSignal,
    pub(crate) watched: OnceLock<()>,
}

#[cfg(test)]
mod tests {
    use std::task::Waker;

    use super::*;
    use crate::clock::{ManualClock, Timestamp};
    use crate::id::TenantId;
    use crate::keys::MasterKey;
    use crate::store::TenantStore as _;
    use crate::store::memory::MemoryStore;
    use crate::webhooks::NewWebhook;

    fn ready(listener: &mut NextPublication) -> bool {
        Pin::new(listener)
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_ready()
    }

    #[test]
    fn a_listener_made_before_a_notification_sees_it_even_if_polled_after() {
        let signal = PublicationSignal::default();
        let mut early = signal.listen();
        signal.clone().notify();
        assert!(ready(&mut early));
        let mut late = signal.listen();
        assert!(
            !ready(&mut late),
            "a listener made after it waits for the next"
        );
    }

    #[test]
    fn a_signal_is_orphaned_when_its_last_clone_is_gone() {
        let signal = PublicationSignal::default();
        let forwarder = signal.clone();
        assert!(!forwarder.is_orphaned());
        drop(signal);
        assert!(forwarder.is_orphaned());
    }

    #[tokio::test]
    async fn a_handles_publications_wake_its_workers_when_they_queue_deliveries() {
        let now = Timestamp::from_unix(1_800_000_000);
        let store = Arc::new(MemoryStore::new());
        let tenant = TenantId::parse("acme").unwrap();
        store.ensure_tenant(&tenant, now).await.unwrap();
        let knogin = crate::testing::builder(
            store,
            MasterKey::generate(),
            Arc::new(ManualClock::new(now)),
        )
        .build()
        .await
        .unwrap();
        let mut next = knogin.core().next_publication();
        knogin
            .webhooks()
            .publish(&tenant, "incident.updated", &serde_json::json!({}))
            .await
            .unwrap();
        assert!(
            !ready(&mut next),
            "no subscription, no delivery, nothing to wake for"
        );
        knogin
            .webhooks()
            .create(
                &crate::webhooks::WebhookCaller::app(tenant.clone(), crate::AppId::generate()),
                NewWebhook {
                    url: "https://integrator.example/hooks".into(),
                    events: vec!["incident.updated".into()],
                    secret: None,
                    description: None,
                    rate_limit: None,
                },
            )
            .await
            .unwrap();
        knogin
            .webhooks()
            .publish(&tenant, "incident.updated", &serde_json::json!({}))
            .await
            .unwrap();
        assert!(ready(&mut next));
    }
}
