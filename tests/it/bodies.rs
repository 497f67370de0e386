//! Request bodies: malformed JSON, wrong content type, too large, empty.

use http::{Method, StatusCode};

use crate::support::{TestServer, matrix};

matrix!(bad_bodies_get_a_clear_4xx);

async fn bad_bodies_get_a_clear_4xx(server: &TestServer) {
    let token = server.admin_token("acme").await;
    let auth = format!("Bearer {token}");
    let id = server.register_id(&token, "bodies").await;
    let governance = format!("/v1/platform/apps/{id}/governance");
    let json = "application/json";
    let big = format!(
        r#"{{"name":"{}","grant_types":["client_credentials"]}}"#,
        "x".repeat(70 * 1024)
    );

    for (method, path) in [
        (Method::POST, "/v1/platform/apps"),
        (Method::PATCH, governance.as_str()),
    ] {
        let cases: [(&str, String, StatusCode, &str); 7] = [
            (json, "{".into(), StatusCode::BAD_REQUEST, "malformed-json"),
            (
                json,
                r#"{"name": "a",}"#.into(),
                StatusCode::BAD_REQUEST,
                "malformed-json",
            ),
            (json, String::new(), StatusCode::BAD_REQUEST, "empty-body"),
            (json, "  \n".into(), StatusCode::BAD_REQUEST, "empty-body"),
            (
                "text/plain",
                r#"{"enforce_pkce": true}"#.into(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
            ),
            (
                "application/x-www-form-urlencoded",
                "enforce_pkce=true".into(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
            ),
            (
                json,
                big.clone(),
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
            ),
        ];
        for (content_type, body, status, kind) in cases {
            let response = server
                .send(
                    method.clone(),
                    path,
                    &[("authorization", &auth), ("content-type", content_type)],
                    body,
                )
                .await;
            let problem = response.problem(status);
            assert_eq!(
                problem["type"],
                format!("urn:knogin:problem:{kind}"),
                "{method} {path} {content_type}"
            );
        }
        let no_type = server
            .send(method.clone(), path, &[("authorization", &auth)], "{}")
            .await;
        no_type.problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    let charset = server
        .send(
            Method::PATCH,
            &governance,
            &[
                ("authorization", &auth),
                ("content-type", "application/json; charset=utf-8"),
            ],
            r#"{"enforce_pkce": false}"#,
        )
        .await;
    assert_eq!(charset.status, StatusCode::OK, "{}", charset.text());
}
