//! Criterion benchmark of the integrators' verifier against its reference, per algorithm:
//!
//! - `decode/ALG`: a bare `jsonwebtoken::decode` of a knogin access token with the same key and
//!   the usual checks (signature, `iss`, `aud`, `exp`): the reference;
//! - `verify/ALG`: [`Verifier::verify`] with a warm [`JwksCache`]: the size cap, the header and
//!   `typ`, the key lookup by `kid`, the pinned algorithm, the claims, the time checks and the
//!   scope.
//!
//! The target is `verify` at ≥ 0.9× the reference's verifications per second.
//!
//! And a DPoP proof's cost against its floor, for ES256:
//!
//! - `dpop/signature`: the bare ECDSA P-256 verification of the proof's signature with a key
//!   parsed once: the reference;
//! - `dpop/check_proof`: [`check_proof`] on the same proof: the header, the `jwk` parsed and
//!   its thumbprint taken, the signature, `htm`, `htu`, `iat` and `ath`. The single-use record
//!   (a store write) is not in it.
//!
//! ```text
//! cargo bench --bench verifier
//! ```

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use knogin::core::keys::MasterKey;
use knogin::core::store::memory::MemoryStore;
use knogin::core::token::{AccessClaims, TokenGrant};
use knogin::core::{Knogin, ScopeCatalog, ScopeSet, SigningAlgorithm, SystemClock, TenantId};
use knogin_verifier::jose::{ProofContext, access_token_hash, check_proof};
use knogin_verifier::time::Timestamp;
use knogin_verifier::{CacheSettings, FetchedJwks, JwksCache, JwksFetcher, Verifier};

const ISSUER: &str = "https://auth.example.com";

/// Serves a fixed JWKS.
struct Fixed(Bytes);

#[async_trait]
impl JwksFetcher for Fixed {
    async fn fetch(&self) -> Result<FetchedJwks, Box<dyn std::error::Error + Send + Sync>> {
        Ok(FetchedJwks {
            body: self.0.clone(),
            cache_control: Some("max-age=86400".into()),
        })
    }
}

/// A token signed with `algorithm`, the verifier with a warm cache, and the reference's key.
async fn setup(algorithm: SigningAlgorithm) -> (String, Verifier, jsonwebtoken::DecodingKey) {
    let knogin = Knogin::builder(ISSUER, Arc::new(MemoryStore::new()), MasterKey::generate())
        .scopes(ScopeCatalog::reference())
        .signing_keys(knogin::core::keys::SigningKeySettings::default().algorithm(algorithm))
        .build()
        .await
        .expect("a handle");
    let grant = TokenGrant {
        tenant: TenantId::parse("acme").expect("a tenant"),
        subject: "app_0123456789abcdef0123456789abcdef".into(),
        client_id: "app_0123456789abcdef0123456789abcdef".into(),
        scopes: ScopeSet::new(["incidents:read", "webhooks:read"]).expect("scopes"),
        ttl: Duration::from_secs(3600),
        resource: None,
        dpop_jkt: None,
        actor: None,
    };
    let token = knogin
        .tokens()
        .mint_access(&grant)
        .await
        .expect("a token")
        .expose()
        .to_owned();
    let jwks = knogin.keys().jwks().clone();
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_slice(&jwks).expect("a JWKS");
    let key = jsonwebtoken::DecodingKey::from_jwk(&set.keys[0]).expect("a key");
    let cache = JwksCache::new(
        Arc::new(Fixed(jwks)),
        Arc::new(SystemClock),
        CacheSettings::default(),
    );
    assert!(cache.refresh().await, "the cache is warm");
    let verifier = Verifier::new(ISSUER, Arc::new(cache));
    (token, verifier, key)
}

fn verify(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    for algorithm in SigningAlgorithm::ALL {
        let (token, verifier, key) = runtime.block_on(setup(algorithm));
        let mut validation = jsonwebtoken::Validation::new(algorithm.jwt());
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[ISSUER]);
        let mut group = c.benchmark_group(algorithm.as_str());
        group.bench_function("decode", |b| {
            b.iter(|| {
                jsonwebtoken::decode::<AccessClaims>(
                    std::hint::black_box(&token),
                    &key,
                    &validation,
                )
                .expect("the reference verifies")
            });
        });
        group.bench_function("verify", |b| {
            b.to_async(&runtime).iter(|| async {
                verifier
                    .verify(std::hint::black_box(&token), Some("incidents:read"))
                    .await
                    .expect("the verifier accepts")
            });
        });
        group.finish();
    }
}

/// A DPoP proof of a `GET` of `url` presenting `token`, signed with a fresh P-256 key: the
/// proof, its signing input and signature, and the key's public point.
fn proof(url: &str, token: &str, iat: i64) -> (String, String, Vec<u8>, Vec<u8>) {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("a key");
    let point = pair.public_key().as_ref().to_vec();
    let jwk = serde_json::json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65])});
    let header = serde_json::json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk});
    let claims = serde_json::json!({"jti": "j1", "htm": "GET", "htu": url, "iat": iat, "ath": access_token_hash(token)});
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = pair
        .sign(&SystemRandom::new(), input.as_bytes())
        .expect("signs")
        .as_ref()
        .to_vec();
    (
        format!("{input}.{}", b64(&signature)),
        input,
        signature,
        point,
    )
}

fn dpop(c: &mut Criterion) {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
    let url = "https://api.example.com/v1/incidents";
    let token = "eyJ.access.token";
    let now = 1_800_000_000;
    let (proof, input, signature, point) = proof(url, token, now);
    let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point);
    let urls = [url];
    let context = ProofContext {
        method: "GET",
        urls: &urls,
        now: Timestamp::from_unix(now),
        max_age: Duration::from_secs(300),
        leeway: Duration::from_secs(5),
        access_token: Some(token),
    };
    let mut group = c.benchmark_group("dpop");
    group.bench_function("signature", |b| {
        b.iter(|| {
            key.verify(std::hint::black_box(input.as_bytes()), &signature)
                .expect("the signature verifies");
        });
    });
    group.bench_function("check_proof", |b| {
        b.iter(|| check_proof(std::hint::black_box(&proof), &context).expect("the proof checks"));
    });
    group.finish();
}

criterion_group!(benches, verify, dpop);
criterion_main!(benches);
