//! The FAPI 2.0 security profile over HTTP: an app whose governance selects `fapi2` must push
//! its requests with PKCE, authenticate with `private_key_jwt` and take DPoP-bound tokens, and
//! then runs the whole code flow, here with refresh-token rotation switched off; an app with a
//! secret cannot select the profile.

use http::{Method, StatusCode};
use knogin::core::clock::Clock as _;
use knogin::core::oauth::JWT_BEARER_ASSERTION;
use knogin::core::testing::ClientKey;
use serde_json::{Value, json};

use crate::code_flow::{CALLBACK, CHALLENGE, VERIFIER, delegated_app, form_encode};
use crate::oauth::{form, oauth_error};
use crate::support::{TestServer, matrix};
use crate::user_agent::{UserAgent, csrf_token, redirect_params};

matrix!(a_fapi2_app_runs_the_code_flow_only_the_profiles_way,);

/// The form parameters of `id`'s authentication by an assertion `key` signs, used once.
fn assertion(server: &TestServer, key: &ClientKey, id: &str, jti: &str) -> String {
    let now = server.clock.now().unix();
    let signed = key.sign(&json!({
        "iss": id, "sub": id, "jti": jti, "iat": now, "exp": now + 60, "aud": server.issuer,
    }));
    format!(
        "client_assertion_type={}&client_assertion={signed}",
        form_encode(JWT_BEARER_ASSERTION)
    )
}

async fn governance(server: &TestServer, id: &str, body: &Value) -> crate::support::TestResponse {
    let admin = server.admin_token("acme").await;
    let path = format!("/v1/platform/apps/{id}/governance");
    server.json(Method::PATCH, &path, &admin, body).await
}

async fn a_fapi2_app_runs_the_code_flow_only_the_profiles_way(server: &TestServer) {
    // An app with a secret cannot take the profile.
    let secret_app = delegated_app(server).await;
    let refused = governance(
        server,
        &secret_app.id,
        &json!({"security_profile": "fapi2"}),
    )
    .await;
    refused.problem(StatusCode::BAD_REQUEST);
    let odd = governance(
        server,
        &secret_app.id,
        &json!({"security_profile": "fapi1"}),
    )
    .await;
    odd.problem(StatusCode::BAD_REQUEST);

    let key = ClientKey::es256("k1");
    let admin = server.admin_token("acme").await;
    let body = json!({
        "name": "Bank", "grant_types": ["authorization_code"], "redirect_uris": [CALLBACK],
        "requested_scopes": ["webhooks:read"], "token_endpoint_auth_method": "private_key_jwt",
        "jwks": key.jwks(),
    });
    let app = server
        .json(Method::POST, "/v1/platform/apps", &admin, &body)
        .await
        .json();
    let id = app["client_id"].as_str().unwrap().to_owned();
    let profile = json!({"security_profile": "fapi2", "rotate_refresh_tokens": false});
    let patched = governance(server, &id, &profile).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text());
    assert_eq!(patched.json()["governance"]["security_profile"], "fapi2");
    assert_eq!(patched.json()["governance"]["rotate_refresh_tokens"], false);

    // A request that is not pushed is refused; a push without PKCE too.
    let direct = format!(
        "/v1/oauth/authorize?response_type=code&client_id={id}&redirect_uri={}&state=s1&code_challenge={CHALLENGE}&code_challenge_method=S256",
        form_encode(CALLBACK)
    );
    let answer = UserAgent::default().get(server, &direct).await;
    assert_eq!(redirect_params(&answer)["error"], "invalid_request");
    let request = format!(
        "response_type=code&redirect_uri={}&state=s1",
        form_encode(CALLBACK)
    );
    let body = format!("{request}&{}", assertion(server, &key, &id, "a1"));
    let no_pkce = form(server, "/v1/oauth/par", &[], &body).await;
    assert_eq!(
        oauth_error(&no_pkce, StatusCode::BAD_REQUEST),
        "invalid_request"
    );

    // Pushed with PKCE: the user signs in and consents.
    let body = format!(
        "{request}&code_challenge={CHALLENGE}&code_challenge_method=S256&{}",
        assertion(server, &key, &id, "a2")
    );
    let pushed = form(server, "/v1/oauth/par", &[], &body).await;
    assert_eq!(pushed.status, StatusCode::CREATED, "{}", pushed.text());
    let request_uri = pushed.json()["request_uri"].as_str().unwrap().to_owned();
    let mut browser = UserAgent::default();
    let start = format!(
        "/v1/oauth/authorize?client_id={id}&request_uri={}",
        form_encode(&request_uri)
    );
    let login = browser.get(server, &start).await;
    let consent = browser.sign_in(server, &login, "alice", "wonderland").await;
    let decision = format!("csrf_token={}&decision=approve", csrf_token(&consent));
    let approved = browser.post(server, "/v1/oauth/authorize", &decision).await;
    let params = redirect_params(&approved);
    assert_eq!(params["iss"], server.issuer);

    // The code is redeemed only with a DPoP proof.
    let redeem = |jti: &str| {
        format!(
            "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={VERIFIER}&{}",
            params["code"],
            form_encode(CALLBACK),
            assertion(server, &key, &id, jti)
        )
    };
    let bearer = form(server, "/v1/oauth/token", &[], &redeem("a3")).await;
    assert_eq!(
        oauth_error(&bearer, StatusCode::BAD_REQUEST),
        "invalid_dpop_proof"
    );
    let dpop = ClientKey::ed25519("d");
    let proof = dpop.dpop_proof(
        "POST",
        &format!("{}/v1/oauth/token", server.issuer),
        server.clock.now().unix(),
        None,
    );
    let token = form(
        server,
        "/v1/oauth/token",
        &[("dpop", &proof)],
        &redeem("a4"),
    )
    .await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.text());
    assert_eq!(token.json()["token_type"], "DPoP");
    let refresh = token.json()["refresh_token"].as_str().unwrap().to_owned();
    the_refresh_token_is_kept(server, &key, &id, &dpop, &refresh).await;
}

/// Refreshes with `refresh` (kept, not rotated) twice, then revokes it: the access tokens it
/// gave stop working.
async fn the_refresh_token_is_kept(
    server: &TestServer,
    key: &ClientKey,
    id: &str,
    dpop: &ClientKey,
    refresh: &str,
) {
    let token_url = format!("{}/v1/oauth/token", server.issuer);
    let mut access = String::new();
    for jti in ["r1", "r2"] {
        let proof = dpop.dpop_proof("POST", &token_url, server.clock.now().unix(), None);
        let body = format!(
            "grant_type=refresh_token&refresh_token={refresh}&{}",
            assertion(server, key, id, jti)
        );
        let refreshed = form(server, "/v1/oauth/token", &[("dpop", &proof)], &body).await;
        assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.text());
        let answer = refreshed.json();
        assert_eq!(answer["token_type"], "DPoP");
        assert!(answer.get("refresh_token").is_none(), "{answer}");
        answer["access_token"]
            .as_str()
            .unwrap()
            .clone_into(&mut access);
    }
    let body = format!(
        "token={refresh}&token_type_hint=refresh_token&{}",
        assertion(server, key, id, "r3")
    );
    let revoked = form(server, "/v1/oauth/revoke", &[], &body).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text());
    let body = format!("token={access}&{}", assertion(server, key, id, "r4"));
    let introspected = form(server, "/v1/oauth/introspect", &[], &body).await;
    assert_eq!(
        introspected.json()["active"],
        false,
        "{}",
        introspected.text()
    );
}
