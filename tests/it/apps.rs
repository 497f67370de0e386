//! Registering, reading, listing apps and rotating their secrets.

use std::time::Duration;

use http::{Method, StatusCode};
use knogin::core::{AppId, ClientSecret};
use serde_json::{Value, json};

use crate::support::{TestServer, matrix};

matrix!(
    scopes_list_the_catalog,
    registering_returns_the_app_and_a_write_once_secret,
    registration_names_every_bad_field,
    listing_is_per_tenant_newest_first_in_pages,
    another_tenants_app_is_a_404_like_a_missing_one,
    rotating_a_secret_retires_the_old_one_at_once,
);

async fn scopes_list_the_catalog(server: &TestServer) {
    let token = server.admin_token("acme").await;
    let response = server.get("/v1/platform/scopes", &token).await;
    assert_eq!(response.status, StatusCode::OK);
    let names: Vec<Value> = response.json()["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert!(s["description"].as_str().is_some_and(|d| !d.is_empty()));
            s["name"].clone()
        })
        .collect();
    assert_eq!(
        names,
        [
            "webhooks:read",
            "webhooks:write",
            "webhooks:admin",
            "incidents:read"
        ]
    );
}

async fn registering_returns_the_app_and_a_write_once_secret(server: &TestServer) {
    let token = server.admin_token("acme").await;
    let body = json!({
        "name": "Case sync connector",
        "grant_types": ["authorization_code", "client_credentials"],
        "redirect_uris": ["https://integrator.example/callback", "http://127.0.0.1:9000/cb"],
        "requested_scopes": ["webhooks:write", "webhooks:read"],
    });
    let response = server
        .json(Method::POST, "/v1/platform/apps", &token, &body)
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    assert_eq!(response.header("cache-control"), "no-store");
    let created = response.json();
    let client_id = created["client_id"].as_str().unwrap();
    assert!(AppId::parse(client_id).is_some(), "{client_id}");
    let secret = created["client_secret"].as_str().unwrap();
    assert!(
        secret.len() >= 43,
        "at least 256 bits of randomness: {secret}"
    );
    assert_eq!(created["name"], "Case sync connector");
    assert_eq!(created["grant_types"], body["grant_types"]);
    assert_eq!(created["redirect_uris"], body["redirect_uris"]);
    assert_eq!(created["requested_scopes"], body["requested_scopes"]);
    assert_eq!(created["tenant_id"], "acme");
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        created["governance"],
        json!({"allow_service_tokens": false, "enforce_pkce": true})
    );

    let id = AppId::parse(client_id).unwrap();
    assert!(
        server
            .knogin
            .apps()
            .check_secret(&id, &ClientSecret::from_presented(secret))
            .await
            .unwrap()
    );

    let read = server
        .get(&format!("/v1/platform/apps/{client_id}"), &token)
        .await;
    assert_eq!(read.status, StatusCode::OK);
    let mut expected = created.clone();
    expected.as_object_mut().unwrap().remove("client_secret");
    assert_eq!(read.json(), expected, "the secret is never shown again");
    let listed = server.get("/v1/platform/apps", &token).await;
    assert!(!listed.text().contains(secret));
}

async fn registration_names_every_bad_field(server: &TestServer) {
    let token = server.admin_token("acme").await;
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({"grant_types": ["client_credentials"]}), vec!["name"]),
        (
            json!({"name": "", "grant_types": ["client_credentials"]}),
            vec!["name"],
        ),
        (
            json!({"name": "x".repeat(201), "grant_types": ["client_credentials"]}),
            vec!["name"],
        ),
        (json!({"name": "a"}), vec!["grant_types"]),
        (json!({"name": "a", "grant_types": []}), vec!["grant_types"]),
        (
            json!({"name": "a", "grant_types": ["password"]}),
            vec!["grant_types[0]"],
        ),
        (
            json!({"name": "a", "grant_types": ["authorization_code"]}),
            vec!["redirect_uris"],
        ),
        (
            json!({"name": "a", "grant_types": ["authorization_code"], "redirect_uris": ["http://integrator.example/cb"]}),
            vec!["redirect_uris[0]"],
        ),
        (
            json!({"name": "a", "grant_types": ["authorization_code"], "redirect_uris": ["https://a.example/cb#x", "/relative"]}),
            vec!["redirect_uris[0]", "redirect_uris[1]"],
        ),
        (
            json!({"name": "a", "grant_types": ["client_credentials"], "requested_scopes": ["platform:admin", "webhooks:read"]}),
            vec!["requested_scopes[0]"],
        ),
        (
            json!({"name": 7, "grant_types": "client_credentials"}),
            vec!["name", "grant_types"],
        ),
        (
            json!({"name": "a", "grant_types": ["client_credentials"], "redirect_uri": []}),
            vec!["redirect_uri"],
        ),
        (
            json!({"name": "", "grant_types": ["implicit"], "redirect_uris": "https://a.example", "scopes": 1}),
            vec!["redirect_uris", "scopes", "name", "grant_types[0]"],
        ),
        (json!(["not", "an", "object"]), vec!["body"]),
        (
            json!({"name": "evil\u{202e}gpj.exe", "grant_types": ["client_credentials"]}),
            vec!["name"],
        ),
        (
            json!({"name": "a", "grant_types": ["authorization_code"], "redirect_uris": ["https://a.example/cb\n", "https://A.example:443/cb"]}),
            vec!["redirect_uris[0]", "redirect_uris[1]"],
        ),
    ];
    for (body, fields) in cases {
        let response = server
            .json(Method::POST, "/v1/platform/apps", &token, &body)
            .await;
        assert_eq!(response.error_fields(), fields, "{body}");
    }
    let listed = server.get("/v1/platform/apps", &token).await.json();
    assert_eq!(listed["apps"], json!([]), "nothing was stored");
}

async fn listing_is_per_tenant_newest_first_in_pages(server: &TestServer) {
    let acme = server.admin_token("acme").await;
    let other = server.admin_token("globex").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(server.register(&acme, &format!("app {i}")).await["client_id"].clone());
        server.register(&other, &format!("other {i}")).await;
    }
    ids.reverse();

    let mut seen = Vec::new();
    let mut path = "/v1/platform/apps?limit=2".to_owned();
    loop {
        let page = server.get(&path, &acme).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        let page = page.json();
        let apps = page["apps"].as_array().unwrap();
        assert!(apps.len() <= 2);
        for app in apps {
            assert_eq!(app["tenant_id"], "acme");
            assert!(app.get("client_secret").is_none());
            seen.push(app["client_id"].clone());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/platform/apps?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ids);

    for bad in ["limit=0", "limit=201", "limit=ten", "cursor=not-a-cursor"] {
        let response = server.get(&format!("/v1/platform/apps?{bad}"), &acme).await;
        let field = bad.split('=').next().unwrap();
        assert_eq!(response.error_fields(), [field], "{bad}");
    }
}

async fn another_tenants_app_is_a_404_like_a_missing_one(server: &TestServer) {
    let acme = server.admin_token("acme").await;
    let other = server.admin_token("globex").await;
    let app = server.register(&acme, "private").await;
    let id = app["client_id"].as_str().unwrap();
    let missing = AppId::generate();
    let patch = json!({"allow_service_tokens": true});

    for target in [id, missing.as_str(), "app_not-an-id"] {
        let read = server
            .get(&format!("/v1/platform/apps/{target}"), &other)
            .await;
        let governance = server
            .json(
                Method::PATCH,
                &format!("/v1/platform/apps/{target}/governance"),
                &other,
                &patch,
            )
            .await;
        let rotate = server
            .json(
                Method::POST,
                &format!("/v1/platform/apps/{target}/rotate-secret"),
                &other,
                &json!({}),
            )
            .await;
        for response in [read, governance, rotate] {
            let problem = response.problem(StatusCode::NOT_FOUND);
            assert_eq!(
                problem["detail"],
                "No app with this client_id exists in your tenant."
            );
        }
    }
    let untouched = server
        .get(&format!("/v1/platform/apps/{id}"), &acme)
        .await
        .json();
    assert_eq!(untouched["governance"]["allow_service_tokens"], false);
}

async fn rotating_a_secret_retires_the_old_one_at_once(server: &TestServer) {
    let token = server.admin_token("acme").await;
    let app = server.register(&token, "rotating").await;
    let id = AppId::parse(app["client_id"].as_str().unwrap()).unwrap();
    let old = ClientSecret::from_presented(app["client_secret"].as_str().unwrap());

    let auth = format!("Bearer {token}");
    let response = server
        .send(
            Method::POST,
            &format!("/v1/platform/apps/{id}/rotate-secret"),
            &[("authorization", &auth)],
            "",
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.header("cache-control"), "no-store");
    let body = response.json();
    assert_eq!(body["client_id"], id.as_str());
    let new = ClientSecret::from_presented(body["client_secret"].as_str().unwrap());
    assert_ne!(new.expose(), old.expose());
    assert_eq!(body.as_object().unwrap().len(), 2);

    assert!(!server.knogin.apps().check_secret(&id, &old).await.unwrap());
    assert!(server.knogin.apps().check_secret(&id, &new).await.unwrap());
}

matrix!(grace = 300; rotation_with_grace_keeps_the_old_secret_until_it_ends);

/// With a configured grace period the old secret works until it ends (the test moves the clock).
async fn rotation_with_grace_keeps_the_old_secret_until_it_ends(server: &TestServer) {
    let token = server.admin_token("acme").await;
    let app = server.register(&token, "graceful").await;
    let id = AppId::parse(app["client_id"].as_str().unwrap()).unwrap();
    let old = ClientSecret::from_presented(app["client_secret"].as_str().unwrap());
    let rotated = server
        .json(
            Method::POST,
            &format!("/v1/platform/apps/{id}/rotate-secret"),
            &token,
            &json!({}),
        )
        .await
        .json();
    let new = ClientSecret::from_presented(rotated["client_secret"].as_str().unwrap());

    server.clock.advance(Duration::from_secs(299));
    assert!(server.knogin.apps().check_secret(&id, &old).await.unwrap());
    assert!(server.knogin.apps().check_secret(&id, &new).await.unwrap());
    server.clock.advance(Duration::from_secs(1));
    assert!(!server.knogin.apps().check_secret(&id, &old).await.unwrap());
    assert!(server.knogin.apps().check_secret(&id, &new).await.unwrap());

    // After a leak, an admin cuts every earlier secret off at once, grace or not.
    let path = format!("/v1/platform/apps/{id}/rotate-secret");
    let bad = server
        .json(
            Method::POST,
            &path,
            &token,
            &json!({"revoke_previous": "yes"}),
        )
        .await;
    assert_eq!(bad.error_fields(), ["revoke_previous"]);
    let rotated = server
        .json(
            Method::POST,
            &path,
            &token,
            &json!({"revoke_previous": true}),
        )
        .await;
    let newest = ClientSecret::from_presented(rotated.json()["client_secret"].as_str().unwrap());
    assert!(!server.knogin.apps().check_secret(&id, &new).await.unwrap());
    assert!(
        server
            .knogin
            .apps()
            .check_secret(&id, &newest)
            .await
            .unwrap()
    );
}
