//! Bearer tokens on the platform routes: missing, invalid, expired, foreign, not admin.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{Method, StatusCode};
use knogin::core::TenantId;
use knogin::core::token::TokenGrant;
use serde_json::json;

use crate::support::{TestServer, matrix};

matrix!(
    a_missing_bearer_is_a_401_with_a_challenge,
    an_invalid_bearer_is_a_401_that_says_why,
    a_token_without_admin_rights_is_a_403,
);

const PLATFORM_ROUTES: &[(Method, &str)] = &[
    (Method::GET, "/v1/platform/scopes"),
    (Method::GET, "/v1/platform/apps"),
    (Method::POST, "/v1/platform/apps"),
    (
        Method::GET,
        "/v1/platform/apps/app_00000000000000000000000000000000",
    ),
    (
        Method::PATCH,
        "/v1/platform/apps/app_00000000000000000000000000000000/governance",
    ),
    (
        Method::POST,
        "/v1/platform/apps/app_00000000000000000000000000000000/rotate-secret",
    ),
];

async fn a_missing_bearer_is_a_401_with_a_challenge(server: &TestServer) {
    for (method, path) in PLATFORM_ROUTES {
        let response = server.send(method.clone(), path, &[], Bytes::new()).await;
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
    let grant = TokenGrant {
        tenant: TenantId::parse("acme").unwrap(),
        subject: "user-1".into(),
        client_id: "app_00000000000000000000000000000000".into(),
        scopes: vec!["webhooks:read".into(), "webhooks:write".into()],
        ttl: Duration::from_secs(60),
    };
    let token = server.knogin.mint_access_token(&grant).await.unwrap();
    for (method, path) in PLATFORM_ROUTES {
        let auth = format!("Bearer {}", token.expose());
        let response = server
            .send(
                method.clone(),
                path,
                &[
                    ("authorization", &auth),
                    ("content-type", "application/json"),
                ],
                "{}",
            )
            .await;
        response.problem(StatusCode::FORBIDDEN);
        assert_eq!(
            response.header("www-authenticate"),
            r#"Bearer realm="knogin", error="insufficient_scope", scope="platform:admin""#
        );
    }
}
