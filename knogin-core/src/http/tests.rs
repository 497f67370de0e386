//! The HTTP layer on its own: the dispatcher with the in-memory store, no socket. The real table
//! is checked for conflicts; a test table exercises every guard and error format.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Empty, Full};

use super::access::{
    AuthenticatedClient, Bearer, SignedInUser, TenantBearer, Visitor, bearer, client, public,
    tenant_bearer, user,
};
use super::ctx::Ctx;
use super::router::{TABLE, dispatch_through};
use super::table::{Lookup, Table, route};
use super::users::{LoginStep, UserAuthenticator};
use super::{Reply, ResponseBody, json};
use super::{Surface, Surfaces};
use crate::clock::{ManualClock, Timestamp};
use crate::keys::MasterKey;
use crate::store::memory::MemoryStore;
use crate::token::TokenGrant;
use crate::{ClientSecret, Knogin, TenantId};

async fn knogin_with(body_limit: usize, users: Option<Arc<dyn UserAuthenticator>>) -> Knogin {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix(1_800_000_000)));
    let mut builder =
        crate::testing::builder(Arc::new(MemoryStore::new()), MasterKey::generate(), clock)
            .body_limit(body_limit)
            .signing_keys(
                crate::keys::SigningKeySettings::default().jwks_max_age(Duration::from_secs(60)),
            );
    if let Some(users) = users {
        builder = builder.users(users);
    }
    builder.build().await.unwrap()
}

async fn knogin(body_limit: usize) -> Knogin {
    knogin_with(body_limit, None).await
}

fn tenant(s: &str) -> TenantId {
    TenantId::parse(s).unwrap()
}

async fn admin(knogin: &Knogin) -> String {
    let token = knogin
        .tokens()
        .mint_admin(&tenant("acme"), Duration::from_secs(60))
        .await
        .unwrap();
    format!("Bearer {}", token.expose())
}

async fn access(knogin: &Knogin, scopes: &[&str]) -> String {
    let grant = TokenGrant {
        tenant: tenant("acme"),
        subject: "app_00000000000000000000000000000000".into(),
        client_id: "app_00000000000000000000000000000000".into(),
        scopes: crate::ScopeSet::new(scopes).unwrap(),
        ttl: Duration::from_secs(60),
        resource: None,
        dpop_jkt: None,
        actor: None,
    };
    let token = knogin.tokens().mint_access(&grant).await.unwrap();
    format!("Bearer {}", token.expose())
}

struct Answer {
    status: StatusCode,
    headers: http::HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }
}

async fn answer(response: http::Response<ResponseBody>) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        text: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// A test table: one route per guard and error format.
static TEST_TABLE: LazyLock<Table> = LazyLock::new(|| {
    Table::build(vec![
        route!(GET  "/t/{parent}/children/{child}" => public(two_params),                    Problem, "Two parameters"),
        route!(POST "/t/token"                     => client(client_id),                      OAuth,   "Client authentication"),
        route!(POST "/t/small"                     => client(client_id),                      OAuth,   "A small body").body_limit(16),
        route!(GET  "/t/me"                        => user(me),                               Html,    "The signed-in user"),
        route!(POST "/t/graphql"                   => tenant_bearer(gql),                     GraphQl, "Bearer and tenant header"),
        route!(GET  "/t/webhooks"                  => bearer("webhooks:read", webhooks),      Problem, "A scoped bearer"),
        route!(GET  "/t/panic"                     => public(panics),                         Problem, "A handler that panics"),
    ])
});

async fn two_params(ctx: Ctx) -> Reply {
    let parent: String = ctx.param("parent")?;
    let child: String = ctx.param("child")?;
    Ok(json(StatusCode::OK, &[parent, child]))
}

async fn client_id(mut ctx: Ctx, client: AuthenticatedClient) -> Reply {
    let form = ctx.form().await?;
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({
            "client_id": client.app().client_id.as_str(),
            "method": format!("{:?}", client.method()),
            "grant_type": form.get("grant_type"),
        }),
    ))
}

async fn me(ctx: Ctx, visitor: Visitor) -> Reply {
    let user = visitor.sign_in(&ctx.parts).await?;
    Ok(json(StatusCode::OK, &user.subject))
}

async fn gql(_ctx: Ctx, caller: TenantBearer) -> Reply {
    Ok(json(StatusCode::OK, &caller.0.tenant.as_str()))
}

async fn webhooks(_ctx: Ctx, caller: Bearer) -> Reply {
    Ok(json(StatusCode::OK, &caller.tenant.as_str()))
}

async fn panics(_ctx: Ctx) -> Reply {
    panic!("a bug in a handler")
}

impl super::ctx::FromParam for String {
    fn from_param(value: &str) -> Result<Self, super::error::ApiError> {
        Ok(value.to_owned())
    }
}

async fn send(knogin: &Knogin, request: Request<Full<Bytes>>) -> Answer {
    answer(dispatch_through(&TEST_TABLE, knogin.core(), knogin.http_state(), request).await).await
}

fn post(path: &str, headers: &[(&str, &str)], body: &str) -> Request<Full<Bytes>> {
    let mut request = Request::post(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap()
}

fn get(path: &str, headers: &[(&str, &str)]) -> Request<Full<Bytes>> {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Full::default()).unwrap()
}

#[test]
fn the_real_table_builds_and_names_every_route_once() {
    let routes = super::routes();
    assert!(routes.len() >= 8);
    for (i, a) in routes.iter().enumerate() {
        for b in &routes[i + 1..] {
            assert!(a.method() != b.method() || a.path() != b.path(), "{a:?}");
        }
    }
}

#[test]
#[should_panic(expected = "the route table has GET /x twice")]
fn a_duplicate_route_does_not_build() {
    Table::build(vec![
        route!(GET "/x" => public(two_params), Problem, "one"),
        route!(GET "/x" => public(two_params), Problem, "two"),
    ]);
}

#[tokio::test]
async fn lookup_tells_missing_paths_from_wrong_methods() {
    let knogin = knogin(1024).await;
    let found = |m: &Method, p: &str| match TABLE.find(knogin.core(), m, p) {
        Lookup::Found(found) => Some((found.route.method().clone(), found.route.path())),
        _ => None,
    };
    assert_eq!(
        found(&Method::GET, "/v1/platform/apps"),
        Some((Method::GET, "/v1/platform/apps"))
    );
    assert_eq!(
        found(&Method::HEAD, "/v1/auth/jwks.json"),
        Some((Method::GET, "/v1/auth/jwks.json"))
    );
    match TABLE.find(knogin.core(), &Method::DELETE, "/v1/platform/apps") {
        Lookup::MethodNotAllowed(allow, _) => {
            assert_eq!(allow, [Method::GET, Method::HEAD, Method::POST]);
        }
        _ => panic!("expected 405"),
    }
    for missing in [
        "/api/v1/platform/apps",
        "/v1/saml/metadata",
        "/v1/platform/apps/",
        "/v1/platform/apps/a/b",
    ] {
        assert!(
            matches!(
                TABLE.find(knogin.core(), &Method::GET, missing),
                Lookup::NotFound
            ),
            "{missing}"
        );
    }
    assert!(knogin.serves_path("/.well-known/jwks.json", Surfaces::ALL));
    assert!(!knogin.serves_path(
        "/.well-known/jwks.json",
        Surfaces::ALL.without(Surface::WellKnown)
    ));
    assert!(knogin.serves_path("/api/docs", Surfaces::ALL));
    assert!(!knogin.serves_path("/llms.txt", Surfaces::ALL.without(Surface::Docs)));
    assert!(!knogin.serves_path("/", Surfaces::ALL));
    // A handle without a GraphQL gate does not serve its path: the embedder's own may.
    assert!(!knogin.serves_path("/graphql", Surfaces::ALL));
    assert!(knogin.routes().all(|r| r.path() != "/graphql"));
}

#[tokio::test]
async fn every_named_path_parameter_reaches_the_handler() {
    let knogin = knogin(1024).await;
    let a = send(&knogin, get("/t/wh_1/children/dlv_2", &[])).await;
    assert_eq!(a.json(), serde_json::json!(["wh_1", "dlv_2"]));
}

#[tokio::test]
async fn a_panicking_handler_answers_an_opaque_500() {
    let knogin = knogin(1024).await;
    let a = send(&knogin, get("/t/panic", &[])).await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    let problem = a.json();
    assert_eq!(problem["type"], "urn:knogin:problem:internal");
    assert_eq!(problem["correlation_id"].as_str().map(str::len), Some(16));
    assert!(!a.text.contains("a bug in a handler"));
}

#[tokio::test]
async fn an_internal_error_carries_the_requests_correlation_id() {
    let knogin = knogin(1024).await;
    let mut request = get("/t/panic", &[]);
    let id = super::CorrelationId::parse("req-1234").unwrap();
    request.extensions_mut().insert(id);
    let a = send(&knogin, request).await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(a.json()["correlation_id"], "req-1234");
}

#[tokio::test]
async fn answers_name_the_route_template_they_matched() {
    let knogin = knogin(1024).await;
    let matched = |path: &'static str| {
        let knogin = knogin.clone();
        async move {
            let response = dispatch_through(
                &TEST_TABLE,
                knogin.core(),
                knogin.http_state(),
                get(path, &[]),
            )
            .await;
            response
                .extensions()
                .get::<super::MatchedRoute>()
                .map(super::MatchedRoute::as_str)
        }
    };
    assert_eq!(
        matched("/t/wh_1/children/dlv_2").await,
        Some("/t/{parent}/children/{child}")
    );
    assert_eq!(matched("/t/panic").await, Some("/t/panic"));
    assert_eq!(matched("/nowhere").await, None);
}

/// A registered client-credentials app in tenant `acme`: its id and secret.
async fn registered(knogin: &Knogin) -> (String, ClientSecret) {
    let (app, secret) = knogin
        .apps()
        .register(&tenant("acme"), crate::testing::registration())
        .await
        .unwrap();
    (
        app.client_id.as_str().to_owned(),
        secret.expect("a secret app has a secret"),
    )
}

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test]
async fn clients_authenticate_with_basic_or_post_and_errors_are_rfc6749() {
    let knogin = knogin(1024).await;
    let (id, secret) = registered(&knogin).await;
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!("{id}:{}", secret.expose()))
    );
    let wrong = format!("Basic {}", STANDARD.encode(format!("{id}:ks_wrong")));
    let form = [("content-type", FORM)];

    let ok = send(
        &knogin,
        post(
            "/t/token",
            &[form[0], ("authorization", &basic)],
            "grant_type=client_credentials",
        ),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.json()["method"], "ClientSecretBasic");
    assert_eq!(ok.json()["grant_type"], "client_credentials");
    let body = format!("client_id={id}&client_secret={}", secret.expose());
    let ok = send(&knogin, post("/t/token", &form, &body)).await;
    assert_eq!(ok.json()["method"], "ClientSecretPost");

    /// Request headers, body, and the status and RFC 6749 error code expected.
    type Case<'a> = (Vec<(&'a str, &'a str)>, String, StatusCode, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![form[0], ("authorization", &wrong)],
            String::new() + "grant_type=x",
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            form.to_vec(),
            format!("client_id={id}&client_secret=ks_wrong"),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            form.to_vec(),
            format!("client_id=app_nope&client_secret={}", secret.expose()),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            form.to_vec(),
            "grant_type=client_credentials".into(),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            vec![form[0], ("authorization", &basic)],
            format!("client_secret={}", secret.expose()),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![form[0], ("authorization", &basic)],
            "scope=a&scope=b".into(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![
                ("content-type", "application/json"),
                ("authorization", &basic),
            ],
            "{}".into(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![form[0], ("authorization", &basic)],
            String::new(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
    ];
    for (headers, body, status, code) in cases {
        let a = send(&knogin, post("/t/token", &headers, &body)).await;
        assert_eq!(a.status, status, "{body}: {}", a.text);
        assert_eq!(a.json()["error"], code, "{body}");
        assert!(a.json()["error_description"].is_string());
        assert_eq!(a.headers["content-type"], "application/json");
        assert_eq!(a.headers["cache-control"], "no-store");
        let challenge = a
            .headers
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap());
        let basic_used = headers.iter().any(|(_, v)| v.starts_with("Basic"));
        if status == StatusCode::UNAUTHORIZED && basic_used {
            assert_eq!(challenge, Some(r#"Basic realm="knogin", charset="UTF-8""#));
        } else {
            assert_eq!(challenge, None, "{body}");
        }
    }
}

#[tokio::test]
async fn a_route_can_set_its_own_body_limit() {
    let knogin = knogin(1024).await;
    let a = send(
        &knogin,
        post(
            "/t/small",
            &[("content-type", FORM)],
            "grant_type=client_credentials",
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json()["error"], "invalid_request");
    assert!(
        a.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("limit of 16 bytes")
    );
}

#[derive(Debug)]
struct Cookie;

#[async_trait]
impl UserAuthenticator for Cookie {
    async fn authenticate(
        &self,
        request: &http::request::Parts,
    ) -> Result<SignedInUser, LoginStep> {
        if request
            .headers
            .get("cookie")
            .is_some_and(|c| c == "session=alice")
        {
            return Ok(SignedInUser::new("alice", [tenant("acme")]));
        }
        let mut login = http::Response::new(ResponseBody::default());
        *login.status_mut() = StatusCode::SEE_OTHER;
        login
            .headers_mut()
            .insert("location", "/login".parse().unwrap());
        Err(LoginStep(login))
    }
}

#[tokio::test]
async fn user_routes_take_the_embedders_signed_in_user_or_show_its_login_step() {
    let nobody = knogin(1024).await;
    let a = send(&nobody, get("/t/me", &[])).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(a.headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(a.headers["x-frame-options"], "DENY");
    assert!(
        a.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(a.text.starts_with("<!DOCTYPE html>") && a.text.contains("<h1>Forbidden</h1>"));

    let knogin = knogin_with(1024, Some(Arc::new(Cookie))).await;
    let a = send(&knogin, get("/t/me", &[("cookie", "session=alice")])).await;
    assert_eq!(a.json(), "alice");
    let a = send(&knogin, get("/t/me", &[])).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.headers["location"], "/login");
}

#[tokio::test]
async fn tenant_bearer_routes_need_the_tokens_tenant_in_x_tenant_id() {
    let knogin = knogin(1024).await;
    let token = access(&knogin, &["incidents:read"]).await;
    let ok = send(
        &knogin,
        post(
            "/t/graphql",
            &[("authorization", &token), ("x-tenant-id", "acme")],
            "",
        ),
    )
    .await;
    assert_eq!(ok.json(), "acme");
    for tenant_header in [None, Some("globex"), Some("not a tenant")] {
        let mut headers = vec![("authorization", token.as_str())];
        headers.extend(tenant_header.map(|t| ("x-tenant-id", t)));
        let a = send(&knogin, post("/t/graphql", &headers, "")).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{tenant_header:?}");
        assert_eq!(a.json()["errors"][0]["extensions"]["code"], "FORBIDDEN");
        assert!(a.json()["errors"][0]["message"].is_string());
    }
    let a = send(&knogin, post("/t/graphql", &[("x-tenant-id", "acme")], "")).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        a.json()["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    assert_eq!(a.headers["www-authenticate"], r#"Bearer realm="knogin""#);
}

#[tokio::test]
async fn scoped_bearer_routes_refuse_other_scopes_and_admin_tokens() {
    let knogin = knogin(1024).await;
    let ok = send(
        &knogin,
        get(
            "/t/webhooks",
            &[("authorization", &access(&knogin, &["webhooks:read"]).await)],
        ),
    )
    .await;
    assert_eq!(ok.json(), "acme");
    for token in [
        access(&knogin, &["webhooks:write"]).await,
        admin(&knogin).await,
    ] {
        let a = send(&knogin, get("/t/webhooks", &[("authorization", &token)])).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN);
        assert_eq!(
            a.headers["www-authenticate"],
            r#"Bearer realm="knogin", error="insufficient_scope", scope="webhooks:read""#
        );
    }
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
    let large = answer(knogin.handle(request(chunked(20, 100))).await).await;
    assert_eq!(large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(large.text.contains("limit of 1024 bytes"));
}

#[tokio::test]
async fn jwks_max_age_is_configurable() {
    let knogin = knogin(1024).await;
    let request = Request::get("/v1/auth/jwks.json")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = knogin.handle(request).await;
    assert_eq!(response.headers()["cache-control"], "public, max-age=60");
}

#[tokio::test]
async fn authorize_guards_an_embedders_route_by_scope() {
    let knogin = knogin(1024).await;
    let mut request = http::Request::new(());
    assert_eq!(
        knogin
            .tokens()
            .check_bearer(&request, "incidents:read")
            .await,
        Err(crate::http::Rejection::Missing)
    );
    request.headers_mut().insert(
        "authorization",
        access(&knogin, &["incidents:read"]).await.parse().unwrap(),
    );
    let bearer = knogin
        .tokens()
        .check_bearer(&request, "incidents:read")
        .await
        .unwrap();
    assert_eq!(bearer.tenant.as_str(), "acme");

    let refused = knogin
        .tokens()
        .check_bearer(&request, "webhooks:read")
        .await
        .unwrap_err();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let response = refused.into_response();
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer realm="knogin", error="insufficient_scope", scope="webhooks:read""#
    );

    // A scope that cannot be quoted in a header is left out of the challenge, not a panic.
    let odd = knogin
        .tokens()
        .check_bearer(&request, "a\"b\n")
        .await
        .unwrap_err();
    let response = odd.into_response();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer realm="knogin", error="insufficient_scope""#
    );
}

#[tokio::test]
async fn repeated_json_members_are_a_400_naming_the_field() {
    let knogin = knogin(1024).await;
    let auth = admin(&knogin).await;
    let body = r#"{"name":"a","name":"b","grant_types":["client_credentials"]}"#;
    let a = send_real(
        &knogin,
        post(
            "/v1/platform/apps",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body,
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json()["errors"][0]["field"], "name");
    assert_eq!(a.json()["errors"][0]["detail"], "is given more than once");
}

/// A server without the built-in login has no login or logout page: the login routes answer
/// the 404 page (and the OpenAPI document says so).
#[cfg(feature = "password-login")]
#[tokio::test]
async fn without_the_built_in_login_its_pages_are_a_404_page() {
    let knogin = knogin(1024).await;
    let form = [("content-type", "application/x-www-form-urlencoded")];
    for path in ["/v1/oauth/login", "/v1/oauth/logout"] {
        let a = send_real(&knogin, post(path, &form, "name=alice&password=x")).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(a.headers["content-type"], "text/html; charset=utf-8");
        assert!(
            a.text.contains("signs users in elsewhere"),
            "{path}: {}",
            a.text
        );
    }
}

async fn send_real(knogin: &Knogin, request: Request<Full<Bytes>>) -> Answer {
    answer(knogin.handle(request).await).await
}

/// The route rows this test table uses are all kinds a later capability needs.
#[test]
fn the_test_table_covers_every_access_kind() {
    use super::route::Access;
    let kinds: Vec<Access> = TEST_TABLE.routes().iter().map(|r| *r.access()).collect();
    for kind in [
        Access::Public,
        Access::Client,
        Access::User,
        Access::TenantBearer,
        Access::Bearer {
            scope: "webhooks:read",
        },
    ] {
        assert!(kinds.contains(&kind), "{kind:?}");
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_failures_count_under_the_forwarded_address() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix(1_800_000_000)));
    let knogin =
        crate::testing::builder(Arc::new(MemoryStore::new()), MasterKey::generate(), clock)
            .client_auth_limit(3, Duration::from_secs(60))
            .trusted_proxies(super::TrustedProxies::parse(["10.0.0.0/8"]).unwrap())
            .build()
            .await
            .unwrap();
    let (id, _) = registered(&knogin).await;
    let wrong = format!("client_id={id}&client_secret=ks_wrong");
    let attempt = |forwarded: &'static str, peer: [u8; 4]| {
        let mut request = post(
            "/t/token",
            &[("content-type", FORM), ("x-forwarded-for", forwarded)],
            &wrong,
        );
        request
            .extensions_mut()
            .insert(super::ClientAddr(std::net::IpAddr::from(peer)));
        send(&knogin, request)
    };
    // Through the proxy, one visitor's failures are its own…
    for _ in 0..2 {
        assert_eq!(
            attempt("192.0.2.1", [10, 0, 0, 1]).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        attempt("192.0.2.1", [10, 0, 0, 1]).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // …and do not limit another visitor behind the same proxy.
    assert_eq!(
        attempt("192.0.2.2", [10, 0, 0, 1]).await.status,
        StatusCode::UNAUTHORIZED
    );
    // A peer that is no trusted proxy is not believed: it counts as itself.
    for _ in 0..2 {
        assert_eq!(
            attempt("192.0.2.1", [203, 0, 113, 9]).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        attempt("192.0.2.77", [203, 0, 113, 9]).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}
