//! Serving over HTTP/1.1: timeouts, a concurrency limit, one log line per request, and a
//! graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::{Request, Response, StatusCode};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use knogin::core::Knogin;
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
    let app = knogin::axum::router(knogin).fallback(knogin::axum::not_found);
    let app = ServiceBuilder::new()
        .option_layer(log_requests.then_some(RequestLogLayer))
        .layer(tower::limit::ConcurrencyLimitLayer::new(CONCURRENCY_LIMIT))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .service(app);
    let service = TowerToHyperService::new(app);
    let graceful = GracefulShutdown::new();
    let mut shutdown = pin!(shutdown_signal());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
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
                    .serve_connection(TokioIo::new(stream), service.clone());
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            () = &mut shutdown => break,
        }
    }
    tracing::info!("shutting down: finishing requests in flight");
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after {SHUTDOWN_GRACE:?}; stopping anyway");
    }
    Ok(())
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
    S::Future: Send + 'static,
{
    type Response = Response<RB>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<RB>, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let started = Instant::now();
        let method = request.method().clone();
        let uri = request.uri().clone();
        let answer = self.0.call(request);
        Box::pin(async move {
            let response = answer.await?;
            tracing::info!(
                method = %method,
                path = uri.path(),
                status = response.status().as_u16(),
                latency_us = started.elapsed().as_micros(),
                "served"
            );
            Ok(response)
        })
    }
}

/// Binds `addr`, saying which address failed.
pub(crate) async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, BoxError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}").into())
}
