//! Serving over HTTP/1.1: timeouts, a concurrency limit, one log line per request, and a
//! graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use knogin::core::Knogin;
use knogin::core::http::ClientAddr;
use knogin::hyper::delivery_worker;
use tower::util::MapRequest;
use tower::{Layer, Service, ServiceBuilder};

use crate::BoxError;

/// How long a client may take to send a request's head (slowloris).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request may take, body included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Requests handled at once; more wait for a slot.
const CONCURRENCY_LIMIT: usize = 1024;
/// How long requests in flight get to finish on shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves `knogin` on `listener` until Ctrl-C or SIGTERM.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    knogin: Knogin,
    log_requests: bool,
) -> Result<(), BoxError> {
    // Webhook deliveries go out from here; a delivery cut off by shutdown is due again when its
    // lease ends.
    let worker = tokio::spawn(delivery_worker(knogin.clone()).run(std::future::pending()));
    let app = knogin::axum::router(knogin).fallback(knogin::axum::not_found);
    let service = ServiceBuilder::new()
        .option_layer(log_requests.then_some(RequestLogLayer))
        .layer(tower::limit::ConcurrencyLimitLayer::new(CONCURRENCY_LIMIT))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .service(app);
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
    worker.abort();
    tracing::info!("shutting down: finishing requests in flight");
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after {SHUTDOWN_GRACE:?}; stopping anyway");
    }
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

/// One log line per request (method, path, status, latency), with no span and nothing
/// formatted until the answer is ready.
#[derive(Debug, Clone, Copy)]
struct RequestLogLayer;

impl<S> Layer<S> for RequestLogLayer {
    type Service = RequestLog<S>;

    fn layer(&self, inner: S) -> RequestLog<S> {
        RequestLog(inner)
    }
}

#[derive(Debug, Clone)]
struct RequestLog<S>(S);

impl<S, B, RB> Service<Request<B>> for RequestLog<S>
where
    S: Service<Request<B>, Response = Response<RB>, Error = Infallible>,
{
    type Response = Response<RB>;
    type Error = Infallible;
    type Future = Logged<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        Logged {
            started: Instant::now(),
            method: request.method().clone(),
            uri: request.uri().clone(),
            answer: self.0.call(request),
        }
    }
}

pin_project_lite::pin_project! {
    /// The answer of a logged request; logs its line when ready.
    struct Logged<F> {
        started: Instant,
        method: http::Method,
        uri: http::Uri,
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
        // One formatted message rather than four fields: each field costs the formatter more
        // than the whole line does (measured with callgrind, docs/benchmarks.md).
        tracing::info!(
            "served {} {} {} in {}µs",
            this.method,
            this.uri.path(),
            response.status().as_u16(),
            this.started.elapsed().as_micros()
        );
        Poll::Ready(Ok(response))
    }
}

/// Binds `addr`, saying which address failed.
pub(crate) async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, BoxError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}").into())
}
