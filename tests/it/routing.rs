//! Unknown and withheld paths, wrong methods, and the embedder's own routes.

use bytes::Bytes;
use http::{Method, StatusCode};

use crate::support::{EMBEDDER_BODY, EMBEDDER_PATH, TestServer, matrix};

matrix!(
    unknown_and_withheld_paths_answer_the_same_bytes,
    a_known_path_with_another_method_is_a_405,
    head_answers_like_get_without_a_body,
    a_store_failure_is_an_opaque_500,
    a_panic_is_an_opaque_500_and_the_connection_stays_up,
    the_embedders_own_routes_still_answer,
);

async fn unknown_and_withheld_paths_answer_the_same_bytes(server: &TestServer) {
    let token = server.admin_token("acme").await;
    let auth = format!("Bearer {token}");
    let reference = server
        .send(Method::GET, "/no/such/route", &[], Bytes::new())
        .await;
    assert_eq!(reference.status, StatusCode::NOT_FOUND);
    assert_eq!(reference.header("content-type"), "application/problem+json");

    let paths = [
        "/api/v1/platform/apps",
        "/api/v1/platform/deployments/1",
        "/v1/saml/metadata",
        "/v1/saml/acs",
        "/graphql/schema",
        "/v1/platform/apps/",
        "/v1/platform/app",
        "/",
        "/v1/platform/apps/app_1/unknown",
    ];
    for method in [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
    ] {
        for path in paths {
            for headers in [&[][..], &[("authorization", auth.as_str())][..]] {
                let response = server
                    .send(method.clone(), path, headers, Bytes::new())
                    .await;
                assert_eq!(response.status, StatusCode::NOT_FOUND, "{method} {path}");
                assert_eq!(response.header("content-type"), "application/problem+json");
                assert_eq!(response.body, reference.body, "{method} {path}");
                assert!(
                    !response.text().contains(
                        path.trim_start_matches('/')
                            .split('/')
                            .next()
                            .unwrap_or("x")
                    ) || path == "/"
                );
                assert!(!response.text().contains(method.as_str()));
            }
        }
    }
}

async fn a_known_path_with_another_method_is_a_405(server: &TestServer) {
    let response = server
        .send(Method::DELETE, "/v1/platform/apps", &[], Bytes::new())
        .await;
    response.problem(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.header("allow"), "GET, HEAD, POST");
    let response = server
        .send(Method::POST, "/.well-known/jwks.json", &[], Bytes::new())
        .await;
    response.problem(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.header("allow"), "GET, HEAD");
}

async fn head_answers_like_get_without_a_body(server: &TestServer) {
    let get = server
        .send(Method::GET, "/.well-known/jwks.json", &[], Bytes::new())
        .await;
    let head = server
        .send(Method::HEAD, "/.well-known/jwks.json", &[], Bytes::new())
        .await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("content-type"), get.header("content-type"));
    assert_eq!(head.header("cache-control"), get.header("cache-control"));
    assert!(head.body.is_empty());
    let unauthorized = server
        .send(Method::HEAD, "/v1/platform/apps", &[], Bytes::new())
        .await;
    assert_eq!(unauthorized.status, StatusCode::UNAUTHORIZED);
    assert!(unauthorized.body.is_empty());
}

async fn the_embedders_own_routes_still_answer(server: &TestServer) {
    let response = server
        .send(Method::GET, EMBEDDER_PATH, &[], Bytes::new())
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.text(), EMBEDDER_BODY);
}

async fn a_store_failure_is_an_opaque_500(server: &TestServer) {
    let token = server.admin_token("acme").await;
    server.close_database().await;
    let response = server.get("/v1/platform/apps", &token).await;
    let problem = response.problem(StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(problem["correlation_id"].as_str().map(str::len), Some(16));
    let text = response.text().to_lowercase();
    for leak in ["pool", "sqlx", "sqlite", "postgres", "select"] {
        assert!(!text.contains(leak), "the answer reveals {leak:?}: {text}");
    }
    let jwks = server
        .send(Method::GET, "/.well-known/jwks.json", &[], Bytes::new())
        .await;
    assert_eq!(jwks.status, StatusCode::OK, "JWKS is served from memory");
}

async fn a_panic_is_an_opaque_500_and_the_connection_stays_up(server: &TestServer) {
    let token = server.admin_token("acme").await;
    let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    let connection = tokio::spawn(connection);
    let request = || {
        http::Request::get("/v1/platform/apps")
            .header("host", server.addr.to_string())
            .header("authorization", format!("Bearer {token}"))
            .body(http_body_util::Empty::<Bytes>::new())
            .unwrap()
    };

    server.clock.panic_on_next_read();
    let response = sender.send_request(request()).await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["correlation_id"].as_str().map(str::len), Some(16));
    assert!(!String::from_utf8_lossy(&body).contains("panic"));

    let again = sender
        .send_request(request())
        .await
        .expect("the same connection answers again");
    assert_eq!(again.status(), StatusCode::OK);
    drop(sender);
    connection.await.unwrap().unwrap();
}
