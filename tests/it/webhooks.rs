//! Webhook subscriptions over HTTP: the whole lifecycle, every bad input named, secrets shown
//! once and never again, tenancy (another tenant's webhook is a 404) and scopes, on every
//! adapter and database.

use http::{Method, StatusCode};
use knogin::core::audit::AuditKind;
use serde_json::{Value, json};

use crate::support::{TestResponse, TestServer, matrix};

matrix!(
    subscriptions_are_created_read_listed_changed_and_deleted,
    bad_input_is_refused_naming_each_field,
    webhooks_stay_in_their_tenant_and_need_their_scopes,
    a_subscription_belongs_to_the_app_that_made_it,
    the_quota_and_a_lost_race_answer_409,
    test_sends_and_recoveries_are_rate_limited,
);

const TARGET: &str = "https://integrator.example/webhooks/argus";

async fn both(server: &TestServer, tenant: &str) -> String {
    server
        .access_token(tenant, &["webhooks:read", "webhooks:write"])
        .await
}

async fn create(server: &TestServer, token: &str, body: &Value) -> TestResponse {
    server.json(Method::POST, "/v1/webhooks", token, body).await
}

async fn subscriptions_are_created_read_listed_changed_and_deleted(server: &TestServer) {
    let token = both(server, "acme").await;
    let created = create(
        server,
        &token,
        &json!({"url": TARGET, "events": ["incident.updated"], "description": "Argus"}),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.header("cache-control"), "no-store");
    let first = created.json();
    let id = first["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("wh_"), "{first}");
    assert_eq!(first["url"], TARGET);
    assert_eq!(first["events"], json!(["incident.updated"]));
    assert!(
        first["secret"].as_str().unwrap().starts_with("whsec_"),
        "{first}"
    );

    // A secret the integrator chose is not echoed.
    let chosen = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let second = create(
        server,
        &token,
        &json!({"url": TARGET, "events": ["case.updated"], "secret": chosen, "rate_limit": 20}),
    )
    .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text());
    let second = second.json();
    assert!(second.get("secret").is_none(), "{second}");
    assert_eq!(second["rate_limit"], 20);

    let read = server.get(&format!("/v1/webhooks/{id}"), &token).await;
    assert_eq!(read.status, StatusCode::OK);
    let read = read.json();
    assert_eq!(read["description"], "Argus");
    assert!(read.get("secret").is_none(), "{read}");
    let listed = server.get("/v1/webhooks", &token).await.json();
    let ids: Vec<&str> = listed["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [second["id"].as_str().unwrap(), id.as_str()]);
    let paged = server.get("/v1/webhooks?limit=1", &token).await.json();
    assert_eq!(paged["webhooks"].as_array().unwrap().len(), 1);
    assert!(paged["next_cursor"].is_string(), "{paged}");

    let path = format!("/v1/webhooks/{id}");
    let changed = server
        .json(
            Method::PUT,
            &path,
            &token,
            &json!({"events": ["incident.updated", "incident.closed"], "disabled": true}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    let changed = changed.json();
    assert_eq!(
        changed["events"],
        json!(["incident.updated", "incident.closed"])
    );
    assert_eq!(
        (changed["disabled"].as_bool(), changed["url"].as_str()),
        (Some(true), Some(TARGET))
    );
    let rotated = server
        .json(Method::PUT, &path, &token, &json!({"secret": chosen}))
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text());
    assert!(rotated.json().get("secret").is_none());

    let deleted = server
        .send(
            Method::DELETE,
            &path,
            &[("authorization", &format!("Bearer {token}"))],
            "",
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text());
    server
        .get(&path, &token)
        .await
        .problem(StatusCode::NOT_FOUND);
    let listed = server.get("/v1/webhooks", &token).await.json();
    assert_eq!(listed["webhooks"].as_array().unwrap().len(), 1);

    assert_audited(server, &id, chosen);
}

/// The audit trail of that test: who changed which subscription, and never its secret.
fn assert_audited(server: &TestServer, id: &str, chosen: &str) {
    assert_eq!(server.audited(AuditKind::WebhookCreated).len(), 2);
    let updates = server.audited(AuditKind::WebhookUpdated);
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[0].detail("webhook_id"), Some(id));
    assert_eq!(
        (
            updates[0].detail("disabled"),
            updates[0].detail("secret_rotated")
        ),
        (Some("true"), Some("false"))
    );
    assert_eq!(updates[1].detail("secret_rotated"), Some("true"));
    assert_eq!(updates[1].actor.kind(), "client");
    let deleted = server.audited(AuditKind::WebhookDeleted);
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].detail("webhook_id"), Some(id));
    for event in server.audit.events() {
        assert!(!event.to_json().contains(chosen), "{}", event.to_json());
    }
}

async fn bad_input_is_refused_naming_each_field(server: &TestServer) {
    let token = both(server, "acme").await;
    for (body, fields) in [
        (
            json!({"url": TARGET, "events": ["incident.deleted"]}),
            vec!["events[0]"],
        ),
        (json!({"url": TARGET, "events": []}), vec!["events"]),
        (
            json!({"url": TARGET, "events": ["case.updated", "case.updated"]}),
            vec!["events[1]"],
        ),
        (
            json!({"url": "https://u:p@integrator.example/", "events": ["case.updated"]}),
            vec!["url"],
        ),
        (
            json!({"url": "https://integrator.example/#f", "events": ["case.updated"]}),
            vec!["url"],
        ),
        (
            json!({"url": "http://integrator.example/", "events": ["case.updated"]}),
            vec!["url"],
        ),
        (
            json!({"url": "https://169.254.169.254/", "events": ["case.updated"]}),
            vec!["url"],
        ),
        (
            json!({"url": "https://[::ffff:127.0.0.1]/", "events": ["case.updated"]}),
            vec!["url"],
        ),
        (
            json!({"url": "https://localhost/", "events": ["case.updated"]}),
            vec!["url"],
        ),
        (
            json!({"url": TARGET, "events": ["case.updated"], "secret": "whsec_short"}),
            vec!["secret"],
        ),
        (
            json!({"url": TARGET, "events": ["case.updated"], "secret": "plain"}),
            vec!["secret"],
        ),
        (
            json!({"url": TARGET, "events": ["case.updated"], "rate_limit": 0}),
            vec!["rate_limit"],
        ),
        (
            json!({"url": TARGET, "events": ["case.updated"], "colour": "red"}),
            vec!["colour"],
        ),
        (json!({"events": "case.updated"}), vec!["url", "events"]),
    ] {
        let answer = create(server, &token, &body).await;
        assert_eq!(answer.error_fields(), fields, "{body}");
    }
    let malformed = server
        .send(
            Method::POST,
            "/v1/webhooks",
            &[
                ("authorization", &format!("Bearer {token}")),
                ("content-type", "application/json"),
            ],
            "{\"url\":",
        )
        .await;
    malformed.problem(StatusCode::BAD_REQUEST);
    let created = create(
        server,
        &token,
        &json!({"url": TARGET, "events": ["case.updated"]}),
    )
    .await;
    let path = format!("/v1/webhooks/{}", created.json()["id"].as_str().unwrap());
    let empty = server.json(Method::PUT, &path, &token, &json!({})).await;
    assert_eq!(empty.error_fields(), ["body"]);
    let bad = server
        .json(
            Method::PUT,
            &path,
            &token,
            &json!({"url": "https://10.0.0.1/", "events": ["x"]}),
        )
        .await;
    assert_eq!(bad.error_fields(), ["url", "events[0]"]);
}

async fn webhooks_stay_in_their_tenant_and_need_their_scopes(server: &TestServer) {
    let token = both(server, "acme").await;
    let created = create(
        server,
        &token,
        &json!({"url": TARGET, "events": ["case.updated"]}),
    )
    .await;
    let path = format!("/v1/webhooks/{}", created.json()["id"].as_str().unwrap());

    // Another tenant's webhook is a 404, the same as one that does not exist.
    let other = both(server, "globex").await;
    let unknown = server.get(&path, &other).await;
    unknown.problem(StatusCode::NOT_FOUND);
    let missing = server
        .get("/v1/webhooks/wh_00000000000000000000000000000000", &token)
        .await;
    assert_eq!(unknown.body, missing.body);
    let put = server
        .json(Method::PUT, &path, &other, &json!({"disabled": true}))
        .await;
    put.problem(StatusCode::NOT_FOUND);
    let auth = format!("Bearer {other}");
    let delete = server
        .send(Method::DELETE, &path, &[("authorization", &auth)], "")
        .await;
    delete.problem(StatusCode::NOT_FOUND);
    assert!(
        server.get("/v1/webhooks", &other).await.json()["webhooks"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Reads need webhooks:read, writes webhooks:write.
    let read_only = server.access_token("acme", &["webhooks:read"]).await;
    let write_only = server.access_token("acme", &["webhooks:write"]).await;
    assert_eq!(server.get(&path, &read_only).await.status, StatusCode::OK);
    create(
        server,
        &read_only,
        &json!({"url": TARGET, "events": ["case.updated"]}),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    server
        .get(&path, &write_only)
        .await
        .problem(StatusCode::FORBIDDEN);
    // An admin token administers the platform, not an integration: it is refused here.
    let admin = server.admin_token("acme").await;
    server
        .get("/v1/webhooks", &admin)
        .await
        .problem(StatusCode::FORBIDDEN);
    let anonymous = server.send(Method::GET, "/v1/webhooks", &[], "").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

async fn a_subscription_belongs_to_the_app_that_made_it(server: &TestServer) {
    const X: &str = "app_1111111111111111111111111111111a";
    const Y: &str = "app_2222222222222222222222222222222b";
    let both = ["webhooks:read", "webhooks:write"];
    let x = server.app_token("acme", X, &both).await;
    let y = server.app_token("acme", Y, &both).await;
    let admin = server
        .app_token(
            "acme",
            Y,
            &["webhooks:read", "webhooks:write", "webhooks:admin"],
        )
        .await;
    let made = create(
        server,
        &x,
        &json!({"url": TARGET, "events": ["incident.updated"]}),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let made = made.json();
    assert_eq!(made["owner_client_id"], X);
    let id = made["id"].as_str().unwrap().to_owned();

    // Another app of the tenant sees nothing, and every route on it is a 404.
    let listed = server.get("/v1/webhooks", &y).await.json();
    assert_eq!(listed["webhooks"], json!([]), "{listed}");
    let path = format!("/v1/webhooks/{id}");
    let attempts = [
        (Method::GET, path.clone(), ""),
        (
            Method::PUT,
            path.clone(),
            r#"{"url":"https://evil.example/steal"}"#,
        ),
        (Method::DELETE, path.clone(), ""),
        (Method::GET, format!("{path}/deliveries"), ""),
        (Method::POST, format!("{path}/test"), ""),
        (
            Method::POST,
            format!("{path}/recover"),
            r#"{"since":"2000-01-01T00:00:00Z"}"#,
        ),
        (
            Method::POST,
            format!("{path}/deliveries/dlv_00000000000000000000000000000000/retry"),
            "",
        ),
    ];
    for (method, route, body) in &attempts {
        let auth = format!("Bearer {y}");
        let answer = server
            .send(
                method.clone(),
                route,
                &[
                    ("authorization", &auth),
                    ("content-type", "application/json"),
                ],
                body.to_string(),
            )
            .await;
        answer.problem(StatusCode::NOT_FOUND);
    }
    // Untouched: the owner still reads its own URL.
    let read = server.get(&path, &x).await.json();
    assert_eq!(read["url"], TARGET);

    // A webhooks:admin token of the tenant manages every subscription of it.
    let listed = server.get("/v1/webhooks", &admin).await.json();
    assert!(
        listed["webhooks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["id"] == id.as_str() && w["owner_client_id"] == X),
        "{listed}"
    );
    let paused = server
        .json(Method::PUT, &path, &admin, &json!({"disabled": true}))
        .await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.text());
    // …but not another tenant's.
    let elsewhere = server
        .app_token("globex", Y, &["webhooks:read", "webhooks:admin"])
        .await;
    server
        .get(&path, &elsewhere)
        .await
        .problem(StatusCode::NOT_FOUND);
}

async fn the_quota_and_a_lost_race_answer_409(server: &TestServer) {
    let token = both(server, "quota-tenant").await;
    let body = json!({"url": TARGET, "events": ["incident.updated"]});
    let mut first = None;
    for _ in 0..knogin::core::webhooks::DEFAULT_MAX_SUBSCRIPTIONS {
        let made = create(server, &token, &body).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
        first.get_or_insert_with(|| made.json()["id"].as_str().unwrap().to_owned());
    }
    let refused = create(server, &token, &body).await;
    let problem = refused.problem(StatusCode::CONFLICT);
    assert!(
        problem["detail"].as_str().unwrap().contains("100"),
        "{problem}"
    );
    let path = format!("/v1/webhooks/{}", first.unwrap());
    assert_eq!(
        server
            .send(
                Method::DELETE,
                &path,
                &[("authorization", &format!("Bearer {token}"))],
                ""
            )
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        create(server, &token, &body).await.status,
        StatusCode::CREATED
    );

    // Two changes at once on one subscription: each lands whole, or is refused with 409.
    let id = create(server, &both(server, "race-tenant").await, &body).await;
    let race_token = both(server, "race-tenant").await;
    let path = format!("/v1/webhooks/{}", id.json()["id"].as_str().unwrap());
    let changes = (0..8).map(|n| {
        let description = json!({ "description": format!("change {n}") });
        let (path, race_token) = (path.clone(), race_token.clone());
        async move {
            server
                .json(Method::PUT, &path, &race_token, &description)
                .await
                .status
        }
    });
    let statuses = futures_util::future::join_all(changes).await;
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
}

async fn test_sends_and_recoveries_are_rate_limited(server: &TestServer) {
    let token = both(server, "acme").await;
    let made = create(
        server,
        &token,
        &json!({"url": TARGET, "events": ["incident.updated"]}),
    )
    .await;
    let id = made.json()["id"].as_str().unwrap().to_owned();
    let auth = format!("Bearer {token}");
    let post = |path: String, body: &'static str| {
        let auth = auth.clone();
        async move {
            server
                .send(
                    Method::POST,
                    &path,
                    &[
                        ("authorization", &auth),
                        ("content-type", "application/json"),
                    ],
                    body,
                )
                .await
        }
    };
    for _ in 0..knogin::core::webhooks::TEST_SENDS_PER_MINUTE {
        let sent = post(format!("/v1/webhooks/{id}/test"), "").await;
        assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.text());
    }
    let limited = post(format!("/v1/webhooks/{id}/test"), "").await;
    limited.problem(StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.header("retry-after").parse::<u64>().unwrap() > 0);
    let recover = || {
        post(
            format!("/v1/webhooks/{id}/recover"),
            r#"{"since":"2000-01-01T00:00:00Z"}"#,
        )
    };
    for _ in 0..knogin::core::webhooks::RECOVERIES_PER_MINUTE {
        assert_eq!(recover().await.status, StatusCode::ACCEPTED);
    }
    recover().await.problem(StatusCode::TOO_MANY_REQUESTS);
    // A new minute, new sends.
    server.clock.advance(std::time::Duration::from_secs(60));
    let token = both(server, "acme").await;
    let again = server
        .json(
            Method::POST,
            &format!("/v1/webhooks/{id}/test"),
            &token,
            &json!({}),
        )
        .await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.text());
}
