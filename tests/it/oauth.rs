//! The OAuth endpoints over HTTP: client credentials with both authentication methods, every
//! token-endpoint error, the rate limit, three signing algorithms checked against the published
//! JWKS, service tokens, metadata, introspection and revocation, across instances.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{Method, StatusCode};
use knogin::core::SigningAlgorithm;
use serde_json::{Value, json};

use crate::support::{ISSUER, TestResponse, TestServer, matrix};

matrix!(
    client_credentials_with_either_authentication_method,
    unknown_clients_and_wrong_secrets_look_alike,
    token_endpoint_errors_follow_rfc_6749,
    an_app_without_the_grant_is_an_unauthorized_client,
    failed_authentications_are_limited_on_every_instance,
    tokens_of_three_algorithms_verify_against_the_published_jwks,
    instances_accept_each_others_tokens_after_rotate_keys_and_share_revocations,
    a_rotated_out_secret_stops_here_at_once_and_elsewhere_within_the_client_cache,
    service_tokens_follow_governance,
    an_apps_access_token_ttl_sets_the_lifetime,
    introspection_and_revocation_stay_within_the_tenant,
    metadata_describes_what_is_served,
    a_nul_anywhere_is_a_4xx_never_a_500,
);

/// A registered app's credentials.
struct Client {
    id: String,
    secret: String,
}

impl Client {
    fn basic(&self) -> String {
        format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{}", self.id, self.secret))
        )
    }

    fn post(&self) -> String {
        format!("client_id={}&client_secret={}", self.id, self.secret)
    }
}

async fn client(server: &TestServer, tenant: &str, scopes: &[&str]) -> Client {
    let admin = server.admin_token(tenant).await;
    let body = json!({
        "name": "Case sync connector",
        "grant_types": ["client_credentials"],
        "redirect_uris": [],
        "requested_scopes": scopes,
    });
    let app = server
        .json(Method::POST, "/v1/platform/apps", &admin, &body)
        .await
        .json();
    Client {
        id: app["client_id"].as_str().unwrap().to_owned(),
        secret: app["client_secret"].as_str().unwrap().to_owned(),
    }
}

/// `POST path` with a form body and extra headers.
pub async fn form(
    server: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> TestResponse {
    let mut all = vec![("content-type", "application/x-www-form-urlencoded")];
    all.extend_from_slice(headers);
    server
        .send(Method::POST, path, &all, Bytes::from(body.to_owned()))
        .await
}

async fn token(server: &TestServer, headers: &[(&str, &str)], body: &str) -> TestResponse {
    form(server, "/v1/oauth/token", headers, body).await
}

/// A client-credentials access token for `client`.
async fn access_token(server: &TestServer, client: &Client) -> String {
    let answer = token(
        server,
        &[],
        &format!("grant_type=client_credentials&{}", client.post()),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    answer.json()["access_token"].as_str().unwrap().to_owned()
}

/// Asserts an RFC 6749 error answer and returns its `error` code.
pub fn oauth_error(answer: &TestResponse, status: StatusCode) -> String {
    assert_eq!(answer.status, status, "{}", answer.text());
    assert_eq!(answer.header("content-type"), "application/json");
    assert_eq!(answer.header("cache-control"), "no-store");
    let body = answer.json();
    assert!(body["error_description"].is_string(), "{body}");
    body["error"].as_str().unwrap().to_owned()
}

/// The claims of `jwt` if it verifies against the server's published JWKS (with `jsonwebtoken`,
/// independently of the core's own verifier), and its header's `alg`.
pub async fn verify_with_jwks(server: &TestServer, jwt: &str) -> (Value, String) {
    let jwks = server
        .send(Method::GET, "/.well-known/jwks.json", &[], Bytes::new())
        .await;
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_slice(&jwks.body).unwrap();
    let header = jsonwebtoken::decode_header(jwt).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let jwk = set
        .find(header.kid.as_deref().unwrap())
        .expect("the kid is published");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_issuer(&[&server.issuer]);
    validation.set_audience(&[&server.issuer]);
    let claims = jsonwebtoken::decode::<Value>(jwt, &key, &validation)
        .unwrap()
        .claims;
    (claims, format!("{:?}", header.alg))
}

async fn client_credentials_with_either_authentication_method(server: &TestServer) {
    let client = client(server, "acme", &["webhooks:read", "webhooks:write"]).await;
    let post = token(
        server,
        &[],
        &format!(
            "grant_type=client_credentials&scope=webhooks:write&{}",
            client.post()
        ),
    )
    .await;
    let basic = token(
        server,
        &[("authorization", &client.basic())],
        "grant_type=client_credentials",
    )
    .await;
    for answer in [&post, &basic] {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        assert_eq!(answer.header("cache-control"), "no-store");
        let body = answer.json();
        let mut members: Vec<&String> = body.as_object().unwrap().keys().collect();
        members.sort();
        assert_eq!(
            members,
            ["access_token", "expires_in", "scope", "token_type"]
        );
        assert_eq!(
            (&body["token_type"], &body["expires_in"]),
            (&json!("Bearer"), &json!(3600))
        );
        let (claims, alg) = verify_with_jwks(server, body["access_token"].as_str().unwrap()).await;
        assert_eq!(alg, "RS256");
        assert_eq!(
            (&claims["sub"], &claims["client_id"]),
            (&json!(client.id), &json!(client.id))
        );
        assert_eq!(claims["tenant"], "acme");
        assert_eq!(claims["scope"], body["scope"]);
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            3600
        );
        assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 32));
    }
    assert_eq!(post.json()["scope"], "webhooks:write");
    assert_eq!(
        basic.json()["scope"],
        "webhooks:read webhooks:write",
        "every approved scope"
    );

    // Basic credentials are URL-decoded (RFC 6749 §2.3.1).
    let encoded = format!(
        "Basic {}",
        STANDARD.encode(format!(
            "{}:{}",
            client.id,
            client.secret.replace('_', "%5F")
        ))
    );
    let answer = token(
        server,
        &[("authorization", &encoded)],
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
}

async fn unknown_clients_and_wrong_secrets_look_alike(server: &TestServer) {
    let client = client(server, "acme", &["webhooks:write"]).await;
    let grant = "grant_type=client_credentials";
    let unauthorized = StatusCode::UNAUTHORIZED;

    // A wrong secret and an unknown client are the same answer.
    let wrong = token(
        server,
        &[],
        &format!("{grant}&client_id={}&client_secret=ks_wrong", client.id),
    )
    .await;
    let unknown = token(
        server,
        &[],
        &format!("{grant}&client_id=app_0123456789abcdef0123456789abcdef&client_secret=ks_wrong"),
    )
    .await;
    assert_eq!(oauth_error(&wrong, unauthorized), "invalid_client");
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(
        wrong.header("www-authenticate"),
        "",
        "no Basic challenge without Basic"
    );
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!("{}:ks_wrong", client.id))
    );
    let answer = token(server, &[("authorization", &basic)], grant).await;
    assert_eq!(oauth_error(&answer, unauthorized), "invalid_client");
    assert!(
        answer
            .header("www-authenticate")
            .starts_with("Basic realm=")
    );
    let none = token(server, &[], grant).await;
    assert_eq!(oauth_error(&none, unauthorized), "invalid_client");
}

async fn token_endpoint_errors_follow_rfc_6749(server: &TestServer) {
    let client = client(server, "acme", &["webhooks:write"]).await;
    let grant = "grant_type=client_credentials";
    let basic = client.basic();
    // (body, whether to add Basic credentials too, the error code)
    let cases = [
        // Both methods at once.
        (
            format!("{grant}&{}", client.post()),
            true,
            "invalid_request",
        ),
        (client.post(), false, "invalid_request"),
        (
            format!("grant_type=password&{}", client.post()),
            false,
            "unsupported_grant_type",
        ),
        (
            format!("grant_type=authorization_code&code=x&{}", client.post()),
            false,
            "unauthorized_client",
        ),
        (
            format!("{grant}&scope=incidents:read&{}", client.post()),
            false,
            "invalid_scope",
        ),
        (
            format!("{grant}&scope=platform:admin&{}", client.post()),
            false,
            "invalid_scope",
        ),
        (
            format!("{grant}&scope=a%22b&{}", client.post()),
            false,
            "invalid_scope",
        ),
        (
            format!("{grant}&{grant}&{}", client.post()),
            false,
            "invalid_request",
        ),
        (
            format!("{grant}&{}&pad={}", client.post(), "x".repeat(70_000)),
            false,
            "invalid_request",
        ),
    ];
    for (body, with_basic, code) in cases {
        let headers: &[(&str, &str)] = if with_basic {
            &[("authorization", &basic)]
        } else {
            &[]
        };
        let answer = token(server, headers, &body).await;
        assert_eq!(
            oauth_error(&answer, StatusCode::BAD_REQUEST),
            code,
            "{}",
            &body[..body.len().min(80)]
        );
    }

    // A JSON body, or none of the right type, is invalid_request before anything else.
    let json_body = server
        .send(
            Method::POST,
            "/v1/oauth/token",
            &[("content-type", "application/json")],
            Bytes::from(format!(
                r#"{{"grant_type":"client_credentials","client_id":"{}","client_secret":"{}"}}"#,
                client.id, client.secret
            )),
        )
        .await;
    assert_eq!(
        oauth_error(&json_body, StatusCode::BAD_REQUEST),
        "invalid_request"
    );
    let untyped = server
        .send(
            Method::POST,
            "/v1/oauth/token",
            &[],
            Bytes::from(format!("{grant}&{}", client.post())),
        )
        .await;
    assert_eq!(
        oauth_error(&untyped, StatusCode::BAD_REQUEST),
        "invalid_request"
    );
    let get = server
        .send(Method::GET, "/v1/oauth/token", &[], Bytes::new())
        .await;
    assert_eq!(
        oauth_error(&get, StatusCode::METHOD_NOT_ALLOWED),
        "invalid_request"
    );
}

async fn an_app_without_the_grant_is_an_unauthorized_client(server: &TestServer) {
    let grant = "grant_type=client_credentials";
    let admin = server.admin_token("acme").await;
    let body = json!({
        "name": "Browser app",
        "grant_types": ["authorization_code"],
        "redirect_uris": ["https://integrator.example/callback"],
        "requested_scopes": ["webhooks:read"],
    });
    let app = server
        .json(Method::POST, "/v1/platform/apps", &admin, &body)
        .await
        .json();
    let code_only = Client {
        id: app["client_id"].as_str().unwrap().to_owned(),
        secret: app["client_secret"].as_str().unwrap().to_owned(),
    };
    let answer = token(server, &[], &format!("{grant}&{}", code_only.post())).await;
    assert_eq!(
        oauth_error(&answer, StatusCode::BAD_REQUEST),
        "unauthorized_client"
    );
}

async fn failed_authentications_are_limited_on_every_instance(server: &TestServer) {
    let client = client(server, "acme", &["webhooks:write"]).await;
    let wrong = format!(
        "grant_type=client_credentials&client_id={}&client_secret=ks_wrong",
        client.id
    );
    for _ in 0..9 {
        let answer = token(server, &[], &wrong).await;
        assert_eq!(answer.header("retry-after"), "");
    }
    let limited = token(server, &[], &wrong).await;
    assert_eq!(
        oauth_error(&limited, StatusCode::TOO_MANY_REQUESTS),
        "invalid_client"
    );
    assert_eq!(limited.header("retry-after"), "60");

    // The right secret always passes: knowing a client id is not enough to lock it out.
    access_token(server, &client).await;
    // The failures of this address hold on another instance too; another address has its own.
    let other = server.another_instance().await;
    let loopback = Some(std::net::IpAddr::from([127, 0, 0, 1]));
    let elsewhere = Some(std::net::IpAddr::from([192, 0, 2, 1]));
    assert!(matches!(
        other
            .apps()
            .authenticate(&client.id, "ks_wrong", loopback)
            .await,
        Err(knogin::core::oauth::ClientAuthError::Limited { .. })
    ));
    assert!(matches!(
        other
            .apps()
            .authenticate(&client.id, "ks_wrong", elsewhere)
            .await,
        Err(knogin::core::oauth::ClientAuthError::Failed)
    ));
    assert!(
        other
            .apps()
            .authenticate(&client.id, &client.secret, loopback)
            .await
            .is_ok()
    );

    server.clock.advance(Duration::from_secs(60));
    let answer = token(server, &[], &wrong).await;
    assert_eq!(
        oauth_error(&answer, StatusCode::UNAUTHORIZED),
        "invalid_client"
    );
}

async fn tokens_of_three_algorithms_verify_against_the_published_jwks(server: &TestServer) {
    let client = client(server, "acme", &["webhooks:write"]).await;
    let mut seen = Vec::new();
    for algorithm in [
        SigningAlgorithm::Es256,
        SigningAlgorithm::EdDsa,
        SigningAlgorithm::Rs256,
    ] {
        server.knogin.keys().rotate_to(algorithm).await.unwrap();
        server.clock.advance(Duration::from_secs(330));
        let jwt = access_token(server, &client).await;
        let (claims, alg) = verify_with_jwks(server, &jwt).await;
        assert_eq!(alg, algorithm.as_str());
        assert_eq!(claims["client_id"], client.id.as_str());
        seen.push(jwt);
    }
    // Every key stays published while its tokens live, so all three still verify.
    let jwks = server
        .send(Method::GET, "/.well-known/jwks.json", &[], Bytes::new())
        .await
        .json();
    let algs: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].as_str().unwrap())
        .collect();
    assert_eq!(algs, ["RS256", "ES256", "EdDSA", "RS256"]);
    for jwt in &seen {
        verify_with_jwks(server, jwt).await;
        assert!(server.knogin.tokens().verify(jwt).await.is_ok());
    }
}

async fn instances_accept_each_others_tokens_after_rotate_keys_and_share_revocations(
    server: &TestServer,
) {
    let client = client(server, "acme", &["webhooks:write"]).await;
    let other = server.another_instance().await;
    let kid = other
        .keys()
        .rotate_to(SigningAlgorithm::Es256)
        .await
        .unwrap();
    server.clock.advance(Duration::from_secs(330));
    let jwt = access_token(server, &client).await;
    assert_eq!(
        jsonwebtoken::decode_header(&jwt).unwrap().kid.as_deref(),
        Some(kid.as_str())
    );
    assert!(
        other.tokens().verify(&jwt).await.is_ok(),
        "minted here, accepted there"
    );

    let revoked = form(
        server,
        "/v1/oauth/revoke",
        &[("authorization", &client.basic())],
        &format!("token={jwt}"),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text());
    assert!(
        server.knogin.tokens().verify(&jwt).await.is_err(),
        "refused here at once"
    );
    assert!(
        other.tokens().verify(&jwt).await.is_ok(),
        "until the other instance reloads"
    );
    server.clock.advance(Duration::from_secs(30));
    assert!(
        other.tokens().verify(&jwt).await.is_err(),
        "and there after its refresh"
    );
}

async fn a_rotated_out_secret_stops_here_at_once_and_elsewhere_within_the_client_cache(
    server: &TestServer,
) {
    let client = client(server, "acme", &["webhooks:write"]).await;
    let other = server.another_instance().await;
    let passes_there = |secret: &str| {
        let other = &other;
        let id = client.id.clone();
        let secret = secret.to_owned();
        async move { other.apps().authenticate(&id, &secret, None).await.is_ok() }
    };
    access_token(server, &client).await;
    assert!(passes_there(&client.secret).await, "held there from now");
    let admin = server.admin_token("acme").await;
    let path = format!("/v1/platform/apps/{}/rotate-secret", client.id);
    let rotated = server
        .json(Method::POST, &path, &admin, &json!({}))
        .await
        .json();
    let old = form(
        server,
        "/v1/oauth/token",
        &[("authorization", &client.basic())],
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED, "refused here at once");
    assert!(
        passes_there(&client.secret).await,
        "held by the other instance for its client-cache second"
    );
    server.clock.advance(Duration::from_secs(1));
    assert!(
        !passes_there(&client.secret).await,
        "and refused there after it"
    );
    let new = Client {
        id: client.id.clone(),
        secret: rotated["client_secret"].as_str().unwrap().to_owned(),
    };
    assert!(passes_there(&new.secret).await);
    access_token(server, &new).await;
}

async fn service_tokens_follow_governance(server: &TestServer) {
    let client = client(server, "acme", &["webhooks:read", "webhooks:write"]).await;
    let admin = server.admin_token("acme").await;
    let path = format!("/v1/platform/apps/{}/service-token", client.id);
    let request = json!({"scopes": ["webhooks:write"]});
    let refused = server.json(Method::POST, &path, &admin, &request).await;
    refused.problem(StatusCode::FORBIDDEN);

    let governance = format!("/v1/platform/apps/{}/governance", client.id);
    let allowed = server
        .json(
            Method::PATCH,
            &governance,
            &admin,
            &json!({"allow_service_tokens": true}),
        )
        .await;
    assert_eq!(allowed.status, StatusCode::OK, "{}", allowed.text());

    let minted = server.json(Method::POST, &path, &admin, &request).await;
    assert_eq!(minted.status, StatusCode::OK, "{}", minted.text());
    assert_eq!(minted.header("cache-control"), "no-store");
    let body = minted.json();
    let (claims, _) = verify_with_jwks(server, body["token"].as_str().unwrap()).await;
    assert_eq!(claims["scope"], "webhooks:write");
    let expires_at = body["expires_at"].as_str().unwrap();
    assert!(
        expires_at.ends_with('Z') && expires_at.len() == 20,
        "{expires_at}"
    );
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );

    // Never on the admin routes, whatever it carries.
    let as_admin = server
        .get("/v1/platform/apps", body["token"].as_str().unwrap())
        .await;
    as_admin.problem(StatusCode::FORBIDDEN);

    let short = server
        .json(
            Method::POST,
            &path,
            &admin,
            &json!({"scopes": ["webhooks:read"], "expires_in": 120}),
        )
        .await
        .json();
    let (claims, _) = verify_with_jwks(server, short["token"].as_str().unwrap()).await;
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120
    );

    let bad = server
        .json(Method::POST, &path, &admin, &json!({"scopes": ["webhooks:read", "nope:x", "a b", "platform:admin", "incidents:read"], "expires_in": 999_999}))
        .await;
    let problem = bad.problem(StatusCode::BAD_REQUEST);
    let details: Vec<String> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["field"].as_str().unwrap(),
                e["detail"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(details.len(), 5, "{details:?}");
    for named in ["nope:x", "a b", "platform:admin", "incidents:read"] {
        assert!(
            details.iter().any(|d| d.contains(&format!("\"{named}\""))),
            "{named} in {details:?}"
        );
    }
    assert!(details.iter().any(|d| d.starts_with("expires_in ")));

    let other_tenant = server.admin_token("globex").await;
    server
        .json(Method::POST, &path, &other_tenant, &request)
        .await
        .problem(StatusCode::NOT_FOUND);
}

async fn an_apps_access_token_ttl_sets_the_lifetime(server: &TestServer) {
    let client = client(server, "acme", &["webhooks:write"]).await;
    let admin = server.admin_token("acme").await;
    let governance = format!("/v1/platform/apps/{}/governance", client.id);
    let expires_in = || async {
        token(
            server,
            &[],
            &format!("grant_type=client_credentials&{}", client.post()),
        )
        .await
        .json()["expires_in"]
            .clone()
    };
    let set = server
        .json(
            Method::PATCH,
            &governance,
            &admin,
            &json!({"access_token_ttl": 600}),
        )
        .await;
    assert_eq!(set.json()["governance"]["access_token_ttl"], 600);
    assert_eq!(expires_in().await, 600);
    let too_long = server
        .json(
            Method::PATCH,
            &governance,
            &admin,
            &json!({"access_token_ttl": 86_401}),
        )
        .await;
    assert_eq!(too_long.error_fields(), ["access_token_ttl"]);
    let reset = server
        .json(
            Method::PATCH,
            &governance,
            &admin,
            &json!({"access_token_ttl": null}),
        )
        .await;
    assert!(reset.json()["governance"].get("access_token_ttl").is_none());
    assert_eq!(expires_in().await, 3600);
}

async fn introspection_and_revocation_stay_within_the_tenant(server: &TestServer) {
    let mine = client(server, "acme", &["webhooks:write"]).await;
    let theirs = client(server, "globex", &["webhooks:write"]).await;
    let jwt = access_token(server, &mine).await;
    let introspect = |client: &Client, token: String| {
        let auth = client.basic();
        async move {
            form(
                server,
                "/v1/oauth/introspect",
                &[("authorization", &auth)],
                &format!("token={token}"),
            )
            .await
        }
    };
    let active = introspect(&mine, jwt.clone()).await;
    assert_eq!(active.status, StatusCode::OK);
    let body = active.json();
    assert_eq!(
        (&body["active"], &body["client_id"], &body["tenant"]),
        (&json!(true), &json!(mine.id), &json!("acme"))
    );
    assert_eq!(
        introspect(&theirs, jwt.clone()).await.json(),
        json!({"active": false})
    );

    // Another tenant's client cannot revoke it, and is told nothing.
    let foreign = form(
        server,
        "/v1/oauth/revoke",
        &[("authorization", &theirs.basic())],
        &format!("token={jwt}"),
    )
    .await;
    assert_eq!(foreign.status, StatusCode::OK);
    assert_eq!(introspect(&mine, jwt.clone()).await.json()["active"], true);

    let missing = form(
        server,
        "/v1/oauth/introspect",
        &[("authorization", &mine.basic())],
        "token_type_hint=access_token",
    )
    .await;
    assert_eq!(
        oauth_error(&missing, StatusCode::BAD_REQUEST),
        "invalid_request"
    );
    let unauthenticated = form(server, "/v1/oauth/introspect", &[], &format!("token={jwt}")).await;
    assert_eq!(
        oauth_error(&unauthenticated, StatusCode::UNAUTHORIZED),
        "invalid_client"
    );

    let revoked = form(
        server,
        "/v1/oauth/revoke",
        &[],
        &format!("token={jwt}&token_type_hint=access_token&{}", mine.post()),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert_eq!(
        introspect(&mine, jwt.clone()).await.json(),
        json!({"active": false})
    );
    let garbage = form(
        server,
        "/v1/oauth/revoke",
        &[("authorization", &mine.basic())],
        "token=garbage",
    )
    .await;
    assert_eq!(
        garbage.status,
        StatusCode::OK,
        "RFC 7009 §2.2: an invalid token is not an error"
    );

    // A revoked token is refused as a bearer too.
    assert!(
        server
            .knogin
            .tokens()
            .check_bearer(&bearer(&jwt), "webhooks:write")
            .await
            .is_err()
    );
}

fn bearer(token: &str) -> http::Request<()> {
    http::Request::builder()
        .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
        .body(())
        .unwrap()
}

async fn metadata_describes_what_is_served(server: &TestServer) {
    let answer = server
        .send(
            Method::GET,
            "/.well-known/oauth-authorization-server",
            &[],
            Bytes::new(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let doc = answer.json();
    assert_eq!(doc["issuer"], ISSUER);
    assert_eq!(
        doc["grant_types_supported"],
        json!([
            "authorization_code",
            "client_credentials",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:token-exchange"
        ])
    );
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        json!([
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt"
        ])
    );
    for (member, path) in [
        ("authorization_endpoint", "/v1/oauth/authorize"),
        ("token_endpoint", "/v1/oauth/token"),
        ("introspection_endpoint", "/v1/oauth/introspect"),
        ("revocation_endpoint", "/v1/oauth/revoke"),
        ("jwks_uri", "/.well-known/jwks.json"),
    ] {
        let url = doc[member].as_str().unwrap();
        assert_eq!(url, format!("{ISSUER}{path}"));
        let method = if matches!(member, "jwks_uri" | "authorization_endpoint") {
            Method::GET
        } else {
            Method::POST
        };
        let answer = server.send(method, path, &[], Bytes::new()).await;
        assert_ne!(answer.status, StatusCode::NOT_FOUND, "{member} is served");
    }
}

async fn a_nul_anywhere_is_a_4xx_never_a_500(server: &TestServer) {
    let nul = "grant_type=client_credentials&client_id=%00&client_secret=x";
    for path in [
        "/v1/oauth/token",
        "/v1/oauth/introspect",
        "/v1/oauth/revoke",
    ] {
        let answer = form(server, path, &[], &format!("{nul}&token=x")).await;
        assert_eq!(
            oauth_error(&answer, StatusCode::BAD_REQUEST),
            "invalid_request"
        );
    }
    // In HTTP Basic the id is no app id: a failed authentication, like any unknown client.
    let basic = format!("Basic {}", STANDARD.encode("%00:x"));
    let answer = token(
        server,
        &[("authorization", &basic)],
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(
        oauth_error(&answer, StatusCode::UNAUTHORIZED),
        "invalid_client"
    );
    // A sign-in name and a path id.
    let login = form(server, "/v1/oauth/login", &[], "username=%00&password=x").await;
    assert_eq!(login.status, StatusCode::BAD_REQUEST, "{}", login.text());
    let token = server.access_token("acme", &["webhooks:read"]).await;
    let path = server.get("/v1/webhooks/wh_%00", &token).await;
    assert_eq!(path.status, StatusCode::NOT_FOUND);
}
