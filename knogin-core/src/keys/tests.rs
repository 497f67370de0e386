use std::sync::Arc;
use std::time::Duration;

use super::signing::thumbprint_of;
use super::*;
use crate::Knogin;
use crate::clock::{ManualClock, Timestamp};
use crate::id::KeyId;
use crate::store::KeyStore;
use crate::store::memory::MemoryStore;
use crate::testing::{FIXTURE_KEY, OTHER_FIXTURE_KEY};
use knogin_verifier::VerifyingKey;

const MARCH_2026: Timestamp = Timestamp::from_unix(1_774_346_400);

#[test]
fn kid_is_date_based() {
    assert_eq!(kid_for(MARCH_2026).as_str(), "2026-03-signing-key");
}

#[tokio::test]
async fn first_start_stores_a_sealed_key_and_later_starts_load_it() {
    let store = MemoryStore::new();
    let master = MasterKey::generate();
    let first = KeyRing::load_or_create(
        &store,
        &master,
        MARCH_2026,
        Some(FIXTURE_KEY),
        SigningAlgorithm::Rs256,
    )
    .await
    .unwrap();
    assert_eq!(
        first.signer(MARCH_2026).kid().as_str(),
        "2026-03-signing-key"
    );

    let stored = store.signing_keys().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(
        !stored[0]
            .sealed_private_key
            .windows(32)
            .any(|w| FIXTURE_KEY.windows(32).any(|f| f == w)),
        "the private key is stored sealed"
    );
    assert!(
        !format!("{:?}", stored[0]).contains("sealed_private_key: ["),
        "Debug is redacted"
    );

    let later = MARCH_2026.plus(Duration::from_secs(86_400 * 40));
    let again = KeyRing::load_or_create(
        &store,
        &master,
        later,
        Some(OTHER_FIXTURE_KEY),
        SigningAlgorithm::Rs256,
    )
    .await
    .unwrap();
    assert_eq!(again.signer(later).kid(), first.signer(MARCH_2026).kid());
    assert_eq!(again.jwks(), first.jwks());
}

#[tokio::test]
async fn first_starts_on_either_side_of_a_month_boundary_end_with_one_key() {
    let store = MemoryStore::new();
    let master = MasterKey::generate();
    let april = MARCH_2026.plus(Duration::from_secs(86_400 * 10));
    let (a, b) = tokio::join!(
        KeyRing::load_or_create(
            &store,
            &master,
            MARCH_2026,
            Some(FIXTURE_KEY),
            SigningAlgorithm::Rs256
        ),
        KeyRing::load_or_create(
            &store,
            &master,
            april,
            Some(OTHER_FIXTURE_KEY),
            SigningAlgorithm::Rs256
        ),
    );
    assert_eq!(a.unwrap().jwks(), b.unwrap().jwks());
    assert_eq!(store.signing_keys().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_different_master_key_fails_with_a_clear_error() {
    let store = MemoryStore::new();
    KeyRing::load_or_create(
        &store,
        &MasterKey::generate(),
        MARCH_2026,
        Some(FIXTURE_KEY),
        SigningAlgorithm::Rs256,
    )
    .await
    .unwrap();
    let err = KeyRing::load_or_create(
        &store,
        &MasterKey::generate(),
        MARCH_2026,
        None,
        SigningAlgorithm::Rs256,
    )
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
        SigningAlgorithm::Rs256,
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

fn decoded(member: Option<&String>) -> Vec<u8> {
    base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        member.expect("the member is present"),
    )
    .unwrap()
}

#[test]
fn rsa_keys_are_2048_bits_and_round_trip_through_pkcs8() {
    let key = SigningKey::from_pkcs8(KeyId::new("k"), FIXTURE_KEY).unwrap();
    assert_eq!(key.algorithm(), SigningAlgorithm::Rs256);
    assert_eq!(decoded(key.public_jwk().n.as_ref()).len(), 256);
    let again = SigningKey::from_pkcs8(KeyId::new("k"), &key.to_pkcs8().unwrap()).unwrap();
    assert_eq!(again.public_jwk(), key.public_jwk());
    assert_eq!(again.thumbprint(), key.thumbprint());
    assert_eq!(key.thumbprint().len(), 43);
}

#[test]
fn ec_and_ed25519_keys_generate_publish_and_round_trip() {
    for (algorithm, kty, crv, x_len) in [
        (SigningAlgorithm::Es256, "EC", "P-256", 32),
        (SigningAlgorithm::EdDsa, "OKP", "Ed25519", 32),
    ] {
        let key = SigningKey::generate(KeyId::new("k"), algorithm).unwrap();
        let jwk = key.public_jwk();
        assert_eq!(
            (jwk.kty, jwk.alg, jwk.crv),
            (kty, algorithm.as_str(), Some(crv))
        );
        assert_eq!(decoded(jwk.x.as_ref()).len(), x_len);
        assert_eq!(jwk.y.is_some(), algorithm == SigningAlgorithm::Es256);
        assert!(jwk.n.is_none() && jwk.e.is_none());
        let again = SigningKey::from_pkcs8(KeyId::new("k"), &key.to_pkcs8().unwrap()).unwrap();
        assert_eq!(again.algorithm(), algorithm);
        assert_eq!(again.public_jwk(), jwk);
        assert_eq!(again.thumbprint(), key.thumbprint());
    }
}

#[test]
fn signatures_verify_with_the_published_key() {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    for algorithm in SigningAlgorithm::ALL {
        let key = match algorithm {
            SigningAlgorithm::Rs256 => SigningKey::from_pkcs8(KeyId::new("k"), FIXTURE_KEY),
            other => SigningKey::generate(KeyId::new("k"), other),
        }
        .unwrap();
        let header = format!(r#"{{"alg":"{algorithm}","typ":"JWT","kid":"k"}}"#);
        let b64 =
            |b: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, b);
        let message = format!("{}.{}", b64(header.as_bytes()), b64(br#"{"sub":"x"}"#));
        let token = format!("{message}.{}", b64(&key.sign(message.as_bytes())));
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(serde_json::to_value(key.public_jwk()).unwrap()).unwrap();
        let decoding = DecodingKey::from_jwk(&jwk).unwrap();
        let alg: Algorithm = algorithm.as_str().parse().unwrap();
        let mut validation = Validation::new(alg);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation)
            .unwrap_or_else(|e| panic!("{algorithm}: {e}"));
    }
}

#[test]
fn the_thumbprint_follows_rfc_7638() {
    // RFC 8037 appendix A.3: the thumbprint of the example Ed25519 key.
    let jwk = PublicJwk {
        kty: "OKP",
        kid: String::new(),
        use_: "sig",
        alg: "EdDSA",
        crv: Some("Ed25519"),
        n: None,
        e: None,
        x: Some("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo".into()),
        y: None,
    };
    assert_eq!(
        thumbprint_of(&jwk),
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    );
}

#[test]
fn garbage_is_not_a_key() {
    assert_eq!(
        SigningKey::from_pkcs8(KeyId::new("k"), b"nope").unwrap_err(),
        SigningKeyError::Rejected
    );
}

#[tokio::test]
async fn a_ring_publishes_keys_of_several_algorithms_and_verifies_each_only_with_its_own() {
    let keys = vec![
        SigningKey::from_pkcs8(KeyId::new("rsa"), FIXTURE_KEY).unwrap(),
        SigningKey::generate(KeyId::new("ec"), SigningAlgorithm::Es256).unwrap(),
        SigningKey::generate(KeyId::new("ed"), SigningAlgorithm::EdDsa).unwrap(),
    ];
    let ring = KeyRing::from_keys(keys);
    let doc: serde_json::Value = serde_json::from_slice(ring.jwks()).unwrap();
    let algs: Vec<&str> = doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].as_str().unwrap())
        .collect();
    assert_eq!(algs, ["RS256", "ES256", "EdDSA"]);
    assert_eq!(doc["keys"][1]["crv"], "P-256");
    assert_eq!(doc["keys"][2]["crv"], "Ed25519");
    assert_eq!(
        ring.verifier("ec", MARCH_2026).map(VerifyingKey::algorithm),
        Some(SigningAlgorithm::Es256.jwt())
    );
    assert_eq!(ring.signer(MARCH_2026).kid().as_str(), "ed");
}

/// Two handles (two instances) on one store, each with its own view of the same manual clock.
async fn instances(store: &Arc<MemoryStore>, clock: &Arc<ManualClock>, master: &str) -> Knogin {
    let master = MasterKey::from_base64(master).unwrap();
    crate::testing::builder(store.clone(), master, clock.clone())
        .signing_keys(
            crate::keys::SigningKeySettings::default()
                .jwks_max_age(Duration::from_secs(300))
                .refresh(Duration::from_secs(30)),
        )
        .build()
        .await
        .unwrap()
}

fn jwks_kids(knogin: &Knogin) -> Vec<String> {
    let doc: serde_json::Value = serde_json::from_slice(&knogin.keys().jwks()).unwrap();
    doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

async fn signing_kid(knogin: &Knogin) -> String {
    let tenant = crate::TenantId::parse("acme").unwrap();
    let token = knogin
        .tokens()
        .mint_admin(&tenant, Duration::from_secs(60))
        .await
        .unwrap();
    jsonwebtoken::decode_header(token.expose())
        .unwrap()
        .kid
        .unwrap()
}

#[tokio::test]
async fn a_rotated_key_is_published_everywhere_before_any_instance_signs_with_it() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(MARCH_2026));
    let master = MasterKey::generate().to_base64();
    let a = instances(&store, &clock, &master).await;
    let b = instances(&store, &clock, &master).await;
    let first = signing_kid(&a).await;

    let new = a
        .core()
        .rotate_signing_key_with(NewKey::Pkcs8(OTHER_FIXTURE_KEY))
        .await
        .unwrap();
    assert_eq!(
        new.as_str(),
        format!(
            "2026-03-signing-key-{}",
            &SigningKey::from_pkcs8(new.clone(), OTHER_FIXTURE_KEY)
                .unwrap()
                .thumbprint()[..8]
        )
    );
    assert_eq!(
        jwks_kids(&a),
        [first.clone(), new.to_string()],
        "published at once here"
    );
    assert_eq!(signing_kid(&a).await, first, "but not signing yet");

    // The other instance learns of it within its refresh interval.
    assert_eq!(jwks_kids(&b), std::slice::from_ref(&first));
    clock.advance(Duration::from_secs(30));
    assert_eq!(signing_kid(&b).await, first);
    assert_eq!(jwks_kids(&b), [first.clone(), new.to_string()]);

    // It signs once the JWKS max-age plus the refresh interval have passed, on both.
    clock.advance(Duration::from_secs(300 - 1));
    assert_eq!(signing_kid(&a).await, first);
    clock.advance(Duration::from_secs(1));
    assert_eq!(signing_kid(&a).await, new.as_str());
    assert_eq!(signing_kid(&b).await, new.as_str());

    // The old key still verifies the tokens it signed until they have all expired, then leaves.
    let old_token = {
        clock.set(MARCH_2026);
        let t = a
            .tokens()
            .mint_admin(
                &crate::TenantId::parse("acme").unwrap(),
                Duration::from_secs(600),
            )
            .await
            .unwrap();
        clock.set(MARCH_2026.plus(Duration::from_secs(330)));
        t
    };
    assert!(b.tokens().verify(old_token.expose()).await.is_ok());
    clock.advance(Duration::from_secs(24 * 3600 + 30));
    b.keys().reload().await.unwrap();
    assert_eq!(
        jwks_kids(&b),
        [new.to_string()],
        "removed after the longest token lifetime"
    );
}

#[tokio::test]
async fn a_revoked_token_is_refused_here_at_once_and_on_other_instances_after_a_refresh() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(MARCH_2026));
    let master = MasterKey::generate().to_base64();
    let a = instances(&store, &clock, &master).await;
    let b = instances(&store, &clock, &master).await;
    let token = a
        .tokens()
        .mint_admin(
            &crate::TenantId::parse("acme").unwrap(),
            Duration::from_secs(600),
        )
        .await
        .unwrap();
    let (claims, _) = b.tokens().verify(token.expose()).await.unwrap();
    a.tokens().revoke(&claims).await.unwrap();
    assert_eq!(
        a.tokens().verify(token.expose()).await.map(|_| ()),
        Err(crate::token::TokenError::Revoked)
    );
    assert!(
        b.tokens().verify(token.expose()).await.is_ok(),
        "until b reloads"
    );
    clock.advance(Duration::from_secs(30));
    assert_eq!(
        b.tokens().verify(token.expose()).await.map(|_| ()),
        Err(crate::token::TokenError::Revoked)
    );
}
