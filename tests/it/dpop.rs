//! DPoP (RFC 9449) over HTTP: a token request with a proof gets a `DPoP` token bound to the
//! proof's key, which the core's routes take only as `Authorization: DPoP` with a proof of each
//! request (used once, on any instance); an app's governance can require it; every bad proof is
//! refused in the route's error format with the RFC's challenge.

use http::{Method, StatusCode};
use knogin::core::clock::Clock as _;
use knogin::core::testing::ClientKey;
use serde_json::{Value, json};

use crate::oauth::{form, oauth_error, verify_with_jwks};
use crate::support::{TestResponse, TestServer, matrix};

matrix!(
    a_bound_token_is_taken_only_with_a_proof_of_each_request,
    introspection_metadata_and_audit_tell_bound_tokens_apart,
    governance_can_require_dpop_and_bad_proofs_are_refused_clearly,
);

/// Registers a client-credentials app of `acme` with `webhooks:read`: its id and secret.
async fn app(server: &TestServer) -> (String, String) {
    let admin = server.admin_token("acme").await;
    let body = json!({
        "name": "Bound", "grant_types": ["client_credentials"], "redirect_uris": [],
        "requested_scopes": ["webhooks:read"],
    });
    let app = server
        .json(Method::POST, "/v1/platform/apps", &admin, &body)
        .await
        .json();
    let field = |name: &str| app[name].as_str().unwrap().to_owned();
    (field("client_id"), field("client_secret"))
}

fn now(server: &TestServer) -> i64 {
    server.clock.now().unix()
}

/// A token request of the app with `proof` as its `DPoP` header.
async fn token(
    server: &TestServer,
    (id, secret): &(String, String),
    proof: Option<&str>,
) -> TestResponse {
    let headers: Vec<(&str, &str)> = proof.map(|p| ("dpop", p)).into_iter().collect();
    let body = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    form(server, "/v1/oauth/token", &headers, &body).await
}

/// `GET /v1/webhooks` with `authorization` and, when given, a `DPoP` proof.
async fn webhooks(server: &TestServer, authorization: &str, proof: Option<&str>) -> TestResponse {
    let mut headers = vec![("authorization", authorization)];
    headers.extend(proof.map(|p| ("dpop", p)));
    server
        .send(Method::GET, "/v1/webhooks", &headers, bytes::Bytes::new())
        .await
}

async fn a_bound_token_is_taken_only_with_a_proof_of_each_request(server: &TestServer) {
    let key = ClientKey::es256("k1");
    let app = app(server).await;
    let token_url = format!("{}/v1/oauth/token", server.issuer);
    let proof = key.dpop_proof("POST", &token_url, now(server), None);
    let answer = token(server, &app, Some(&proof)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let body = answer.json();
    assert_eq!(body["token_type"], "DPoP");
    let access = body["access_token"].as_str().unwrap().to_owned();
    let (claims, _) = verify_with_jwks(server, &access).await;
    let jkt = claims["cnf"]["jkt"].as_str().unwrap().to_owned();
    assert_eq!(jkt.len(), 43, "a base64url SHA-256 thumbprint");
    // The same proof again is refused.
    let replay = token(server, &app, Some(&proof)).await;
    assert_eq!(
        oauth_error(&replay, StatusCode::BAD_REQUEST),
        "invalid_dpop_proof"
    );

    // As a plain bearer it is refused, with the DPoP challenge.
    let url = format!("{}/v1/webhooks", server.issuer);
    let as_bearer = webhooks(server, &format!("Bearer {access}"), None).await;
    let problem = as_bearer.problem(StatusCode::UNAUTHORIZED);
    assert!(
        problem["detail"].as_str().unwrap().contains("DPoP-bound"),
        "{problem}"
    );
    let challenge = as_bearer.header("www-authenticate");
    assert!(challenge.starts_with("DPoP "), "{challenge}");
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    // With a proof of this request by the key, it works, once per proof.
    let authorization = format!("DPoP {access}");
    let proof = key.dpop_proof("GET", &url, now(server), Some(&access));
    let listed = webhooks(server, &authorization, Some(&proof)).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
    let again = webhooks(server, &authorization, Some(&proof)).await;
    again.problem(StatusCode::UNAUTHORIZED);
    assert!(
        again
            .header("www-authenticate")
            .contains("invalid_dpop_proof")
    );
    // Another instance knows the proof was used.
    let request = http::Request::builder()
        .uri("/v1/webhooks")
        .header("authorization", &authorization)
        .header("dpop", &proof)
        .body(())
        .unwrap();
    let other = server.another_instance().await;
    assert!(
        other
            .tokens()
            .check_bearer(&request, "webhooks:read")
            .await
            .is_err()
    );
    let fresh = key.dpop_proof("GET", &url, now(server), Some(&access));
    let request = http::Request::builder()
        .uri("/v1/webhooks")
        .header("authorization", &authorization)
        .header("dpop", &fresh)
        .body(())
        .unwrap();
    other
        .tokens()
        .check_bearer(&request, "webhooks:read")
        .await
        .unwrap();
    // Another key's proof, or none, is refused.
    let stranger = ClientKey::ed25519("x").dpop_proof("GET", &url, now(server), Some(&access));
    for proof in [Some(stranger.as_str()), None] {
        let refused = webhooks(server, &authorization, proof).await;
        refused.problem(StatusCode::UNAUTHORIZED);
    }
}

async fn introspection_metadata_and_audit_tell_bound_tokens_apart(server: &TestServer) {
    let key = ClientKey::es256("k1");
    let app = app(server).await;
    let token_url = format!("{}/v1/oauth/token", server.issuer);
    let proof = key.dpop_proof("POST", &token_url, now(server), None);
    let access = token(server, &app, Some(&proof)).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (claims, _) = verify_with_jwks(server, &access).await;
    let jkt = claims["cnf"]["jkt"].as_str().unwrap().to_owned();
    let url = format!("{}/v1/webhooks", server.issuer);
    let (id, secret) = &app;
    let body = format!("token={access}&client_id={id}&client_secret={secret}");
    let introspected = form(server, "/v1/oauth/introspect", &[], &body).await;
    let introspected: Value = introspected.json();
    assert_eq!(introspected["token_type"], "DPoP");
    assert_eq!(introspected["cnf"]["jkt"], jkt.as_str());
    // A request without a proof still gets a bearer token.
    let plain = token(server, &app, None).await;
    assert_eq!(plain.json()["token_type"], "Bearer");
    let plain = plain.json()["access_token"].as_str().unwrap().to_owned();
    let unbound_proof = key.dpop_proof("GET", &url, now(server), Some(&plain));
    let as_dpop = webhooks(server, &format!("DPoP {plain}"), Some(&unbound_proof)).await;
    as_dpop.problem(StatusCode::UNAUTHORIZED);
    let listed = webhooks(server, &format!("Bearer {plain}"), None).await;
    assert_eq!(listed.status, StatusCode::OK);

    // The metadata lists the algorithms.
    let metadata = server.metadata().await;
    assert_eq!(
        metadata["dpop_signing_alg_values_supported"],
        json!(["ES256", "EdDSA", "Ed25519", "PS256", "RS256"])
    );
    let issued = server.audited(knogin::core::audit::AuditKind::TokenIssued);
    assert!(
        issued
            .iter()
            .any(|e| e.detail("token_type") == Some("DPoP"))
    );
}

async fn governance_can_require_dpop_and_bad_proofs_are_refused_clearly(server: &TestServer) {
    let key = ClientKey::ed25519("ed");
    let app = app(server).await;
    let admin = server.admin_token("acme").await;
    let path = format!("/v1/platform/apps/{}/governance", app.0);
    let patched = server
        .json(Method::PATCH, &path, &admin, &json!({"require_dpop": true}))
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text());
    assert_eq!(patched.json()["governance"]["require_dpop"], true);
    let refused = token(server, &app, None).await;
    assert_eq!(
        oauth_error(&refused, StatusCode::BAD_REQUEST),
        "invalid_dpop_proof"
    );

    let token_url = format!("{}/v1/oauth/token", server.issuer);
    let t = now(server);
    let bad = [
        key.dpop_proof("GET", &token_url, t, None),
        key.dpop_proof("POST", "https://elsewhere.example/v1/oauth/token", t, None),
        key.dpop_proof("POST", &token_url, t - 3600, None),
        key.dpop(&json!({"htm": "POST", "htu": token_url, "iat": t})),
        key.sign(&json!({"jti": "j", "htm": "POST", "htu": token_url, "iat": t})),
        "not.a.proof".to_owned(),
    ];
    for proof in &bad {
        let answer = token(server, &app, Some(proof)).await;
        assert_eq!(
            oauth_error(&answer, StatusCode::BAD_REQUEST),
            "invalid_dpop_proof",
            "{proof}"
        );
    }
    let two = form(
        server,
        "/v1/oauth/token",
        &[("dpop", &bad[0]), ("dpop", &bad[1])],
        &format!(
            "grant_type=client_credentials&client_id={}&client_secret={}",
            app.0, app.1
        ),
    )
    .await;
    assert_eq!(
        oauth_error(&two, StatusCode::BAD_REQUEST),
        "invalid_dpop_proof"
    );
    let good = key.dpop_proof("POST", &token_url, t, None);
    let answer = token(server, &app, Some(&good)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["token_type"], "DPoP");
    let read = server
        .get(&format!("/v1/platform/apps/{}", app.0), &admin)
        .await
        .json();
    assert_eq!(read["governance"]["require_dpop"], true, "{read}");
}
