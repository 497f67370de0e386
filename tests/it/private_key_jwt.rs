//! `private_key_jwt` over HTTP: an app registered with its public keys and no secret gets
//! tokens, introspects and revokes with signed assertions, each used once (on any instance),
//! and every malformed attempt is refused in the OAuth error format.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{Method, StatusCode};
use knogin::core::audit::AuditKind;
use knogin::core::clock::Clock as _;
use knogin::core::oauth::JWT_BEARER_ASSERTION;
use knogin::core::testing::ClientKey;
use serde_json::{Value, json};

use crate::code_flow::form_encode;
use crate::oauth::{form, oauth_error};
use crate::support::{TestServer, matrix};

matrix!(
    a_key_app_authenticates_with_assertions_used_once,
    broken_assertions_are_refused_clearly,
    broken_key_registrations_are_refused_by_field,
);
matrix!(loopback; a_jwks_uri_app_is_fetched_when_its_keys_are_first_needed);

/// Registers a client-credentials app of `acme` that signs with `key`; its registration answer.
async fn key_app(server: &TestServer, key: &ClientKey) -> Value {
    let admin = server.admin_token("acme").await;
    let body = json!({
        "name": "Signed", "grant_types": ["client_credentials"], "redirect_uris": [],
        "requested_scopes": ["webhooks:read"],
        "token_endpoint_auth_method": "private_key_jwt", "jwks": key.jwks(),
    });
    let answer = server
        .json(Method::POST, "/v1/platform/apps", &admin, &body)
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    answer.json()
}

/// A fresh assertion of `client_id` for the server's token endpoint.
fn assertion(server: &TestServer, key: &ClientKey, client_id: &str, jti: &str) -> String {
    let now = server.clock.now().unix();
    key.sign(&json!({
        "iss": client_id, "sub": client_id, "jti": jti, "iat": now, "exp": now + 60,
        "aud": format!("{}/v1/oauth/token", server.issuer),
    }))
}

/// The form parameters of client authentication with `assertion`.
fn authenticated_by(assertion: &str) -> String {
    format!(
        "client_assertion_type={}&client_assertion={assertion}",
        form_encode(JWT_BEARER_ASSERTION)
    )
}

async fn a_key_app_authenticates_with_assertions_used_once(server: &TestServer) {
    let key = ClientKey::es256("k1");
    let app = key_app(server, &key).await;
    assert!(app.get("client_secret").is_none(), "{app}");
    assert_eq!(app["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(app["jwks"], key.jwks());
    let id = app["client_id"].as_str().unwrap();

    let signed = assertion(server, &key, id, "t-1");
    let body = format!(
        "grant_type=client_credentials&{}",
        authenticated_by(&signed)
    );
    let token = form(server, "/v1/oauth/token", &[], &body).await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.text());
    let access = token.json()["access_token"].as_str().unwrap().to_owned();
    // The same assertion again is refused, here and on another instance.
    let replay = form(server, "/v1/oauth/token", &[], &body).await;
    assert_eq!(
        oauth_error(&replay, StatusCode::UNAUTHORIZED),
        "invalid_client"
    );
    let other = server.another_instance().await;
    let again = other
        .apps()
        .authenticate_assertion(None, &signed, None)
        .await;
    assert!(again.is_err(), "a replay on a second instance");
    // A secret is no way in for it.
    let guess = format!("grant_type=client_credentials&client_id={id}&client_secret=ks_guess");
    let refused = form(server, "/v1/oauth/token", &[], &guess).await;
    assert_eq!(
        oauth_error(&refused, StatusCode::UNAUTHORIZED),
        "invalid_client"
    );

    // Introspection and revocation take assertions too.
    let body = format!(
        "token={access}&{}",
        authenticated_by(&assertion(server, &key, id, "t-2"))
    );
    let introspected = form(server, "/v1/oauth/introspect", &[], &body).await;
    assert_eq!(
        introspected.status,
        StatusCode::OK,
        "{}",
        introspected.text()
    );
    assert_eq!(introspected.json()["active"], true);
    let body = format!(
        "token={access}&{}",
        authenticated_by(&assertion(server, &key, id, "t-3"))
    );
    let revoked = form(server, "/v1/oauth/revoke", &[], &body).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text());
    let body = format!(
        "token={access}&{}",
        authenticated_by(&assertion(server, &key, id, "t-4"))
    );
    let introspected = form(server, "/v1/oauth/introspect", &[], &body).await;
    assert_eq!(introspected.json()["active"], false);

    // It has no secret to rotate.
    let admin = server.admin_token("acme").await;
    let rotate = format!("/v1/platform/apps/{id}/rotate-secret");
    let answer = server.json(Method::POST, &rotate, &admin, &json!({})).await;
    answer.problem(StatusCode::CONFLICT);

    let failures = server.audited(AuditKind::ClientAuthFailed);
    let reasons: Vec<_> = failures.iter().filter_map(|e| e.detail("reason")).collect();
    assert!(
        reasons.contains(&"client_assertion_replayed"),
        "{reasons:?}"
    );
}

async fn broken_assertions_are_refused_clearly(server: &TestServer) {
    let key = ClientKey::ed25519("ed");
    let app = key_app(server, &key).await;
    let id = app["client_id"].as_str().unwrap();
    let token = |body: String| async move { form(server, "/v1/oauth/token", &[], &body).await };
    let signed = assertion(server, &key, id, "b-1");

    let no_type = token(format!(
        "grant_type=client_credentials&client_assertion={signed}"
    ))
    .await;
    assert_eq!(
        oauth_error(&no_type, StatusCode::BAD_REQUEST),
        "invalid_request"
    );
    let wrong_type = token(format!(
        "grant_type=client_credentials&client_assertion_type=saml&client_assertion={signed}"
    ))
    .await;
    assert_eq!(
        oauth_error(&wrong_type, StatusCode::BAD_REQUEST),
        "invalid_request"
    );
    let no_assertion = token(format!(
        "grant_type=client_credentials&client_assertion_type={}",
        form_encode(JWT_BEARER_ASSERTION)
    ))
    .await;
    assert_eq!(
        oauth_error(&no_assertion, StatusCode::BAD_REQUEST),
        "invalid_request"
    );
    let two_ways = token(format!(
        "grant_type=client_credentials&client_secret=x&{}",
        authenticated_by(&signed)
    ))
    .await;
    assert_eq!(
        oauth_error(&two_ways, StatusCode::BAD_REQUEST),
        "invalid_request"
    );
    let garbage = token(format!(
        "grant_type=client_credentials&{}",
        authenticated_by("x.y.z")
    ))
    .await;
    assert_eq!(
        oauth_error(&garbage, StatusCode::UNAUTHORIZED),
        "invalid_client"
    );
    let stranger = ClientKey::ed25519("ed");
    let forged = assertion(server, &stranger, id, "b-2");
    let forged = token(format!(
        "grant_type=client_credentials&{}",
        authenticated_by(&forged)
    ))
    .await;
    assert_eq!(
        oauth_error(&forged, StatusCode::UNAUTHORIZED),
        "invalid_client"
    );
    // The untouched assertion still works: none of the refusals used it up.
    let ok = token(format!(
        "grant_type=client_credentials&{}",
        authenticated_by(&signed)
    ))
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
}

async fn broken_key_registrations_are_refused_by_field(server: &TestServer) {
    let key = ClientKey::ed25519("ed");
    let admin = server.admin_token("acme").await;
    let mut private = key.jwks();
    private["keys"][0]["d"] = json!("AAAA");
    for (body, field) in [
        (
            json!({"token_endpoint_auth_method": "private_key_jwt"}),
            "jwks",
        ),
        (
            json!({"token_endpoint_auth_method": "private_key_jwt", "jwks": private}),
            "jwks",
        ),
        (json!({"jwks": key.jwks()}), "jwks"),
        (
            json!({"token_endpoint_auth_method": "none"}),
            "token_endpoint_auth_method",
        ),
        (
            json!({"token_endpoint_auth_method": "private_key_jwt", "jwks": "keys"}),
            "jwks",
        ),
        // This server's outbound requests go to public addresses only.
        (
            json!({"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "http://127.0.0.1:9/jwks"}),
            "jwks_uri",
        ),
        (
            json!({"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://client.example/jwks", "jwks": key.jwks()}),
            "jwks_uri",
        ),
        (
            json!({"jwks_uri": "https://client.example/jwks"}),
            "jwks_uri",
        ),
    ] {
        let mut registration = json!({"name": "Bad", "grant_types": ["client_credentials"],
            "redirect_uris": [], "requested_scopes": []});
        registration
            .as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        let answer = server
            .json(Method::POST, "/v1/platform/apps", &admin, &registration)
            .await;
        assert_eq!(answer.error_fields(), [field], "{registration}");
    }
}

/// A client's key server on a loopback port: serves the JWK Set it is given at `/jwks`, and
/// counts the requests. Its URL, the set it serves, and the count.
async fn key_server(jwks: Value) -> (String, Arc<Mutex<Value>>, Arc<AtomicUsize>) {
    let served = Arc::new(Mutex::new(jwks));
    let fetches = Arc::new(AtomicUsize::new(0));
    let (set, count) = (served.clone(), fetches.clone());
    let app = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            count.fetch_add(1, Ordering::SeqCst);
            let body = set.lock().unwrap().to_string();
            async move { ([("content-type", "application/jwk-set+json")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, served, fetches)
}

async fn a_jwks_uri_app_is_fetched_when_its_keys_are_first_needed(server: &TestServer) {
    let key = ClientKey::es256("k1");
    let (jwks_uri, published_set, fetches) = key_server(key.jwks()).await;
    let admin = server.admin_token("acme").await;
    let body = json!({
        "name": "Published keys", "grant_types": ["client_credentials"], "redirect_uris": [],
        "requested_scopes": ["webhooks:read"],
        "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": jwks_uri,
    });
    let app = server
        .json(Method::POST, "/v1/platform/apps", &admin, &body)
        .await;
    assert_eq!(app.status, StatusCode::CREATED, "{}", app.text());
    let app = app.json();
    assert_eq!(app["jwks_uri"], jwks_uri.as_str());
    assert!(app.get("jwks").is_none() && app.get("client_secret").is_none());
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        0,
        "registration fetches nothing"
    );
    let id = app["client_id"].as_str().unwrap();

    let token_with = |key: &ClientKey, jti: &str| {
        let body = format!(
            "grant_type=client_credentials&{}",
            authenticated_by(&assertion(server, key, id, jti))
        );
        async move { form(server, "/v1/oauth/token", &[], &body).await }
    };
    for jti in ["u-1", "u-2"] {
        let token = token_with(&key, jti).await;
        assert_eq!(token.status, StatusCode::OK, "{}", token.text());
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "fetched once, then held");

    // The client rotates its key: the new one is fetched once a minute has passed.
    let rotated = ClientKey::es256("k2");
    *published_set.lock().unwrap() = rotated.jwks();
    let early = token_with(&rotated, "u-3").await;
    assert_eq!(
        oauth_error(&early, StatusCode::UNAUTHORIZED),
        "invalid_client"
    );
    server.clock.advance(Duration::from_secs(61));
    let token = token_with(&rotated, "u-4").await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.text());
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
    let withdrawn = token_with(&key, "u-5").await;
    assert_eq!(
        oauth_error(&withdrawn, StatusCode::UNAUTHORIZED),
        "invalid_client"
    );
}
