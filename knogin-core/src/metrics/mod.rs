//! Metrics, recorded through the [`metrics`] facade under OpenTelemetry's names and semantic
//! conventions. Route them where you like by installing a recorder (a Prometheus exporter
//! wrapped in [`PrometheusNaming`], an OTLP one as it is); with none installed, recording costs
//! next to nothing. [`METRICS`] lists each metric with its Prometheus name, and
//! `docs/operations.md` says what to watch.

mod catalog;
mod prometheus;

use std::sync::LazyLock;
use std::time::Duration;

pub use self::catalog::{
    AUDIT_DROPPED, CLIENT_AUTH_FAILURES, HTTP_SERVER_REQUEST_DURATION, Kind, METRICS, Metric,
    SIGN_IN_FAILURES, SIGNING_KEY_AGE, SIGNING_KEY_RELOADS, TOKENS_ISSUED, TOKENS_REVOKED,
    WEBHOOK_BACKLOG_AGE, WEBHOOK_DELIVERIES, WEBHOOK_DELIVERY_DURATION, WEBHOOK_QUEUE_DEPTH,
    describe, find,
};
pub use self::prometheus::PrometheusNaming;

/// The label of each status code 100 to 599, made once so a request's label is not formatted.
static STATUS_LABELS: LazyLock<Vec<String>> =
    LazyLock::new(|| (100..600).map(|code: u16| code.to_string()).collect());

/// `http.request.method` of `method`: its name when it is one of HTTP's, else `_OTHER` (as the
/// conventions ask, so a client cannot make up labels).
pub(crate) fn method_label(method: &http::Method) -> &'static str {
    match *method {
        http::Method::GET => "GET",
        http::Method::POST => "POST",
        http::Method::PUT => "PUT",
        http::Method::PATCH => "PATCH",
        http::Method::DELETE => "DELETE",
        http::Method::HEAD => "HEAD",
        http::Method::OPTIONS => "OPTIONS",
        http::Method::TRACE => "TRACE",
        http::Method::CONNECT => "CONNECT",
        _ => "_OTHER",
    }
}

/// Records a request answered with `status` after `took`, on `route` (a template) if one matched.
pub(crate) fn request_served(
    method: &'static str,
    route: Option<&'static str>,
    status: http::StatusCode,
    took: Duration,
) {
    let status: &'static str = STATUS_LABELS
        .get(usize::from(status.as_u16()).wrapping_sub(100))
        .map_or("_OTHER", String::as_str);
    let histogram = match route {
        Some(route) => metrics::histogram!(
            HTTP_SERVER_REQUEST_DURATION,
            "http.request.method" => method,
            "http.route" => route,
            "http.response.status_code" => status,
        ),
        None => metrics::histogram!(
            HTTP_SERVER_REQUEST_DURATION,
            "http.request.method" => method,
            "http.response.status_code" => status,
        ),
    };
    histogram.record(took);
}

/// Records an access token issued by `grant_type`, signed with `alg`.
pub(crate) fn token_issued(grant_type: &'static str, alg: &'static str) {
    metrics::counter!(TOKENS_ISSUED, "grant_type" => grant_type, "alg" => alg).increment(1);
}

/// Records a failed client authentication.
pub(crate) fn client_auth_failed() {
    metrics::counter!(CLIENT_AUTH_FAILURES).increment(1);
}

/// Records a failed sign-in.
#[cfg(feature = "password-login")]
pub(crate) fn sign_in_failed() {
    metrics::counter!(SIGN_IN_FAILURES).increment(1);
}

/// Records `n` tokens revoked.
pub(crate) fn tokens_revoked(n: u64) {
    metrics::counter!(TOKENS_REVOKED).increment(n);
}

/// Records a webhook delivery attempt that ended in `outcome` after `took`.
pub(crate) fn delivery_attempted(outcome: &'static str, took: Duration) {
    metrics::counter!(WEBHOOK_DELIVERIES, "outcome" => outcome).increment(1);
    metrics::histogram!(WEBHOOK_DELIVERY_DURATION).record(took);
}

/// Records the due deliveries a worker saw, and how long the oldest has been due.
pub(crate) fn delivery_backlog(due: u64, oldest_due_for: Duration) {
    #[allow(clippy::cast_precision_loss)]
    metrics::gauge!(WEBHOOK_QUEUE_DEPTH).set(due as f64);
    metrics::gauge!(WEBHOOK_BACKLOG_AGE).set(oldest_due_for);
}

/// Records a reload of the signing keys, and how long the key signing after it has signed.
pub(crate) fn keys_reloaded(ok: bool, signing_key_age: Duration) {
    let outcome = if ok { "ok" } else { "error" };
    metrics::counter!(SIGNING_KEY_RELOADS, "outcome" => outcome).increment(1);
    metrics::gauge!(SIGNING_KEY_AGE).set(signing_key_age);
}
