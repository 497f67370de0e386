//! The issuer's tokens through the integrators' verifier (`knogin-verifier`): its policy and
//! the JWKS cache's refresh rules, with a manual clock and a fetcher that counts its calls.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;

use knogin_verifier::{
    CacheSettings, DEFAULT_MAX_TOKEN_BYTES, FetchedJwks, JwksCache, JwksFetcher, Verifier,
    VerifyError,
};

use crate::clock::{ManualClock, Timestamp};
use crate::testing::{TEST_ISSUER, test_knogin_with};
use crate::token::TokenGrant;
use crate::{Knogin, ScopeSet, TenantId};

/// Serves a JWKS body it can be told to change or fail, counting fetches.
#[derive(Default)]
struct Fetcher {
    body: Mutex<Option<Bytes>>,
    fetches: AtomicUsize,
}

#[async_trait]
impl JwksFetcher for Fetcher {
    async fn fetch(&self) -> Result<FetchedJwks, Box<dyn std::error::Error + Send + Sync>> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        // Yield, so concurrent callers really overlap.
        tokio::task::yield_now().await;
        let body = self
            .body
            .lock()
            .unwrap()
            .clone()
            .ok_or("the issuer is down")?;
        Ok(FetchedJwks {
            body,
            cache_control: Some("public, max-age=300".into()),
        })
    }
}

struct Setup {
    clock: Arc<ManualClock>,
    knogin: Knogin,
    fetcher: Arc<Fetcher>,
    verifier: Verifier,
}

async fn setup() -> Setup {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix(1_800_000_000)));
    let knogin = test_knogin_with(clock.clone(), Duration::ZERO).await;
    let fetcher = Arc::new(Fetcher::default());
    *fetcher.body.lock().unwrap() = Some(knogin.keys().jwks());
    let cache = JwksCache::new(fetcher.clone(), clock.clone(), CacheSettings::default());
    let verifier = Verifier::new(TEST_ISSUER, Arc::new(cache)).clock(clock.clone());
    Setup {
        clock,
        knogin,
        fetcher,
        verifier,
    }
}

async fn token(knogin: &Knogin, scopes: &[&str]) -> String {
    let grant = TokenGrant {
        tenant: TenantId::parse("acme").unwrap(),
        subject: "app_1".into(),
        client_id: "app_1".into(),
        scopes: ScopeSet::new(scopes).unwrap(),
        ttl: Duration::from_secs(600),
        resource: None,
        dpop_jkt: None,
        actor: None,
    };
    knogin
        .tokens()
        .mint_access(&grant)
        .await
        .unwrap()
        .expose()
        .to_owned()
}

/// `token` with its header replaced by `header` (the signature then no longer matches).
fn with_header(token: &str, header: &serde_json::Value) -> String {
    let (_, rest) = token.split_once('.').unwrap();
    format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()))
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

#[tokio::test]
async fn a_valid_token_passes_and_each_flaw_is_named() {
    let s = setup().await;
    let good = token(&s.knogin, &["incidents:read"]).await;
    let claims = s
        .verifier
        .verify(&good, Some("incidents:read"))
        .await
        .unwrap();
    assert_eq!(
        (claims.tenant.as_str(), claims.sub.as_str()),
        ("acme", "app_1")
    );

    let refusal = |token: String, scope: Option<&'static str>| {
        let verifier = &s.verifier;
        async move { verifier.verify(&token, scope).await.unwrap_err() }
    };
    assert_eq!(
        refusal(good.clone(), Some("webhooks:write")).await,
        VerifyError::InsufficientScope("webhooks:write".into())
    );
    let mut tampered = good.clone();
    tampered.insert_str(good.rfind('.').unwrap() - 2, "AA");
    assert!(matches!(
        refusal(tampered, None).await,
        VerifyError::BadSignature | VerifyError::Malformed
    ));
    let kid = kid(&good);
    for (header, expected) in [
        (
            serde_json::json!({"alg": "none", "typ": "at+jwt", "kid": kid}),
            VerifyError::Malformed,
        ),
        (
            serde_json::json!({"alg": "HS256", "typ": "at+jwt", "kid": kid}),
            VerifyError::AlgorithmMismatch,
        ),
        (
            serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
            VerifyError::WrongType,
        ),
        (
            serde_json::json!({"alg": "RS256", "typ": "at+jwt"}),
            VerifyError::UnknownKey,
        ),
    ] {
        assert_eq!(
            refusal(with_header(&good, &header), None).await,
            expected,
            "{header}"
        );
    }
    assert_eq!(
        refusal("x".repeat(DEFAULT_MAX_TOKEN_BYTES + 1), None).await,
        VerifyError::TooLarge(DEFAULT_MAX_TOKEN_BYTES)
    );
    let other_audience = Verifier::new(
        TEST_ISSUER,
        Arc::new(JwksCache::new(
            s.fetcher.clone(),
            s.clock.clone(),
            CacheSettings::default(),
        )),
    )
    .audience("https://elsewhere.example")
    .clock(s.clock.clone());
    assert_eq!(
        other_audience.verify(&good, None).await.unwrap_err(),
        VerifyError::WrongAudience
    );
    s.clock.advance(Duration::from_secs(600 + 30));
    assert_eq!(refusal(good, None).await, VerifyError::Expired);
}

#[tokio::test]
async fn unknown_kids_refresh_at_most_once_per_interval_and_merge() {
    let s = setup().await;
    let good = token(&s.knogin, &[]).await;
    s.verifier.verify(&good, None).await.unwrap();
    assert_eq!(s.fetcher.fetches.load(Ordering::SeqCst), 1);
    // 1,000 tokens with random unknown kids, half of them at once: no fetch within the interval.
    let bogus: Vec<String> = (0..1000)
        .map(|i| {
            with_header(
                &good,
                &serde_json::json!({"alg": "RS256", "typ": "at+jwt", "kid": format!("k{i}")}),
            )
        })
        .collect();
    let outcomes =
        futures_util::future::join_all(bogus.iter().map(|t| s.verifier.verify(t, None))).await;
    assert!(outcomes.iter().all(|o| *o == Err(VerifyError::UnknownKey)));
    assert_eq!(s.fetcher.fetches.load(Ordering::SeqCst), 1);
    // After the interval, a burst of unknown kids causes exactly one merged fetch.
    s.clock.advance(Duration::from_secs(60));
    let outcomes =
        futures_util::future::join_all(bogus.iter().map(|t| s.verifier.verify(t, None))).await;
    assert!(outcomes.iter().all(|o| *o == Err(VerifyError::UnknownKey)));
    assert_eq!(s.fetcher.fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_rotated_key_is_found_by_one_refresh_and_a_failed_refresh_keeps_the_keys() {
    let s = setup().await;
    let before = token(&s.knogin, &[]).await;
    s.verifier.verify(&before, None).await.unwrap();
    // The issuer goes down: the held keys keep verifying, and the next attempt waits an interval.
    *s.fetcher.body.lock().unwrap() = None;
    s.clock.advance(Duration::from_secs(301));
    s.verifier.verify(&before, None).await.unwrap();
    assert_eq!(s.fetcher.fetches.load(Ordering::SeqCst), 2);
    s.verifier.verify(&before, None).await.unwrap();
    assert_eq!(s.fetcher.fetches.load(Ordering::SeqCst), 2);

    // A new key signs: its first token triggers exactly one refresh.
    s.knogin.keys().rotate().await.unwrap();
    s.clock.advance(Duration::from_secs(3600));
    s.knogin.keys().reload().await.unwrap();
    *s.fetcher.body.lock().unwrap() = Some(s.knogin.keys().jwks());
    let after = token(&s.knogin, &[]).await;
    assert_ne!(kid(&after), kid(&before));
    let fetches = s.fetcher.fetches.load(Ordering::SeqCst);
    s.verifier.verify(&after, None).await.unwrap();
    s.verifier.verify(&after, None).await.unwrap();
    assert_eq!(s.fetcher.fetches.load(Ordering::SeqCst), fetches + 1);
}

#[tokio::test]
async fn a_crit_header_is_refused() {
    let s = setup().await;
    let good = token(&s.knogin, &[]).await;
    // Re-signing is not possible here, but the header is refused before the signature anyway.
    let header =
        serde_json::json!({"alg": "RS256", "typ": "at+jwt", "kid": kid(&good), "crit": ["exp"]});
    let forged = with_header(&good, &header);
    assert!(matches!(
        s.verifier.verify(&forged, None).await,
        Err(VerifyError::Malformed)
    ));
}

#[tokio::test]
async fn keys_stale_beyond_max_stale_are_dropped() {
    let s = setup().await;
    let good = token(&s.knogin, &[]).await;
    s.verifier.verify(&good, None).await.unwrap();
    *s.fetcher.body.lock().unwrap() = None;
    // Fresh for 300 s, then stale but kept for a day while fetches fail…
    s.clock.advance(Duration::from_secs(300 + 86_000));
    let later = token(&s.knogin, &[]).await;
    s.verifier.verify(&later, None).await.unwrap();
    // …and no longer after that.
    s.clock.advance(Duration::from_secs(500));
    let last = token(&s.knogin, &[]).await;
    assert!(matches!(
        s.verifier.verify(&last, None).await,
        Err(VerifyError::UnknownKey)
    ));
}
