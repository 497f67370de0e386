//! The machine-readable docs over loopback: the index, topics, markdown, llms.txt, locales,
//! ETags, and a walk of every documented route.

use bytes::Bytes;
use http::{Method, StatusCode};
use serde_json::Value;

use crate::support::{ISSUER, TestResponse, TestServer, matrix};

matrix!(
    the_index_and_topics_use_the_servers_own_urls,
    markdown_and_llms_txt,
    dutch_by_query_or_accept_language,
    etags_answer_304,
    unknown_topics_and_formats_are_clear_errors,
    every_documented_route_is_served,
    the_openapi_document_is_served,
);

async fn get(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> TestResponse {
    server.send(Method::GET, path, headers, Bytes::new()).await
}

async fn the_index_and_topics_use_the_servers_own_urls(server: &TestServer) {
    let a = get(server, "/api/docs", &[]).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header("content-type"), "application/json");
    assert_eq!(a.header("content-language"), "en");
    let index = a.json();
    assert_eq!(index["baseUrl"], ISSUER);
    assert_eq!(index["endpoints"]["index"], format!("{ISSUER}/api/docs"));
    let ids: Vec<&str> = index["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "api-reference",
            "identity-app-registration",
            "oauth-service-tokens",
            "jwks-token-verification",
            "event-delivery-webhooks",
            "graphql-transport-contract"
        ]
    );
    for id in ids {
        let topic = get(server, &format!("/api/docs/{id}"), &[]).await;
        assert_eq!(topic.status, StatusCode::OK, "{id}");
        let topic = topic.json();
        assert_eq!(topic["id"], id);
        for section in topic["sections"].as_array().unwrap() {
            for example in section["codeExamples"].as_array().unwrap() {
                let code = example["code"].as_str().unwrap();
                assert!(!code.contains("knogin.com"), "{id}: {code}");
            }
        }
    }
    let identity = get(server, "/api/docs/identity-app-registration", &[])
        .await
        .json();
    let code = identity["sections"][0]["codeExamples"][0]["code"]
        .as_str()
        .unwrap();
    assert!(
        code.starts_with(&format!("curl {ISSUER}/v1/platform/scopes")),
        "{code}"
    );
}

async fn markdown_and_llms_txt(server: &TestServer) {
    let a = get(server, "/api/docs?format=markdown", &[]).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header("content-type"), "text/markdown; charset=utf-8");
    let text = a.text();
    assert!(text.starts_with("# Knogin External Integration API"));
    assert!(text.contains("## POST /v1/oauth/token · Exchange or mint access tokens"));
    let a = get(
        server,
        "/api/docs/jwks-token-verification?format=markdown",
        &[],
    )
    .await;
    assert!(a.text().starts_with("# JWKS and token verification"));
    let a = get(server, "/llms.txt", &[]).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header("content-type"), "text/plain; charset=utf-8");
    let text = a.text();
    assert!(text.starts_with("# Knogin External Integration API\n\n> "));
    assert!(text.contains(&format!(
        "({ISSUER}/api/docs/event-delivery-webhooks?format=markdown)"
    )));
}

async fn dutch_by_query_or_accept_language(server: &TestServer) {
    for (path, headers) in [
        ("/api/docs/oauth-service-tokens?locale=nl", &[][..]),
        (
            "/api/docs/oauth-service-tokens",
            &[("accept-language", "nl-NL, en;q=0.5")][..],
        ),
    ] {
        let a = get(server, path, headers).await;
        assert_eq!(a.header("content-language"), "nl");
        let topic = a.json();
        assert_eq!(topic["title"], "OAuth en service tokens");
        // Routes and examples stay in English.
        assert_eq!(
            topic["sections"][1]["title"],
            "POST /v1/oauth/token · Exchange or mint access tokens"
        );
    }
    let a = get(server, "/api/docs?locale=fr", &[("accept-language", "nl")]).await;
    assert_eq!(a.header("content-language"), "en");
    assert_eq!(
        a.json()["topics"][1]["title"],
        "Identity and app registration"
    );
}

async fn etags_answer_304(server: &TestServer) {
    for path in [
        "/api/docs",
        "/api/docs/api-reference?format=markdown",
        "/llms.txt",
    ] {
        let a = get(server, path, &[]).await;
        let etag = a.header("etag").to_owned();
        assert!(etag.starts_with('"'), "{path}");
        assert_eq!(a.header("cache-control"), "public, max-age=300");
        let again = get(server, path, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), etag);
        let weak = format!("\"other\", W/{etag}");
        let again = get(server, path, &[("if-none-match", &weak)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
        let stale = get(server, path, &[("if-none-match", "\"stale\"")]).await;
        assert_eq!(stale.status, StatusCode::OK);
    }
    // Each locale has its own validator.
    let en = get(server, "/api/docs", &[]).await;
    let nl = get(
        server,
        "/api/docs?locale=nl",
        &[("if-none-match", en.header("etag"))],
    )
    .await;
    assert_eq!(nl.status, StatusCode::OK);
}

async fn unknown_topics_and_formats_are_clear_errors(server: &TestServer) {
    let a = get(server, "/api/docs/saml-federation", &[]).await;
    let problem = a.problem(StatusCode::NOT_FOUND);
    let detail = problem["detail"].as_str().unwrap();
    for id in ["api-reference", "graphql-transport-contract"] {
        assert!(detail.contains(id), "{detail}");
    }
    let a = get(server, "/api/docs?format=xml", &[]).await;
    a.problem(StatusCode::BAD_REQUEST);
    assert_eq!(a.error_fields(), ["format"]);
}

/// Walks the served index: every documented route answers (without credentials) something
/// other than the fixed 404 of an unknown path.
async fn every_documented_route_is_served(server: &TestServer) {
    let unknown = get(server, "/no/such/route", &[]).await;
    let index = get(server, "/api/docs", &[]).await.json();
    let mut walked = 0;
    for topic in index["topics"].as_array().unwrap() {
        for title in topic["sections"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
        {
            let Some((route, _)) = title.split_once(" · ") else {
                continue;
            };
            let (methods, path) = route.split_once(' ').unwrap();
            let path = path
                .replace("{topic}", "api-reference")
                .replace("{client_id}", "app_00000000000000000000000000000000")
                .replace("{webhook_id}", "wh_00000000000000000000000000000000")
                .replace("{delivery_id}", "dlv_00000000000000000000000000000000");
            for method in methods.split('/') {
                let method = Method::from_bytes(method.as_bytes()).unwrap();
                let a = server.send(method.clone(), &path, &[], Bytes::new()).await;
                assert!(
                    a.status != StatusCode::NOT_FOUND || a.body != unknown.body,
                    "{method} {path} is documented but not served"
                );
                walked += 1;
            }
        }
    }
    assert_eq!(walked, knogin::core::http::routes().len());
}

async fn the_openapi_document_is_served(server: &TestServer) {
    let a = get(server, "/api/docs/openapi.json", &[]).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header("content-type"), "application/json");
    let document = a.json();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["servers"][0]["url"], ISSUER);
    let operations: usize = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| *k != "servers")
                .count()
        })
        .sum();
    assert_eq!(operations, knogin::core::http::routes().len());
    let again = get(
        server,
        "/api/docs/openapi.json",
        &[("if-none-match", a.header("etag"))],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
}
