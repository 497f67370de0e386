use std::time::Duration;

use super::*;
use crate::clock::Timestamp;
use crate::id::KeyId;
use crate::store::KeyStore;
use crate::store::memory::MemoryStore;
use crate::testing::{FIXTURE_KEY, OTHER_FIXTURE_KEY};

const MARCH_2026: Timestamp = Timestamp::from_unix(1_774_346_400);

#[test]
fn kid_is_date_based() {
    assert_eq!(kid_for(MARCH_2026).as_str(), "2026-03-signing-key");
}

#[tokio::test]
async fn first_start_stores_a_sealed_key_and_later_starts_load_it() {
    let store = MemoryStore::new();
    let master = MasterKey::generate();
    let first = KeyRing::load_or_create(&store, &master, MARCH_2026, Some(FIXTURE_KEY))
        .await
        .unwrap();
    assert_eq!(first.signer().kid().as_str(), "2026-03-signing-key");

    let stored = store.signing_keys().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(
        !stored[0]
            .sealed_private_key
            .windows(32)
            .any(|w| FIXTURE_KEY.windows(32).any(|f| f == w)),
        "the private key is stored sealed"
    );

    let later = MARCH_2026.plus(Duration::from_secs(86_400 * 40));
    let again = KeyRing::load_or_create(&store, &master, later, Some(OTHER_FIXTURE_KEY))
        .await
        .unwrap();
    assert_eq!(again.signer().kid(), first.signer().kid());
    assert_eq!(again.jwks(), first.jwks());
}

#[tokio::test]
async fn a_different_master_key_fails_with_a_clear_error() {
    let store = MemoryStore::new();
    KeyRing::load_or_create(
        &store,
        &MasterKey::generate(),
        MARCH_2026,
        Some(FIXTURE_KEY),
    )
    .await
    .unwrap();
    let err = KeyRing::load_or_create(&store, &MasterKey::generate(), MARCH_2026, None)
        .await
        .unwrap_err();
    assert!(matches!(err, KeyRingError::WrongMasterKey { .. }));
    assert!(
        err.to_string()
            .contains("not the one this database was created with"),
        "{err}"
    );
}

#[tokio::test]
async fn jwks_publishes_public_parameters_only() {
    let ring = KeyRing::load_or_create(
        &MemoryStore::new(),
        &MasterKey::generate(),
        MARCH_2026,
        Some(FIXTURE_KEY),
    )
    .await
    .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(ring.jwks()).unwrap();
    let key = &doc["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["kid"], "2026-03-signing-key");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["e"], "AQAB");
    let mut members: Vec<_> = key.as_object().unwrap().keys().cloned().collect();
    members.sort();
    assert_eq!(members, ["alg", "e", "kid", "kty", "n", "use"]);
}

#[test]
fn generated_keys_are_rsa_2048_and_round_trip_through_pkcs8() {
    let key = SigningKey::generate(KeyId::new("k")).unwrap();
    let n = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        &key.public_jwk().n,
    )
    .unwrap();
    assert_eq!(n.len(), 256);
    let again = SigningKey::from_pkcs8(KeyId::new("k"), &key.to_pkcs8().unwrap()).unwrap();
    assert_eq!(again.public_jwk(), key.public_jwk());
}

#[test]
fn garbage_is_not_a_key() {
    assert!(matches!(
        SigningKey::from_pkcs8(KeyId::new("k"), b"nope"),
        Err(SigningKeyError::Rejected(_))
    ));
}
