//! DPoP at this issuer, beside the policy: proofs at the token endpoint and on resource
//! requests, their single use across instances, the binding a governance requires, and nonces.

use std::sync::Arc;
use std::time::Duration;

use http::Request;
use knogin_verifier::jose::PublicJwk;
use serde_json::json;

use crate::Knogin;
use crate::apps::{App, GovernancePatch};
use crate::clock::{ManualClock, Timestamp};
use crate::store::memory::MemoryStore;
use crate::testing::{ClientKey, TEST_ISSUER, builder, registration};
use crate::token::{DpopRejection, Rejection, TokenGrant};
use crate::{ScopeSet, TenantId};

const T0: Timestamp = Timestamp::from_unix(1_800_000_000);
const TOKEN: &str = "/v1/oauth/token";

struct Fixture {
    clock: Arc<ManualClock>,
    store: Arc<MemoryStore>,
    knogin: Knogin,
    key: ClientKey,
    app: App,
}

async fn handle(store: Arc<MemoryStore>, clock: Arc<ManualClock>, nonces: bool) -> Knogin {
    builder(store, crate::testing::shared_master_key(), clock)
        .dpop_nonces(nonces)
        .build()
        .await
        .unwrap()
}

async fn fixture(nonces: bool) -> Fixture {
    let clock = Arc::new(ManualClock::new(T0));
    let store = Arc::new(MemoryStore::new());
    let knogin = handle(store.clone(), clock.clone(), nonces).await;
    let tenant = TenantId::parse("t1").unwrap();
    let (app, _) = knogin
        .apps()
        .register(&tenant, registration())
        .await
        .unwrap();
    Fixture {
        clock,
        store,
        knogin,
        key: ClientKey::es256("k1"),
        app,
    }
}

fn url(path: &str) -> String {
    format!("{TEST_ISSUER}{path}")
}

/// A request with `method` to `path`, with `proof` as its `DPoP` header and `authorization`.
fn request(
    method: &str,
    path: &str,
    proof: Option<&str>,
    authorization: Option<&str>,
) -> Request<()> {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(proof) = proof {
        request = request.header("dpop", proof);
    }
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    request.body(()).unwrap()
}

fn thumbprint(key: &ClientKey) -> String {
    PublicJwk::from_json(&key.public_jwk())
        .unwrap()
        .thumbprint()
        .to_owned()
}

fn refused(result: Result<Option<String>, super::DpopFailure>) -> DpopRejection {
    match result {
        Err(super::DpopFailure::Refused(e)) => e,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

impl Fixture {
    fn now(&self) -> i64 {
        crate::clock::Clock::now(&*self.clock).unix()
    }

    /// A token-endpoint proof made now.
    fn token_proof(&self) -> String {
        self.key.dpop_proof("POST", &url(TOKEN), self.now(), None)
    }

    async fn bind(&self, proof: Option<&str>) -> Result<Option<String>, super::DpopFailure> {
        let request = request("POST", TOKEN, proof, None);
        self.knogin.core().token_binding(&self.app, &request).await
    }

    /// An access token of the app bound to `jkt`.
    async fn bound_token(&self, jkt: Option<String>) -> String {
        let grant = TokenGrant {
            tenant: TenantId::parse("t1").unwrap(),
            subject: self.app.client_id.to_string(),
            client_id: self.app.client_id.to_string(),
            scopes: ScopeSet::new(["webhooks:read"]).unwrap(),
            ttl: Duration::from_secs(600),
            resource: None,
            dpop_jkt: jkt,
            actor: None,
        };
        self.knogin
            .tokens()
            .mint_access(&grant)
            .await
            .unwrap()
            .expose()
            .to_owned()
    }
}

#[tokio::test]
async fn a_token_request_binds_to_its_proofs_key_and_each_proof_is_used_once() {
    let f = fixture(false).await;
    assert_eq!(
        f.bind(None).await.unwrap(),
        None,
        "no proof, a bearer token"
    );
    let proof = f.token_proof();
    assert_eq!(
        f.bind(Some(&proof)).await.unwrap(),
        Some(thumbprint(&f.key))
    );
    let replay = refused(f.bind(Some(&proof)).await);
    assert_eq!(replay.code(), "invalid_dpop_proof");
    assert!(replay.to_string().contains("used before"), "{replay}");
    // Another instance on the same store knows it too.
    let other = handle(f.store.clone(), f.clock.clone(), false).await;
    let request = request("POST", TOKEN, Some(&proof), None);
    assert!(other.core().token_binding(&f.app, &request).await.is_err());
    // Once the proof is too old to be taken anyway, its record may go.
    f.clock.advance(Duration::from_secs(400));
    assert_eq!(
        refused(f.bind(Some(&proof)).await).code(),
        "invalid_dpop_proof"
    );
}

#[tokio::test]
async fn proofs_for_another_request_or_time_or_key_form_are_refused() {
    let f = fixture(false).await;
    let now = f.now();
    let cases = [
        ("another method", f.key.dpop_proof("GET", &url(TOKEN), now, None)),
        ("another URL", f.key.dpop_proof("POST", &url("/v1/oauth/revoke"), now, None)),
        ("another host", f.key.dpop_proof("POST", &format!("https://evil.example{TOKEN}"), now, None)),
        ("too old", f.key.dpop_proof("POST", &url(TOKEN), now - 301, None)),
        ("from the future", f.key.dpop_proof("POST", &url(TOKEN), now + 120, None)),
        (
            "no jti",
            f.key.dpop(&json!({"htm": "POST", "htu": url(TOKEN), "iat": now})),
        ),
        (
            "typ JWT",
            f.key.sign_as(
                &json!({"typ": "JWT", "alg": "ES256", "jwk": f.key.public_jwk()}),
                &json!({"jti": "a", "htm": "POST", "htu": url(TOKEN), "iat": now}),
            ),
        ),
        (
            "no jwk",
            f.key.sign_as(
                &json!({"typ": "dpop+jwt", "alg": "ES256"}),
                &json!({"jti": "b", "htm": "POST", "htu": url(TOKEN), "iat": now}),
            ),
        ),
        (
            "another key's jwk",
            f.key.sign_as(
                &json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": ClientKey::es256("x").public_jwk()}),
                &json!({"jti": "c", "htm": "POST", "htu": url(TOKEN), "iat": now}),
            ),
        ),
        ("not a JWT", "dpop".to_owned()),
    ];
    for (case, proof) in cases {
        let e = refused(f.bind(Some(&proof)).await);
        assert_eq!(e.code(), "invalid_dpop_proof", "{case}: {e}");
    }
    // A query string and a default port are not part of the comparison.
    let proof = f
        .key
        .dpop_proof("POST", &format!("{TEST_ISSUER}:443{TOKEN}?x=1"), now, None);
    assert!(f.bind(Some(&proof)).await.unwrap().is_some());
    // Ed25519 keys sign under both names.
    let ed = ClientKey::ed25519("ed");
    for alg in ["EdDSA", "Ed25519"] {
        let proof = ed.sign_as(
            &json!({"typ": "dpop+jwt", "alg": alg, "jwk": ed.public_jwk()}),
            &json!({"jti": alg, "htm": "POST", "htu": url(TOKEN), "iat": now}),
        );
        assert_eq!(
            f.bind(Some(&proof)).await.unwrap(),
            Some(thumbprint(&ed)),
            "{alg}"
        );
    }
}

#[tokio::test]
async fn an_app_whose_governance_requires_dpop_gets_no_bearer_token() {
    let mut f = fixture(false).await;
    let patch = GovernancePatch {
        require_dpop: Some(true),
        ..GovernancePatch::default()
    };
    let tenant = TenantId::parse("t1").unwrap();
    f.app.governance = f
        .knogin
        .apps()
        .update_governance(&tenant, &f.app.client_id, patch)
        .await
        .unwrap();
    assert!(f.app.governance.require_dpop);
    let e = refused(f.bind(None).await);
    assert_eq!(e.code(), "invalid_dpop_proof");
    assert!(f.bind(Some(&f.token_proof())).await.unwrap().is_some());
}

#[tokio::test]
async fn nonces_are_asked_for_shared_by_instances_and_expire() {
    let f = fixture(true).await;
    let e = refused(f.bind(Some(&f.token_proof())).await);
    assert_eq!(e.code(), "use_dpop_nonce");
    let nonce = e.nonce().unwrap().to_owned();
    assert_eq!(
        f.knogin.core().dpop_nonce().as_deref(),
        Some(nonce.as_str())
    );
    let with_nonce = |jti: &str| {
        f.key.dpop(
            &json!({"jti": jti, "htm": "POST", "htu": url(TOKEN), "iat": f.now(), "nonce": nonce}),
        )
    };
    assert!(f.bind(Some(&with_nonce("n1"))).await.unwrap().is_some());
    // Another instance takes the nonce this one gave.
    let other = handle(f.store.clone(), f.clock.clone(), true).await;
    let request = request("POST", TOKEN, Some(&with_nonce("n2")), None);
    assert!(
        other
            .core()
            .token_binding(&f.app, &request)
            .await
            .unwrap()
            .is_some()
    );
    // It is good for the next window too, then no more.
    f.clock.advance(Duration::from_secs(300));
    assert!(f.bind(Some(&with_nonce("n3"))).await.unwrap().is_some());
    f.clock.advance(Duration::from_secs(300));
    let stale = refused(f.bind(Some(&with_nonce("n4"))).await);
    assert_eq!(stale.code(), "use_dpop_nonce");
    assert_ne!(stale.nonce(), Some(nonce.as_str()));
    // A nonce it never gave is no nonce.
    let forged = f.key.dpop(&json!({"jti": "n5", "htm": "POST", "htu": url(TOKEN), "iat": f.now(), "nonce": "AAAAAAAAAAA"}));
    assert_eq!(
        refused(f.bind(Some(&forged)).await).code(),
        "use_dpop_nonce"
    );
}

const RESOURCE: &str = "/v1/incidents";

impl Fixture {
    /// Checks a `GET` of [`RESOURCE`] with `authorization` and `proof`.
    async fn check(
        &self,
        authorization: &str,
        proof: Option<&str>,
    ) -> Result<crate::token::Bearer, Rejection> {
        let request = request("GET", RESOURCE, proof, Some(authorization));
        self.knogin
            .tokens()
            .check_bearer(&request, "webhooks:read")
            .await
    }

    /// A proof of a `GET` of `path` presenting `token`.
    fn resource_proof(&self, path: &str, token: &str) -> String {
        self.key
            .dpop_proof("GET", &url(path), self.now(), Some(token))
    }
}

#[tokio::test]
async fn a_bound_token_is_taken_with_a_proof_by_its_key_and_in_its_scheme_only() {
    let f = fixture(false).await;
    let bound = f.bound_token(Some(thumbprint(&f.key))).await;
    let plain = f.bound_token(None).await;
    let as_dpop = format!("DPoP {bound}");

    let ok = f
        .check(&as_dpop, Some(&f.resource_proof(RESOURCE, &bound)))
        .await;
    assert_eq!(
        ok.unwrap().claims.dpop_jkt(),
        Some(thumbprint(&f.key).as_str())
    );
    // The origin the request names is as good as the issuer's.
    let elsewhere = f.key.dpop_proof(
        "GET",
        &format!("https://api.example{RESOURCE}"),
        f.now(),
        Some(&bound),
    );
    let mut named = request("GET", RESOURCE, Some(&elsewhere), Some(&as_dpop));
    named
        .headers_mut()
        .insert("host", "api.example".parse().unwrap());
    f.knogin
        .tokens()
        .check_bearer(&named, "webhooks:read")
        .await
        .unwrap();

    let as_bearer = f.check(&format!("Bearer {bound}"), None).await;
    assert_eq!(as_bearer, Err(Rejection::Dpop(DpopRejection::BoundToken)));
    let unbound = f
        .check(
            &format!("DPoP {plain}"),
            Some(&f.resource_proof(RESOURCE, &plain)),
        )
        .await;
    assert_eq!(unbound, Err(Rejection::Dpop(DpopRejection::UnboundToken)));
    f.check(&format!("Bearer {plain}"), None).await.unwrap();

    let response = as_bearer.unwrap_err().into_response();
    assert_eq!(response.status(), http::StatusCode::UNAUTHORIZED);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("DPoP "), "{challenge}");
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    assert!(challenge.contains("algs="), "{challenge}");
    // Without a token, both schemes are offered.
    let missing = f
        .knogin
        .tokens()
        .check_bearer(&request("GET", RESOURCE, None, None), "webhooks:read")
        .await;
    let response = missing.unwrap_err().into_response();
    let schemes: Vec<_> = response
        .headers()
        .get_all("www-authenticate")
        .iter()
        .collect();
    assert_eq!(schemes.len(), 2, "{schemes:?}");
}

#[tokio::test]
async fn a_bound_tokens_proof_must_be_for_this_token_request_and_key() {
    let f = fixture(false).await;
    let bound = f.bound_token(Some(thumbprint(&f.key))).await;
    let plain = f.bound_token(None).await;
    let as_dpop = format!("DPoP {bound}");
    let refusals = [
        ("no proof", None),
        (
            "the proof of another token",
            Some(f.resource_proof(RESOURCE, &plain)),
        ),
        (
            "a proof without ath",
            Some(f.key.dpop_proof("GET", &url(RESOURCE), f.now(), None)),
        ),
        (
            "another key's proof",
            Some(ClientKey::es256("x").dpop_proof("GET", &url(RESOURCE), f.now(), Some(&bound))),
        ),
        (
            "a proof for another path",
            Some(f.resource_proof("/v1/other", &bound)),
        ),
    ];
    for (case, proof) in refusals {
        match f.check(&as_dpop, proof.as_deref()).await {
            Err(Rejection::Dpop(DpopRejection::Invalid(_))) => {}
            other => panic!("{case}: {other:?}"),
        }
    }
    // A proof is taken once.
    let proof = f.resource_proof(RESOURCE, &bound);
    f.check(&as_dpop, Some(&proof)).await.unwrap();
    assert!(matches!(
        f.check(&as_dpop, Some(&proof)).await,
        Err(Rejection::Dpop(DpopRejection::Invalid(_)))
    ));
}
