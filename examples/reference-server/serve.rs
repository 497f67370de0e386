//! Serving over HTTP/1.1: timeouts, a concurrency limit, one log line per request, the
//! operations listener, and a graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use knogin::core::Knogin;
use knogin::core::http::{ClientAddr, CorrelationId, MatchedRoute};
use knogin::hyper::delivery_worker;
use tower::util::MapRequest;
use tower::{Layer, Service, ServiceBuilder};

use crate::BoxError;
use crate::head_deadline::HeadDeadline;
use crate::log::BufferedStderr;
use crate::timeout::TimeoutLayer;

/// How long a connection may wait for a request's head (slowloris, idle keep-alive).
const HEAD_WINDOW: Duration = Duration::from_secs(10);
/// How long one request may take, body included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The header a request's correlation id may come in. Named once: looking a header up by a
/// string parses the name on every request.
const X_REQUEST_ID: http::HeaderName = http::HeaderName::from_static("x-request-id");
/// Requests handled at once; more wait for a slot.
const CONCURRENCY_LIMIT: usize = 1024;

/// How the request log line is written.
#[derive(Clone)]
pub(crate) enum RequestLog {
    /// The text format's line, written straight into the log's buffer rather than as a tracing
    /// event: with only its path checked for escaping, about 865 instructions, against 1,700 as
    /// an event before (callgrind, `docs/benchmarks.md`).
    Text(BufferedStderr),
    /// The text format's line as a tracing event, for a terminal, where it is in colour.
    Message,
    /// Structured fields, for the JSON log format.
    Json,
}

impl RequestLog {
    /// Whether the log filter lets request lines through: they are info lines of this module.
    pub(crate) fn wanted() -> bool {
        tracing::enabled!(tracing::Level::INFO)
    }
}

/// How `serve` runs.
pub(crate) struct Options {
    /// The request log line, unless the filter leaves it out (then its layer is not paid for).
    pub(crate) request_log: Option<RequestLog>,
    /// How long requests and webhook deliveries in flight get to finish on shutdown.
    pub(crate) shutdown_grace: Duration,
    /// The operations listener and the metrics it renders, with `--ops-bind`.
    pub(crate) ops: Option<(
        tokio::net::TcpListener,
        metrics_exporter_prometheus::PrometheusHandle,
    )>,
}

/// Serves `knogin` on `listener` until Ctrl-C or SIGTERM, then stops accepting, and gives the
/// requests and webhook deliveries in flight the grace period to finish: the delivery worker
/// gives back what it has not sent, so another instance on the database delivers it at once.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    knogin: Knogin,
    options: Options,
) -> Result<(), BoxError> {
    let grace = options.shutdown_grace;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = delivery_worker(knogin.clone()).shutdown_grace(grace);
    let worker = tokio::spawn(worker.run(async move {
        let mut stopped = stopped;
        let _ = stopped.wait_for(|stop| *stop).await;
    }));
    let stopping = Arc::new(AtomicBool::new(false));
    let ops = options.ops.map(|(listener, metrics)| {
        tokio::spawn(crate::ops::serve(
            listener,
            knogin.clone(),
            metrics,
            Arc::clone(&stopping),
        ))
    });
    let log_layer = options.request_log.map(RequestLogLayer);
    let service = ServiceBuilder::new()
        .option_layer(log_layer)
        .layer(tower::limit::ConcurrencyLimitLayer::new(CONCURRENCY_LIMIT))
        .layer(TimeoutLayer::new(REQUEST_TIMEOUT))
        // The handle is the whole application: it answers every path, an unknown one with its
        // 404, so no router stands in front of it.
        .service(knogin);
    let graceful = GracefulShutdown::new();
    let mut shutdown = pin!(shutdown_signal());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot accept a connection");
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let deadline = HeadDeadline::new(HEAD_WINDOW);
                let connection = http1::Builder::new().serve_connection(
                    TokioIo::new(stream),
                    with_peer(deadline.count(service.clone()), peer),
                );
                let connection = deadline.guard(graceful.watch(connection));
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    stopping.store(true, Ordering::Relaxed);
    let _ = stop.send(true);
    tracing::info!(
        "shutting down: finishing the requests and webhook deliveries in flight (up to {grace:?})"
    );
    let requests = async {
        if tokio::time::timeout(grace, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("requests still in flight after {grace:?}; stopping anyway");
        }
    };
    let ((), worker) = tokio::join!(requests, worker);
    if let Err(e) = worker {
        tracing::error!(error = %e, "the delivery worker failed");
    }
    if let Some(ops) = ops {
        ops.abort();
    }
    tracing::info!("stopped");
    Ok(())
}

/// `service` for one connection from `peer`: each request carries the peer's address, which the
/// built-in login's per-address limit reads.
fn with_peer<S>(
    service: S,
    peer: SocketAddr,
) -> TowerToHyperService<MapRequest<S, impl Fn(Request<Incoming>) -> Request<Incoming> + Clone>> {
    let addr = ClientAddr(peer.ip());
    TowerToHyperService::new(MapRequest::new(
        service,
        move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(addr);
            request
        },
    ))
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
async fn shutdown_signal() {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = async {
            match terminate.as_mut() {
                Some(signal) => { signal.recv().await; }
                None => std::future::pending().await,
            }
        } => {}
    }
}

/// One log line per request (method, path, status, latency, route template, correlation id),
/// with no span and nothing formatted until the answer is ready. Each request gets a
/// correlation id (the `X-Request-Id` it came with, when that is a plain token), which an
/// internal error's log line and answer carry too.
#[derive(Clone)]
struct RequestLogLayer(RequestLog);

impl<S> Layer<S> for RequestLogLayer {
    type Service = Logging<S>;

    fn layer(&self, inner: S) -> Logging<S> {
        Logging {
            inner,
            format: self.0.clone(),
        }
    }
}

#[derive(Clone)]
struct Logging<S> {
    inner: S,
    format: RequestLog,
}

impl<S, B, RB> Service<Request<B>> for Logging<S>
where
    S: Service<Request<B>, Response = Response<RB>, Error = Infallible>,
{
    type Response = Response<RB>;
    type Error = Infallible;
    type Future = Logged<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let id = request
            .headers()
            .get(&X_REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .and_then(CorrelationId::parse)
            .unwrap_or_else(CorrelationId::generate);
        request.extensions_mut().insert(id.clone());
        Logged {
            started: Instant::now(),
            method: request.method().clone(),
            uri: request.uri().clone(),
            id,
            format: self.format.clone(),
            answer: self.inner.call(request),
        }
    }
}

pin_project_lite::pin_project! {
    /// The answer of a logged request; logs its line when ready.
    struct Logged<F> {
        started: Instant,
        method: http::Method,
        uri: http::Uri,
        id: CorrelationId,
        format: RequestLog,
        #[pin]
        answer: F,
    }
}

impl<F, RB> Future for Logged<F>
where
    F: Future<Output = Result<Response<RB>, Infallible>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let response = std::task::ready!(this.answer.poll(cx))?;
        let route = response
            .extensions()
            .get::<MatchedRoute>()
            .map_or("-", MatchedRoute::as_str);
        let micros = u64::try_from(this.started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let status = response.status();
        let mut micros_text = itoa::Buffer::new();
        let micros_text = micros_text.format(micros);
        let message = ServedMessage::new(
            this.method,
            this.uri.path(),
            &status,
            micros_text,
            route,
            this.id,
        );
        match this.format {
            RequestLog::Text(out) => {
                out.write_info(
                    module_path!(),
                    &message.before,
                    message.path,
                    &message.after,
                );
            }
            RequestLog::Message => tracing::info!("{}", message.concat()),
            RequestLog::Json => tracing::info!(
                method = %this.method,
                path = this.uri.path(),
                route,
                status = status.as_u16(),
                micros,
                correlation_id = %this.id,
                "served"
            ),
        }
        Poll::Ready(Ok(response))
    }
}

/// Binds `addr`, saying which address failed.
pub(crate) async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, BoxError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}").into())
}

/// The text log line's message, `served GET /path 200 in 12µs route=/path correlation_id=…`, in
/// parts: the path, which the client chose, and the parts around it, which need no escaping in
/// a log line (the method is a token, the route one of the table's, the correlation id checked).
struct ServedMessage<'a> {
    before: [&'a str; 3],
    path: &'a str,
    after: [&'a str; 8],
}

impl<'a> ServedMessage<'a> {
    fn new(
        method: &'a http::Method,
        path: &'a str,
        status: &'a StatusCode,
        micros: &'a str,
        route: &'a str,
        id: &'a CorrelationId,
    ) -> Self {
        Self {
            before: ["served ", method.as_str(), " "],
            path,
            after: [
                " ",
                status.as_str(),
                " in ",
                micros,
                "µs route=",
                route,
                " correlation_id=",
                id.as_str(),
            ],
        }
    }

    /// The message in one piece.
    fn concat(&self) -> String {
        [
            self.before.concat(),
            self.path.to_owned(),
            self.after.concat(),
        ]
        .concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_served_message_is_what_its_format_string_would_write() {
        let id = CorrelationId::parse("3fa9c2e100000007").unwrap();
        for (method, path, status, micros, route) in [
            (
                http::Method::GET,
                "/.well-known/jwks.json",
                StatusCode::OK,
                0,
                "/.well-known/jwks.json",
            ),
            (
                http::Method::POST,
                "/v1/oauth/token",
                StatusCode::BAD_REQUEST,
                1_234_567,
                "/v1/oauth/token",
            ),
            (
                http::Method::DELETE,
                "/nope",
                StatusCode::NOT_FOUND,
                u64::MAX,
                "-",
            ),
        ] {
            let mut micros_text = itoa::Buffer::new();
            let message = ServedMessage::new(
                &method,
                path,
                &status,
                micros_text.format(micros),
                route,
                &id,
            );
            assert_eq!(
                message.concat(),
                format!(
                    "served {method} {path} {} in {micros}µs route={route} correlation_id={id}",
                    status.as_u16()
                )
            );
        }
    }
}
