//! The delivery worker: claims due deliveries, signs them, sends them through a [`Transport`]
//! within the attempt timeout, and records each attempt. Lanes, linger, backlog, idle wait and
//! wake-ups are decided here; the transport only carries a request and brings back the answer.
//! Every wait is on the handle's [`Clock`](crate::Clock), so a test drives the worker with a
//! `ManualClock` and a fake transport, without sockets or real time.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use event_listener::Event;
use futures_util::future::{Either, join, join_all, select};
use http::header::{CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use http::{Request, Response};

use super::stop::Stop;
use super::{Outcome, parse_retry_after};
use crate::shared::Core;
use crate::store::{ClaimedDelivery, StoreError};
use crate::webhooks::Webhooks;

/// How much of a receiver's answer is kept in the history.
pub const KEPT_ANSWER_BYTES: usize = 1024;

/// Why a transport brought back no answer.
pub type TransportError = Box<dyn std::error::Error + Send + Sync>;

/// Carries the requests the core makes itself, signed webhook deliveries and fetches of a
/// client's `jwks_uri`: `knogin-hyper`'s `HttpTransport` (HTTPS, with the SSRF guard on every
/// resolved address), or a fake in tests.
#[async_trait]
pub trait Transport: Send + Sync + 'static {
    /// Sends `request` (a Standard Webhooks POST the worker built and signed, or a GET of a
    /// client's JWK Set) and returns the answer with at most `max_body` bytes of its body, or
    /// why there was none. It must not follow redirects. The caller bounds the whole exchange
    /// with its timeout.
    async fn send(
        &self,
        request: Request<Bytes>,
        max_body: usize,
    ) -> Result<Response<Bytes>, TransportError>;
}

/// Delivers webhooks for one handle over a [`Transport`]. Run one per process; several
/// processes on one PostgreSQL database share the work, each delivery attempted by one of them
/// at a time. A publication wakes it at once; the idle interval only bounds how late it sees
/// what nothing announced, such as a retry coming due.
///
/// ```no_run
/// # async fn example(knogin: knogin_core::Knogin, transport: impl knogin_core::webhooks::Transport) {
/// let worker = knogin.webhooks().worker(transport);
/// tokio::spawn(worker.run(std::future::pending()));
/// # }
/// ```
#[derive(Debug)]
pub struct DeliveryWorker<T> {
    knogin: Core,
    transport: Arc<T>,
    batch: u32,
    lanes: usize,
    idle_poll: Duration,
    linger: Duration,
    shutdown_grace: Duration,
}

/// How a claimed delivery's turn ended.
enum Tried {
    /// It was sent (or could not be): record the attempt.
    Attempted(Outcome, Duration, Option<String>),
    /// Its subscription's rate limit put it back for later.
    Deferred,
    /// The worker is stopping: it was not sent, or its send was abandoned. Give it back.
    Unsent,
}

/// The default [`DeliveryWorker::shutdown_grace`].
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

impl<T> Clone for DeliveryWorker<T> {
    fn clone(&self) -> Self {
        Self {
            knogin: self.knogin.clone(),
            transport: Arc::clone(&self.transport),
            batch: self.batch,
            lanes: self.lanes,
            idle_poll: self.idle_poll,
            linger: self.linger,
            shutdown_grace: self.shutdown_grace,
        }
    }
}

impl Webhooks<'_> {
    /// A worker that delivers this handle's webhooks through `transport` (the HTTP one is
    /// `knogin_hyper::HttpTransport`). Run as many as you like, in as many processes: each
    /// delivery is leased to one of them at a time.
    pub fn worker<T: Transport>(&self, transport: T) -> DeliveryWorker<T> {
        DeliveryWorker::new(self.knogin.clone(), transport)
    }
}

impl<T: Transport> DeliveryWorker<T> {
    /// A worker delivering `knogin`'s webhooks through `transport`
    /// ([`Webhooks::worker`](crate::webhooks::Webhooks::worker)).
    pub(crate) fn new(knogin: Core, transport: T) -> Self {
        Self {
            knogin,
            transport: Arc::new(transport),
            batch: 128,
            lanes: 4,
            idle_poll: Duration::from_millis(250),
            linger: Duration::from_millis(10),
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }

    /// How long a stopping worker waits for the sends in flight to finish (default 30 s) before
    /// it abandons them and gives their deliveries back. See [`run`](Self::run).
    #[must_use]
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// How long to wait before looking again when nothing was due (default 250 ms), unless a
    /// publication wakes the worker first: this bounds how late a retry coming due, or an event
    /// another process published to SQLite, is seen.
    #[must_use]
    pub fn idle_poll(mut self, interval: Duration) -> Self {
        self.idle_poll = interval;
        self
    }

    /// How long the first lane waits after a batch that was not full before it claims again
    /// (default 10 ms). Under a trickle of events it then claims several at once, with one
    /// commit for their records, instead of one commit per delivery; a delivery waits at most
    /// this long longer. Zero claims again at once.
    #[must_use]
    pub fn linger(mut self, linger: Duration) -> Self {
        self.linger = linger;
        self
    }

    /// How many deliveries to claim at once, sent concurrently (default 128).
    #[must_use]
    pub fn batch(mut self, batch: u32) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// How many batches are in flight at once (default 4). A batch waits for its slowest
    /// receiver and then for its records' commit; meanwhile the other lanes claim and send, so
    /// throughput is not bound by one batch's round trip. Each lane claims its own deliveries,
    /// as separate processes do.
    #[must_use]
    pub fn lanes(mut self, lanes: usize) -> Self {
        self.lanes = lanes.max(1);
        self
    }

    /// Claims one batch of due deliveries, attempts each (concurrently), and records the
    /// attempts together. Returns how many were claimed.
    pub async fn run_once(&self) -> Result<usize, StoreError> {
        self.batch_until(&Stop::default()).await
    }

    /// [`run_once`](Self::run_once), giving back what `stop` keeps from being sent.
    async fn batch_until(&self, stop: &Stop) -> Result<usize, StoreError> {
        let claimed = self.knogin.claim_deliveries(self.batch).await?;
        let attempts = claimed.iter().map(|c| self.attempt(c, stop));
        let mut finished = Vec::with_capacity(claimed.len());
        let mut unsent = Vec::new();
        for (c, result) in claimed.iter().zip(join_all(attempts).await) {
            match result? {
                Tried::Attempted(outcome, duration, body) => {
                    finished.push((c, outcome, duration, body));
                }
                Tried::Deferred => {}
                Tried::Unsent => unsent.push(c),
            }
        }
        let recorded = self.knogin.record_deliveries(finished).await?;
        if !claimed.is_empty() {
            tracing::info!(
                "attempted {} webhook deliveries",
                claimed.len() - unsent.len()
            );
        }
        let lost = recorded.iter().filter(|r| !**r).count();
        if lost > 0 {
            tracing::warn!("{lost} deliveries' leases ran out before their attempts were recorded");
        }
        if !unsent.is_empty() {
            let given = self.knogin.give_back_deliveries(&unsent).await?;
            tracing::info!("stopping: gave back {given} webhook deliveries not sent");
        }
        Ok(claimed.len())
    }

    /// Delivers until `shutdown` resolves, in [`lanes`](Self::lanes) lanes. A store failure is
    /// logged and retried after the idle interval. Beside the lanes it measures the backlog
    /// every 5 s (the `knogin.webhook.queue_depth` and `knogin.webhook.backlog_age` gauges) and
    /// deletes finished events past the retention period every minute, in batches of
    /// [`PURGE_BATCH`](super::PURGE_BATCH).
    ///
    /// When `shutdown` resolves, the worker claims no more and gives back what it claimed but
    /// has not sent; the sends in flight get [`shutdown_grace`](Self::shutdown_grace) to
    /// finish and be recorded. Those still waiting on their receivers then are abandoned and
    /// given back too (a receiver may still get them: delivery is at least once, and the
    /// `webhook-id` stays the same). A delivery given back is due at once, and the workers of
    /// other processes on the database are told: none waits for a lease to end. `run`
    /// returns when all of that is done.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        let backlog = Event::new();
        let first_waits = AtomicBool::new(false);
        let stop = Stop::default();
        let lanes =
            join_all((0..self.lanes).map(|lane| self.lane(lane, &backlog, &first_waits, &stop)));
        let mut lanes = pin!(join(lanes, self.knogin.housekeeping(&stop)));
        if let Either::Left(_) = select(lanes.as_mut(), pin!(shutdown)).await {
            return;
        }
        tracing::info!("the delivery worker is stopping: finishing the deliveries in flight");
        stop.begin();
        let grace = pin!(self.knogin.0.clock.sleep(self.shutdown_grace));
        if let Either::Right(_) = select(lanes.as_mut(), grace).await {
            tracing::warn!(
                "deliveries still in flight after {:?}: giving them back",
                self.shutdown_grace
            );
            stop.abandon();
            lanes.await;
        }
        tracing::info!("the delivery worker stopped");
    }

    /// One lane: claim, send and record batches while there are due deliveries. The first lane
    /// goes on while it finds any (after the linger, when a batch was not full), then waits for
    /// the next publication or the idle interval, whichever comes first. The other lanes go on
    /// only after full batches (a backlog), and wait for a lane to find one: under a trickle of
    /// events one lane delivers, and the others do not wake the database with small claims.
    ///
    /// The other lanes' idle interval only covers for the first lane while it is busy (a batch
    /// waiting on a slow receiver), so what comes due meanwhile is not held up behind it. While
    /// the first lane waits it is the one that looks: an idle worker claims once per interval,
    /// not once per lane.
    async fn lane(&self, lane: usize, backlog: &Event, first_waits: &AtomicBool, stop: &Stop) {
        let full = usize::try_from(self.batch).unwrap_or(usize::MAX);
        let clock = &self.knogin.0.clock;
        while !stop.is_stopping() {
            // Both made before the claim, so neither a publication nor a backlog found while
            // it runs is missed.
            let published = (lane == 0).then(|| self.knogin.next_publication());
            let mut behind = pin!(backlog.listen());
            match self.batch_until(stop).await {
                Ok(n) if n >= full => {
                    backlog.notify(usize::MAX);
                    continue;
                }
                Ok(n) if n > 0 && lane == 0 => {
                    drop(select(clock.sleep(self.linger), pin!(stop.stopping())).await);
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot claim webhook deliveries"),
            }
            let woken = async {
                if let Some(published) = published {
                    first_waits.store(true, Ordering::Release);
                    drop(select(clock.sleep(self.idle_poll), published).await);
                    first_waits.store(false, Ordering::Release);
                    return;
                }
                // A backlog wakes this lane at once; its own interval only while the first
                // lane is not waiting itself.
                while let Either::Left(_) =
                    select(clock.sleep(self.idle_poll), behind.as_mut()).await
                {
                    if !first_waits.load(Ordering::Acquire) {
                        return;
                    }
                }
            };
            select(pin!(woken), pin!(stop.stopping())).await;
        }
    }

    /// Sends one claimed delivery: how the attempt ended, or `None` when its subscription's
    /// rate limit put it back for later.
    async fn attempt(&self, claimed: &ClaimedDelivery, stop: &Stop) -> Result<Tried, StoreError> {
        if stop.is_stopping() {
            return Ok(Tried::Unsent);
        }
        if !self.knogin.within_rate_limit(claimed).await? {
            return Ok(Tried::Deferred);
        }
        let started = Instant::now();
        let (outcome, body) = match self.knogin.message(claimed) {
            Ok(message) => {
                let request = Request::post(message.url.as_str())
                    .header(CONTENT_TYPE, "application/json")
                    .header(
                        USER_AGENT,
                        concat!("knogin-webhooks/", env!("CARGO_PKG_VERSION")),
                    )
                    .header("webhook-id", &message.id)
                    .header("webhook-timestamp", message.timestamp)
                    .header("webhook-signature", &message.signature)
                    .body(Bytes::from(message.body));
                match request {
                    Ok(request) => match self.send(request, stop).await {
                        Some(sent) => sent,
                        None => return Ok(Tried::Unsent),
                    },
                    Err(e) => (Outcome::NoAnswer, Some(e.to_string())),
                }
            }
            Err(why) => (Outcome::NoAnswer, Some(why)),
        };
        Ok(Tried::Attempted(outcome, started.elapsed(), body))
    }

    /// Sends `request` within the attempt timeout: the outcome and the first KiB of the
    /// answer, or why there was none; `None` when `stop` abandoned it first.
    async fn send(
        &self,
        request: Request<Bytes>,
        stop: &Stop,
    ) -> Option<(Outcome, Option<String>)> {
        let timeout = self.knogin.0.clock.sleep(self.knogin.delivery_timeout());
        let exchange = self.transport.send(request, KEPT_ANSWER_BYTES);
        let response = match select(exchange, select(timeout, pin!(stop.abandoned()))).await {
            Either::Left((Ok(response), _)) => response,
            Either::Left((Err(e), _)) => return Some((Outcome::NoAnswer, Some(error_chain(&*e)))),
            Either::Right((Either::Left(((), _)), _)) => {
                return Some((Outcome::NoAnswer, Some("timed out".to_owned())));
            }
            Either::Right((Either::Right(((), _)), _)) => return None,
        };
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let status = response.status().as_u16();
        let body = response.into_body();
        let kept = &body[..body.len().min(KEPT_ANSWER_BYTES)];
        Some((
            Outcome::Answered {
                status,
                retry_after,
            },
            Some(String::from_utf8_lossy(kept).into_owned()),
        ))
    }
}

/// `error` and each of its sources, joined with `: `.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut why = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        why = format!("{why}: {cause}");
        source = cause.source();
    }
    why
}
