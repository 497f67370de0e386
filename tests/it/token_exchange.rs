//! Token exchange (RFC 8693) over HTTP: an app registered for the grant trades a token of its
//! tenant for one of its own, for the same subject, with the shared scopes and an `act` claim;
//! another tenant's token and a missing grant are refused in the OAuth error format.

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::oauth::{form, oauth_error, verify_with_jwks};
use crate::support::{TestServer, matrix};

matrix!(a_token_of_the_tenant_is_exchanged_for_a_delegated_one,);

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";

/// Registers an app of `tenant` for `grants`: its registration answer.
async fn register(server: &TestServer, tenant: &str, grants: &[&str]) -> Value {
    let admin = server.admin_token(tenant).await;
    let body = json!({
        "name": "Gateway", "grant_types": grants, "redirect_uris": [],
        "requested_scopes": ["webhooks:read", "incidents:read"],
    });
    let answer = server
        .json(Method::POST, "/v1/platform/apps", &admin, &body)
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    answer.json()
}

fn credentials(app: &Value) -> String {
    format!(
        "client_id={}&client_secret={}",
        app["client_id"].as_str().unwrap(),
        app["client_secret"].as_str().unwrap()
    )
}

async fn exchange(server: &TestServer, app: &Value, subject: &str) -> crate::support::TestResponse {
    let body = format!(
        "grant_type={}&subject_token={subject}&subject_token_type={}&{}",
        crate::code_flow::form_encode(TOKEN_EXCHANGE),
        crate::code_flow::form_encode(ACCESS_TOKEN),
        credentials(app)
    );
    form(server, "/v1/oauth/token", &[], &body).await
}

async fn a_token_of_the_tenant_is_exchanged_for_a_delegated_one(server: &TestServer) {
    let gateway = register(server, "acme", &[TOKEN_EXCHANGE]).await;
    assert_eq!(gateway["grant_types"], json!([TOKEN_EXCHANGE]));
    let subject = server
        .app_token(
            "acme",
            "app_00000000000000000000000000000001",
            &["webhooks:read", "webhooks:write"],
        )
        .await;
    let answer = exchange(server, &gateway, &subject).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let body = answer.json();
    assert_eq!(body["issued_token_type"], ACCESS_TOKEN);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "webhooks:read");
    assert!(body.get("refresh_token").is_none());
    let token = body["access_token"].as_str().unwrap();
    let (claims, _) = verify_with_jwks(server, token).await;
    assert_eq!(claims["sub"], "app_00000000000000000000000000000001");
    assert_eq!(claims["client_id"], gateway["client_id"]);
    assert_eq!(claims["act"], json!({"sub": gateway["client_id"]}));
    // Introspection shows who acts.
    let body = format!("token={token}&{}", credentials(&gateway));
    let introspected = form(server, "/v1/oauth/introspect", &[], &body)
        .await
        .json();
    assert_eq!(introspected["act"]["sub"], gateway["client_id"]);
    // The exchanged token works on the core's routes.
    let listed = server.get("/v1/webhooks", token).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());

    let elsewhere = server
        .app_token(
            "globex",
            "app_00000000000000000000000000000002",
            &["webhooks:read"],
        )
        .await;
    let refused = exchange(server, &gateway, &elsewhere).await;
    assert_eq!(
        oauth_error(&refused, StatusCode::BAD_REQUEST),
        "invalid_grant"
    );
    let plain = register(server, "acme", &["client_credentials"]).await;
    let refused = exchange(server, &plain, &subject).await;
    assert_eq!(
        oauth_error(&refused, StatusCode::BAD_REQUEST),
        "unauthorized_client"
    );
    let metadata = server.metadata().await;
    let grants = metadata["grant_types_supported"].as_array().unwrap();
    assert!(grants.contains(&json!(TOKEN_EXCHANGE)), "{grants:?}");
    let issued = server.audited(knogin::core::audit::AuditKind::TokenIssued);
    assert!(
        issued
            .iter()
            .any(|e| e.detail("grant_type") == Some(TOKEN_EXCHANGE))
    );
}
