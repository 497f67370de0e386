//! The `jwks_uri` cache, driven through client authentication with a fake transport and a
//! manual clock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use serde_json::{Value, json};

use super::MAX_CLIENT_JWKS_BYTES;
use crate::apps::{App, AppError, Registration};
use crate::clock::{Clock as _, ManualClock, Timestamp};
use crate::store::memory::MemoryStore;
use crate::testing::{ClientKey, TEST_ISSUER, builder, shared_master_key};
use crate::webhooks::{Transport, TransportError};
use crate::{Knogin, TenantId};

const T0: Timestamp = Timestamp::from_unix(1_800_000_000);
const JWKS_URI: &str = "https://client.example/jwks.json";

/// What the fake client's `jwks_uri` answers.
#[derive(Clone)]
struct Answer {
    status: StatusCode,
    body: Bytes,
    cache_control: Option<&'static str>,
}

/// A client's key server: answers what it is told, counting the requests.
#[derive(Clone)]
struct KeyServer {
    answer: Arc<Mutex<Answer>>,
    fetches: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<(http::Method, String)>>>,
}

impl KeyServer {
    fn serving(jwks: &Value) -> Self {
        Self {
            answer: Arc::new(Mutex::new(Answer {
                status: StatusCode::OK,
                body: Bytes::from(jwks.to_string()),
                cache_control: None,
            })),
            fetches: Arc::default(),
            requests: Arc::default(),
        }
    }

    fn answer(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }

    fn serve(&self, jwks: &Value) {
        self.answer(Answer {
            status: StatusCode::OK,
            body: Bytes::from(jwks.to_string()),
            cache_control: None,
        });
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Transport for KeyServer {
    async fn send(
        &self,
        request: Request<Bytes>,
        max_body: usize,
    ) -> Result<Response<Bytes>, TransportError> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        self.requests
            .lock()
            .unwrap()
            .push((request.method().clone(), request.uri().to_string()));
        let answer = self.answer.lock().unwrap().clone();
        let mut response = Response::builder().status(answer.status);
        if let Some(value) = answer.cache_control {
            response = response.header(http::header::CACHE_CONTROL, value);
        }
        let body = answer.body.slice(..answer.body.len().min(max_body));
        Ok(response.body(body).unwrap())
    }
}

struct Fixture {
    clock: Arc<ManualClock>,
    knogin: Knogin,
    server: KeyServer,
    key: ClientKey,
    app: App,
}

fn uri_registration(uri: &str) -> Registration {
    Registration {
        name: "Published keys".into(),
        grant_types: vec!["client_credentials".into()],
        token_endpoint_auth_method: Some("private_key_jwt".into()),
        jwks_uri: Some(uri.into()),
        ..Registration::default()
    }
}

async fn fixture() -> Fixture {
    let clock = Arc::new(ManualClock::new(T0));
    let key = ClientKey::es256("k1");
    let server = KeyServer::serving(&key.jwks());
    let knogin = builder(
        Arc::new(MemoryStore::new()),
        shared_master_key(),
        clock.clone(),
    )
    .client_jwks_transport(server.clone())
    .build()
    .await
    .unwrap();
    let tenant = TenantId::parse("t1").unwrap();
    let (app, secret) = knogin
        .apps()
        .register(&tenant, uri_registration(JWKS_URI))
        .await
        .unwrap();
    assert!(secret.is_none());
    Fixture {
        clock,
        knogin,
        server,
        key,
        app,
    }
}

impl Fixture {
    /// Whether an assertion signed by `key` (with a fresh `jti`) authenticates the app.
    async fn signs_in(&self, key: &ClientKey) -> bool {
        let id = self.app.client_id.as_str();
        let now = self.clock.now().unix();
        let claims = json!({"iss": id, "sub": id, "aud": TEST_ISSUER,
            "jti": crate::random::hex(8), "exp": now + 60});
        self.knogin
            .apps()
            .authenticate_assertion(None, &key.sign(&claims), None)
            .await
            .is_ok()
    }
}

#[tokio::test]
async fn keys_are_fetched_when_first_needed_then_held() {
    let f = fixture().await;
    assert_eq!(f.server.fetches(), 0, "registration fetches nothing");
    assert!(f.signs_in(&f.key).await);
    assert!(f.signs_in(&f.key).await);
    assert_eq!(f.server.fetches(), 1);
    let requests = f.server.requests.lock().unwrap().clone();
    assert_eq!(requests, [(http::Method::GET, JWKS_URI.to_owned())]);
    // Stale after the default five minutes: fetched again.
    f.clock.advance(Duration::from_secs(301));
    assert!(f.signs_in(&f.key).await);
    assert_eq!(f.server.fetches(), 2);
}

#[tokio::test]
async fn a_new_key_is_fetched_at_most_once_a_minute() {
    let f = fixture().await;
    assert!(f.signs_in(&f.key).await);
    let rotated = ClientKey::es256("k2");
    f.server.serve(&rotated.jwks());
    // A minute has not passed since the last fetch: the new key is not known yet.
    assert!(!f.signs_in(&rotated).await);
    assert!(!f.signs_in(&rotated).await);
    assert_eq!(f.server.fetches(), 1);
    f.clock.advance(Duration::from_secs(61));
    assert!(f.signs_in(&rotated).await);
    assert_eq!(f.server.fetches(), 2);
    // The withdrawn key stops verifying with the fetch that dropped it.
    assert!(!f.signs_in(&f.key).await);
}

#[tokio::test]
async fn cache_control_sets_the_freshness_within_bounds() {
    let f = fixture().await;
    f.server.answer(Answer {
        status: StatusCode::OK,
        body: Bytes::from(f.key.jwks().to_string()),
        cache_control: Some("public, max-age=3600"),
    });
    assert!(f.signs_in(&f.key).await);
    f.clock.advance(Duration::from_secs(3000));
    assert!(f.signs_in(&f.key).await);
    assert_eq!(f.server.fetches(), 1, "fresh for the hour it said");
}

#[tokio::test]
async fn a_failed_fetch_keeps_the_keys_held() {
    let f = fixture().await;
    assert!(f.signs_in(&f.key).await);
    f.server.answer(Answer {
        status: StatusCode::SERVICE_UNAVAILABLE,
        body: Bytes::new(),
        cache_control: None,
    });
    f.clock.advance(Duration::from_secs(400));
    assert!(
        f.signs_in(&f.key).await,
        "stale keys serve while fetches fail"
    );
    assert_eq!(f.server.fetches(), 2);
    // Past a day beyond their freshness they are dropped.
    f.clock.advance(Duration::from_secs(86_400));
    assert!(!f.signs_in(&f.key).await);
}

#[tokio::test]
async fn what_is_not_a_usable_set_is_refused() {
    /// A status, the body made from the client's own set, and whether its key then verifies.
    type Case = (StatusCode, fn(Value) -> String, bool);
    let answers: [Case; 5] = [
        (StatusCode::NOT_FOUND, |jwks| jwks.to_string(), false),
        (StatusCode::OK, |_| "not json".to_owned(), false),
        (StatusCode::OK, |_| json!({"keys": []}).to_string(), false),
        (
            StatusCode::OK,
            |mut jwks| {
                jwks["padding"] = json!("x".repeat(MAX_CLIENT_JWKS_BYTES));
                jwks.to_string()
            },
            false,
        ),
        // A published set may hold keys for others: they are skipped.
        (
            StatusCode::OK,
            |mut jwks| {
                let encryption = json!({"kty": "EC", "crv": "P-256", "use": "enc", "kid": "e",
                    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
                jwks["keys"].as_array_mut().unwrap().push(encryption);
                jwks.to_string()
            },
            true,
        ),
    ];
    for (status, body, accepted) in answers {
        let f = fixture().await;
        let body = body(f.key.jwks());
        f.server.answer(Answer {
            status,
            body: Bytes::from(body.clone()),
            cache_control: None,
        });
        assert_eq!(f.signs_in(&f.key).await, accepted, "{status} {body:.60}");
    }
}

#[tokio::test]
async fn concurrent_first_uses_fetch_once() {
    let f = fixture().await;
    let all = futures_util::future::join_all((0..8).map(|_| f.signs_in(&f.key))).await;
    assert!(all.into_iter().all(|ok| ok));
    assert_eq!(f.server.fetches(), 1);
}

#[tokio::test]
async fn registration_checks_the_uri_where_it_can_be_fetched() {
    let f = fixture().await;
    let tenant = TenantId::parse("t1").unwrap();
    let refused = |e: AppError| match e {
        AppError::Invalid(errors) => errors.0.iter().map(|e| e.field.clone()).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    for uri in [
        "http://client.example/jwks",
        "https://10.0.0.1/jwks",
        "https://user:pw@client.example/jwks",
        "not a url",
    ] {
        let e = f
            .knogin
            .apps()
            .register(&tenant, uri_registration(uri))
            .await
            .unwrap_err();
        assert_eq!(refused(e), ["jwks_uri"], "{uri}");
    }
    let both = Registration {
        jwks: Some(f.key.jwks()),
        ..uri_registration(JWKS_URI)
    };
    let e = f.knogin.apps().register(&tenant, both).await.unwrap_err();
    assert_eq!(refused(e), ["jwks_uri"]);
    let secret_app = Registration {
        token_endpoint_auth_method: None,
        ..uri_registration(JWKS_URI)
    };
    let e = f
        .knogin
        .apps()
        .register(&tenant, secret_app)
        .await
        .unwrap_err();
    assert_eq!(refused(e), ["jwks_uri"]);

    // A handle without a transport does not take a jwks_uri at all.
    let plain = builder(
        Arc::new(MemoryStore::new()),
        shared_master_key(),
        f.clock.clone(),
    )
    .build()
    .await
    .unwrap();
    let e = plain
        .apps()
        .register(&tenant, uri_registration(JWKS_URI))
        .await
        .unwrap_err();
    assert_eq!(refused(e), ["jwks_uri"]);
}
