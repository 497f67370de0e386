//! Webhook deliveries end to end on SQLite and PostgreSQL: publish, the worker's signed POST to
//! a receiver on loopback, retries on the schedule with the same `webhook-id`, `410 Gone`
//! disabling the subscription, test sends, and the history.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use http::Method;
use knogin::core::TenantId;
use knogin::core::audit::{Actor, AuditKind};
use knogin::core::webhooks::{PublishError, WebhookSecret, signature};
use knogin::hyper::delivery_worker;
use serde_json::{Value, json};

use crate::support::{Adapter, Db, TestServer};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// What the receiver got: headers and body of each request.
type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A receiver on loopback answering the statuses in `answers` in turn (then 200); its URL.
pub(crate) async fn receiver(answers: Vec<u16>) -> (String, Received) {
    let received: Received = Arc::default();
    let answers = Arc::new(Mutex::new(answers.into_iter()));
    let log = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let (log, answers) = (log.clone(), answers.clone());
            async move {
                log.lock().unwrap().push((headers, body));
                let status = answers.lock().unwrap().next().unwrap_or(200);
                (StatusCode::from_u16(status).unwrap(), "received")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

/// A server, a subscription to `url` for incident.updated, and a token reading webhooks.
pub(crate) async fn setup(db: Db, url: &str) -> Option<(TestServer, String, String)> {
    let server = TestServer::start_loopback(Adapter::Hyper, db).await?;
    let token = server
        .access_token("acme", &["webhooks:read", "webhooks:write"])
        .await;
    let body = json!({"url": url, "events": ["incident.updated"], "secret": SECRET});
    let created = server
        .json(Method::POST, "/v1/webhooks", &token, &body)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let id = created.json()["id"].as_str().unwrap().to_owned();
    Some((server, token, id))
}

pub(crate) fn history(deliveries: &Value) -> Vec<(String, u64, Option<u64>)> {
    deliveries["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["status"].as_str().unwrap().to_owned(),
                d["attempts"].as_u64().unwrap(),
                d["response_status"].as_u64(),
            )
        })
        .collect()
}

/// Publishes an `incident.updated` event with empty data for the tenant `acme`.
pub(crate) async fn publish(server: &TestServer) {
    let tenant = TenantId::parse("acme").unwrap();
    server
        .knogin
        .webhooks()
        .publish(&tenant, "incident.updated", &json!({}))
        .await
        .unwrap();
}

/// Asserts `request` carries a Standard Webhooks signature of its body with [`SECRET`].
fn assert_signed(headers: &HeaderMap, body: &str) {
    let header = |name: &str| headers[name].to_str().unwrap().to_owned();
    let secret = WebhookSecret::parse(SECRET).unwrap();
    let timestamp: i64 = header("webhook-timestamp").parse().unwrap();
    let expected = signature(
        &[&secret],
        &header("webhook-id"),
        timestamp,
        body.as_bytes(),
    );
    assert_eq!(header("webhook-signature"), expected);
    assert_eq!(header("content-type"), "application/json");
}

async fn signed_retried_and_recorded(db: Db) {
    let (url, received) = receiver(vec![500]).await;
    let Some((server, token, id)) = setup(db, &url).await else {
        return eprintln!("skipped: KNOGIN_TEST_POSTGRES_URL is not set");
    };
    let tenant = TenantId::parse("acme").unwrap();
    let published = server
        .knogin
        .webhooks()
        .publish(
            &tenant,
            "incident.updated",
            &json!({"id": "inc_1", "status": "open"}),
        )
        .await
        .unwrap();
    assert_eq!(published.deliveries.len(), 1);
    let worker = delivery_worker(server.knogin.clone());
    assert_eq!(worker.run_once().await.unwrap(), 1);
    let path = format!("/v1/webhooks/{id}/deliveries");
    let after_first = server.get(&path, &token).await.json();
    assert_eq!(
        history(&after_first),
        [("retrying".to_owned(), 1, Some(500))]
    );
    assert!(after_first["deliveries"][0]["next_attempt_at"].is_string());
    // Not due until its retry time; then delivered with the same webhook-id.
    assert_eq!(worker.run_once().await.unwrap(), 0);
    server.clock.advance(Duration::from_secs(7));
    assert_eq!(worker.run_once().await.unwrap(), 1);
    let after_second = server.get(&path, &token).await.json();
    assert_eq!(
        history(&after_second),
        [("succeeded".to_owned(), 2, Some(200))]
    );
    assert_eq!(after_second["deliveries"][0]["response_body"], "received");

    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 2);
    for (headers, body) in &received {
        assert_signed(headers, body);
        let body: Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["type"], "incident.updated");
        assert_eq!(body["data"], json!({"id": "inc_1", "status": "open"}));
        assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(received[0].0["webhook-id"], received[1].0["webhook-id"]);
    assert_eq!(
        received[0].0["webhook-id"].to_str().unwrap(),
        published.deliveries[0].as_str()
    );
}

async fn gone_disables_and_test_sends_arrive(db: Db) {
    let (url, received) = receiver(vec![410]).await;
    let Some((server, token, id)) = setup(db, &url).await else {
        return eprintln!("skipped: KNOGIN_TEST_POSTGRES_URL is not set");
    };
    publish(&server).await;
    let worker = delivery_worker(server.knogin.clone());
    worker.run_once().await.unwrap();
    let webhook = server
        .get(&format!("/v1/webhooks/{id}"), &token)
        .await
        .json();
    assert_eq!(
        webhook["disabled"], true,
        "410 Gone disables the subscription"
    );
    let disabled = server.audited(AuditKind::WebhookDisabled);
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0].actor, Actor::System);
    assert_eq!(disabled[0].detail("webhook_id"), Some(id.as_str()));
    assert!(disabled[0].detail("reason").is_some());
    // A disabled subscription gets no events, but a test send still goes out.
    publish(&server).await;
    let test = server
        .send(
            Method::POST,
            &format!("/v1/webhooks/{id}/test"),
            &[("authorization", &format!("Bearer {token}"))],
            "",
        )
        .await;
    assert_eq!(test.status, StatusCode::ACCEPTED, "{}", test.text());
    let test = test.json();
    assert_eq!(test["status"], "queued");
    assert_eq!(worker.run_once().await.unwrap(), 1);
    let history = server
        .get(&format!("/v1/webhooks/{id}/deliveries"), &token)
        .await
        .json();
    let rows = history["deliveries"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0]["id"].as_str(), rows[0]["status"].as_str()),
        (test["delivery_id"].as_str(), Some("succeeded"))
    );
    assert_eq!(
        (
            rows[1]["status"].as_str(),
            rows[1]["response_status"].as_u64()
        ),
        (Some("failed"), Some(410))
    );
    let failed = server
        .get(
            &format!("/v1/webhooks/{id}/deliveries?status=failed"),
            &token,
        )
        .await
        .json();
    assert_eq!(failed["deliveries"].as_array().unwrap().len(), 1);
    let unknown_status = server
        .get(&format!("/v1/webhooks/{id}/deliveries?status=lost"), &token)
        .await;
    assert_eq!(unknown_status.error_fields(), ["status"]);
    let last = received.lock().unwrap().last().unwrap().1.clone();
    let last: Value = serde_json::from_str(&last).unwrap();
    assert_eq!(last["type"], "webhook.test");
    // Another tenant cannot read the history.
    let other = server.access_token("globex", &["webhooks:read"]).await;
    server
        .get(&format!("/v1/webhooks/{id}/deliveries"), &other)
        .await
        .problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn deliveries_are_signed_retried_and_recorded_on_sqlite() {
    signed_retried_and_recorded(Db::Sqlite).await;
}

#[tokio::test]
async fn deliveries_are_signed_retried_and_recorded_on_postgres() {
    signed_retried_and_recorded(Db::Postgres).await;
}

#[tokio::test]
async fn gone_disables_and_test_sends_arrive_on_sqlite() {
    gone_disables_and_test_sends_arrive(Db::Sqlite).await;
}

#[tokio::test]
async fn gone_disables_and_test_sends_arrive_on_postgres() {
    gone_disables_and_test_sends_arrive(Db::Postgres).await;
}

async fn failed_deliveries_are_recovered_and_one_is_resent(db: Db) {
    let (url, received) = receiver(vec![410, 410]).await;
    let Some((server, token, id)) = setup(db, &url).await else {
        return eprintln!("skipped: KNOGIN_TEST_POSTGRES_URL is not set");
    };
    let worker = delivery_worker(server.knogin.clone());
    let auth = format!("Bearer {token}");
    let post = |path: String, body: &'static str| {
        let server = &server;
        let auth = auth.clone();
        async move {
            let headers = [
                ("authorization", auth.as_str()),
                ("content-type", "application/json"),
            ];
            server.send(Method::POST, &path, &headers, body).await
        }
    };
    // Two deliveries fail (410); the subscription is disabled meanwhile.
    for _ in 0..2 {
        publish(&server).await;
    }
    assert_eq!(worker.run_once().await.unwrap(), 2);
    let recovered = post(
        format!("/v1/webhooks/{id}/recover"),
        r#"{"since":"2000-01-01T00:00:00Z"}"#,
    )
    .await;
    assert_eq!(
        recovered.status,
        StatusCode::ACCEPTED,
        "{}",
        recovered.text()
    );
    assert_eq!(recovered.json()["recovered"], 2);
    // They wait while the subscription is disabled, and go out once it is enabled again.
    assert_eq!(worker.run_once().await.unwrap(), 0);
    let enabled = server
        .json(
            Method::PUT,
            &format!("/v1/webhooks/{id}"),
            &token,
            &json!({"disabled": false}),
        )
        .await;
    assert_eq!(enabled.status, StatusCode::OK, "{}", enabled.text());
    assert_eq!(worker.run_once().await.unwrap(), 2);
    let recorded = server
        .get(&format!("/v1/webhooks/{id}/deliveries"), &token)
        .await
        .json();
    assert_eq!(
        history(&recorded)
            .iter()
            .filter(|(s, n, _)| s == "succeeded" && *n == 2)
            .count(),
        2
    );

    // One delivery is resent by id, with its webhook-id unchanged.
    let delivery = recorded["deliveries"][0]["id"].as_str().unwrap().to_owned();
    let resent = post(format!("/v1/webhooks/{id}/deliveries/{delivery}/retry"), "").await;
    assert_eq!(resent.status, StatusCode::ACCEPTED, "{}", resent.text());
    assert_eq!(resent.json()["delivery_id"], delivery.as_str());
    assert_eq!(worker.run_once().await.unwrap(), 1);
    let last = received.lock().unwrap().last().unwrap().0["webhook-id"].clone();
    assert_eq!(last.to_str().unwrap(), delivery);

    // Bad input and unknown ids.
    let bad = post(
        format!("/v1/webhooks/{id}/recover"),
        r#"{"since":"yesterday"}"#,
    )
    .await;
    assert_eq!(bad.error_fields(), ["since"]);
    post(
        format!("/v1/webhooks/{id}/deliveries/dlv_00000000000000000000000000000000/retry"),
        "",
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    post(
        "/v1/webhooks/wh_00000000000000000000000000000000/recover".to_owned(),
        r#"{"since":"2000-01-01T00:00:00Z"}"#,
    )
    .await
    .problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn failed_deliveries_are_recovered_and_one_is_resent_on_sqlite() {
    failed_deliveries_are_recovered_and_one_is_resent(Db::Sqlite).await;
}

#[tokio::test]
async fn failed_deliveries_are_recovered_and_one_is_resent_on_postgres() {
    failed_deliveries_are_recovered_and_one_is_resent(Db::Postgres).await;
}

async fn failing_for_the_span_disables_with_its_reason(db: Db) {
    let (url, _) = receiver(vec![500; 20]).await;
    let Some((server, _, id)) = setup(db, &url).await else {
        return eprintln!("skipped: KNOGIN_TEST_POSTGRES_URL is not set");
    };
    let worker = delivery_worker(server.knogin.clone());
    let path = format!("/v1/webhooks/{id}");
    // Days pass in this test: each request gets a fresh token.
    let read = || async {
        let token = server
            .access_token("acme", &["webhooks:read", "webhooks:write"])
            .await;
        (server.get(&path, &token).await.json(), token)
    };
    publish(&server).await;
    worker.run_once().await.unwrap();
    // Four days of failures later the subscription is still on.
    server.clock.advance(Duration::from_secs(4 * 86_400));
    publish(&server).await;
    worker.run_once().await.unwrap();
    assert_eq!(read().await.0["disabled"], false);
    // Past five days of nothing but failures, the next failure disables it and says why.
    server.clock.advance(Duration::from_secs(86_400));
    publish(&server).await;
    worker.run_once().await.unwrap();
    let (webhook, token) = read().await;
    assert_eq!(webhook["disabled"], true);
    let reason = webhook["disabled_reason"].as_str().unwrap();
    assert!(
        reason.starts_with("every delivery has failed since "),
        "{reason}"
    );
    // Its owner turns it back on: the reason goes, and the failure span starts over.
    let enabled = server
        .json(Method::PUT, &path, &token, &json!({"disabled": false}))
        .await
        .json();
    assert_eq!(enabled["disabled"], false);
    assert!(enabled.get("disabled_reason").is_none(), "{enabled}");
    publish(&server).await;
    worker.run_once().await.unwrap();
    assert_eq!(read().await.0["disabled"], false);
}

#[tokio::test]
async fn failing_for_the_span_disables_with_its_reason_on_sqlite() {
    failing_for_the_span_disables_with_its_reason(Db::Sqlite).await;
}

#[tokio::test]
async fn failing_for_the_span_disables_with_its_reason_on_postgres() {
    failing_for_the_span_disables_with_its_reason(Db::Postgres).await;
}

async fn a_rate_limit_spreads_a_burst_over_seconds(db: Db) {
    let (url, received) = receiver(vec![]).await;
    let Some((server, token, id)) = setup(db, &url).await else {
        return eprintln!("skipped: KNOGIN_TEST_POSTGRES_URL is not set");
    };
    let limited = server
        .json(
            Method::PUT,
            &format!("/v1/webhooks/{id}"),
            &token,
            &json!({"rate_limit": 2}),
        )
        .await;
    assert_eq!(limited.status, StatusCode::OK, "{}", limited.text());
    for _ in 0..5 {
        publish(&server).await;
    }
    // Two workers, as two instances would be, share the limit of 2 per second.
    let workers = [
        delivery_worker(server.knogin.clone()).batch(3),
        delivery_worker(server.another_instance().await).batch(3),
    ];
    for expected in [2, 4, 5] {
        for worker in &workers {
            worker.run_once().await.unwrap();
        }
        assert_eq!(received.lock().unwrap().len(), expected);
        server.clock.advance(Duration::from_secs(1));
    }
    let history = server
        .get(&format!("/v1/webhooks/{id}/deliveries"), &token)
        .await
        .json();
    assert!(
        history["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["attempts"] == 1)
    );
}

#[tokio::test]
async fn a_rate_limit_spreads_a_burst_over_seconds_on_sqlite() {
    a_rate_limit_spreads_a_burst_over_seconds(Db::Sqlite).await;
}

#[tokio::test]
async fn a_rate_limit_spreads_a_burst_over_seconds_on_postgres() {
    a_rate_limit_spreads_a_burst_over_seconds(Db::Postgres).await;
}

async fn a_new_secret_signs_beside_the_old_one_for_the_overlap(db: Db) {
    let (url, received) = receiver(vec![]).await;
    let Some((server, token, id)) = setup(db, &url).await else {
        return eprintln!("skipped: KNOGIN_TEST_POSTGRES_URL is not set");
    };
    let new = WebhookSecret::generate();
    let rotated = server
        .json(
            Method::PUT,
            &format!("/v1/webhooks/{id}"),
            &token,
            &json!({"secret": *new.expose()}),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text());
    let worker = delivery_worker(server.knogin.clone());
    publish(&server).await;
    worker.run_once().await.unwrap();
    // The overlap (24 h) ends: only the new secret signs.
    server.clock.advance(Duration::from_secs(24 * 3600 + 1));
    publish(&server).await;
    worker.run_once().await.unwrap();
    let received = received.lock().unwrap().clone();
    let old = WebhookSecret::parse(SECRET).unwrap();
    let signed = |(headers, body): &(HeaderMap, String), secrets: &[&WebhookSecret]| {
        let header = |name: &str| headers[name].to_str().unwrap().to_owned();
        let timestamp: i64 = header("webhook-timestamp").parse().unwrap();
        header("webhook-signature")
            == signature(secrets, &header("webhook-id"), timestamp, body.as_bytes())
    };
    assert!(
        signed(&received[0], &[&new, &old]),
        "both sign during the overlap"
    );
    assert!(signed(&received[1], &[&new]), "only the new one after it");
}

#[tokio::test]
async fn a_new_secret_signs_beside_the_old_one_for_the_overlap_on_sqlite() {
    a_new_secret_signs_beside_the_old_one_for_the_overlap(Db::Sqlite).await;
}

/// Publishing for a tenant the server does not have names the tenant, on both databases.
async fn an_unknown_tenant_is_named(db: Db) {
    let Some(server) = TestServer::start_loopback(Adapter::Hyper, db).await else {
        return;
    };
    let nobody = TenantId::parse("nobody").unwrap();
    let refused = server
        .knogin
        .webhooks()
        .publish(&nobody, "incident.updated", &json!({}))
        .await
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        "there is no tenant nobody on this server"
    );
    let refused = server
        .knogin
        .webhooks()
        .publish_many(&nobody, "incident.updated", &[json!({}), json!({})])
        .await
        .unwrap_err();
    assert!(matches!(refused, PublishError::UnknownTenant(t) if t == nobody));
}

#[tokio::test]
async fn an_unknown_tenant_is_named_on_sqlite() {
    an_unknown_tenant_is_named(Db::Sqlite).await;
}

#[tokio::test]
async fn an_unknown_tenant_is_named_on_postgres() {
    an_unknown_tenant_is_named(Db::Postgres).await;
}

/// A worker waiting out a long idle interval starts on a publication at once, and so does a
/// test send.
async fn a_publication_wakes_an_idle_worker(db: Db) {
    let (url, received) = receiver(vec![]).await;
    let Some((server, token, id)) = setup(db, &url).await else {
        return eprintln!("skipped: KNOGIN_TEST_POSTGRES_URL is not set");
    };
    let worker = delivery_worker(server.knogin.clone()).idle_poll(Duration::from_secs(3600));
    let running = tokio::spawn(worker.run(std::future::pending()));
    let arrived = |n: usize| {
        let received = received.clone();
        async move {
            while received.lock().unwrap().len() < n {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    // Let the worker find nothing and settle into its hour-long wait.
    tokio::time::sleep(Duration::from_millis(200)).await;
    publish(&server).await;
    tokio::time::timeout(Duration::from_secs(10), arrived(1))
        .await
        .expect("the publication woke the worker");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sent = server
        .json(
            Method::POST,
            &format!("/v1/webhooks/{id}/test"),
            &token,
            &json!({}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.text());
    tokio::time::timeout(Duration::from_secs(10), arrived(2))
        .await
        .expect("the test send woke the worker");
    running.abort();
}

#[tokio::test]
async fn a_publication_wakes_an_idle_worker_on_sqlite() {
    a_publication_wakes_an_idle_worker(Db::Sqlite).await;
}

#[tokio::test]
async fn a_publication_wakes_an_idle_worker_on_postgres() {
    a_publication_wakes_an_idle_worker(Db::Postgres).await;
}

/// A receiver on loopback that answers 200 with a NUL byte in its body; how many it got.
async fn nul_receiver() -> (String, Arc<Mutex<usize>>) {
    let count = Arc::new(Mutex::new(0));
    let seen = count.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let seen = seen.clone();
            async move {
                *seen.lock().unwrap() += 1;
                (StatusCode::OK, "took it\0and more")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, count)
}

async fn a_nul_in_an_answer_sinks_nothing(db: Db) {
    let (url, received) = receiver(Vec::new()).await;
    let Some((server, token, good)) = setup(db, &url).await else {
        return eprintln!("skipped: KNOGIN_TEST_POSTGRES_URL is not set");
    };
    let (nul_url, nul_count) = nul_receiver().await;
    let body = json!({"url": nul_url, "events": ["incident.updated"]});
    let created = server
        .json(Method::POST, "/v1/webhooks", &token, &body)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let nul = created.json()["id"].as_str().unwrap().to_owned();
    for _ in 0..5 {
        publish(&server).await;
    }
    let worker = delivery_worker(server.knogin.clone());
    assert_eq!(worker.run_once().await.unwrap(), 10);
    // Long after every lease would have ended, nothing is due again.
    server.clock.advance(Duration::from_secs(600));
    assert_eq!(worker.run_once().await.unwrap(), 0);
    assert_eq!(received.lock().unwrap().len(), 5);
    assert_eq!(*nul_count.lock().unwrap(), 5);
    for (id, answer) in [(&good, "received"), (&nul, "took it\u{fffd}and more")] {
        let page = server
            .get(&format!("/v1/webhooks/{id}/deliveries"), &token)
            .await
            .json();
        assert_eq!(
            history(&page),
            vec![("succeeded".to_owned(), 1, Some(200)); 5]
        );
        assert!(
            page["deliveries"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d["response_body"] == answer),
            "{page}"
        );
    }
}

#[tokio::test]
async fn a_nul_in_an_answer_sinks_nothing_on_sqlite() {
    a_nul_in_an_answer_sinks_nothing(Db::Sqlite).await;
}

#[tokio::test]
async fn a_nul_in_an_answer_sinks_nothing_on_postgres() {
    a_nul_in_an_answer_sinks_nothing(Db::Postgres).await;
}

async fn a_test_send_is_tried_once(db: Db) {
    let (url, received) = receiver(vec![500, 500]).await;
    let Some((server, token, id)) = setup(db, &url).await else {
        return eprintln!("skipped: KNOGIN_TEST_POSTGRES_URL is not set");
    };
    let sent = server
        .json(
            Method::POST,
            &format!("/v1/webhooks/{id}/test"),
            &token,
            &json!({}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.text());
    let worker = delivery_worker(server.knogin.clone());
    assert_eq!(worker.run_once().await.unwrap(), 1);
    server.clock.advance(Duration::from_secs(600));
    assert_eq!(
        worker.run_once().await.unwrap(),
        0,
        "no retry of a test send"
    );
    let page = server
        .get(&format!("/v1/webhooks/{id}/deliveries"), &token)
        .await
        .json();
    assert_eq!(history(&page), [("failed".to_owned(), 1, Some(500))]);
    assert_eq!(received.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_test_send_is_tried_once_on_sqlite() {
    a_test_send_is_tried_once(Db::Sqlite).await;
}

#[tokio::test]
async fn a_test_send_is_tried_once_on_postgres() {
    a_test_send_is_tried_once(Db::Postgres).await;
}
