//! The authorization code flow in a real headless Chromium (Debian's `chromium` and
//! `chromedriver`): open the authorize URL, sign in, approve, land on a local callback, redeem
//! the code and verify the token against the JWKS; then deny. Screenshots of the login and
//! consent pages go to `target/tmp/browser/`, and axe-core (when `KNOGIN_AXE_JS` names its
//! `axe.min.js`) checks each page against WCAG 2.1 A and AA.
//!
//! Without a chromedriver the test prints `skipped`, unless `KNOGIN_REQUIRE_BROWSER` is set (CI
//! sets it, with `KNOGIN_AXE_JS`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::code_flow::{CHALLENGE, VERIFIER, form_encode};
use crate::oauth::{form, verify_with_jwks};
use crate::support::{Adapter, Db, TestServer};

/// chromedriver, killed when the test ends.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts chromedriver on a free port, or `None` when there is none to start.
async fn chromedriver() -> Option<(Driver, u16)> {
    let binary = std::env::var("KNOGIN_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(&binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let child = match child {
        Ok(child) => Driver(child),
        Err(e) if std::env::var_os("KNOGIN_REQUIRE_BROWSER").is_some() => {
            panic!("KNOGIN_REQUIRE_BROWSER is set but {binary} cannot start: {e}")
        }
        Err(_) => return None,
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some((child, port));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chromedriver did not listen on {port}");
}

async fn browser(port: u16) -> Client {
    let mut capabilities = serde_json::Map::new();
    let binary = std::env::var("KNOGIN_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": binary,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1000,900"],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a chromium session")
}

/// A local callback for the client: answers a small page for whatever query it gets.
async fn callback() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/callback",
        axum::routing::get(|| async {
            axum::response::Html("<!doctype html><title>Callback</title><p>Callback received</p>")
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/callback")
}

/// Saves a screenshot of the current page as `name` in `target/tmp/browser/`.
async fn screenshot(client: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, client.screenshot().await.unwrap()).unwrap();
    eprintln!("screenshot: {}", path.display());
}

/// Runs axe-core over the current page, if `KNOGIN_AXE_JS` names it, and asserts no violation.
async fn accessible(client: &Client, page: &str) {
    let Some(axe) = std::env::var_os("KNOGIN_AXE_JS") else {
        eprintln!("axe-core skipped on the {page} page: KNOGIN_AXE_JS is not set");
        return;
    };
    let source = std::fs::read_to_string(&axe).expect("axe.min.js");
    client
        .execute(&source, vec![])
        .await
        .expect("axe-core loads");
    let violations = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {runOnly: {type: 'tag',
                 values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})
               .then(r => done(r.violations.map(v => v.id + ': ' + v.help)))
               .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .expect("axe-core runs");
    assert_eq!(
        violations,
        json!([]),
        "accessibility violations on the {page} page"
    );
    eprintln!("axe-core: no WCAG 2.1 A/AA violation on the {page} page");
}

/// Waits until the browser is on `prefix…` and returns the URL's query parameters.
async fn landed(client: &Client, prefix: &str) -> std::collections::HashMap<String, String> {
    for _ in 0..200 {
        let url = client.current_url().await.unwrap();
        if url.as_str().starts_with(prefix) {
            return url.query_pairs().into_owned().collect();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the browser did not land on {prefix}");
}

/// Registers the client whose redirect URI is `callback`: its client id and secret.
async fn register(server: &TestServer, callback: &str) -> (String, String) {
    let admin = server.admin_token("acme").await;
    let body = json!({
        "name": "Incident board",
        "grant_types": ["authorization_code"],
        "redirect_uris": [callback],
        "requested_scopes": ["webhooks:read", "webhooks:write"],
    });
    let app = server
        .json(Method::POST, "/v1/platform/apps", &admin, &body)
        .await
        .json();
    let field = |name: &str| app[name].as_str().unwrap().to_owned();
    (field("client_id"), field("client_secret"))
}

/// Redeems `code` as the client and returns the access token's claims, verified against the
/// JWKS.
async fn redeem_and_verify(
    server: &TestServer,
    callback: &str,
    client_id: &str,
    secret: &str,
    code: &str,
) -> Value {
    let redeem = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}\
         &client_id={client_id}&client_secret={secret}",
        form_encode(callback)
    );
    let token = form(server, "/v1/oauth/token", &[], &redeem).await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.text());
    let token: Value = token.json();
    verify_with_jwks(server, token["access_token"].as_str().unwrap())
        .await
        .0
}

#[tokio::test]
async fn a_person_signs_in_approves_and_denies_in_chromium() {
    let Some((_driver, port)) = chromedriver().await else {
        eprintln!("skipped: no chromedriver (install Debian's chromium-driver)");
        return;
    };
    let server = TestServer::start_loopback(Adapter::Axum, Db::Sqlite)
        .await
        .expect("SQLite is always there");
    let callback = callback().await;
    let (client_id, secret) = register(&server, &callback).await;
    let authorize = |scope: &str| {
        format!(
            "http://{}/v1/oauth/authorize?response_type=code&client_id={client_id}&redirect_uri={}\
             &scope={}&state=xyz&code_challenge={CHALLENGE}&code_challenge_method=S256",
            server.addr,
            form_encode(&callback),
            form_encode(scope)
        )
    };
    let client = browser(port).await;

    client.goto(&authorize("webhooks:read")).await.unwrap();
    let username = client
        .wait()
        .for_element(Locator::Id("username"))
        .await
        .unwrap();
    screenshot(&client, "login.png").await;
    accessible(&client, "login").await;
    username.send_keys("alice").await.unwrap();
    client
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys("wonderland")
        .await
        .unwrap();
    client
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    let allow = client
        .wait()
        .for_element(Locator::Css(r#"button[name="decision"][value="approve"]"#))
        .await
        .unwrap();
    screenshot(&client, "consent.png").await;
    accessible(&client, "consent").await;
    allow.click().await.unwrap();
    let params = landed(&client, &callback).await;
    assert_eq!(
        params.get("state").map(String::as_str),
        Some("xyz"),
        "{params:?}"
    );
    assert_eq!(params.get("iss"), Some(&server.issuer));
    let code = params.get("code").expect("a code at the callback");

    let claims = redeem_and_verify(&server, &callback, &client_id, &secret, code).await;
    assert_eq!(
        (claims["sub"].as_str(), claims["scope"].as_str()),
        (Some("alice"), Some("webhooks:read"))
    );

    // A wider request asks again (the session stays); denying lands with access_denied.
    client
        .goto(&authorize("webhooks:read webhooks:write"))
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Css(r#"button[name="decision"][value="deny"]"#))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let params = landed(&client, &callback).await;
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("access_denied"),
        "{params:?}"
    );
    assert_eq!(params.get("state").map(String::as_str), Some("xyz"));
    client.close().await.unwrap();
}
