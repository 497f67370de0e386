//! Prometheus names for the library's metrics, as a wrapper around any recorder.

use metrics::{
    Counter, Gauge, Histogram, Key, KeyName, Label, Metadata, Recorder, SharedString, Unit,
};

use super::catalog;

/// A recorder that passes the library's metrics to `R` under their Prometheus names
/// (`http.server.request.duration` becomes `http_server_request_duration_seconds`, labels
/// `http.route` becomes `http_route`), and every other metric unchanged. Wrap a Prometheus
/// exporter's recorder in it; an OpenTelemetry exporter takes the names as they are.
///
/// ```
/// use knogin_core::metrics::PrometheusNaming;
/// # struct Exporter;
/// # impl metrics::Recorder for Exporter {
/// #     fn describe_counter(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
/// #     fn describe_gauge(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
/// #     fn describe_histogram(&self, _: metrics::KeyName, _: Option<metrics::Unit>, _: metrics::SharedString) {}
/// #     fn register_counter(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter { metrics::Counter::noop() }
/// #     fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge { metrics::Gauge::noop() }
/// #     fn register_histogram(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Histogram { metrics::Histogram::noop() }
/// # }
/// // e.g. metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder()
/// let exporter = Exporter;
/// metrics::set_global_recorder(PrometheusNaming::new(exporter)).unwrap();
/// knogin_core::metrics::describe();
/// ```
#[derive(Debug)]
pub struct PrometheusNaming<R> {
    inner: R,
}

impl<R> PrometheusNaming<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self { inner }
    }
}

/// The Prometheus name of the library's metric `name`, or `name` itself.
fn rename(name: KeyName) -> KeyName {
    match catalog::find(name.as_str()) {
        Some(metric) => KeyName::from_const_str(metric.prometheus_name),
        None => name,
    }
}

/// `key` under its Prometheus name and label names, when it is one of the library's metrics.
/// A request records one of these, so the labels' strings are shared, not copied: the library's
/// are all `'static`, and only a label name with a dot is written anew.
fn rename_key(key: &Key) -> Option<Key> {
    let metric = catalog::find(key.name())?;
    let labels: Vec<Label> = key
        .labels()
        .map(|label| {
            let (name, value) = label.clone().into_parts();
            let name = match &*name {
                "http.request.method" => SharedString::const_str("http_request_method"),
                "http.route" => SharedString::const_str("http_route"),
                "http.response.status_code" => SharedString::const_str("http_response_status_code"),
                dotted if dotted.contains('.') => SharedString::from(dotted.replace('.', "_")),
                _ => name,
            };
            Label::new(name, value)
        })
        .collect();
    Some(Key::from_parts(
        KeyName::from_const_str(metric.prometheus_name),
        labels,
    ))
}

impl<R: Recorder> Recorder for PrometheusNaming<R> {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_counter(rename(key), unit, description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_gauge(rename(key), unit, description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner
            .describe_histogram(rename(key), unit, description);
    }

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        match rename_key(key) {
            Some(key) => self.inner.register_counter(&key, metadata),
            None => self.inner.register_counter(key, metadata),
        }
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        match rename_key(key) {
            Some(key) => self.inner.register_gauge(&key, metadata),
            None => self.inner.register_gauge(key, metadata),
        }
    }

    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        match rename_key(key) {
            Some(key) => self.inner.register_histogram(&key, metadata),
            None => self.inner.register_histogram(key, metadata),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use metrics::{
        Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
    };

    use super::PrometheusNaming;

    /// Keeps the name and labels of everything registered.
    #[derive(Default, Clone)]
    struct Seen(Arc<Mutex<Vec<String>>>);

    impl Seen {
        fn push(&self, key: &Key) {
            let labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            self.0
                .lock()
                .unwrap()
                .push(format!("{}{{{}}}", key.name(), labels.join(",")));
        }
    }

    impl Recorder for Seen {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
            self.push(key);
            Counter::noop()
        }
        fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
            self.push(key);
            Gauge::noop()
        }
        fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
            self.push(key);
            Histogram::noop()
        }
    }

    #[test]
    fn the_librarys_metrics_get_their_prometheus_names_and_others_stay() {
        let seen = Seen::default();
        let recorder = PrometheusNaming::new(seen.clone());
        metrics::with_local_recorder(&recorder, || {
            crate::metrics::request_served(
                "GET",
                Some("/v1/webhooks/{webhook_id}"),
                http::StatusCode::NOT_FOUND,
                std::time::Duration::from_millis(1),
            );
            crate::metrics::token_issued("client_credentials", "ES256");
            crate::metrics::delivery_attempted("retrying", std::time::Duration::from_secs(1));
            metrics::counter!("embedder.own", "a.b" => "c").increment(1);
        });
        assert_eq!(
            *seen.0.lock().unwrap(),
            [
                "http_server_request_duration_seconds{http_request_method=GET,\
                 http_route=/v1/webhooks/{webhook_id},http_response_status_code=404}",
                "knogin_tokens_issued_total{grant_type=client_credentials,alg=ES256}",
                "knogin_webhook_deliveries_total{outcome=retrying}",
                "knogin_webhook_delivery_duration_seconds{}",
                "embedder.own{a.b=c}",
            ]
        );
    }
}
