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
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use knogin::core::Knogin;
use knogin::core::http::{ClientAddr, CorrelationId, MatchedRoute};
use knogin::hyper::delivery_worker;
use tower::util::MapRequest;
use tower::{Layer, Service, ServiceBuilder};

use crate::BoxError;
use crate::timeout::TimeoutLayer;

/// How long a client may take to send a request's head (slowloris).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request may take, body included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Requests handled at once; more wait for a slot.
const CONCURRENCY_LIMIT: usize = 1024;

/// How the request log line is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestLog {
    /// None (the filter leaves info lines out).
    Off,
    /// One formatted message.
    Text,
    /// Structured fields, for the JSON log format.
    Json,
}

/// How `serve` runs.
pub(crate) struct Options {
    pub(crate) request_log: RequestLog,
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
    let log_layer = match options.request_log {
        RequestLog::Off => None,
        RequestLog::Text => Some(RequestLogLayer { json: false }),
        RequestLog::Json => Some(RequestLogLayer { json: true }),
    };
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
                let connection = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEADER_READ_TIMEOUT)
                    .serve_connection(TokioIo::new(stream), with_peer(service.clone(), peer));
                let connection = graceful.watch(connection);
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
#[derive(Debug, Clone, Copy)]
struct RequestLogLayer {
    json: bool,
}

impl<S> Layer<S> for RequestLogLayer {
    type Service = Logging<S>;

    fn layer(&self, inner: S) -> Logging<S> {
        Logging {
            inner,
            json: self.json,
        }
    }
}

#[derive(Debug, Clone)]
struct Logging<S> {
    inner: S,
    json: bool,
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
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .and_then(CorrelationId::parse)
            .unwrap_or_else(CorrelationId::generate);
        request.extensions_mut().insert(id.clone());
        Logged {
            started: Instant::now(),
            method: request.method().clone(),
            uri: request.uri().clone(),
            id,
            json: self.json,
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
        json: bool,
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
        if *this.json {
            tracing::info!(
                method = %this.method,
                path = this.uri.path(),
                route,
                status = response.status().as_u16(),
                micros,
                correlation_id = %this.id,
                "served"
            );
        } else if tracing::enabled!(tracing::Level::INFO) {
            // One message rather than fields, written without format arguments: each field,
            // and each `{}`, costs the formatter more than the text it writes (measured with
            // callgrind, docs/benchmarks.md).
            let line = served_line(
                this.method,
                this.uri.path(),
                response.status(),
                micros,
                route,
                this.id,
            );
            tracing::info!("{line}");
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

/// The text log line's message: `served GET /path 200 in 12µs route=/path correlation_id=…`.
fn served_line(
    method: &http::Method,
    path: &str,
    status: StatusCode,
    micros: u64,
    route: &str,
    id: &CorrelationId,
) -> String {
    let mut micros_text = itoa::Buffer::new();
    let parts = [
        "served ",
        method.as_str(),
        " ",
        path,
        " ",
        status.as_str(),
        " in ",
        micros_text.format(micros),
        "µs route=",
        route,
        " correlation_id=",
        id.as_str(),
    ];
    let mut line = String::with_capacity(parts.iter().map(|part| part.len()).sum());
    for part in parts {
        line.push_str(part);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_served_line_is_what_its_format_string_would_write() {
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
            assert_eq!(
                served_line(&method, path, status, micros, route, &id),
                format!(
                    "served {method} {path} {} in {micros}µs route={route} correlation_id={id}",
                    status.as_u16()
                )
            );
        }
    }
}
