//! Bearer tokens on the platform routes: missing, invalid, expired, foreign, not admin.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{Method, StatusCode};
use knogin::core::http::Access;
use knogin::core::token::TokenGrant;
use knogin::core::{MintError, ScopeSet, TenantId};
use serde_json::json;

use crate::support::{TestServer, matrix};

matrix!(
    a_missing_bearer_is_a_401_with_a_challenge,
    an_invalid_bearer_is_a_401_that_says_why,
    a_token_without_admin_rights_is_a_403,
    no_scope_string_smuggles_admin_rights,
    a_revoked_admin_token_is_a_401,
    an_oversized_bearer_is_refused_unread,
);

/// Every admin route of the table, with its parameters filled in: a route added later gets these
/// tests without being listed here.
fn admin_routes() -> Vec<(Method, String)> {
    let routes: Vec<_> = knogin::core::http::routes()
        .iter()
        .filter(|r| *r.access() == Access::Admin)
        .map(|r| {
            let path = r
                .path()
                .replace("{client_id}", "app_00000000000000000000000000000000");
            assert!(
                !path.contains('{'),
                "fill in the parameters of {}",
                r.path()
            );
            (r.method().clone(), path)
        })
        .collect();
    assert!(routes.len() >= 6);
    routes
}

async fn a_missing_bearer_is_a_401_with_a_challenge(server: &TestServer) {
    for (method, path) in admin_routes() {
        let response = server.send(method.clone(), &path, &[], Bytes::new()).await;
        response.problem(StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.header("www-authenticate"),
            r#"Bearer realm="knogin""#,
            "{method} {path}"
        );
    }
}

async fn an_invalid_bearer_is_a_401_that_says_why(server: &TestServer) {
    let valid = server.admin_token("acme").await;
    let (header, rest) = valid.split_once('.').unwrap();
    let claims = rest.split('.').next().unwrap();
    let mut payload: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    payload["tenant"] = json!("globex");
    let tampered = format!(
        "{header}.{}.{}",
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        valid.rsplit('.').next().unwrap()
    );

    let cases = [
        (
            "Bearer".to_owned(),
            "the token is not a well-formed access token",
        ),
        (
            "Bearer ".to_owned(),
            "the token is not a well-formed access token",
        ),
        (
            format!("Basic {valid}"),
            "the token is not a well-formed access token",
        ),
        (
            "Bearer not-a-jwt".to_owned(),
            "the token is not a well-formed access token",
        ),
        (
            format!("Bearer {tampered}"),
            "the token signature is invalid",
        ),
    ];
    for (authorization, why) in cases {
        let response = server
            .send(
                Method::GET,
                "/v1/platform/apps",
                &[("authorization", &authorization)],
                Bytes::new(),
            )
            .await;
        let problem = response.problem(StatusCode::UNAUTHORIZED);
        assert_eq!(problem["detail"], why, "{authorization}");
        assert!(
            response
                .header("www-authenticate")
                .contains(r#"error="invalid_token""#)
        );
    }

    server.clock.advance(Duration::from_secs(600 + 5));
    let expired = server.get("/v1/platform/apps", &valid).await;
    assert_eq!(
        expired.problem(StatusCode::UNAUTHORIZED)["detail"],
        "the token has expired"
    );
}

async fn a_token_without_admin_rights_is_a_403(server: &TestServer) {
    let token = server
        .access_token("acme", &["webhooks:read", "webhooks:write"])
        .await;
    for (method, path) in admin_routes() {
        let auth = format!("Bearer {token}");
        let response = server
            .send(
                method.clone(),
                &path,
                &[
                    ("authorization", &auth),
                    ("content-type", "application/json"),
                ],
                "{}",
            )
            .await;
        let problem = response.problem(StatusCode::FORBIDDEN);
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("needs an admin token"),
            "{problem}"
        );
        assert!(!problem.to_string().contains("platform:admin"), "{problem}");
        assert_eq!(
            response.header("www-authenticate"),
            r#"Bearer realm="knogin", error="insufficient_scope""#
        );
    }
}

async fn no_scope_string_smuggles_admin_rights(server: &TestServer) {
    // The scope list is validated: a space cannot hide a second scope in one entry…
    assert!(ScopeSet::new(["webhooks:read platform:admin"]).is_err());
    // …and the reserved scope is in no catalog, so no access token can carry it.
    let grant = TokenGrant {
        tenant: TenantId::parse("acme").unwrap(),
        subject: "x".into(),
        client_id: "x".into(),
        scopes: ScopeSet::parse("webhooks:read platform:admin").unwrap(),
        ttl: Duration::from_secs(60),
        resource: None,
        dpop_jkt: None,
        actor: None,
    };
    let refused = server
        .knogin
        .tokens()
        .mint_access(&grant)
        .await
        .unwrap_err();
    assert!(matches!(refused, MintError::UnknownScope(s) if s == "platform:admin"));
}

async fn a_revoked_admin_token_is_a_401(server: &TestServer) {
    let token = server.admin_token("acme").await;
    let (claims, _) = server.knogin.tokens().verify(&token).await.unwrap();
    server.knogin.tokens().revoke(&claims).await.unwrap();
    let response = server.get("/v1/platform/apps", &token).await;
    let problem = response.problem(StatusCode::UNAUTHORIZED);
    assert_eq!(problem["detail"], "the token has been revoked");
    assert!(
        response
            .header("www-authenticate")
            .contains(r#"error="invalid_token""#)
    );
}

async fn an_oversized_bearer_is_refused_unread(server: &TestServer) {
    let huge = format!("Bearer {}", "a".repeat(9 * 1024));
    let response = server
        .send(
            Method::GET,
            "/v1/platform/apps",
            &[("authorization", &huge)],
            Bytes::new(),
        )
        .await;
    let problem = response.problem(StatusCode::UNAUTHORIZED);
    assert_eq!(problem["detail"], "the token is longer than 8192 bytes");
}
