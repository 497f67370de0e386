//! The audit trail through the real routes and the handle's commands: each act is one event
//! with who, where and how it ended, and no event holds a secret or a token.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use serde_json::Value;

use super::{Actor, AuditKind, AuditOutcome, MemorySink};
use crate::clock::{ManualClock, Timestamp};
use crate::keys::MasterKey;
use crate::store::memory::MemoryStore;
use crate::webhooks::{NewWebhook, WebhookCaller};
use crate::{AppId, Knogin, TenantId};

async fn send(knogin: &Knogin, request: Request<Full<Bytes>>) -> (StatusCode, Value) {
    let response = knogin.handle(request).await;
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn post(path: &str, auth: Option<&str>, content_type: &str, body: String) -> Request<Full<Bytes>> {
    let mut request = Request::post(path).header("content-type", content_type);
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    request.body(Full::new(Bytes::from(body))).unwrap()
}

/// A handle auditing into a memory sink, an admin token of `acme` (as a header), and an app
/// it registered over HTTP: its client id and secret.
async fn registered() -> (Knogin, Arc<MemorySink>, String, String, String) {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix(1_800_000_000)));
    let sink = Arc::new(MemorySink::default());
    let knogin =
        crate::testing::builder(Arc::new(MemoryStore::new()), MasterKey::generate(), clock)
            .audit(sink.clone())
            .build()
            .await
            .unwrap();
    let acme = TenantId::parse("acme").unwrap();
    let admin = knogin
        .tokens()
        .mint_admin(&acme, Duration::from_secs(60))
        .await
        .unwrap();
    let admin = format!("Bearer {}", admin.expose());
    let registration = serde_json::json!({
        "name": "Audited", "grant_types": ["client_credentials"], "redirect_uris": [],
        "requested_scopes": ["webhooks:write"],
    });
    let (status, app) = send(
        &knogin,
        post(
            "/v1/platform/apps",
            Some(&admin),
            "application/json",
            registration.to_string(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (client_id, secret) = (
        app["client_id"].as_str().unwrap().to_owned(),
        app["client_secret"].as_str().unwrap().to_owned(),
    );
    (knogin, sink, admin, client_id, secret)
}

#[tokio::test]
async fn every_act_is_one_event_without_secrets() {
    let (knogin, sink, admin, client_id, secret) = registered().await;
    let acme = TenantId::parse("acme").unwrap();
    let form = |secret: &str| {
        format!("grant_type=client_credentials&client_id={client_id}&client_secret={secret}")
    };
    let urlencoded = "application/x-www-form-urlencoded";
    let (status, token) = send(
        &knogin,
        post("/v1/oauth/token", None, urlencoded, form(&secret)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(
        &knogin,
        post("/v1/oauth/token", None, urlencoded, form("s3cr3t-guess")),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let rotate = format!("/v1/platform/apps/{client_id}/rotate-secret");
    let (status, _) = send(
        &knogin,
        post(&rotate, Some(&admin), "application/json", "{}".into()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let caller = WebhookCaller::app(acme.clone(), AppId::parse(&client_id).unwrap());
    let new = NewWebhook {
        url: "https://integrator.example/hooks".into(),
        events: vec!["incident.updated".into()],
        secret: None,
        description: None,
        rate_limit: None,
    };
    let (webhook, _) = knogin.webhooks().create(&caller, new).await.unwrap();
    knogin
        .webhooks()
        .delete(&caller, &webhook.id)
        .await
        .unwrap();
    let access_token = token["access_token"].as_str().unwrap();
    knogin.tokens().revoke_jti("some-jti").await.unwrap();
    knogin.keys().rotate().await.unwrap();

    assert_eq!(
        sink.kinds(),
        [
            AuditKind::AppRegistered,
            AuditKind::TokenIssued,
            AuditKind::ClientAuthFailed,
            AuditKind::AppSecretRotated,
            AuditKind::WebhookCreated,
            AuditKind::WebhookDeleted,
            AuditKind::TokenRevoked,
            AuditKind::KeyRotated,
        ]
    );
    let events = sink.events();
    assert_eq!(events[0].actor.kind(), "admin");
    assert_eq!(events[0].tenant.as_ref(), Some(&acme));
    assert_eq!(events[1].actor, Actor::Client(client_id.clone()));
    assert_eq!(events[2].outcome, AuditOutcome::Failure);
    assert_eq!(events[7].actor, Actor::Operator);
    let issued: Value = serde_json::from_str(&events[1].to_json()).unwrap();
    assert_eq!(issued["type"], "token.issued");
    assert_eq!(issued["at"], "2027-01-15T08:00:00Z");
    assert_eq!(issued["tenant"], "acme");
    assert_eq!(issued["actor"], client_id);
    assert_eq!(issued["client_id"], client_id);
    assert_eq!(issued["outcome"], "success");
    assert_eq!(issued["grant_type"], "client_credentials");
    for event in &events {
        let line = event.to_json();
        assert!(
            !line.contains(&secret) && !line.contains(access_token),
            "{line}"
        );
        assert!(
            !line.contains("s3cr3t-guess"),
            "a presented secret in {line}"
        );
    }
}

/// The handle's own commands are audited too, with the operator as the actor.
#[tokio::test]
async fn the_handles_app_commands_are_the_operators() {
    use crate::apps::{GovernancePatch, PreviousSecrets, Registration};

    let (knogin, sink, _, _, _) = registered().await;
    let acme = TenantId::parse("acme").unwrap();
    let registration = Registration {
        name: "By hand".into(),
        grant_types: vec!["client_credentials".into()],
        redirect_uris: vec![],
        requested_scopes: vec!["webhooks:read".into()],
        ..Registration::default()
    };
    let (app, _) = knogin.apps().register(&acme, registration).await.unwrap();
    let patch = GovernancePatch {
        allow_service_tokens: Some(true),
        ..GovernancePatch::default()
    };
    let apps = knogin.apps();
    apps.update_governance(&acme, &app.client_id, patch)
        .await
        .unwrap();
    let previous = PreviousSecrets::RevokeNow;
    apps.rotate_secret(&acme, &app.client_id, previous)
        .await
        .unwrap();
    // A refused change records nothing.
    let other = TenantId::parse("other").unwrap();
    let refused = apps.rotate_secret(&other, &app.client_id, previous).await;
    assert!(refused.is_err());

    let events = &sink.events()[1..];
    let kinds: Vec<AuditKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            AuditKind::AppRegistered,
            AuditKind::AppGovernanceChanged,
            AuditKind::AppSecretRotated,
        ]
    );
    for event in events {
        assert_eq!(event.actor, Actor::Operator);
        assert_eq!(event.client_id.as_deref(), Some(app.client_id.as_str()));
    }
    assert_eq!(events[2].detail("previous_secrets"), Some("revoked"));
}

#[test]
fn every_kind_has_its_type() {
    let types: Vec<&str> = AuditKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(
        types,
        [
            "app.registered",
            "app.governance_changed",
            "app.secret_rotated",
            "token.issued",
            "token.revoked",
            "client_auth.failed",
            "sign_in.succeeded",
            "sign_in.failed",
            "consent.granted",
            "consent.denied",
            "key.rotated",
            "key.withdrawn",
            "webhook.created",
            "webhook.updated",
            "webhook.deleted",
            "webhook.disabled",
        ]
    );
}

#[test]
fn the_json_line_is_the_events_serialization() {
    let mut event = super::AuditEvent {
        kind: AuditKind::SignInFailed,
        at: Timestamp::from_unix(1_800_000_000),
        tenant: None,
        actor: Actor::User("a \"quoted\" name\\ with\ncontrols \u{1b}[31m and é".to_owned()),
        client_id: Some("app_01".to_owned()),
        outcome: AuditOutcome::Failure,
        details: vec![
            ("reason", "bad\tpassword".to_owned()),
            ("scope", String::new()),
        ],
    };
    let line = event.to_json();
    assert_eq!(line, serde_json::to_string(&event).unwrap());
    let parsed: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        parsed["actor"],
        "a \"quoted\" name\\ with\ncontrols \u{1b}[31m and é"
    );
    assert_eq!(parsed["tenant"], Value::Null);
    event.tenant = Some(TenantId::parse("acme").unwrap());
    event.client_id = None;
    event.actor = Actor::System;
    assert_eq!(event.to_json(), serde_json::to_string(&event).unwrap());
}
