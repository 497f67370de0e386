//! PATCH /v1/platform/apps/{client_id}/governance.

use http::{Method, StatusCode};
use knogin::core::TenantId;
use knogin::core::audit::AuditKind;
use serde_json::json;

use crate::support::{TestServer, matrix};

matrix!(
    governance_changes_only_the_given_flags,
    governance_refuses_bad_bodies
);

async fn governance_changes_only_the_given_flags(server: &TestServer) {
    let token = server.admin_token("acme").await;
    let id = server.register_id(&token, "gov").await;
    let path = format!("/v1/platform/apps/{id}/governance");

    let response = server
        .json(
            Method::PATCH,
            &path,
            &token,
            &json!({"allow_service_tokens": true}),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(
        response.json(),
        json!({"client_id": id, "governance": {"allow_service_tokens": true, "enforce_pkce": true}})
    );
    let both = json!({"allow_service_tokens": false, "enforce_pkce": false});
    let response = server.json(Method::PATCH, &path, &token, &both).await;
    assert_eq!(response.json()["governance"], both);
    // A resource server may introspect its tenant's tokens; the flag shows only when set.
    let resource = json!({"allow_token_introspection": true});
    let response = server.json(Method::PATCH, &path, &token, &resource).await;
    assert_eq!(
        response.json()["governance"],
        json!({"allow_service_tokens": false, "enforce_pkce": false, "allow_token_introspection": true})
    );
    let off = json!({"allow_token_introspection": false});
    let response = server.json(Method::PATCH, &path, &token, &off).await;
    assert_eq!(response.json()["governance"], both);
    let read = server
        .get(&format!("/v1/platform/apps/{id}"), &token)
        .await
        .json();
    assert_eq!(read["governance"], both);

    let changes = server.audited(AuditKind::AppGovernanceChanged);
    assert_eq!(changes.len(), 4);
    assert_eq!(changes[0].actor.kind(), "admin");
    assert_eq!(
        changes[0].tenant.as_ref().map(TenantId::as_str),
        Some("acme")
    );
    assert_eq!(changes[0].client_id.as_deref(), Some(id.as_str()));
    let last: serde_json::Value =
        serde_json::from_str(changes[3].detail("governance").unwrap()).unwrap();
    assert_eq!(last, both);
}

async fn governance_refuses_bad_bodies(server: &TestServer) {
    let token = server.admin_token("acme").await;
    let id = server.register_id(&token, "gov").await;
    let path = format!("/v1/platform/apps/{id}/governance");
    for (body, fields) in [
        (json!({}), vec!["body"]),
        (
            json!({"allow_service_tokens": "yes"}),
            vec!["allow_service_tokens"],
        ),
        (json!({"enforce_pkce": null}), vec!["enforce_pkce"]),
        (
            json!({"enforce_pkce": true, "redirect_uris": []}),
            vec!["redirect_uris"],
        ),
        (json!([true]), vec!["body"]),
    ] {
        let response = server.json(Method::PATCH, &path, &token, &body).await;
        assert_eq!(response.error_fields(), fields, "{body}");
    }
    let auth = format!("Bearer {token}");
    let empty = server
        .send(
            Method::PATCH,
            &path,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            "",
        )
        .await;
    empty.problem(StatusCode::BAD_REQUEST);
    let read = server
        .get(&format!("/v1/platform/apps/{id}"), &token)
        .await
        .json();
    assert_eq!(
        read["governance"],
        json!({"allow_service_tokens": false, "enforce_pkce": true})
    );
}
