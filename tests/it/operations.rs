//! Operating it, end to end on SQLite and PostgreSQL: metrics through the `metrics` facade under
//! their Prometheus names, readiness, and webhook retention and erasure.

use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, StatusCode};
use knogin::core::clock::Clock as _;
use knogin::core::metrics::PrometheusNaming;
use knogin::core::webhooks::Pending;
use knogin::core::{TenantId, Timestamp};
use knogin::hyper::delivery_worker;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::json;

use crate::deliveries::{history, publish, receiver, setup};
use crate::support::{Db, TestServer, matrix};

/// The Prometheus recorder of this test binary, installed by the first test that needs it.
fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::set_global_recorder(PrometheusNaming::new(recorder))
            .expect("no other recorder in this binary");
        knogin::core::metrics::describe();
        handle
    })
}

matrix!(
    requests_and_tokens_are_counted_by_route_template,
    readiness_follows_the_store
);

async fn requests_and_tokens_are_counted_by_route_template(server: &TestServer) {
    let metrics = prometheus();
    let admin = server.admin_token("acme").await;
    let app = server.register(&admin, "Metrics").await;
    let form = |secret: &str| {
        format!(
            "grant_type=client_credentials&client_id={}&client_secret={secret}",
            app["client_id"].as_str().unwrap()
        )
    };
    let post_token = |body: String| {
        server.send(
            Method::POST,
            "/v1/oauth/token",
            &[("content-type", "application/x-www-form-urlencoded")],
            Bytes::from(body),
        )
    };
    let issued = post_token(form(app["client_secret"].as_str().unwrap())).await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.text());
    let refused = post_token(form("wrong")).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let token = server.access_token("acme", &["webhooks:read"]).await;
    let missing = server.get("/v1/webhooks/wh_nothere", &token).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let text = metrics.render();
    for expected in [
        "http_server_request_duration_seconds_count{http_request_method=\"POST\",\
         http_route=\"/v1/oauth/token\",http_response_status_code=\"200\"}",
        "http_server_request_duration_seconds_count{http_request_method=\"POST\",\
         http_route=\"/v1/oauth/token\",http_response_status_code=\"401\"}",
        "http_server_request_duration_seconds_count{http_request_method=\"GET\",\
         http_route=\"/v1/webhooks/{webhook_id}\",http_response_status_code=\"404\"}",
        "knogin_tokens_issued_total{grant_type=\"client_credentials\",alg=\"",
        "knogin_client_auth_failures_total ",
        "# HELP knogin_tokens_issued_total ",
    ] {
        assert!(text.contains(expected), "{expected} not in:\n{text}");
    }
    assert!(!text.contains("wh_nothere"), "a raw path became a label");
}

async fn readiness_follows_the_store(server: &TestServer) {
    server.knogin.readiness().await.expect("ready");
    server.close_database().await;
    let why = server.knogin.readiness().await.expect_err("not ready");
    assert!(!why.to_string().is_empty());
}

const DAY: Duration = Duration::from_secs(86_400);

/// Finished events go after the retention period (the running worker deletes them), the
/// history says how far back it goes, and a tenant's erasure takes its finished events (and
/// its pending ones when asked) and leaves other tenants' alone.
async fn retention_and_erasure(db: Db) {
    let (url, _received) = receiver(Vec::new()).await;
    let Some((server, _token, id)) = setup(db, &url).await else {
        return eprintln!("skipped: KNOGIN_TEST_POSTGRES_URL is not set");
    };
    let other_token = server
        .access_token("other", &["webhooks:read", "webhooks:write"])
        .await;
    let body = json!({"url": url, "events": ["incident.updated"]});
    let created = server
        .json(Method::POST, "/v1/webhooks", &other_token, &body)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let other_id = created.json()["id"].as_str().unwrap().to_owned();
    let (acme, other) = (
        TenantId::parse("acme").unwrap(),
        TenantId::parse("other").unwrap(),
    );
    // A fresh token each time: the clock jumps past any token's lifetime.
    let listing = |tenant: &'static str, id: &str| {
        let path = format!("/v1/webhooks/{id}/deliveries");
        let server = &server;
        async move {
            let token = server.access_token(tenant, &["webhooks:read"]).await;
            server.get(&path, &token).await.json()
        }
    };

    publish(&server).await;
    publish(&server).await;
    let worker = delivery_worker(server.knogin.clone());
    while worker.run_once().await.unwrap() > 0 {}
    assert_eq!(history(&listing("acme", &id).await).len(), 2);

    // A month later: a running worker deletes the finished events past the 30 days, and
    // delivers the new ones.
    server.clock.advance(31 * DAY);
    publish(&server).await;
    server
        .knogin
        .webhooks()
        .publish(&other, "incident.updated", &json!({}))
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(worker.clone().run(async {
        let _ = stopped.await;
    }));
    let mut page = listing("acme", &id).await;
    for _ in 0..200 {
        let other_done =
            history(&listing("other", &other_id).await) == [("succeeded".to_owned(), 1, Some(200))];
        if history(&page) == [("succeeded".to_owned(), 1, Some(200))] && other_done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        page = listing("acme", &id).await;
    }
    assert_eq!(history(&page), [("succeeded".to_owned(), 1, Some(200))]);
    stop.send(()).unwrap();
    running.await.unwrap();
    let since = Timestamp::from_unix(server.clock.now().unix() - 30 * 86_400);
    assert_eq!(page["history_since"], since.to_rfc3339());

    // Erasure: the finished event goes, the pending one stays unless asked.
    publish(&server).await;
    let webhooks = server.knogin.webhooks();
    let purged = webhooks.purge_events(&acme, None, Pending::Keep).await;
    let purged = purged.unwrap();
    assert_eq!((purged.events, purged.deliveries), (1, 1));
    assert_eq!(
        history(&listing("acme", &id).await),
        [("queued".to_owned(), 0, None)]
    );
    let purged = webhooks.purge_events(&acme, None, Pending::Delete).await;
    assert_eq!(purged.unwrap().events, 1);
    assert!(history(&listing("acme", &id).await).is_empty());
    assert_eq!(
        history(&listing("other", &other_id).await).len(),
        1,
        "another tenant's history is untouched"
    );
}

#[tokio::test]
async fn retention_and_erasure_on_sqlite() {
    retention_and_erasure(Db::Sqlite).await;
}

#[tokio::test]
async fn retention_and_erasure_on_postgres() {
    retention_and_erasure(Db::Postgres).await;
}
