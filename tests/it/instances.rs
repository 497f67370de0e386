//! Several instances on one database: they publish the same JWKS, accept each other's tokens,
//! follow a key rotation, and honour each other's revocations, within the key-refresh interval.

use std::time::Duration;

use bytes::Bytes;
use http::{Method, StatusCode};
use knogin::core::TenantId;
use serde_json::Value;

use crate::support::{TestServer, matrix};

matrix!(instances_on_one_database_agree_on_keys_and_revocations);

fn kids(jwks: &[u8]) -> Vec<String> {
    let doc: Value = serde_json::from_slice(jwks).unwrap();
    doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

async fn instances_on_one_database_agree_on_keys_and_revocations(server: &TestServer) {
    let other = server.another_instance().await;
    let published = || async {
        server
            .send(Method::GET, "/.well-known/jwks.json", &[], Bytes::new())
            .await
            .body
    };
    assert_eq!(
        published().await,
        other.keys().jwks(),
        "one first key for both"
    );
    let first = kids(&published().await);

    // The other instance rotates; the server publishes the new key within its refresh interval
    // and only then, after the JWKS max-age as well, signs with it.
    let new = other.keys().rotate().await.unwrap();
    assert_eq!(
        kids(&other.keys().jwks()),
        [first[0].clone(), new.to_string()]
    );
    server.clock.advance(Duration::from_secs(30));
    assert_eq!(
        kids(&published().await),
        [first[0].clone(), new.to_string()]
    );
    let token = server.admin_token("acme").await;
    assert_eq!(kid_of(&token), first[0], "not signing before the lead time");
    server.clock.advance(Duration::from_secs(300));
    let token = server.admin_token("acme").await;
    assert_eq!(kid_of(&token), new.as_str());
    let theirs = other
        .tokens()
        .mint_admin(&TenantId::parse("acme").unwrap(), Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(kid_of(theirs.expose()), new.as_str());
    let response = server.get("/v1/platform/apps", theirs.expose()).await;
    assert_eq!(
        response.status,
        StatusCode::OK,
        "a token of the other instance is accepted"
    );

    // A revocation on the other instance reaches the server within its refresh interval.
    let (claims, _) = other.tokens().verify(&token).await.unwrap();
    other.tokens().revoke(&claims).await.unwrap();
    assert_eq!(
        server.get("/v1/platform/apps", &token).await.status,
        StatusCode::OK
    );
    server.clock.advance(Duration::from_secs(30));
    let refused = server.get("/v1/platform/apps", &token).await;
    assert_eq!(
        refused.problem(StatusCode::UNAUTHORIZED)["detail"],
        "the token has been revoked"
    );
}
