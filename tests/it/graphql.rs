//! The GraphQL gate over loopback: curated operations only, the tenant header, and
//! GraphQL-over-HTTP answers.

use bytes::Bytes;
use http::{Method, StatusCode};
use knogin::core::graphql::{Bundle, Bundles, TrustedDocument, reference};
use serde_json::{Value, json};

use crate::support::{TestResponse, TestServer, matrix};

matrix!(
    an_allowed_operation_runs_in_the_callers_tenant,
    persisted_documents_run_by_hash,
    other_documents_are_refused_alike,
    the_token_and_the_tenant_header_are_checked_first,
    malformed_requests_get_a_clear_error,
    the_graphql_path_serves_nothing_else,
    admins_list_bundles_by_name_and_operation,
    new_bundles_take_effect_at_once,
);

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// `POST /graphql` as `tenant` with a token carrying `scopes`.
async fn post(
    server: &TestServer,
    scopes: &[&str],
    tenant: &str,
    body: &Value,
    accept: Option<&str>,
) -> TestResponse {
    let token = server.access_token("acme", scopes).await;
    send(server, &format!("Bearer {token}"), tenant, body, accept).await
}

async fn send(
    server: &TestServer,
    authorization: &str,
    tenant: &str,
    body: &Value,
    accept: Option<&str>,
) -> TestResponse {
    let mut headers = vec![
        ("authorization", authorization),
        ("x-tenant-id", tenant),
        ("content-type", "application/json"),
    ];
    headers.extend(accept.map(|a| ("accept", a)));
    headers.retain(|(_, v)| !v.is_empty());
    server
        .send(Method::POST, "/graphql", &headers, body.to_string())
        .await
}

fn incident(id: &str) -> Value {
    json!({ "query": reference::INCIDENT_BY_ID, "variables": { "id": id } })
}

fn code(response: &TestResponse) -> Value {
    response.json()["errors"][0]["extensions"]["code"].clone()
}

async fn an_allowed_operation_runs_in_the_callers_tenant(server: &TestServer) {
    let a = post(
        server,
        &["incidents:read"],
        "acme",
        &incident("inc_1"),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header("content-type"), "application/json");
    assert_eq!(
        a.json(),
        json!({ "data": { "incident": {
            "id": "inc_1", "title": "Fibre cut on the ring road (acme)", "status": "open"
        } } })
    );
    // The same operation spelled with other whitespace, commas and a comment.
    let respelled = json!({
        "query": "# one incident\nquery IncidentById($id: ID!) {\n  incident(id: $id) { id, title, status }\n}\n",
        "variables": { "id": "inc_2" },
        "operationName": "IncidentById",
    });
    let a = post(
        server,
        &["incidents:read"],
        "acme",
        &respelled,
        Some(GRAPHQL_RESPONSE),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header("content-type"), GRAPHQL_RESPONSE);
    assert_eq!(a.json()["data"]["incident"]["status"], "closed");
    // Another tenant's token sees its own incidents; an unknown id is null.
    let token = server.access_token("globex", &["incidents:read"]).await;
    let a = send(
        server,
        &format!("Bearer {token}"),
        "globex",
        &incident("inc_1"),
        None,
    )
    .await;
    assert_eq!(
        a.json()["data"]["incident"]["title"],
        "Fibre cut on the ring road (globex)"
    );
    let a = post(
        server,
        &["incidents:read"],
        "acme",
        &incident("inc_9"),
        None,
    )
    .await;
    assert_eq!(a.json(), json!({ "data": { "incident": null } }));
}

async fn persisted_documents_run_by_hash(server: &TestServer) {
    let hash = TrustedDocument::parse(reference::INCIDENT_BY_ID)
        .unwrap()
        .sha256_hex();
    let variables = json!({ "id": "inc_1" });
    for body in [
        json!({ "documentId": format!("sha256:{hash}"), "variables": variables }),
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } }, "variables": variables }),
        json!({ "query": reference::INCIDENT_BY_ID, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } }, "variables": variables }),
    ] {
        let a = post(server, &["incidents:read"], "acme", &body, None).await;
        assert_eq!(a.status, StatusCode::OK, "{body}");
        assert_eq!(a.json()["data"]["incident"]["id"], "inc_1", "{body}");
    }
    let unknown = json!({ "documentId": format!("sha256:{}", "0".repeat(64)) });
    let a = post(server, &["incidents:read"], "acme", &unknown, None).await;
    assert_eq!(code(&a), "OPERATION_NOT_ALLOWED");
}

async fn other_documents_are_refused_alike(server: &TestServer) {
    let documents = [
        // A renamed variable, an extra field, another operation name.
        "query IncidentById($key: ID!) { incident(id: $key) { id title status } }",
        "query IncidentById($id: ID!) { incident(id: $id) { id title status reporter } }",
        "query Incident($id: ID!) { incident(id: $id) { id title status } }",
        // Introspection in every spelling.
        "query { __schema { types { name } } }",
        "query IntrospectionQuery { s: __schema { queryType { name } } }",
        "query Q { ...F } fragment F on Query { __schema { types { name } } }",
        "query Q { __type(name: \"Incident\") { fields { name } } }",
        "query Q { ... on Query { t: __type(name: \"Query\") { name } } }",
        "{ __typename }",
        "not graphql {",
    ];
    let mut bodies: Vec<Value> = documents
        .iter()
        .map(|q| json!({ "query": q, "variables": { "id": "inc_1" } }))
        .collect();
    // The trusted document with an operation name it does not have.
    bodies.push(json!({ "query": reference::INCIDENT_BY_ID, "operationName": "Other", "variables": { "id": "inc_1" } }));
    let mut answers = Vec::new();
    for body in &bodies {
        let a = post(server, &["incidents:read"], "acme", body, None).await;
        assert_eq!(a.status, StatusCode::OK, "{body}");
        assert_eq!(code(&a), "OPERATION_NOT_ALLOWED", "{body}");
        assert!(a.json().get("data").is_none(), "{body}");
        answers.push(a.body);
        let strict = post(
            server,
            &["incidents:read"],
            "acme",
            body,
            Some(GRAPHQL_RESPONSE),
        )
        .await;
        assert_eq!(strict.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(strict.header("content-type"), GRAPHQL_RESPONSE);
    }
    // A token without the bundle's scope gets exactly the same answer for a trusted document.
    let unscoped = post(server, &["webhooks:read"], "acme", &incident("inc_1"), None).await;
    answers.push(unscoped.body);
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "refusals differ");
    let message = serde_json::from_slice::<Value>(&answers[0]).unwrap()["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    for secret in [
        "incident",
        "Incident",
        "incidents:read",
        "incident-sync",
        "__schema",
    ] {
        assert!(!message.contains(secret), "{message}");
    }
    // An oversized document is refused before it is read.
    let big = json!({ "query": format!("query IncidentById {{ {} }}", "a ".repeat(10_000)) });
    let a = post(server, &["incidents:read"], "acme", &big, None).await;
    assert_eq!(code(&a), "OPERATION_NOT_ALLOWED");
    assert!(
        a.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("over the limit")
    );
}

async fn the_token_and_the_tenant_header_are_checked_first(server: &TestServer) {
    let body = incident("inc_1");
    let a = send(server, "", "acme", &body, None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&a), "UNAUTHENTICATED");
    assert_eq!(a.header("www-authenticate"), r#"Bearer realm="knogin""#);
    let a = send(server, "Bearer not.a.token", "acme", &body, None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(a.header("www-authenticate").contains("invalid_token"));
    // The 401 is in the media type asked for.
    let a = send(server, "", "acme", &body, Some(GRAPHQL_RESPONSE)).await;
    assert_eq!(a.header("content-type"), GRAPHQL_RESPONSE);

    let admin = format!("Bearer {}", server.admin_token("acme").await);
    let a = send(server, &admin, "acme", &body, None).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);

    // A missing, malformed or other tenant: the same 403, whether that tenant exists or not.
    let mut refusals = Vec::new();
    for tenant in ["", "not a tenant", "globex", "no-such-tenant"] {
        let a = post(server, &["incidents:read"], tenant, &body, None).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{tenant:?}");
        assert_eq!(code(&a), "FORBIDDEN");
        refusals.push(a.body);
    }
    assert!(refusals.windows(2).all(|w| w[0] == w[1]));
}

async fn malformed_requests_get_a_clear_error(server: &TestServer) {
    let token = format!(
        "Bearer {}",
        server.access_token("acme", &["incidents:read"]).await
    );
    let raw = |body: &'static str, content_type: &'static str| {
        let token = token.clone();
        async move {
            server
                .send(
                    Method::POST,
                    "/graphql",
                    &[
                        ("authorization", &token),
                        ("x-tenant-id", "acme"),
                        ("content-type", content_type),
                    ],
                    body,
                )
                .await
        }
    };
    for (body, says) in [
        ("{\"query\":", "not valid JSON"),
        ("[1]", "JSON object"),
        ("{}", "needs query"),
        ("{\"query\":5}", "query must be a string"),
        ("{\"query\":\"q\",\"variables\":\"x\"}", "variables must be"),
        ("{\"documentId\":\"md5:abc\"}", "documentId must be"),
    ] {
        let a = raw(body, "application/json").await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(code(&a), "BAD_REQUEST", "{body}");
        let message = a.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains(says), "{body}: {message}");
    }
    let a = raw("query { a }", "application/graphql").await;
    assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(a.json()["errors"][0]["message"].is_string());
    let a = raw("", "application/json").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);

    // Variables of the wrong type or missing: a request error naming the variable, no data.
    for (variables, says) in [
        (json!({ "id": { "a": 1 } }), "$id must be a ID"),
        (json!({ "id": true }), "$id must be a ID"),
        (json!({ "id": null }), "$id must be a non-null ID"),
        (json!({}), "$id is required"),
    ] {
        let body = json!({ "query": reference::INCIDENT_BY_ID, "variables": variables });
        let a = post(server, &["incidents:read"], "acme", &body, None).await;
        assert_eq!(a.status, StatusCode::OK, "{body}");
        assert!(a.json().get("data").is_none(), "{}", a.text());
        assert_eq!(code(&a), "BAD_USER_INPUT");
        let message = a.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains(says), "{message}");
        let strict = post(
            server,
            &["incidents:read"],
            "acme",
            &body,
            Some(GRAPHQL_RESPONSE),
        )
        .await;
        assert_eq!(strict.status, StatusCode::BAD_REQUEST);
    }
    // Variables nested deeper than the limit, even for a trusted document.
    let deep = json!({ "query": reference::INCIDENT_BY_ID, "variables": { "id": [[[[[[[[["inc_1"]]]]]]]]] } });
    let a = post(server, &["incidents:read"], "acme", &deep, None).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.text().contains("nest"));
}

async fn the_graphql_path_serves_nothing_else(server: &TestServer) {
    let unknown = server
        .send(Method::GET, "/no/such/route", &[], Bytes::new())
        .await;
    let token = format!(
        "Bearer {}",
        server.access_token("acme", &["incidents:read"]).await
    );
    for method in [
        Method::GET,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
    ] {
        let a = server
            .send(
                method.clone(),
                "/graphql?query=%7B__schema%7Btypes%7Bname%7D%7D%7D",
                &[("authorization", &token), ("x-tenant-id", "acme")],
                Bytes::new(),
            )
            .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{method}");
        assert_eq!(a.body, unknown.body, "{method}");
        assert!(a.headers.get("allow").is_none());
    }
    for path in [
        "/graphql/playground",
        "/playground",
        "/graphiql",
        "/graphql/schema.graphql",
    ] {
        let a = server.send(Method::GET, path, &[], Bytes::new()).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(a.body, unknown.body, "{path}");
    }
}

async fn admins_list_bundles_by_name_and_operation(server: &TestServer) {
    let admin = server.admin_token("acme").await;
    let a = server.get("/v1/platform/graphql-bundles", &admin).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.json(),
        json!({ "bundles": [{ "name": "incident-sync", "operations": ["IncidentById"] }] })
    );
    let token = server.access_token("acme", &["incidents:read"]).await;
    let a = server.get("/v1/platform/graphql-bundles", &token).await;
    a.problem(StatusCode::FORBIDDEN);
    let a = server
        .send(
            Method::GET,
            "/v1/platform/graphql-bundles",
            &[],
            Bytes::new(),
        )
        .await;
    a.problem(StatusCode::UNAUTHORIZED);
}

async fn new_bundles_take_effect_at_once(server: &TestServer) {
    let titles = "query IncidentTitle($id: ID!) { incident(id: $id) { title } }";
    let bundle = Bundle::new("titles", ["incidents:read"])
        .unwrap()
        .document(titles)
        .unwrap();
    server
        .knogin
        .replace_graphql_bundles(Bundles::new([bundle]).unwrap())
        .unwrap();
    let a = post(
        server,
        &["incidents:read"],
        "acme",
        &json!({ "query": titles, "variables": { "id": "inc_2" } }),
        None,
    )
    .await;
    assert_eq!(
        a.json()["data"]["incident"]["title"],
        "Flooded substation (acme)"
    );
    let a = post(
        server,
        &["incidents:read"],
        "acme",
        &incident("inc_1"),
        None,
    )
    .await;
    assert_eq!(code(&a), "OPERATION_NOT_ALLOWED");
    // A bundle needing a scope outside the catalog is refused and changes nothing.
    let stray = Bundle::new("stray", ["cases:read"]).unwrap();
    assert!(
        server
            .knogin
            .replace_graphql_bundles(Bundles::new([stray]).unwrap())
            .is_err()
    );
    let admin = server.admin_token("acme").await;
    let listed = server
        .get("/v1/platform/graphql-bundles", &admin)
        .await
        .json();
    assert_eq!(listed["bundles"][0]["name"], "titles");
}
