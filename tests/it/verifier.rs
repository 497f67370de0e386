//! The integrators' verifier against a live server over loopback: the JWKS discovered from the
//! RFC 8414 metadata and fetched over HTTP, a resource route behind the axum extractor, every
//! kind of bad token refused with the RFC 6750 answer, key rotation found by one refresh, and a
//! flood of unknown kids held to at most one fetch per interval.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use aws_lc_rs::hmac;
use axum::Extension;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{Method, StatusCode};
use knogin::axum::{RequiredScope, Verified, VerifyLayer};
use knogin::core::token::AccessClaims;
use knogin_verifier::HttpJwksFetcher;
use knogin_verifier::{CacheSettings, FetchedJwks, JwksCache, JwksFetcher, Verifier};
use serde_json::{Value, json};

use crate::oauth::form;
use crate::support::{Adapter, Db, TestServer};

/// The HTTP fetcher, counting its fetches.
struct Counting {
    inner: HttpJwksFetcher,
    fetches: AtomicUsize,
}

#[async_trait]
impl JwksFetcher for Counting {
    async fn fetch(&self) -> Result<FetchedJwks, Box<dyn std::error::Error + Send + Sync>> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        self.inner.fetch().await
    }
}

struct IncidentsRead;

impl RequiredScope for IncidentsRead {
    const SCOPE: &'static str = "incidents:read";
}

/// The issuer, a resource server on another port verifying its tokens, and the fetch count.
struct Setup {
    issuer: TestServer,
    resource: String,
    fetcher: Arc<Counting>,
    client: (String, String),
}

async fn setup() -> Setup {
    let issuer = TestServer::start_loopback(Adapter::Axum, Db::Sqlite)
        .await
        .expect("SQLite is always there");
    let inner = HttpJwksFetcher::discover(&issuer.issuer)
        .await
        .expect("the metadata names the JWKS");
    let fetcher = Arc::new(Counting {
        inner,
        fetches: AtomicUsize::new(0),
    });
    let cache = JwksCache::new(
        fetcher.clone(),
        issuer.clock.clone(),
        CacheSettings::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let verifier = Verifier::new(&issuer.issuer, Arc::new(cache))
        .clock(issuer.clock.clone())
        .dpop_origins([origin.clone()])
        .resource_metadata("http://rs.example/.well-known/oauth-protected-resource");
    let verifier = Arc::new(verifier);
    // The same resource behind the tower layer instead of the extractor.
    let layered = axum::Router::new()
        .route(
            "/v1/layered",
            axum::routing::get(|Extension(claims): Extension<AccessClaims>| async move {
                claims.tenant
            }),
        )
        .route_layer(VerifyLayer::new(verifier.clone(), Some("incidents:read")));
    let app = axum::Router::new()
        .route(
            "/v1/incidents",
            axum::routing::get(|token: Verified<IncidentsRead>| async move { token.0.tenant }),
        )
        .with_state(verifier)
        .merge(layered);
    let resource = format!("{origin}/v1/incidents");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let admin = issuer.admin_token("acme").await;
    let body = json!({
        "name": "Resource client",
        "grant_types": ["client_credentials"],
        "redirect_uris": [],
        "requested_scopes": ["incidents:read", "webhooks:read"],
    });
    let app = issuer
        .json(Method::POST, "/v1/platform/apps", &admin, &body)
        .await
        .json();
    let field = |name: &str| app[name].as_str().unwrap().to_owned();
    Setup {
        issuer,
        resource,
        fetcher,
        client: (field("client_id"), field("client_secret")),
    }
}

impl Setup {
    /// A client-credentials token for `scope` from the issuer's token endpoint.
    async fn token(&self, scope: &str) -> String {
        let (id, secret) = &self.client;
        let body = format!(
            "grant_type=client_credentials&client_id={id}&client_secret={secret}&scope={scope}"
        );
        let answer = form(&self.issuer, "/v1/oauth/token", &[], &body).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        answer.json()["access_token"].as_str().unwrap().to_owned()
    }

    /// `GET /v1/incidents` with `token`: the status and the `WWW-Authenticate` header.
    async fn call(&self, token: &str) -> (StatusCode, String) {
        self.call_at(&self.resource, token).await
    }

    /// `GET url` with `token`: the status and the `WWW-Authenticate` header.
    async fn call_at(&self, url: &str, token: &str) -> (StatusCode, String) {
        self.send(url, &format!("Bearer {token}"), None).await
    }

    /// `GET url` with `authorization` and a `DPoP` proof: the status and the
    /// `WWW-Authenticate` header.
    async fn send(
        &self,
        url: &str,
        authorization: &str,
        proof: Option<&str>,
    ) -> (StatusCode, String) {
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<http_body_util::Empty<Bytes>>();
        let mut request = http::Request::get(url).header("authorization", authorization);
        if let Some(proof) = proof {
            request = request.header("dpop", proof);
        }
        let request = request.body(http_body_util::Empty::new()).unwrap();
        let response = client.request(request).await.unwrap();
        let challenge = response
            .headers()
            .get("www-authenticate")
            .map_or(String::new(), |v| v.to_str().unwrap().to_owned());
        (response.status(), challenge)
    }

    fn fetches(&self) -> usize {
        self.fetcher.fetches.load(Ordering::SeqCst)
    }
}

/// `token` with `header` in place of its own, and `signature` in place of its signature.
fn forge(token: &str, header: &Value, signature: &str) -> String {
    let claims = token.split('.').nth(1).unwrap();
    format!(
        "{}.{claims}.{signature}",
        URL_SAFE_NO_PAD.encode(header.to_string())
    )
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

#[tokio::test]
async fn a_dpop_bound_token_passes_the_verifier_with_a_proof_of_each_request_only() {
    use knogin::core::clock::Clock as _;
    let s = setup().await;
    let key = knogin::core::testing::ClientKey::es256("k1");
    let now = || s.issuer.clock.now().unix();
    let token_url = format!("{}/v1/oauth/token", s.issuer.issuer);
    let (id, secret) = &s.client;
    let body = format!(
        "grant_type=client_credentials&client_id={id}&client_secret={secret}&scope=incidents:read"
    );
    let proof = key.dpop_proof("POST", &token_url, now(), None);
    let answer = form(&s.issuer, "/v1/oauth/token", &[("dpop", &proof)], &body).await;
    assert_eq!(answer.json()["token_type"], "DPoP", "{}", answer.text());
    let token = answer.json()["access_token"].as_str().unwrap().to_owned();
    let authorization = format!("DPoP {token}");

    let layered = s.resource.replace("incidents", "layered");
    for url in [&s.resource, &layered] {
        let proof = key.dpop_proof("GET", url, now(), Some(&token));
        assert_eq!(
            s.send(url, &authorization, Some(&proof)).await.0,
            StatusCode::OK,
            "{url}"
        );
        let (status, challenge) = s.send(url, &authorization, Some(&proof)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "a replay at {url}");
        assert!(
            challenge.contains(r#"DPoP error="invalid_dpop_proof""#),
            "{challenge}"
        );
        let (status, challenge) = s.call_at(url, &token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "as a bearer at {url}");
        assert!(
            challenge.contains(r#"error="invalid_token""#),
            "{challenge}"
        );
        let stranger = knogin::core::testing::ClientKey::ed25519("x").dpop_proof(
            "GET",
            url,
            now(),
            Some(&token),
        );
        assert_eq!(
            s.send(url, &authorization, Some(&stranger)).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn good_tokens_pass_and_bad_ones_get_the_rfc_6750_answer() {
    let s = setup().await;
    let good = s.token("incidents:read").await;
    assert_eq!(s.call(&good).await.0, StatusCode::OK);

    let webhooks = s.token("webhooks:read").await;
    let (status, challenge) = s.call(&webhooks).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        challenge.contains(r#"error="insufficient_scope", scope="incidents:read""#),
        "{challenge}"
    );
    let layered = s.resource.replace("incidents", "layered");
    assert_eq!(s.call_at(&layered, &good).await.0, StatusCode::OK);
    assert_eq!(
        s.call_at(&layered, &webhooks).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        s.call_at(&layered, "x.y.z").await.0,
        StatusCode::UNAUTHORIZED
    );

    let mut tampered = good.clone();
    let at = good.rfind('.').unwrap() - 3;
    tampered.replace_range(at..=at, if &good[at..=at] == "A" { "B" } else { "A" });
    let good_kid = kid(&good);
    // HS256 "signed" with the issuer's public key, the classic key-confusion forgery.
    let jwks: Value = serde_json::from_slice(
        &s.issuer
            .send(Method::GET, "/.well-known/jwks.json", &[], Bytes::new())
            .await
            .body,
    )
    .unwrap();
    let public = jwks["keys"][0].to_string();
    let hs_header = json!({"alg": "HS256", "typ": "at+jwt", "kid": good_kid});
    let unsigned = forge(&good, &hs_header, "");
    let signing_input = unsigned.trim_end_matches('.');
    let mac = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, public.as_bytes()),
        signing_input.as_bytes(),
    );
    let hs256 = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(mac.as_ref()));
    let none = forge(
        &good,
        &json!({"alg": "none", "typ": "at+jwt", "kid": good_kid}),
        "",
    );
    // A token of another issuer signed with the same (fixture) key and kid.
    let elsewhere =
        knogin::core::testing::test_knogin_with(s.issuer.clock.clone(), Duration::ZERO).await;
    let grant = knogin::core::token::TokenGrant {
        tenant: knogin::core::TenantId::parse("acme").unwrap(),
        subject: "app_1".into(),
        client_id: "app_1".into(),
        scopes: knogin::core::ScopeSet::new(["incidents:read"]).unwrap(),
        ttl: Duration::from_secs(600),
        resource: None,
        dpop_jkt: None,
        actor: None,
    };
    let foreign = elsewhere
        .tokens()
        .mint_access(&grant)
        .await
        .unwrap()
        .expose()
        .to_owned();
    assert_eq!(kid(&foreign), good_kid, "the same key signs both");
    for (name, token) in [
        ("tampered", tampered),
        ("alg none", none),
        ("HS256 with the public key", hs256),
        ("another issuer", foreign),
        ("oversized", "a".repeat(9000)),
        ("garbage", "not.a.jwt".to_owned()),
    ] {
        let (status, challenge) = s.call(&token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}");
        assert!(
            challenge.starts_with(r#"Bearer error="invalid_token""#),
            "{name}: {challenge}"
        );
        assert!(
            challenge.contains("resource_metadata="),
            "{name}: {challenge}"
        );
    }
    let (status, challenge) = s.call("").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!challenge.contains("error="), "{challenge}");

    // Expired, once the clock passes `exp` and the leeway.
    s.issuer.clock.advance(Duration::from_secs(3600 + 31));
    let (status, challenge) = s.call(&good).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.contains("expired"), "{challenge}");
}

#[tokio::test]
async fn a_wrong_audience_is_refused() {
    let s = setup().await;
    let cache = JwksCache::new(
        s.fetcher.clone(),
        s.issuer.clock.clone(),
        CacheSettings::default(),
    );
    let verifier = Verifier::new(&s.issuer.issuer, Arc::new(cache))
        .audience("https://another-resource.example")
        .clock(s.issuer.clock.clone());
    let token = s.token("incidents:read").await;
    assert_eq!(
        verifier.verify(&token, None).await.unwrap_err(),
        knogin_verifier::VerifyError::WrongAudience
    );
}

#[tokio::test]
async fn a_rotated_key_is_found_by_one_refresh_and_unknown_kids_cannot_flood_the_issuer() {
    let s = setup().await;
    let before = s.token("incidents:read").await;
    assert_eq!(s.call(&before).await.0, StatusCode::OK);
    assert_eq!(s.fetches(), 1);

    // 1,000 tokens with random unknown kids: no fetch within the interval.
    let bogus: Vec<String> = (0..1000)
        .map(|_| {
            let kid = URL_SAFE_NO_PAD.encode(rand_kid());
            forge(
                &before,
                &json!({"alg": "RS256", "typ": "at+jwt", "kid": kid}),
                "c2ln",
            )
        })
        .collect();
    for chunk in bogus.chunks(100) {
        let answers = futures_util::future::join_all(chunk.iter().map(|t| s.call(t))).await;
        assert!(
            answers
                .iter()
                .all(|(status, _)| *status == StatusCode::UNAUTHORIZED)
        );
    }
    assert_eq!(s.fetches(), 1, "unknown kids fetched within the interval");

    // Rotate; once the new key signs, its first token costs exactly one refresh.
    s.issuer.knogin.keys().rotate().await.unwrap();
    s.issuer.clock.advance(Duration::from_secs(30));
    let old_kid_again = s.token("incidents:read").await;
    assert_eq!(
        kid(&old_kid_again),
        kid(&before),
        "the new key is not signing yet"
    );
    s.issuer.clock.advance(Duration::from_secs(600));
    s.issuer.knogin.keys().reload().await.unwrap();
    let after = s.token("incidents:read").await;
    assert_ne!(kid(&after), kid(&before));
    let fetches = s.fetches();
    assert_eq!(s.call(&after).await.0, StatusCode::OK);
    assert_eq!(s.call(&after).await.0, StatusCode::OK);
    assert_eq!(s.fetches(), fetches + 1);
}

/// 16 random bytes for a kid no key has.
fn rand_kid() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).unwrap();
    bytes
}

#[tokio::test]
async fn with_an_introspection_check_a_revoked_token_is_refused() {
    let s = setup().await;
    let admin = s.issuer.admin_token("acme").await;
    // A resource-server app, allowed to introspect its tenant's tokens.
    let body = json!({"name": "Resource server", "grant_types": ["client_credentials"],
        "redirect_uris": [], "requested_scopes": ["incidents:read"]});
    let rs = s
        .issuer
        .json(Method::POST, "/v1/platform/apps", &admin, &body)
        .await
        .json();
    let (rs_id, rs_secret) = (
        rs["client_id"].as_str().unwrap(),
        rs["client_secret"].as_str().unwrap(),
    );
    let made = s
        .issuer
        .json(
            Method::PATCH,
            &format!("/v1/platform/apps/{rs_id}/governance"),
            &admin,
            &json!({"allow_token_introspection": true}),
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text());
    let check = knogin_verifier::IntrospectionCheck::new(
        &format!("{}/v1/oauth/introspect", s.issuer.issuer),
        rs_id,
        rs_secret,
    )
    .unwrap()
    .cache_for(Duration::ZERO);
    let fetcher = HttpJwksFetcher::discover(&s.issuer.issuer).await.unwrap();
    let cache = JwksCache::new(
        Arc::new(fetcher),
        s.issuer.clock.clone(),
        CacheSettings::default(),
    );
    let verifier = Verifier::new(&s.issuer.issuer, Arc::new(cache))
        .clock(s.issuer.clock.clone())
        .revocation_check(Arc::new(check));
    let token = s.token("incidents:read").await;
    verifier
        .verify(&token, Some("incidents:read"))
        .await
        .unwrap();
    let (claims, _) = s.issuer.knogin.tokens().verify(&token).await.unwrap();
    s.issuer
        .knogin
        .tokens()
        .revoke_jti(&claims.jti)
        .await
        .unwrap();
    assert_eq!(
        verifier.verify(&token, Some("incidents:read")).await,
        Err(knogin_verifier::VerifyError::Revoked)
    );
    // An issuer that cannot be asked refuses rather than lets the token through.
    let nowhere =
        knogin_verifier::IntrospectionCheck::new("http://127.0.0.1:9/introspect", rs_id, rs_secret)
            .unwrap();
    let cache = JwksCache::new(
        Arc::new(HttpJwksFetcher::discover(&s.issuer.issuer).await.unwrap()),
        s.issuer.clock.clone(),
        CacheSettings::default(),
    );
    let blind = Verifier::new(&s.issuer.issuer, Arc::new(cache))
        .clock(s.issuer.clock.clone())
        .revocation_check(Arc::new(nowhere));
    let fresh = s.token("incidents:read").await;
    assert_eq!(
        blind.verify(&fresh, None).await,
        Err(knogin_verifier::VerifyError::StatusUnknown)
    );
}
