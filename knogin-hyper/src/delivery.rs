//! The webhook delivery worker: claims due deliveries, signs them, POSTs them with a timeout, and
//! records each attempt. It connects only to addresses that pass the target check after DNS
//! resolution (a DNS answer cannot point a delivery at a private network), and never follows a
//! redirect.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Request;
use http::header::{CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use http_body_util::{BodyExt as _, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;
use knogin_core::Knogin;
use knogin_core::store::{ClaimedDelivery, StoreError};
use knogin_core::webhooks::{Outcome, is_public, parse_retry_after};
use tokio::sync::Notify;

/// How much of a receiver's answer is kept in the history.
const KEPT_BODY_BYTES: usize = 1024;

/// Resolves names with the system resolver, keeping only public addresses unless private
/// targets are allowed.
#[derive(Debug, Clone, Copy)]
struct GuardedResolver {
    allow_private: bool,
}

impl tower::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|addr| allow_private || is_public(addr.ip()))
                .collect();
            if found.is_empty() {
                return Err(std::io::Error::other(format!(
                    "{name} resolves to no public address"
                )));
            }
            Ok(found.into_iter())
        })
    }
}

type DeliveryClient = Client<HttpsConnector<HttpConnector<GuardedResolver>>, Full<Bytes>>;

/// Delivers webhooks for one handle (see the module docs). Run one per process; several
/// processes on one PostgreSQL database share the work, each delivery attempted by one of them
/// at a time. A publication wakes it at once (see [`Knogin::next_publication`]); the idle
/// interval only bounds how late it sees what nothing announced, such as a retry coming due.
///
/// ```no_run
/// # async fn example(knogin: knogin_core::Knogin) {
/// let worker = knogin_hyper::DeliveryWorker::new(knogin);
/// tokio::spawn(worker.run(std::future::pending()));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct DeliveryWorker {
    knogin: Knogin,
    client: DeliveryClient,
    batch: u32,
    lanes: usize,
    idle_poll: Duration,
    linger: Duration,
}

impl DeliveryWorker {
    /// A worker for `knogin`, checking targets as its settings say.
    pub fn new(knogin: Knogin) -> Self {
        let mut http = HttpConnector::new_with_resolver(GuardedResolver {
            allow_private: knogin.allows_private_webhook_targets(),
        });
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(10)));
        http.set_nodelay(true);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::aws_lc_rs::default_provider())
            .expect("aws-lc-rs supports rustls' default protocol versions")
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Self {
            knogin,
            client: Client::builder(TokioExecutor::new()).build(connector),
            batch: 64,
            lanes: 4,
            idle_poll: Duration::from_millis(250),
            linger: Duration::from_millis(10),
        }
    }

    /// How long to wait before looking again when nothing was due (default 250 ms), unless a
    /// publication wakes the worker first (see [`Knogin::next_publication`]): this bounds how
    /// late a retry coming due, or an event another process published to SQLite, is seen.
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

    /// How many deliveries to claim at once, sent concurrently (default 64).
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
        let claimed = self.knogin.claim_deliveries(self.batch).await?;
        let attempts = claimed.iter().map(|c| self.attempt(c));
        let mut finished = Vec::with_capacity(claimed.len());
        for (c, result) in claimed
            .iter()
            .zip(futures_util::future::join_all(attempts).await)
        {
            if let Some((outcome, duration, body)) = result? {
                finished.push((c, outcome, duration, body));
            }
        }
        let recorded = self.knogin.record_deliveries(finished).await?;
        if !claimed.is_empty() {
            tracing::info!("attempted {} webhook deliveries", claimed.len());
        }
        let lost = recorded.iter().filter(|r| !**r).count();
        if lost > 0 {
            tracing::warn!("{lost} deliveries' leases ran out before their attempts were recorded");
        }
        Ok(claimed.len())
    }

    /// Delivers until `shutdown` resolves, in [`DeliveryWorker::lanes`] lanes. A store failure is
    /// logged and retried after the idle interval. Deliveries cut off by the shutdown are due
    /// again when their leases end.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        let backlog = Notify::new();
        let lanes =
            futures_util::future::join_all((0..self.lanes).map(|lane| self.lane(lane, &backlog)));
        tokio::select! {
            _ = lanes => {}
            () = shutdown => {}
        }
    }

    /// One lane: claim, send and record batches while there are due deliveries. The first lane
    /// goes on while it finds any (after the linger, when a batch was not full), then waits for
    /// the next publication (see [`Knogin::next_publication`]) or the idle interval, whichever
    /// comes first. The other lanes go on only after full batches (a backlog), and wait for a
    /// lane to find one: under a trickle of events one lane delivers, and the others do not
    /// wake the database with small claims.
    async fn lane(&self, lane: usize, backlog: &Notify) {
        let full = usize::try_from(self.batch).unwrap_or(usize::MAX);
        loop {
            // Both made before the claim, so neither a publication nor a backlog found while
            // it runs is missed.
            let published = (lane == 0).then(|| self.knogin.next_publication());
            let behind = backlog.notified();
            match self.run_once().await {
                Ok(n) if n >= full => {
                    backlog.notify_waiters();
                    continue;
                }
                Ok(n) if n > 0 && lane == 0 => {
                    tokio::time::sleep(self.linger).await;
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot claim webhook deliveries"),
            }
            let idle = tokio::time::sleep(self.idle_poll);
            match published {
                Some(published) => tokio::select! {
                    () = idle => {}
                    () = published => {}
                },
                None => tokio::select! {
                    () = idle => {}
                    () = behind => {}
                },
            }
        }
    }

    /// Sends one claimed delivery: how the attempt ended, or `None` when its subscription's
    /// rate limit put it back for later.
    async fn attempt(
        &self,
        claimed: &ClaimedDelivery,
    ) -> Result<Option<(Outcome, Duration, Option<String>)>, StoreError> {
        if !self.knogin.within_rate_limit(claimed).await? {
            return Ok(None);
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
                    .body(Full::new(Bytes::from(message.body)));
                match request {
                    Ok(request) => {
                        tokio::time::timeout(self.knogin.delivery_timeout(), self.send(request))
                            .await
                            .unwrap_or_else(|_| (Outcome::NoAnswer, Some("timed out".to_owned())))
                    }
                    Err(e) => (Outcome::NoAnswer, Some(e.to_string())),
                }
            }
            Err(why) => (Outcome::NoAnswer, Some(why)),
        };
        Ok(Some((outcome, started.elapsed(), body)))
    }

    /// POSTs `request`: the outcome and the first KiB of the answer (or why there was none).
    async fn send(&self, request: Request<Full<Bytes>>) -> (Outcome, Option<String>) {
        let response = match self.client.request(request).await {
            Ok(response) => response,
            Err(e) => {
                let mut why = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(cause) = source {
                    why = format!("{why}: {cause}");
                    source = cause.source();
                }
                return (Outcome::NoAnswer, Some(why));
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let mut body = response.into_body();
        let mut kept = Vec::new();
        while kept.len() < KEPT_BODY_BYTES {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        kept.extend_from_slice(data);
                    }
                }
                _ => break,
            }
        }
        kept.truncate(KEPT_BODY_BYTES);
        let text = String::from_utf8_lossy(&kept).into_owned();
        (
            Outcome::Answered {
                status,
                retry_after,
            },
            Some(text),
        )
    }
}
