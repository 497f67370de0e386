//! Every metric the library records: its OpenTelemetry name, kind, unit and meaning.

use metrics::Unit;

/// What kind of instrument a metric is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// A monotonic count (OpenTelemetry counter; Prometheus `counter`, named `…_total`).
    Counter,
    /// A value that goes up and down (OpenTelemetry gauge).
    Gauge,
    /// A distribution of values (OpenTelemetry histogram).
    Histogram,
}

/// One metric the library records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    /// Its OpenTelemetry name, as recorded through the `metrics` facade, e.g.
    /// `http.server.request.duration`.
    pub name: &'static str,
    /// Its Prometheus name, e.g. `http_server_request_duration_seconds`: the OpenTelemetry
    /// name with `_` for `.`, the unit appended and `_total` on counters, as the
    /// OpenTelemetry-to-Prometheus rules say.
    pub prometheus_name: &'static str,
    /// The instrument.
    pub kind: Kind,
    /// The unit of its values, if it has one.
    pub unit: Option<Unit>,
    /// Its labels (OpenTelemetry attributes), as recorded.
    pub labels: &'static [&'static str],
    /// What it measures.
    pub help: &'static str,
}

const fn metric(
    name: &'static str,
    prometheus_name: &'static str,
    kind: Kind,
    unit: Option<Unit>,
    labels: &'static [&'static str],
    help: &'static str,
) -> Metric {
    Metric {
        name,
        prometheus_name,
        kind,
        unit,
        labels,
        help,
    }
}

/// `http.server.request.duration`: every request the routes answered.
pub const HTTP_SERVER_REQUEST_DURATION: &str = "http.server.request.duration";
/// `knogin.tokens.issued`: access tokens issued at the token endpoint.
pub const TOKENS_ISSUED: &str = "knogin.tokens.issued";
/// `knogin.client_auth.failures`: failed client authentications.
pub const CLIENT_AUTH_FAILURES: &str = "knogin.client_auth.failures";
/// `knogin.sign_in.failures`: failed sign-ins at the built-in login.
pub const SIGN_IN_FAILURES: &str = "knogin.sign_in.failures";
/// `knogin.tokens.revoked`: tokens revoked.
pub const TOKENS_REVOKED: &str = "knogin.tokens.revoked";
/// `knogin.webhook.deliveries`: webhook delivery attempts, by outcome.
pub const WEBHOOK_DELIVERIES: &str = "knogin.webhook.deliveries";
/// `knogin.webhook.delivery.duration`: how long each delivery attempt took.
pub const WEBHOOK_DELIVERY_DURATION: &str = "knogin.webhook.delivery.duration";
/// `knogin.webhook.queue_depth`: deliveries due and not yet delivered.
pub const WEBHOOK_QUEUE_DEPTH: &str = "knogin.webhook.queue_depth";
/// `knogin.webhook.backlog_age`: how long the oldest due delivery has been due.
pub const WEBHOOK_BACKLOG_AGE: &str = "knogin.webhook.backlog_age";
/// `knogin.signing_key.reloads`: reloads of the signing keys from the store.
pub const SIGNING_KEY_RELOADS: &str = "knogin.signing_key.reloads";
/// `knogin.signing_key.age`: how long the key signing now has been signing.
pub const SIGNING_KEY_AGE: &str = "knogin.signing_key.age";

/// `knogin.audit.dropped`: audit events a sink dropped because it fell behind.
pub const AUDIT_DROPPED: &str = "knogin.audit.dropped";

/// Every metric the library records.
pub const METRICS: &[Metric] = &[
    metric(
        HTTP_SERVER_REQUEST_DURATION,
        "http_server_request_duration_seconds",
        Kind::Histogram,
        Some(Unit::Seconds),
        &[
            "http.request.method",
            "http.route",
            "http.response.status_code",
        ],
        "How long the routes took to answer each request, by method, route template (absent \
         when no route matched) and status.",
    ),
    metric(
        TOKENS_ISSUED,
        "knogin_tokens_issued_total",
        Kind::Counter,
        None,
        &["grant_type", "alg"],
        "Access tokens issued at the token endpoint, by grant type and signing algorithm.",
    ),
    metric(
        CLIENT_AUTH_FAILURES,
        "knogin_client_auth_failures_total",
        Kind::Counter,
        None,
        &[],
        "Client authentications that failed: unknown client, wrong secret, or refused.",
    ),
    metric(
        SIGN_IN_FAILURES,
        "knogin_sign_in_failures_total",
        Kind::Counter,
        None,
        &[],
        "Sign-ins at the built-in login that failed.",
    ),
    metric(
        TOKENS_REVOKED,
        "knogin_tokens_revoked_total",
        Kind::Counter,
        None,
        &[],
        "Tokens revoked, one by one or in bulk (each bulk cut-off counts one).",
    ),
    metric(
        WEBHOOK_DELIVERIES,
        "knogin_webhook_deliveries_total",
        Kind::Counter,
        None,
        &["outcome"],
        "Webhook delivery attempts, by outcome: succeeded, retrying (another attempt is due) \
         or failed (given up).",
    ),
    metric(
        WEBHOOK_DELIVERY_DURATION,
        "knogin_webhook_delivery_duration_seconds",
        Kind::Histogram,
        Some(Unit::Seconds),
        &[],
        "How long each webhook delivery attempt took, until the receiver's answer or the \
         timeout.",
    ),
    metric(
        WEBHOOK_QUEUE_DEPTH,
        "knogin_webhook_queue_depth",
        Kind::Gauge,
        None,
        &[],
        "Webhook deliveries due now and not yet delivered, as a delivery worker last saw them.",
    ),
    metric(
        WEBHOOK_BACKLOG_AGE,
        "knogin_webhook_backlog_age_seconds",
        Kind::Gauge,
        Some(Unit::Seconds),
        &[],
        "How long the oldest due webhook delivery has been due (0 when none is).",
    ),
    metric(
        SIGNING_KEY_RELOADS,
        "knogin_signing_key_reloads_total",
        Kind::Counter,
        None,
        &["outcome"],
        "Reloads of the signing keys and revocations from the store, by outcome (ok, error).",
    ),
    metric(
        SIGNING_KEY_AGE,
        "knogin_signing_key_age_seconds",
        Kind::Gauge,
        Some(Unit::Seconds),
        &[],
        "How long the key signing now has been signing, as of the last reload.",
    ),
    metric(
        AUDIT_DROPPED,
        "knogin_audit_dropped_total",
        Kind::Counter,
        None,
        &[],
        "Audit events dropped because the sink's queue was full (recorded by sinks that queue, \
         such as the reference server's --audit-log).",
    ),
];

/// The metric named `name` (its OpenTelemetry name).
pub fn find(name: &str) -> Option<&'static Metric> {
    METRICS.iter().find(|m| m.name == name)
}

/// Gives the installed recorder each metric's unit and description (under its OpenTelemetry
/// name). Call it once, after installing the recorder.
pub fn describe() {
    for m in METRICS {
        let name = metrics::KeyName::from_const_str(m.name);
        metrics::with_recorder(|recorder| match m.kind {
            Kind::Counter => recorder.describe_counter(name, m.unit, m.help.into()),
            Kind::Gauge => recorder.describe_gauge(name, m.unit, m.help.into()),
            Kind::Histogram => recorder.describe_histogram(name, m.unit, m.help.into()),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_names_follow_the_opentelemetry_rules() {
        for m in METRICS {
            let mut expected = m.name.replace('.', "_");
            if m.unit == Some(Unit::Seconds) {
                expected.push_str("_seconds");
            }
            if m.kind == Kind::Counter {
                expected.push_str("_total");
            }
            assert_eq!(m.prometheus_name, expected, "{}", m.name);
        }
    }
}
