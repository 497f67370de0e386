//! How a running delivery worker stops: first its lanes stop claiming and finish the batches
//! they hold; when the grace period ends, sends still waiting on a receiver are abandoned and
//! their deliveries given back.

use std::sync::atomic::{AtomicBool, Ordering};

use event_listener::Event;

/// One stage of a shutdown: a flag set once, and the waiters it wakes.
#[derive(Debug, Default)]
struct Stage {
    reached: AtomicBool,
    event: Event,
}

impl Stage {
    fn reach(&self) {
        self.reached.store(true, Ordering::SeqCst);
        self.event.notify(usize::MAX);
    }

    fn reached(&self) -> bool {
        self.reached.load(Ordering::SeqCst)
    }

    /// Resolves once the stage is reached (at once if it was).
    async fn wait(&self) {
        loop {
            if self.reached() {
                return;
            }
            let listener = self.event.listen();
            if self.reached() {
                return;
            }
            listener.await;
        }
    }
}

/// The shutdown of one [`DeliveryWorker::run`](super::DeliveryWorker::run): stopping (claim no
/// more, send nothing not yet sent), then abandoning (stop waiting for receivers).
#[derive(Debug, Default)]
pub(super) struct Stop {
    stopping: Stage,
    abandoning: Stage,
}

impl Stop {
    /// Lanes claim no more, and deliveries claimed but not yet sent are given back.
    pub(super) fn begin(&self) {
        self.stopping.reach();
    }

    /// Whether the worker is stopping.
    pub(super) fn is_stopping(&self) -> bool {
        self.stopping.reached()
    }

    /// Resolves once the worker is stopping.
    pub(super) async fn stopping(&self) {
        self.stopping.wait().await;
    }

    /// The grace period is over: sends in flight are abandoned.
    pub(super) fn abandon(&self) {
        self.abandoning.reach();
    }

    /// Resolves once sends in flight are abandoned.
    pub(super) async fn abandoned(&self) {
        self.abandoning.wait().await;
    }
}
