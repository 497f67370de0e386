//! Pushed authorization requests (RFC 9126) over HTTP: a client pushes its request, the browser
//! comes with the `request_uri` alone, signs in and consents, and the code is redeemed; the
//! `request_uri` works once; an app whose governance requires pushing cannot start otherwise;
//! every bad push is refused in the OAuth error format.

use http::{Method, StatusCode};
use serde_json::json;

use crate::code_flow::{App, CALLBACK, CHALLENGE, delegated_app, form_encode, redeem};
use crate::oauth::{form, oauth_error};
use crate::support::{TestResponse, TestServer, matrix};
use crate::user_agent::{UserAgent, csrf_token, redirect_params};

matrix!(
    a_pushed_request_signs_in_consents_and_yields_a_code_once,
    an_app_that_must_push_cannot_start_otherwise_and_bad_pushes_are_refused,
);

/// Pushes `params` (form-encoded, after the usual ones) as `app`.
async fn push(server: &TestServer, app: &App, params: &str) -> TestResponse {
    let body = format!(
        "response_type=code&redirect_uri={}&state=s1&code_challenge={CHALLENGE}&code_challenge_method=S256&{}{params}",
        form_encode(CALLBACK),
        app.credentials
    );
    form(server, "/v1/oauth/par", &[], &body).await
}

fn authorize(app: &App, request_uri: &str) -> String {
    format!(
        "/v1/oauth/authorize?client_id={}&request_uri={}",
        app.id,
        form_encode(request_uri)
    )
}

async fn a_pushed_request_signs_in_consents_and_yields_a_code_once(server: &TestServer) {
    let app = delegated_app(server).await;
    let pushed = push(server, &app, "&scope=webhooks:read").await;
    assert_eq!(pushed.status, StatusCode::CREATED, "{}", pushed.text());
    assert_eq!(pushed.header("cache-control"), "no-store");
    let body = pushed.json();
    let request_uri = body["request_uri"].as_str().unwrap().to_owned();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    assert_eq!(body["expires_in"], 90);

    let mut browser = UserAgent::default();
    let path = authorize(&app, &request_uri);
    let login = browser.get(server, &path).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text());
    let consent = browser.sign_in(server, &login, "alice", "wonderland").await;
    assert_eq!(consent.status, StatusCode::OK, "{}", consent.text());
    assert!(consent.text().contains("webhooks:read"));
    let body = format!("csrf_token={}&decision=approve", csrf_token(&consent));
    let approved = browser.post(server, "/v1/oauth/authorize", &body).await;
    assert_eq!(
        approved.status,
        StatusCode::SEE_OTHER,
        "{}",
        approved.text()
    );
    let params = redirect_params(&approved);
    assert_eq!(params["state"], "s1");
    let token = redeem(server, &app, &params["code"]).await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.text());
    assert_eq!(token.json()["scope"], "webhooks:read");

    // The request_uri was used up: the same link again is a page, not a second consent.
    let again = browser.get(server, &path).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.text());
    assert_eq!(again.header("location"), "");
    let metadata = server.metadata().await;
    assert_eq!(
        metadata["pushed_authorization_request_endpoint"],
        format!("{}/v1/oauth/par", server.issuer)
    );
    assert_eq!(metadata["require_pushed_authorization_requests"], false);
}

async fn an_app_that_must_push_cannot_start_otherwise_and_bad_pushes_are_refused(
    server: &TestServer,
) {
    let app = delegated_app(server).await;
    let admin = server.admin_token("acme").await;
    let path = format!("/v1/platform/apps/{}/governance", app.id);
    let patched = server
        .json(
            Method::PATCH,
            &path,
            &admin,
            &json!({"require_pushed_authorization_requests": true}),
        )
        .await;
    assert_eq!(
        patched.json()["governance"]["require_pushed_authorization_requests"],
        true,
        "{}",
        patched.text()
    );
    let direct = format!(
        "/v1/oauth/authorize?response_type=code&client_id={}&redirect_uri={}&state=s1&code_challenge={CHALLENGE}&code_challenge_method=S256",
        app.id,
        form_encode(CALLBACK)
    );
    let refused = UserAgent::default().get(server, &direct).await;
    assert_eq!(refused.status, StatusCode::FOUND, "{}", refused.text());
    let params = redirect_params(&refused);
    assert_eq!(params["error"], "invalid_request");
    assert_eq!(params["state"], "s1");
    let pushed = push(server, &app, "").await;
    let request_uri = pushed.json()["request_uri"].as_str().unwrap().to_owned();
    let login = UserAgent::default()
        .get(server, &authorize(&app, &request_uri))
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text());

    let cases = [
        ("&request_uri=urn:x", "invalid_request"),
        ("&request=eyJ.e30.x", "request_not_supported"),
        ("&scope=platform:admin", "invalid_scope"),
        ("&resource=https://elsewhere.example", "invalid_target"),
        (
            "&client_id=app_00000000000000000000000000000000",
            "invalid_request",
        ),
    ];
    for (extra, error) in cases {
        let answer = push(server, &app, extra).await;
        assert_eq!(
            oauth_error(&answer, StatusCode::BAD_REQUEST),
            error,
            "{extra}"
        );
    }
    let elsewhere = format!(
        "response_type=code&redirect_uri=https://evil.example/cb&{}",
        app.credentials
    );
    let answer = form(server, "/v1/oauth/par", &[], &elsewhere).await;
    assert_eq!(
        oauth_error(&answer, StatusCode::BAD_REQUEST),
        "invalid_request"
    );
    let anonymous = format!(
        "response_type=code&client_id={}&redirect_uri={}",
        app.id,
        form_encode(CALLBACK)
    );
    let answer = form(server, "/v1/oauth/par", &[], &anonymous).await;
    assert_eq!(
        oauth_error(&answer, StatusCode::UNAUTHORIZED),
        "invalid_client"
    );
}
