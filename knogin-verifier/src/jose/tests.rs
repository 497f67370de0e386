use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::*;

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A compact JWS of `header` and `payload` signed by `sign`.
fn compact(header: &Value, payload: &Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    format!("{input}.{}", b64(&sign(input.as_bytes())))
}

fn ec_key() -> (EcdsaKeyPair, Value) {
    let pair = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let point = pair.public_key().as_ref().to_vec();
    let jwk = json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..])});
    (pair, jwk)
}

#[test]
fn rfc_8037_ed25519_example_verifies() {
    let jwk =
        json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
    let key = PublicJwk::from_json(&jwk).unwrap();
    let jws = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
    let parsed = Jws::parse(jws, 4096).unwrap();
    assert_eq!(parsed.alg(), JwsAlgorithm::EdDsa);
    assert_eq!(parsed.verify(&key).unwrap(), b"Example of Ed25519 signing");
    let tampered = jws.replace(".hgy", ".hgz");
    let tampered = Jws::parse(&tampered, 4096).unwrap();
    assert_eq!(tampered.verify(&key), Err(JwsError::BadSignature));
}

#[test]
fn rfc_7638_thumbprint_example() {
    let jwk = json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29"
    });
    let key = PublicJwk::from_json(&jwk).unwrap();
    assert_eq!(
        key.thumbprint(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
    assert_eq!(key.kid(), Some("2011-04-29"));
    assert!(key.verifies(JwsAlgorithm::Rs256));
    assert!(
        !key.verifies(JwsAlgorithm::Ps256),
        "its alg pins it to RS256"
    );
}

#[test]
fn es256_ed25519_rs256_and_ps256_signatures_verify_with_their_keys_only() {
    let rng = SystemRandom::new();
    let (ec, ec_jwk) = ec_key();
    let ed = Ed25519KeyPair::generate().unwrap();
    let okp_jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": b64(ed.public_key().as_ref())});
    let rsa = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let public = rsa.public_key();
    let rsa_jwk = json!({"kty": "RSA",
        "n": b64(public.modulus().big_endian_without_leading_zero()),
        "e": b64(public.exponent().big_endian_without_leading_zero())});
    let rsa_sign = |padding: &'static dyn signature::RsaEncoding| {
        let rsa = &rsa;
        let rng = &rng;
        move |input: &[u8]| {
            let mut out = vec![0; rsa.public_modulus_len()];
            rsa.sign(padding, rng, input, &mut out).unwrap();
            out
        }
    };
    let claims = json!({"sub": "app_1"});
    let cases: Vec<(&str, Value, String)> = vec![
        (
            "ES256",
            ec_jwk.clone(),
            compact(&json!({"alg": "ES256"}), &claims, |m| {
                ec.sign(&rng, m).unwrap().as_ref().to_vec()
            }),
        ),
        (
            "EdDSA",
            okp_jwk.clone(),
            compact(&json!({"alg": "EdDSA"}), &claims, |m| {
                ed.sign(m).as_ref().to_vec()
            }),
        ),
        (
            "Ed25519",
            okp_jwk.clone(),
            compact(&json!({"alg": "Ed25519"}), &claims, |m| {
                ed.sign(m).as_ref().to_vec()
            }),
        ),
        (
            "RS256",
            rsa_jwk.clone(),
            compact(
                &json!({"alg": "RS256"}),
                &claims,
                rsa_sign(&signature::RSA_PKCS1_SHA256),
            ),
        ),
        (
            "PS256",
            rsa_jwk.clone(),
            compact(
                &json!({"alg": "PS256"}),
                &claims,
                rsa_sign(&signature::RSA_PSS_SHA256),
            ),
        ),
    ];
    let keys: Vec<PublicJwk> = [&ec_jwk, &okp_jwk, &rsa_jwk]
        .iter()
        .map(|k| PublicJwk::from_json(k).unwrap())
        .collect();
    for (alg, jwk, jws) in &cases {
        let own = PublicJwk::from_json(jwk).unwrap();
        let parsed = Jws::parse(jws, 8192).unwrap();
        assert_eq!(parsed.alg().as_str(), *alg);
        let payload: Value = serde_json::from_slice(parsed.verify(&own).unwrap()).unwrap();
        assert_eq!(payload, claims, "{alg}");
        for other in keys.iter().filter(|k| **k != own) {
            assert_eq!(parsed.verify(other), Err(JwsError::BadSignature), "{alg}");
        }
    }
    // The PKCS#1 signature does not pass as PSS, nor the other way round.
    let swapped = cases[3]
        .2
        .replacen(&b64(br#"{"alg":"RS256"}"#), &b64(br#"{"alg":"PS256"}"#), 1);
    let rsa_key = PublicJwk::from_json(&rsa_jwk).unwrap();
    assert!(
        Jws::parse(&swapped, 8192)
            .unwrap()
            .verify(&rsa_key)
            .is_err()
    );
}

#[test]
fn a_key_with_an_alg_checks_that_alg_only() {
    let (ec, mut jwk) = ec_key();
    jwk["alg"] = json!("ES256");
    assert!(
        PublicJwk::from_json(&jwk)
            .unwrap()
            .verifies(JwsAlgorithm::Es256)
    );
    jwk["alg"] = json!("RS256");
    assert!(
        PublicJwk::from_json(&jwk).is_err(),
        "an alg that does not fit the type"
    );
    jwk["alg"] = json!("HS256");
    assert!(PublicJwk::from_json(&jwk).is_err());
    let _ = ec;
}

#[test]
fn headers_that_could_confuse_are_refused() {
    let none = compact(&json!({"alg": "none"}), &json!({}), |_| Vec::new());
    assert_eq!(
        Jws::parse(&none, 4096).unwrap_err(),
        JwsError::UnsupportedAlgorithm
    );
    let hmac = compact(&json!({"alg": "HS256"}), &json!({}), |_| vec![1; 32]);
    assert_eq!(
        Jws::parse(&hmac, 4096).unwrap_err(),
        JwsError::UnsupportedAlgorithm
    );
    let crit = compact(
        &json!({"alg": "ES256", "crit": ["exp"]}),
        &json!({}),
        |_| vec![1; 64],
    );
    assert_eq!(
        Jws::parse(&crit, 4096).unwrap_err(),
        JwsError::UnsupportedAlgorithm
    );
    let lower = compact(&json!({"alg": "es256"}), &json!({}), |_| vec![1; 64]);
    assert_eq!(
        Jws::parse(&lower, 4096).unwrap_err(),
        JwsError::UnsupportedAlgorithm
    );
    for broken in ["", "a.b", "a.b.c.d", "e30.e30.!!", "bm90IGpzb24.e30.AA"] {
        assert_eq!(
            Jws::parse(broken, 4096).unwrap_err(),
            JwsError::Malformed,
            "{broken}"
        );
    }
    let long = "a".repeat(5000);
    assert_eq!(
        Jws::parse(&long, 4096).unwrap_err(),
        JwsError::TooLarge(4096)
    );
    // An embedded key with its private part is refused, not used.
    let (_, mut jwk) = ec_key();
    jwk["d"] = json!("AAAA");
    let private = compact(&json!({"alg": "ES256", "jwk": jwk}), &json!({}), |_| {
        vec![1; 64]
    });
    assert_eq!(
        Jws::parse(&private, 4096).unwrap_err(),
        JwsError::Key(JwkError::Private)
    );
}

#[test]
fn only_public_signature_keys_of_known_types_are_taken() {
    let (_, ec) = ec_key();
    for (jwk, why) in [
        (json!({"kty": "oct", "k": "c2VjcmV0"}), "symmetric"),
        (
            json!({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}),
            "curve",
        ),
        (json!({"kty": "OKP", "crv": "X25519", "x": "AA"}), "curve"),
        (
            json!({"kty": "RSA", "n": b64(&[0xff; 128]), "e": "AQAB"}),
            "1024-bit RSA",
        ),
        (
            json!({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}),
            "short point",
        ),
        (json!({"kty": "EC", "crv": "P-256"}), "missing members"),
        (json!("not an object"), "not an object"),
    ] {
        assert!(PublicJwk::from_json(&jwk).is_err(), "{why}");
    }
    let mut enc = ec.clone();
    enc["use"] = json!("enc");
    assert!(PublicJwk::from_json(&enc).is_err());
    let mut ops = ec.clone();
    ops["key_ops"] = json!(["encrypt"]);
    assert!(PublicJwk::from_json(&ops).is_err());
    let mut sig = ec.clone();
    sig["use"] = json!("sig");
    assert!(PublicJwk::from_json(&sig).is_ok());
}

#[test]
fn a_set_needs_one_to_sixteen_keys_with_distinct_kids() {
    let (_, mut a) = ec_key();
    a["kid"] = json!("a");
    let (_, mut b) = ec_key();
    b["kid"] = json!("b");
    let set = PublicJwkSet::from_json(&json!({"keys": [a, b]})).unwrap();
    assert_eq!(set.candidates(JwsAlgorithm::Es256, Some("b")).count(), 1);
    assert_eq!(set.candidates(JwsAlgorithm::Es256, None).count(), 2);
    assert_eq!(set.candidates(JwsAlgorithm::EdDsa, None).count(), 0);
    assert_eq!(set.candidates(JwsAlgorithm::Es256, Some("c")).count(), 0);
    b["kid"] = json!("a");
    assert!(PublicJwkSet::from_json(&json!({"keys": [a.clone(), b]})).is_err());
    assert!(PublicJwkSet::from_json(&json!({"keys": []})).is_err());
    assert!(PublicJwkSet::from_json(&json!([a.clone()])).is_err());
    assert!(PublicJwkSet::from_json(&json!({"keys": vec![a; 17]})).is_err());
}
