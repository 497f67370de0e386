//! The test server, its HTTP client, and the adapter × store matrix.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::sync::atomic::{AtomicBool, Ordering};

use knogin::core::audit::{AuditEvent, AuditKind, MemorySink};
use knogin::core::clock::{Clock, ManualClock, Sleep, SystemClock, Timestamp};
use knogin::core::graphql::{GraphQlGate, reference};
use knogin::core::http::TrustedProxies;
use knogin::core::keys::MasterKey;
use knogin::core::login::PasswordUsers;
use knogin::core::token::TokenGrant;
use knogin::core::{Knogin, ScopeSet, TenantId};
use knogin::store::testing::TestDatabase;
use serde_json::Value;
use tokio::net::TcpListener;

/// The issuer every test server uses.
pub const ISSUER: &str = knogin::core::testing::TEST_ISSUER;

/// Which adapter mounts the core.
#[derive(Debug, Clone, Copy)]
pub enum Adapter {
    Axum,
    Hyper,
}

/// Which database backs the store.
#[derive(Debug, Clone, Copy)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// The test servers' clock: moved by hand, and able to panic once, to stand in for a bug in an
/// embedder's clock, store or authenticator.
#[derive(Debug)]
pub struct TestClock {
    time: ManualClock,
    panic_next: AtomicBool,
}

impl TestClock {
    pub fn advance(&self, by: Duration) {
        self.time.advance(by);
    }

    /// The next reading panics.
    pub fn panic_on_next_read(&self) {
        self.panic_next.store(true, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        assert!(
            !self.panic_next.swap(false, Ordering::SeqCst),
            "the test clock was told to panic"
        );
        self.time.now()
    }

    /// Waits in real time: the servers' delivery workers pace themselves on it (linger, idle
    /// interval, attempt timeout) while the test moves the readings by hand.
    fn sleep(&self, duration: Duration) -> Sleep {
        SystemClock.sleep(duration)
    }
}

/// A knogin server on a loopback port, with its handle and a clock the test moves.
pub struct TestServer {
    pub addr: SocketAddr,
    /// The issuer: [`ISSUER`], or `http://{addr}` for a server a browser opens.
    pub issuer: String,
    pub knogin: Knogin,
    pub clock: Arc<TestClock>,
    /// The audit events of this server and of its other instances.
    pub audit: Arc<MemorySink>,
    client: Client<HttpConnector, Full<Bytes>>,
    db: TestDatabase,
    master_key: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The embedder's own route next to the contract, in both adapters.
pub const EMBEDDER_PATH: &str = "/hello";
pub const EMBEDDER_BODY: &str = "hello from the embedder";

impl TestServer {
    /// A server on `adapter` and `db` whose rotated-out secrets keep working for `grace`; `None`
    /// when `db` is not configured.
    pub async fn start_with(adapter: Adapter, db: Db, grace: Duration) -> Option<Self> {
        Self::start(adapter, db, grace, false).await
    }

    /// A server whose issuer is its own loopback address, `http://127.0.0.1:PORT`, as a browser
    /// reaches it (its cookies then carry no `Secure` flag), and whose webhooks and apps'
    /// `jwks_uri`s may go to loopback servers.
    pub async fn start_loopback(adapter: Adapter, db: Db) -> Option<Self> {
        Self::start(adapter, db, Duration::ZERO, true).await
    }

    async fn start(adapter: Adapter, db: Db, grace: Duration, loopback: bool) -> Option<Self> {
        let database = match db {
            Db::Sqlite => knogin::store::testing::sqlite().await,
            Db::Postgres => knogin::store::testing::postgres().await?,
        };
        let clock = Arc::new(TestClock {
            time: ManualClock::new(SystemClock.now()),
            panic_next: AtomicBool::new(false),
        });
        let master_key = MasterKey::generate().to_base64();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local address");
        let issuer = if loopback {
            format!("http://{addr}")
        } else {
            ISSUER.to_owned()
        };
        let audit = Arc::new(MemorySink::default());
        let knogin = instance(&database, &clock, &master_key, &issuer, &audit)
            .secret_rotation_grace(grace)
            .build()
            .await
            .expect("the test server builds");
        let task = match adapter {
            Adapter::Axum => tokio::spawn(serve_axum(listener, knogin.clone())),
            Adapter::Hyper => tokio::spawn(serve_hyper(listener, knogin.clone())),
        };
        Some(Self {
            addr,
            issuer,
            knogin,
            clock,
            audit,
            client: Client::builder(TokioExecutor::new()).build_http(),
            db: database,
            master_key,
            task,
        })
    }

    /// Another instance on the same database, master key and clock, as a second process would be.
    pub async fn another_instance(&self) -> Knogin {
        instance(
            &self.db,
            &self.clock,
            &self.master_key,
            &self.issuer,
            &self.audit,
        )
        .build()
        .await
        .expect("a second instance builds")
    }

    /// Closes the database under the running server, so every store call fails.
    pub async fn close_database(&self) {
        self.db.close().await;
    }

    /// How many pieces of browser-flow state the database holds.
    pub async fn flow_states(&self) -> i64 {
        const SQL: &str = "SELECT count(*) FROM flow_states";
        match (self.db.sqlite_pool(), self.db.postgres_pool()) {
            (Some(pool), _) => sqlx::query_scalar(SQL).fetch_one(pool).await,
            (_, Some(pool)) => sqlx::query_scalar(SQL).fetch_one(pool).await,
            _ => unreachable!("a test database is SQLite or PostgreSQL"),
        }
        .expect("count the flow states")
    }

    /// An admin token for `tenant`.
    pub async fn admin_token(&self, tenant: &str) -> String {
        let tenant = TenantId::parse(tenant).expect("a valid tenant id");
        self.knogin
            .tokens()
            .mint_admin(&tenant, Duration::from_secs(600))
            .await
            .expect("mint an admin token")
            .expose()
            .to_owned()
    }

    /// An access token for `tenant` with `scopes` (what an OAuth client or service token holds).
    pub async fn access_token(&self, tenant: &str, scopes: &[&str]) -> String {
        self.app_token(tenant, "app_00000000000000000000000000000000", scopes)
            .await
    }

    /// An access token of the app `client_id` for `tenant` with `scopes`.
    pub async fn app_token(&self, tenant: &str, client_id: &str, scopes: &[&str]) -> String {
        let grant = TokenGrant {
            tenant: TenantId::parse(tenant).expect("a valid tenant id"),
            subject: client_id.into(),
            client_id: client_id.into(),
            scopes: ScopeSet::new(scopes).expect("scope tokens"),
            ttl: Duration::from_secs(600),
            resource: None,
            dpop_jkt: None,
            actor: None,
        };
        self.knogin
            .tokens()
            .mint_access(&grant)
            .await
            .expect("mint an access token")
            .expose()
            .to_owned()
    }

    /// The audit events of `kind` recorded so far.
    pub fn audited(&self, kind: AuditKind) -> Vec<AuditEvent> {
        let events = self.audit.events();
        events.into_iter().filter(|e| e.kind == kind).collect()
    }

    /// Sends one request.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> TestResponse {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("http://{}{}", self.addr, path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(body.into()))
            .expect("a valid request");
        let response = self
            .client
            .request(request)
            .await
            .expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("a full body")
            .to_bytes();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    /// The RFC 8414 metadata the server publishes.
    pub async fn metadata(&self) -> Value {
        let answer = self
            .send(
                Method::GET,
                "/.well-known/oauth-authorization-server",
                &[],
                Bytes::new(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        answer.json()
    }

    /// `GET path` with a bearer token.
    pub async fn get(&self, path: &str, token: &str) -> TestResponse {
        let auth = format!("Bearer {token}");
        self.send(Method::GET, path, &[("authorization", &auth)], Bytes::new())
            .await
    }

    /// `method path` with a bearer token and a JSON body.
    pub async fn json(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: &Value,
    ) -> TestResponse {
        let auth = format!("Bearer {token}");
        self.send(
            method,
            path,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            serde_json::to_vec(body).expect("JSON"),
        )
        .await
    }

    /// Registers a client-credentials app and returns its client id.
    pub async fn register_id(&self, token: &str, name: &str) -> String {
        let app = self.register(token, name).await;
        app["client_id"].as_str().expect("a client_id").to_owned()
    }

    /// Registers a client-credentials app for the admin token's tenant and returns its JSON.
    pub async fn register(&self, token: &str, name: &str) -> Value {
        let body = serde_json::json!({
            "name": name,
            "grant_types": ["client_credentials"],
            "redirect_uris": [],
            "requested_scopes": ["webhooks:write"],
        });
        let response = self
            .json(Method::POST, "/v1/platform/apps", token, &body)
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
        response.json()
    }
}

/// The built-in login's users on every test server (`TENANT/NAME:PASSWORD`), hashed once per
/// test binary: alice and bob are members of `acme`, mallory of `globex` only.
const USERS: [&str; 3] = [
    "acme/alice:wonderland",
    "acme/bob:the builder",
    "globex/mallory:not acme",
];

fn users() -> Arc<PasswordUsers> {
    static USERS_HASHED: LazyLock<Arc<PasswordUsers>> = LazyLock::new(|| {
        let mut users = PasswordUsers::new();
        for line in USERS {
            users.add_line(line).expect("a valid test user");
        }
        Arc::new(users)
    });
    Arc::clone(&USERS_HASHED)
}

/// A handle's settings on `db`, as every test instance has them.
fn instance(
    db: &TestDatabase,
    clock: &Arc<TestClock>,
    master_key: &str,
    issuer: &str,
    audit: &Arc<MemorySink>,
) -> knogin::core::Builder {
    let master_key = MasterKey::from_base64(master_key).expect("a master key");
    knogin::core::testing::builder_for(issuer, Arc::new((**db).clone()), master_key, clock.clone())
        .password_login(users())
        .audit(Arc::clone(audit))
        // A fixed bound, so concurrent sign-ins behave alike on any machine.
        .sign_in(knogin::core::login::SignInSettings::default().concurrency(4))
        // Tests connect from loopback, as a reverse proxy on the same host would.
        .trusted_proxies(TrustedProxies::parse(["127.0.0.1", "::1"]).expect("loopback ranges"))
        .graphql(GraphQlGate::new(reference::executor()).bundles(reference::bundles()))
        // A loopback issuer is a local test setup: its webhooks may go to loopback receivers.
        .webhooks(
            knogin::core::webhooks::WebhookSettings::default()
                .allow_private_targets(issuer != ISSUER),
        )
        .client_jwks_transport(knogin::hyper::HttpTransport::new(issuer != ISSUER))
}

/// What the server answered.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map_or("", |v| v.to_str().expect("a visible ASCII header"))
    }

    /// Asserts an RFC 9457 problem with `status` and returns its JSON.
    pub fn problem(&self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(self.header("content-type"), "application/problem+json");
        let problem = self.json();
        assert_eq!(problem["status"], status.as_u16());
        assert!(
            problem["type"].is_string()
                && problem["title"].is_string()
                && problem["detail"].is_string()
        );
        problem
    }

    /// The `field` names of a validation problem's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        let problem = self.problem(StatusCode::BAD_REQUEST);
        problem["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("no errors list: {problem}"))
            .iter()
            .map(|e| e["field"].as_str().expect("a field name").to_owned())
            .collect()
    }
}

async fn serve_axum(listener: TcpListener, knogin: Knogin) {
    let app = axum::Router::new()
        .route(
            EMBEDDER_PATH,
            axum::routing::get(|| async { EMBEDDER_BODY }),
        )
        .merge(knogin::axum::router(knogin))
        .fallback(knogin::axum::not_found)
        .into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).await.expect("axum serves");
}

async fn serve_hyper(listener: TcpListener, knogin: Knogin) {
    /// The embedder's own hyper service: one route, and the core's 404 for the rest.
    async fn embedder(
        request: Request<hyper::body::Incoming>,
    ) -> Result<http::Response<Full<Bytes>>, Infallible> {
        if request.uri().path() == EMBEDDER_PATH {
            return Ok(http::Response::new(Full::new(Bytes::from_static(
                EMBEDDER_BODY.as_bytes(),
            ))));
        }
        Ok(knogin::core::http::not_found())
    }
    let service = knogin::hyper::KnoginService::new(knogin, hyper::service::service_fn(embedder));
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        let service = service.clone().with_client_addr(peer.ip());
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Runs each case through axum and hyper, on SQLite and PostgreSQL: one test per combination.
/// `matrix!(grace = SECONDS; cases…)` starts the servers with that secret-rotation grace.
macro_rules! matrix {
    ($($case:ident),* $(,)?) => {
        $crate::support::matrix!(grace = 0; $($case),*);
    };
    (grace = $grace:expr; $($case:ident),* $(,)?) => {
        $crate::support::matrix!(@start |adapter, db| TestServer::start_with(adapter, db, std::time::Duration::from_secs($grace)); $($case),*);
    };
    (loopback; $($case:ident),* $(,)?) => {
        $crate::support::matrix!(@start |adapter, db| TestServer::start_loopback(adapter, db); $($case),*);
    };
    (@start |$adapter:ident, $db:ident| $start:expr; $($case:ident),*) => {
        $(
            mod $case {
                use $crate::support::{Adapter, Db, TestServer};

                async fn run($adapter: Adapter, $db: Db) {
                    match $start.await {
                        Some(server) => super::$case(&server).await,
                        None => eprintln!("skipped: KNOGIN_TEST_POSTGRES_URL is not set"),
                    }
                }

                #[tokio::test]
                async fn axum_sqlite() { run(Adapter::Axum, Db::Sqlite).await }
                #[tokio::test]
                async fn hyper_sqlite() { run(Adapter::Hyper, Db::Sqlite).await }
                #[tokio::test]
                async fn axum_postgres() { run(Adapter::Axum, Db::Postgres).await }
                #[tokio::test]
                async fn hyper_postgres() { run(Adapter::Hyper, Db::Postgres).await }
            }
        )*
    };
}
pub(crate) use matrix;
