//! The JWKS routes, and a token minted by the core verified with the published key alone.

use bytes::Bytes;
use http::{Method, StatusCode};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use knogin::core::audit::{Actor, AuditKind};
use serde_json::Value;

use crate::support::{ISSUER, TestServer, matrix};

matrix!(
    both_jwks_paths_publish_the_same_public_keys,
    a_core_token_verifies_with_the_published_key,
    a_withdrawn_key_leaves_at_once_and_is_audited
);

async fn jwks(server: &TestServer, path: &str) -> crate::support::TestResponse {
    server.send(Method::GET, path, &[], Bytes::new()).await
}

async fn both_jwks_paths_publish_the_same_public_keys(server: &TestServer) {
    let well_known = jwks(server, "/.well-known/jwks.json").await;
    let versioned = jwks(server, "/v1/auth/jwks.json").await;
    for response in [&well_known, &versioned] {
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(response.header("content-type"), "application/json");
        assert_eq!(response.header("cache-control"), "public, max-age=300");
    }
    assert_eq!(well_known.body, versioned.body);

    let doc: Value = well_known.json();
    let keys = doc["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = keys[0].as_object().unwrap();
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["alg"], "RS256");
    assert!(key["kid"].as_str().unwrap().ends_with("-signing-key"));
    for private in ["d", "p", "q", "dp", "dq", "qi"] {
        assert!(
            !key.contains_key(private),
            "{private} must not be published"
        );
    }
}

async fn a_core_token_verifies_with_the_published_key(server: &TestServer) {
    let token = server.access_token("acme", &["webhooks:read"]).await;
    let set: JwkSet =
        serde_json::from_slice(&jwks(server, "/.well-known/jwks.json").await.body).unwrap();
    let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    let jwk = set.find(&kid).expect("the token's kid is published");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[ISSUER]);
    let claims =
        jsonwebtoken::decode::<Value>(&token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
            .expect("the published key verifies the token")
            .claims;
    assert_eq!(claims["tenant"], "acme");
    assert_eq!(claims["scope"], "webhooks:read");

    // An admin token is for the platform API only: a resource server expecting the issuer as
    // audience refuses it even without looking at its `typ`.
    let admin = server.admin_token("acme").await;
    let refused =
        jsonwebtoken::decode::<Value>(&admin, &DecodingKey::from_jwk(jwk).unwrap(), &validation);
    assert!(refused.is_err());
}

async fn a_withdrawn_key_leaves_at_once_and_is_audited(server: &TestServer) {
    let token = server.access_token("acme", &["webhooks:read"]).await;
    let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    let kid = knogin::core::KeyId::new(kid);
    let replacement = server.knogin.keys().withdraw(&kid).await.unwrap().unwrap();
    assert_ne!(replacement, kid);
    let set: JwkSet =
        serde_json::from_slice(&jwks(server, "/.well-known/jwks.json").await.body).unwrap();
    assert!(
        set.find(kid.as_str()).is_none(),
        "the withdrawn key is gone"
    );
    assert!(set.find(replacement.as_str()).is_some());
    let listed = server.get("/v1/webhooks", &token).await;
    assert_eq!(listed.status, StatusCode::UNAUTHORIZED);

    let withdrawn = server.audited(AuditKind::KeyWithdrawn);
    assert_eq!(withdrawn.len(), 1);
    assert_eq!(withdrawn[0].actor, Actor::Operator);
    assert_eq!(withdrawn[0].detail("kid"), Some(kid.as_str()));
    assert_eq!(
        withdrawn[0].detail("replacement"),
        Some(replacement.as_str())
    );
    // Withdrawing it again changes nothing and records nothing.
    assert_eq!(server.knogin.keys().withdraw(&kid).await.unwrap(), None);
    assert_eq!(server.audited(AuditKind::KeyWithdrawn).len(), 1);
}
