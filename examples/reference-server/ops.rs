//! The operations listener (`serve --ops-bind ADDR`), apart from the public one: `GET /metrics`
//! in the Prometheus text format, `GET /healthz` (the process is up) and `GET /readyz` (the
//! store answers and the signing keys load; 503 with the reason otherwise, and while shutting
//! down, so a load balancer stops sending new requests).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use knogin::core::Knogin;
use knogin::core::metrics::PrometheusNaming;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::BoxError;

/// Histogram buckets of the durations, in seconds: OpenTelemetry's defaults for
/// `http.server.request.duration`, with finer ones below 5 ms, where a token's answer lies.
const BUCKETS: [f64; 19] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5,
    0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// How often the recorder's histograms are folded, between scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Installs the Prometheus recorder for the library's metrics (under their Prometheus names)
/// and returns what renders them.
pub(crate) fn install_metrics() -> Result<PrometheusHandle, BoxError> {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &BUCKETS)?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(PrometheusNaming::new(recorder))
        .map_err(|_| "a metrics recorder is installed already")?;
    knogin::core::metrics::describe();
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(UPKEEP_EVERY);
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
        }
    });
    Ok(handle)
}

/// What the probes read.
#[derive(Clone)]
struct Ops {
    knogin: Knogin,
    metrics: PrometheusHandle,
    stopping: Arc<AtomicBool>,
}

/// Serves the operations routes on `listener` for as long as the process runs; `stopping`
/// turns `/readyz` to 503.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    knogin: Knogin,
    metrics: PrometheusHandle,
    stopping: Arc<AtomicBool>,
) {
    let router = axum::Router::new()
        .route("/metrics", get(render_metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .with_state(Ops {
            knogin,
            metrics,
            stopping,
        });
    if let Err(e) = axum::serve(listener, router).await {
        tracing::error!(error = %e, "the operations listener stopped");
    }
}

async fn render_metrics(State(ops): State<Ops>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        ops.metrics.render(),
    )
}

async fn ready(State(ops): State<Ops>) -> (StatusCode, String) {
    if ops.stopping.load(Ordering::Relaxed) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: shutting down\n".to_owned(),
        );
    }
    match ops.knogin.readiness().await {
        Ok(()) => (StatusCode::OK, "ready\n".to_owned()),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {e}\n")),
    }
}
