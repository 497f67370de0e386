//! What a running delivery worker does beside delivering: it reports the backlog (the
//! `knogin.webhook.queue_depth` and `knogin.webhook.backlog_age` gauges) and deletes finished
//! events past the retention period.

use std::pin::pin;
use std::time::Duration;

use futures_util::future::select;

use super::stop::Stop;
use crate::clock;
use crate::metrics;
use crate::shared::Core;

/// How often the backlog is measured.
const BACKLOG_EVERY: Duration = Duration::from_secs(5);
/// How often expired events are looked for.
const PURGE_EVERY: Duration = Duration::from_secs(60);

impl Core {
    /// For a running delivery worker: measures the backlog every few seconds and purges expired events every minute, until the
    /// worker stops.
    pub(super) async fn housekeeping(&self, stop: &Stop) {
        let clock = &self.0.clock;
        let mut next_purge = clock.now();
        while !stop.is_stopping() {
            let now = clock.now();
            match self.0.store.backlog(now).await {
                Ok(backlog) => {
                    let oldest = backlog
                        .oldest_due_at
                        .map_or(Duration::ZERO, |at| clock::between(at, now));
                    metrics::delivery_backlog(backlog.due, oldest);
                }
                Err(e) => tracing::warn!(error = %e, "cannot measure the webhook backlog"),
            }
            if now >= next_purge {
                next_purge = now.plus(PURGE_EVERY);
                if let Err(e) = self.purge_expired(|| !stop.is_stopping()).await {
                    tracing::warn!(error = %e, "cannot delete expired webhook events");
                }
            }
            select(pin!(clock.sleep(BACKLOG_EVERY)), pin!(stop.stopping())).await;
        }
    }
}
