//! Criterion benchmarks of token issuing, from the primitive up, each algorithm side by side:
//!
//! - `sign/ALG`: the key's `sign` over a token-sized input, the key parsed once (the reference
//!   the load run's ratios use);
//! - `mint/ALG`: the client-credentials grant for an authenticated app: the scope policy, the
//!   claims, their JSON and base64, the `jti` and the signature;
//! - `route/token/ALG`: `POST /v1/oauth/token` through the core's `tower::Service` on a SQLite file,
//!   client authentication included but no socket, beside `route/jwks`, the cheapest route, as
//!   the floor of what routing and rendering cost.
//!
//! ```text
//! cargo bench --bench tokens
//! ```

use std::sync::Arc;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::Request;
use http_body_util::Full;
use knogin::core::apps::Registration;
use knogin::core::keys::{MasterKey, SigningKey};
use knogin::core::{KeyId, Knogin, ScopeCatalog, SigningAlgorithm, TenantId};
use knogin::store::SqlxStore;
use tower::ServiceExt as _;

/// A client-credentials token's signing input is about 400 bytes.
const SIGNING_INPUT: [u8; 400] = [b'e'; 400];

fn sign(c: &mut Criterion) {
    let mut group = c.benchmark_group("sign");
    for algorithm in SigningAlgorithm::ALL {
        let key = SigningKey::generate(KeyId::new("bench"), algorithm).expect("a key");
        group.bench_function(algorithm.as_str(), |b| {
            b.iter(|| key.sign(std::hint::black_box(&SIGNING_INPUT)));
        });
    }
    group.finish();
}

/// A handle signing with `algorithm` on a fresh SQLite file in `dir`, with one registered
/// client-credentials app; returns the handle, the app and the form that authenticates it.
async fn issuer(
    dir: &std::path::Path,
    algorithm: SigningAlgorithm,
) -> (Knogin, knogin::core::apps::App, String) {
    let url = format!("sqlite://{}", dir.join(format!("{algorithm}.db")).display());
    let store = SqlxStore::connect(&url).await.expect("a SQLite store");
    let knogin = Knogin::builder(
        "http://127.0.0.1:8080",
        Arc::new(store),
        MasterKey::generate(),
    )
    .scopes(ScopeCatalog::reference())
    .signing_keys(knogin::core::keys::SigningKeySettings::default().algorithm(algorithm))
    .build()
    .await
    .expect("a handle");
    let registration = Registration {
        name: "bench".into(),
        grant_types: vec!["client_credentials".into()],
        redirect_uris: vec![],
        requested_scopes: vec!["webhooks:write".into()],
        ..Registration::default()
    };
    let tenant = TenantId::parse("bench").expect("a tenant id");
    let (app, secret) = knogin
        .apps()
        .register(&tenant, registration)
        .await
        .expect("an app");
    let secret = secret.expect("a client-credentials app has a secret");
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        app.client_id,
        secret.expose()
    );
    (knogin, app, form)
}

fn mint_and_route(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let issuers: Vec<_> = SigningAlgorithm::ALL
        .into_iter()
        .map(|algorithm| (algorithm, runtime.block_on(issuer(dir.path(), algorithm))))
        .collect();

    let mut group = c.benchmark_group("mint");
    for (algorithm, (knogin, app, _)) in &issuers {
        group.bench_function(algorithm.as_str(), |b| {
            b.to_async(&runtime).iter(|| async {
                knogin::core::testing::client_credentials(knogin, app)
                    .await
                    .expect("a token")
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("route");
    for (algorithm, (knogin, _, form)) in &issuers {
        let form = Bytes::from(form.clone());
        group.bench_function(format!("token/{algorithm}"), |b| {
            b.to_async(&runtime).iter(|| async {
                let request = Request::post("/v1/oauth/token")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Full::new(form.clone()))
                    .expect("a request");
                let response = knogin.clone().oneshot(request).await.expect("infallible");
                assert_eq!(response.status(), 200);
            });
        });
    }
    let (_, (knogin, _, _)) = &issuers[0];
    group.bench_function("jwks", |b| {
        b.to_async(&runtime).iter(|| async {
            let request = Request::get("/.well-known/jwks.json")
                .body(Full::new(Bytes::new()))
                .expect("a request");
            let response = knogin.clone().oneshot(request).await.expect("infallible");
            assert_eq!(response.status(), 200);
        });
    });
    group.finish();
}

criterion_group!(benches, sign, mint_and_route);
criterion_main!(benches);
