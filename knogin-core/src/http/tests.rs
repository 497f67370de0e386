//! The HTTP layer on its own: `Knogin::handle` with the in-memory store, no socket.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt as _;

use crate::clock::{ManualClock, Timestamp};
use crate::keys::MasterKey;
use crate::store::memory::MemoryStore;
use crate::testing::{FIXTURE_KEY, TEST_ISSUER};
use crate::{Knogin, ScopeCatalog, TenantId};

async fn knogin(body_limit: usize) -> Knogin {
    Knogin::builder(
        TEST_ISSUER,
        Arc::new(MemoryStore::new()),
        MasterKey::generate(),
    )
    .clock(Arc::new(ManualClock::new(Timestamp::from_unix(
        1_800_000_000,
    ))))
    .scopes(ScopeCatalog::reference())
    .body_limit(body_limit)
    .jwks_max_age(Duration::from_secs(60))
    .initial_signing_key(FIXTURE_KEY.to_vec())
    .build()
    .await
    .unwrap()
}

async fn admin(knogin: &Knogin) -> String {
    let tenant = TenantId::parse("acme").unwrap();
    let token = knogin
        .mint_admin_token(&tenant, Duration::from_secs(60))
        .await
        .unwrap();
    format!("Bearer {}", token.expose())
}

/// A registration body sent in chunks with no `Content-Length`, so only the streaming limit can
/// stop it: `{"name":"xxx…"` with `n` chunks of `size` bytes in the name.
struct Chunked(Vec<Bytes>);

fn chunked(n: usize, size: usize) -> Chunked {
    let mut parts = vec![Bytes::from_static(br#"{"name":""#)];
    parts.extend((0..n).map(|_| Bytes::from(vec![b'x'; size])));
    parts.push(Bytes::from_static(
        br#"","grant_types":["client_credentials"]}"#,
    ));
    parts.reverse();
    Chunked(parts)
}

impl http_body::Body for Chunked {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(self.0.pop().map(|b| Ok(http_body::Frame::data(b))))
    }
}

#[tokio::test]
async fn the_body_limit_is_configurable_and_holds_without_content_length() {
    let knogin = knogin(1024).await;
    let auth = admin(&knogin).await;
    let request = |body| {
        Request::post("/v1/platform/apps")
            .header("authorization", &auth)
            .header("content-type", "application/json")
            .body(body)
            .unwrap()
    };
    let small = knogin.handle(request(chunked(4, 40))).await;
    assert_eq!(small.status(), StatusCode::CREATED);
    let large = knogin.handle(request(chunked(20, 100))).await;
    assert_eq!(large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body = large.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("limit of 1024 bytes"));
}

#[tokio::test]
async fn jwks_max_age_is_configurable() {
    let knogin = knogin(1024).await;
    let request = Request::builder()
        .method(Method::GET)
        .uri("/v1/auth/jwks.json")
        .body(http_body_util::Empty::<Bytes>::new())
        .unwrap();
    let response = knogin.handle(request).await;
    assert_eq!(response.headers()["cache-control"], "public, max-age=60");
}

#[tokio::test]
async fn authorize_guards_an_embedders_route_by_scope() {
    let knogin = knogin(1024).await;
    let mut headers = http::HeaderMap::new();
    assert_eq!(
        knogin.authorize(&headers, None),
        Err(crate::http::Rejection::Missing)
    );
    headers.insert("authorization", admin(&knogin).await.parse().unwrap());
    let bearer = knogin.authorize(&headers, Some("platform:admin")).unwrap();
    assert_eq!(bearer.tenant.as_str(), "acme");

    let refused = knogin
        .authorize(&headers, Some("incidents:read"))
        .unwrap_err();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let response = refused.into_response();
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer realm="knogin", error="insufficient_scope", scope="incidents:read""#
    );

    // A scope that cannot be quoted in a header is left out of the challenge, not a panic.
    let odd = knogin.authorize(&headers, Some("a\"b\n")).unwrap_err();
    let response = odd.into_response();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer realm="knogin", error="insufficient_scope""#
    );
}
