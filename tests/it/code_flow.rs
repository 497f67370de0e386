//! The token endpoint's user-delegated grants over HTTP: a code issued through the core API (as
//! the authorization endpoint does) redeemed once with PKCE, 32 racing redemptions with one
//! winner whose tokens the replays revoke, refresh rotation and family revocation, on every
//! adapter and database.

use http::{Method, StatusCode};
use knogin::core::oauth::{CodeChallenge, CodeRequest};
use knogin::core::store::UserGrant;
use knogin::core::{AppId, ScopeSet, TenantId};
use serde_json::{Value, json};

use crate::oauth::{form, oauth_error};
use crate::support::{TestResponse, TestServer, matrix};

matrix!(
    a_code_is_redeemed_once_and_its_refresh_token_rotates,
    of_32_racing_redemptions_one_wins_and_its_tokens_are_revoked,
);

pub const CALLBACK: &str = "https://integrator.example/callback";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub struct App {
    pub id: String,
    pub tenant: String,
    pub credentials: String,
}

pub async fn delegated_app(server: &TestServer) -> App {
    let admin = server.admin_token("acme").await;
    let body = json!({
        "name": "Delegated",
        "grant_types": ["authorization_code"],
        "redirect_uris": [CALLBACK],
        "requested_scopes": ["webhooks:read", "webhooks:write"],
    });
    let app = server
        .json(Method::POST, "/v1/platform/apps", &admin, &body)
        .await
        .json();
    let id = app["client_id"].as_str().unwrap().to_owned();
    let secret = app["client_secret"].as_str().unwrap();
    App {
        credentials: format!("client_id={id}&client_secret={secret}"),
        id,
        tenant: "acme".into(),
    }
}

/// A code for alice, issued by another instance on the same database.
async fn code(server: &TestServer, app: &App) -> String {
    let request = CodeRequest {
        grant: UserGrant {
            client_id: AppId::parse(&app.id).unwrap(),
            tenant: TenantId::parse(&app.tenant).unwrap(),
            subject: "alice".into(),
            scopes: ScopeSet::new(["webhooks:read", "webhooks:write"]).unwrap(),
            resource: None,
        },
        redirect_uri: CALLBACK.into(),
        challenge: Some(CodeChallenge::parse(CHALLENGE, Some("S256")).unwrap()),
    };
    let instance = server.another_instance().await;
    let code = knogin::core::testing::issue_code(&instance, request)
        .await
        .unwrap();
    code.expose().to_owned()
}

pub async fn redeem(server: &TestServer, app: &App, code: &str) -> TestResponse {
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}&{}",
        form_encode(CALLBACK),
        app.credentials
    );
    form(server, "/v1/oauth/token", &[], &body).await
}

async fn refresh(server: &TestServer, app: &App, token: &str) -> TestResponse {
    let body = format!(
        "grant_type=refresh_token&refresh_token={token}&{}",
        app.credentials
    );
    form(server, "/v1/oauth/token", &[], &body).await
}

pub async fn active(server: &TestServer, app: &App, token: &str) -> bool {
    let body = format!("token={token}&{}", app.credentials);
    let answer = form(server, "/v1/oauth/introspect", &[], &body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    answer.json()["active"] == true
}

pub fn form_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn error_code(answer: &TestResponse) -> String {
    oauth_error(answer, StatusCode::BAD_REQUEST)
}

async fn a_code_is_redeemed_once_and_its_refresh_token_rotates(server: &TestServer) {
    let app = delegated_app(server).await;
    let code = code(server, &app).await;
    let first = redeem(server, &app, &code).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    assert_eq!(first.header("cache-control"), "no-store");
    let first: Value = first.json();
    assert_eq!(first["token_type"], "Bearer");
    assert_eq!(first["scope"], "webhooks:read webhooks:write");
    let access = first["access_token"].as_str().unwrap();
    let refresh_token = first["refresh_token"].as_str().unwrap();
    assert!(refresh_token.starts_with("kr_"));
    assert!(active(server, &app, access).await);

    let rotated = refresh(server, &app, refresh_token).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text());
    let rotated: Value = rotated.json();
    let second_access = rotated["access_token"].as_str().unwrap();
    let second_refresh = rotated["refresh_token"].as_str().unwrap();
    assert_ne!(second_refresh, refresh_token);

    // The rotated-out token again: refused, and the whole family with it.
    assert_eq!(
        error_code(&refresh(server, &app, refresh_token).await),
        "invalid_grant"
    );
    assert!(!active(server, &app, second_access).await);
    assert!(!active(server, &app, access).await);
    assert_eq!(
        error_code(&refresh(server, &app, second_refresh).await),
        "invalid_grant"
    );

    // A fresh family ends when its refresh token is revoked (RFC 7009).
    let fresh: Value = redeem(server, &app, &self::code(server, &app).await)
        .await
        .json();
    let revoke = format!(
        "token={}&{}",
        fresh["refresh_token"].as_str().unwrap(),
        app.credentials
    );
    assert_eq!(
        form(server, "/v1/oauth/revoke", &[], &revoke).await.status,
        StatusCode::OK
    );
    assert!(!active(server, &app, fresh["access_token"].as_str().unwrap()).await);
}

async fn of_32_racing_redemptions_one_wins_and_its_tokens_are_revoked(server: &TestServer) {
    let app = delegated_app(server).await;
    let code = code(server, &app).await;
    let answers =
        futures_util::future::join_all((0..32).map(|_| redeem(server, &app, &code))).await;
    let winners: Vec<&TestResponse> = answers
        .iter()
        .filter(|a| a.status == StatusCode::OK)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one redemption wins");
    for loser in answers.iter().filter(|a| a.status != StatusCode::OK) {
        assert_eq!(error_code(loser), "invalid_grant");
    }
    let won: Value = winners[0].json();
    assert!(
        !active(server, &app, won["access_token"].as_str().unwrap()).await,
        "the replays revoked the winner's access token"
    );
    assert_eq!(
        error_code(&refresh(server, &app, won["refresh_token"].as_str().unwrap()).await),
        "invalid_grant"
    );
}
