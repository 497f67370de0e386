//! Waking the delivery workers of every process on one PostgreSQL database: a process that
//! publishes sends `NOTIFY knogin_deliveries` once its writes have committed, and each process
//! with a worker `LISTEN`s. The payload is the publisher's schema, so stores sharing a database
//! in different schemas do not wake each other.
//!
//! The notification is its own statement, after the commit, not part of the publishing
//! transaction: PostgreSQL serializes the commits of transactions that notify, which would cost
//! concurrent publishers their group commit. If a process dies between its commit and its
//! notification, workers find its deliveries at their next look (the idle interval).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use knogin_core::webhooks::PublicationSignal;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::{Notify, mpsc};

/// The channel publications are announced on.
const CHANNEL: &str = "knogin_deliveries";

/// The least time between two announcements of one store. Publications meanwhile are announced
/// together at its end, so a steady stream of publishes costs the database at most 100
/// notifications a second, and a delivery waits at most this long for its wake-up.
const ANNOUNCE_INTERVAL: Duration = Duration::from_millis(10);

/// Announces one store's publications, coalesced: while one announcement is being sent, and for
/// [`ANNOUNCE_INTERVAL`] after it, any number of publications add one more, not one each.
#[derive(Debug, Default)]
pub(crate) struct Announcer {
    requests: OnceLock<mpsc::Sender<()>>,
    pending: Arc<Pending>,
}

/// Announcements requested and not yet sent, and a wake-up for whoever waits for none.
#[derive(Debug, Default)]
struct Pending {
    count: AtomicUsize,
    sent: Notify,
}

impl Announcer {
    /// Announces that deliveries were published or made due on `pool`, without waiting for it.
    /// Must be called from within the async runtime.
    pub(crate) fn announce(&self, pool: &PgPool) {
        let requests = self.requests.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(1);
            tokio::spawn(announce(pool.clone(), receiver, self.pending.clone()));
            sender
        });
        // Counted before it is queued, so the sender cannot count it off first. Full means an
        // announcement is already pending, and it covers this one too.
        self.pending.count.fetch_add(1, Ordering::SeqCst);
        if requests.try_send(()).is_err() {
            self.pending.count.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Waits until every announcement requested so far has been sent.
    pub(crate) async fn flush(&self) {
        loop {
            let sent = self.pending.sent.notified();
            let mut sent = std::pin::pin!(sent);
            sent.as_mut().enable();
            if self.pending.count.load(Ordering::SeqCst) == 0 {
                return;
            }
            sent.await;
        }
    }
}

/// Sends an announcement per request until the store (the sender) is gone.
async fn announce(pool: PgPool, mut requests: mpsc::Receiver<()>, pending: Arc<Pending>) {
    while requests.recv().await.is_some() {
        let sent = sqlx::query("SELECT pg_notify($1, COALESCE(current_schema(), ''))")
            .bind(CHANNEL)
            .execute(&pool)
            .await;
        if let Err(e) = sent {
            tracing::debug!(error = %e, "cannot announce published deliveries");
        }
        pending.count.fetch_sub(1, Ordering::SeqCst);
        pending.sent.notify_waiters();
        tokio::time::sleep(ANNOUNCE_INTERVAL).await;
    }
}

/// Notifies `signal` of every publication announced in `pool`'s schema. The task holds one
/// connection; it ends at the first announcement after the handle owning `signal` is gone, or
/// with the runtime. Must be called from within the async runtime.
pub(crate) fn watch(pool: &PgPool, signal: PublicationSignal) {
    let pool = pool.clone();
    tokio::spawn(async move {
        while let Err(e) = listen(&pool, &signal).await {
            tracing::warn!(error = %e, "cannot listen for published deliveries; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

/// Listens until `signal` is orphaned, or fails.
async fn listen(pool: &PgPool, signal: &PublicationSignal) -> Result<(), sqlx::Error> {
    let schema: String = sqlx::query_scalar("SELECT COALESCE(current_schema(), '')")
        .fetch_one(pool)
        .await?;
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    // Anything published before this point is found by the workers' own next look.
    signal.notify();
    while !signal.is_orphaned() {
        match listener.try_recv().await? {
            Some(notification) if notification.payload() == schema => signal.notify(),
            Some(_) => {}
            // The connection was lost and is listening again: announcements may have been
            // missed meanwhile.
            None => signal.notify(),
        }
    }
    Ok(())
}
