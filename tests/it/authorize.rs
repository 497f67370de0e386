//! The authorization endpoint over HTTP with the built-in login: every refusal (a page before the
//! client is trusted, a redirect after), the whole flow from login to a verified token, remembered
//! consent, denial, CSRF and single use of the forms, and the sign-in limits per user and per
//! address, on every adapter and database.

use std::time::Duration;

use http::StatusCode;
use knogin::core::TenantId;
use knogin::core::audit::{Actor, AuditEvent, AuditKind, AuditOutcome};

use crate::code_flow::{App, CALLBACK, CHALLENGE, active, delegated_app, form_encode, redeem};
use crate::oauth::verify_with_jwks;
use crate::support::{ISSUER, TestResponse, TestServer, matrix};
use crate::user_agent::{UserAgent, csrf_token, login_fields, redirect_params};

matrix!(
    untrusted_requests_get_an_error_page_and_no_redirect,
    other_refusals_redirect_with_state_and_iss,
    a_user_signs_in_consents_and_the_code_becomes_a_verified_token,
    consent_is_remembered_and_a_denial_answers_access_denied,
    forms_are_bound_to_their_browser_and_user_and_used_once,
    failed_sign_ins_are_limited_per_user_and_per_address,
    a_user_of_another_tenant_is_denied_even_with_a_remembered_consent,
    parallel_guesses_cost_at_most_the_limit_in_password_checks,
    signing_out_ends_the_session_everywhere,
    anonymous_visitors_write_nothing,
    a_burst_of_sign_ins_beyond_the_bound_is_told_to_come_back,
    behind_a_trusted_proxy_each_visitor_has_its_own_address_limit,
);

/// The authorize path for `app` with `extra` parameters after the usual ones.
fn authorize(app: &App, extra: &str) -> String {
    format!(
        "/v1/oauth/authorize?response_type=code&client_id={}&redirect_uri={}&state=s%20t%26ate{extra}",
        app.id,
        form_encode(CALLBACK)
    )
}

/// With PKCE, as the app's governance requires by default.
fn authorize_pkce(app: &App, extra: &str) -> String {
    authorize(
        app,
        &format!("&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}"),
    )
}

/// Asserts an HTML page with `status`, served with the anti-framing headers, and no redirect.
fn assert_page(answer: &TestResponse, status: StatusCode) {
    assert_eq!(answer.status, status, "{}", answer.text());
    assert_eq!(answer.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(answer.header("x-frame-options"), "DENY");
    assert!(
        answer
            .header("content-security-policy")
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(answer.header("cache-control"), "no-store");
    assert_eq!(answer.header("location"), "");
}

/// Asserts a redirect to the callback with `error`, the request's `state` and `iss`.
fn assert_error_redirect(answer: &TestResponse, error: &str) {
    assert_eq!(answer.status, StatusCode::FOUND, "{}", answer.text());
    assert!(answer.header("location").starts_with(CALLBACK));
    let params = redirect_params(answer);
    assert_eq!(params["error"], error, "{params:?}");
    assert!(!params["error_description"].is_empty());
    assert_eq!(params["state"], "s t&ate");
    assert_eq!(params["iss"], ISSUER);
}

async fn untrusted_requests_get_an_error_page_and_no_redirect(server: &TestServer) {
    let app = delegated_app(server).await;
    let mut browser = UserAgent::default();
    let callback = form_encode(CALLBACK);
    for path in [
        format!("/v1/oauth/authorize?response_type=code&redirect_uri={callback}"),
        format!(
            "/v1/oauth/authorize?client_id=app_00000000000000000000000000000000&redirect_uri={callback}"
        ),
        format!("/v1/oauth/authorize?client_id=not-an-id&redirect_uri={callback}"),
        format!(
            "/v1/oauth/authorize?client_id={}&client_id={}&redirect_uri={callback}",
            app.id, app.id
        ),
        format!("/v1/oauth/authorize?client_id={}", app.id),
        format!(
            "/v1/oauth/authorize?client_id={}&redirect_uri={callback}&redirect_uri={callback}",
            app.id
        ),
        // Byte for byte: no prefix, suffix, case or trailing-slash variant matches.
        format!(
            "/v1/oauth/authorize?client_id={}&redirect_uri={}",
            app.id,
            form_encode("https://integrator.example/callback/")
        ),
        format!(
            "/v1/oauth/authorize?client_id={}&redirect_uri={}",
            app.id,
            form_encode("https://integrator.example/call")
        ),
        format!(
            "/v1/oauth/authorize?client_id={}&redirect_uri={}",
            app.id,
            form_encode("https://INTEGRATOR.example/callback")
        ),
        format!(
            "/v1/oauth/authorize?client_id={}&redirect_uri={}",
            app.id,
            form_encode("https://evil.example/callback")
        ),
    ] {
        let answer = browser.get(server, &path).await;
        assert_page(&answer, StatusCode::BAD_REQUEST);
        assert!(!answer.text().contains("Sign in"), "{path}");
    }
    // Markup in a parameter is escaped on the page.
    let answer = browser
        .get(server, "/v1/oauth/authorize?client_id=%3Cscript%3E")
        .await;
    assert_page(&answer, StatusCode::BAD_REQUEST);
    assert!(!answer.text().contains("<script>"));
}

async fn other_refusals_redirect_with_state_and_iss(server: &TestServer) {
    let app = delegated_app(server).await;
    // No cookie: each refusal comes before any login.
    let mut browser = UserAgent::default();
    let base = authorize(&app, "").replace("response_type=code&", "");
    for (path, error) in [
        (base.clone(), "invalid_request"),
        (
            format!("{base}&response_type=token"),
            "unsupported_response_type",
        ),
        (
            authorize_pkce(&app, "&scope=incidents:read"),
            "invalid_scope",
        ),
        (
            authorize_pkce(&app, "&scope=webhooks:read&scope=webhooks:write"),
            "invalid_request",
        ),
        (
            authorize(
                &app,
                &format!("&code_challenge={CHALLENGE}&code_challenge_method=plain"),
            ),
            "invalid_request",
        ),
        (
            authorize(&app, &format!("&code_challenge={CHALLENGE}")),
            "invalid_request",
        ),
        (
            authorize(&app, "&code_challenge=short&code_challenge_method=S256"),
            "invalid_request",
        ),
        (
            authorize(&app, "&code_challenge_method=S256"),
            "invalid_request",
        ),
        // enforce_pkce is on by default: no challenge is refused before login.
        (authorize(&app, ""), "invalid_request"),
    ] {
        let answer = browser.get(server, &path).await;
        assert_error_redirect(&answer, error);
        assert_eq!(answer.header("set-cookie"), "", "{path}");
    }
}

/// Signs `user` in from the authorize request `path` and returns the consent page.
async fn consent_page(
    server: &TestServer,
    browser: &mut UserAgent,
    path: &str,
    user: &str,
    password: &str,
) -> TestResponse {
    let login = browser.get(server, path).await;
    assert_page(&login, StatusCode::OK);
    assert!(login.text().contains(r#"name="username""#));
    assert!(login.text().contains(r#"name="password""#));
    let consent = browser.sign_in(server, &login, user, password).await;
    assert_page(&consent, StatusCode::OK);
    consent
}

async fn a_user_signs_in_consents_and_the_code_becomes_a_verified_token(server: &TestServer) {
    let app = delegated_app(server).await;
    let mut browser = UserAgent::default();
    let path = authorize_pkce(&app, "&scope=webhooks:read");
    let login = browser.get(server, &path).await;
    // A wrong password shows the form again, with the error announced and the name kept.
    let body = format!("{}&username=alice&password=wrong", login_fields(&login));
    let again = browser.post(server, "/v1/oauth/login", &body).await;
    assert_page(&again, StatusCode::OK);
    assert!(again.text().contains(r#"role="alert""#));
    assert!(again.text().contains(r#"value="alice""#));
    let consent = browser.sign_in(server, &again, "alice", "wonderland").await;
    assert_page(&consent, StatusCode::OK);
    let page = consent.text();
    assert!(page.contains("Delegated") && page.contains("webhooks:read"));
    assert!(page.contains(r#"name="decision" value="approve""#));
    assert!(page.contains(r#"name="decision" value="deny""#));

    let body = format!("csrf_token={}&decision=approve", csrf_token(&consent));
    let approved = browser.post(server, "/v1/oauth/authorize", &body).await;
    assert_eq!(
        approved.status,
        StatusCode::SEE_OTHER,
        "{}",
        approved.text()
    );
    let params = redirect_params(&approved);
    assert_eq!(
        (params["state"].as_str(), params["iss"].as_str()),
        ("s t&ate", ISSUER)
    );

    let token = redeem(server, &app, &params["code"]).await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.text());
    let token = token.json();
    assert_eq!(token["scope"], "webhooks:read");
    let access = token["access_token"].as_str().unwrap();
    let (claims, _) = verify_with_jwks(server, access).await;
    assert_eq!(claims["sub"], "alice");
    assert_eq!(
        (claims["client_id"].as_str(), claims["tenant"].as_str()),
        (Some(app.id.as_str()), Some("acme"))
    );
    assert!(active(server, &app, access).await);
    // The code was used up.
    assert_eq!(
        redeem(server, &app, &params["code"]).await.status,
        StatusCode::BAD_REQUEST
    );

    // The audit trail: the wrong password, the sign-in, the consent and the token.
    let alice = Actor::User("alice".into());
    let failed = server.audited(AuditKind::SignInFailed);
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (&failed[0].actor, failed[0].outcome),
        (&alice, AuditOutcome::Failure)
    );
    assert_eq!(
        failed[0].detail("reason"),
        Some("wrong_username_or_password")
    );
    let signed_in = server.audited(AuditKind::SignInSucceeded);
    assert_eq!(signed_in.len(), 1);
    assert_eq!(signed_in[0].actor, alice);
    let granted = server.audited(AuditKind::ConsentGranted);
    assert_eq!(granted.len(), 1);
    assert_eq!(granted[0].actor, alice);
    assert_eq!(
        granted[0].tenant.as_ref().map(TenantId::as_str),
        Some("acme")
    );
    assert_eq!(granted[0].client_id.as_deref(), Some(app.id.as_str()));
    assert_eq!(granted[0].detail("scope"), Some("webhooks:read"));
    let issued = server.audited(AuditKind::TokenIssued);
    assert_eq!(issued.len(), 1, "the replayed code issued nothing");
    assert_eq!(issued[0].detail("grant_type"), Some("authorization_code"));
    for event in server.audit.events() {
        let line = event.to_json();
        assert!(
            !line.contains("wonderland") && !line.contains(access),
            "{line}"
        );
    }
}

async fn consent_is_remembered_and_a_denial_answers_access_denied(server: &TestServer) {
    let app = delegated_app(server).await;
    let mut browser = UserAgent::default();
    let read = authorize_pkce(&app, "&scope=webhooks:read");
    let consent = consent_page(server, &mut browser, &read, "alice", "wonderland").await;
    let body = format!("csrf_token={}&decision=approve", csrf_token(&consent));
    browser.post(server, "/v1/oauth/authorize", &body).await;
    // The same scopes again: answered at once, no page.
    let at_once = browser.get(server, &read).await;
    assert_eq!(at_once.status, StatusCode::FOUND, "{}", at_once.text());
    assert!(redirect_params(&at_once).contains_key("code"));
    // A wider request asks again; denying it answers access_denied.
    let wider = authorize_pkce(&app, "&scope=webhooks:read%20webhooks:write");
    let consent = browser.get(server, &wider).await;
    assert_page(&consent, StatusCode::OK);
    let body = format!("csrf_token={}&decision=deny", csrf_token(&consent));
    let denied = browser.post(server, "/v1/oauth/authorize", &body).await;
    assert_eq!(denied.status, StatusCode::SEE_OTHER);
    let params = redirect_params(&denied);
    assert_eq!(params["error"], "access_denied");
    assert_eq!(
        (params["state"].as_str(), params["iss"].as_str()),
        ("s t&ate", ISSUER)
    );
    assert!(!params.contains_key("code"));
    let denied = server.audited(AuditKind::ConsentDenied);
    assert_eq!(denied.len(), 1);
    assert_eq!(
        (&denied[0].actor, denied[0].client_id.as_deref()),
        (&Actor::User("alice".into()), Some(app.id.as_str()))
    );
    assert_eq!(
        denied[0].detail("scope"),
        Some("webhooks:read webhooks:write")
    );
    assert_eq!(server.audited(AuditKind::ConsentGranted).len(), 1);
}

async fn forms_are_bound_to_their_browser_and_user_and_used_once(server: &TestServer) {
    let app = delegated_app(server).await;
    let path = authorize_pkce(&app, "");
    // A login form posted without its cookie, or twice, is refused.
    let mut browser = UserAgent::default();
    let login = browser.get(server, &path).await;
    let body = format!(
        "{}&username=alice&password=wonderland",
        login_fields(&login)
    );
    let mut elsewhere = UserAgent::default();
    assert_page(
        &elsewhere.post(server, "/v1/oauth/login", &body).await,
        StatusCode::BAD_REQUEST,
    );
    let signed_in = browser.post(server, "/v1/oauth/login", &body).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    let mut replay = UserAgent::default();
    replay.get(server, &path).await;
    assert_page(
        &replay.post(server, "/v1/oauth/login", &body).await,
        StatusCode::BAD_REQUEST,
    );

    // A consent form answers once, for the user it was shown to, with a decision.
    let consent = browser.get(server, &path).await;
    let token = csrf_token(&consent);
    let mut bob = UserAgent::default();
    let bobs = consent_page(server, &mut bob, &path, "bob", "the builder").await;
    let stolen = format!("csrf_token={token}&decision=approve");
    assert_page(
        &bob.post(server, "/v1/oauth/authorize", &stolen).await,
        StatusCode::BAD_REQUEST,
    );
    // Bob's attempt used alice's form up.
    assert_page(
        &browser.post(server, "/v1/oauth/authorize", &stolen).await,
        StatusCode::BAD_REQUEST,
    );
    let undecided = format!("csrf_token={}", csrf_token(&bobs));
    assert_page(
        &bob.post(server, "/v1/oauth/authorize", &undecided).await,
        StatusCode::BAD_REQUEST,
    );
    let decided = format!("csrf_token={}&decision=approve", csrf_token(&bobs));
    assert_eq!(
        bob.post(server, "/v1/oauth/authorize", &decided)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_page(
        &bob.post(server, "/v1/oauth/authorize", &decided).await,
        StatusCode::BAD_REQUEST,
    );
    // Without a session, the consent answer gets the login page.
    bob.drop_cookie("__Secure-knogin_session");
    let login = bob.post(server, "/v1/oauth/authorize", &decided).await;
    assert_page(&login, StatusCode::OK);
    assert!(login.text().contains(r#"name="password""#));
}

/// Posts a wrong password for `user` from a fresh login form.
async fn fail_sign_in(server: &TestServer, path: &str, user: &str) -> TestResponse {
    let mut browser = UserAgent::default();
    let login = browser.get(server, path).await;
    let body = format!("{}&username={user}&password=nope", login_fields(&login));
    browser.post(server, "/v1/oauth/login", &body).await
}

async fn failed_sign_ins_are_limited_per_user_and_per_address(server: &TestServer) {
    let app = delegated_app(server).await;
    let path = authorize_pkce(&app, "");
    for _ in 0..5 {
        assert_eq!(
            fail_sign_in(server, &path, "alice").await.status,
            StatusCode::OK
        );
    }
    // Locked: even the right password is not tried.
    let mut browser = UserAgent::default();
    let login = browser.get(server, &path).await;
    let body = format!(
        "{}&username=alice&password=wonderland",
        login_fields(&login)
    );
    let locked = browser.post(server, "/v1/oauth/login", &body).await;
    assert_page(&locked, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.header("retry-after").parse::<u64>().unwrap() > 0);
    assert!(locked.text().contains("Too many failed sign-ins"));
    // Bob is not locked out by alice's failures.
    let mut bob = UserAgent::default();
    consent_page(server, &mut bob, &path, "bob", "the builder").await;
    // When the window has passed, alice signs in.
    server.clock.advance(Duration::from_secs(901));
    let mut browser = UserAgent::default();
    consent_page(server, &mut browser, &path, "alice", "wonderland").await;

    // 20 failures from one address, under any names, lock the address.
    for n in 0..20 {
        assert_eq!(
            fail_sign_in(server, &path, &format!("guess{n}"))
                .await
                .status,
            StatusCode::OK
        );
    }
    let locked = fail_sign_in(server, &path, "someone-else").await;
    assert_page(&locked, StatusCode::TOO_MANY_REQUESTS);

    // Each refusal is audited with its reason; a name that is no user's is not written down.
    let failed = server.audited(AuditKind::SignInFailed);
    let with_reason = |reason: &str| -> Vec<_> {
        let of = |e: &&AuditEvent| e.detail("reason") == Some(reason);
        failed.iter().filter(of).collect()
    };
    assert_eq!(with_reason("wrong_username_or_password").len(), 25);
    let limited = with_reason("rate_limited");
    assert_eq!(limited.len(), 2);
    assert_eq!(limited[0].actor, Actor::User("alice".into()));
    assert_eq!(limited[1].actor, Actor::User(String::new()));
    assert!(failed.iter().all(|e| e.detail("from") == Some("127.0.0.1")));
    assert!(!failed.iter().any(|e| e.to_json().contains("guess")));
}

async fn a_user_of_another_tenant_is_denied_even_with_a_remembered_consent(server: &TestServer) {
    let app = delegated_app(server).await;
    let path = authorize_pkce(&app, "&scope=webhooks:read");
    // A consent remembered for the name mallory within acme (say, before mallory left acme).
    let query = path.split_once('?').unwrap().1;
    let acme = knogin::core::TenantId::parse("acme").unwrap();
    let member = knogin::core::http::SignedInUser::new("mallory", [acme]);
    knogin::core::testing::remember_consent(&server.knogin, query, &member)
        .await
        .unwrap();

    // mallory is a member of globex only: signed in, they are sent back with access_denied.
    let mut browser = UserAgent::default();
    let login = browser.get(server, &path).await;
    let answer = browser.sign_in(server, &login, "mallory", "not acme").await;
    assert_error_redirect(&answer, "access_denied");
    assert!(!redirect_params(&answer).contains_key("code"));
    // A consent form for an acme member cannot be answered by mallory either.
    let mut alice = UserAgent::default();
    let consent = consent_page(server, &mut alice, &path, "alice", "wonderland").await;
    let body = format!("csrf_token={}&decision=approve", csrf_token(&consent));
    let stolen = browser.post(server, "/v1/oauth/authorize", &body).await;
    assert_page(&stolen, StatusCode::BAD_REQUEST);
}

async fn parallel_guesses_cost_at_most_the_limit_in_password_checks(server: &TestServer) {
    let app = delegated_app(server).await;
    let path = authorize_pkce(&app, "");
    // Eight forms, fetched first; then wrong guesses for alice four at a time (as many as
    // password checks may run at once on two cores).
    let mut posts = Vec::new();
    for _ in 0..8 {
        let mut browser = UserAgent::default();
        let login = browser.get(server, &path).await;
        let body = format!("{}&username=alice&password=guess", login_fields(&login));
        posts.push((browser, body));
    }
    let mut statuses = Vec::new();
    for round in posts.chunks_mut(4) {
        let answers = futures_util::future::join_all(
            round
                .iter_mut()
                .map(|(browser, body)| browser.post(server, "/v1/oauth/login", body)),
        )
        .await;
        statuses.extend(answers.iter().map(|a| a.status));
    }
    let checked = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((checked, limited), (5, 3), "{statuses:?}");
    // The right password is refused too until the window ends.
    let mut browser = UserAgent::default();
    let login = browser.get(server, &path).await;
    let body = format!(
        "{}&username=alice&password=wonderland",
        login_fields(&login)
    );
    let locked = browser.post(server, "/v1/oauth/login", &body).await;
    assert_page(&locked, StatusCode::TOO_MANY_REQUESTS);
}

async fn signing_out_ends_the_session_everywhere(server: &TestServer) {
    let app = delegated_app(server).await;
    let path = authorize_pkce(&app, "");
    let mut browser = UserAgent::default();
    consent_page(server, &mut browser, &path, "alice", "wonderland").await;
    // A copy of the session cookie, as another tab or a thief would hold it.
    let mut copy = browser.clone();
    let out = browser.post(server, "/v1/oauth/logout", "").await;
    assert_page(&out, StatusCode::OK);
    assert!(out.text().contains("signed out"), "{}", out.text());
    assert!(out.header("set-cookie").contains("Max-Age=0"));
    for agent in [&mut browser, &mut copy] {
        let again = agent.get(server, &path).await;
        assert_page(&again, StatusCode::OK);
        assert!(
            again.text().contains(r#"name="password""#),
            "asked to sign in again"
        );
    }
}

async fn anonymous_visitors_write_nothing(server: &TestServer) {
    let app = delegated_app(server).await;
    let path = authorize_pkce(&app, "");
    let before = server.flow_states().await;
    for _ in 0..20 {
        let login = UserAgent::default().get(server, &path).await;
        assert_page(&login, StatusCode::OK);
    }
    assert_eq!(
        server.flow_states().await,
        before,
        "showing a login form stores nothing"
    );
    // A form whose return request was changed does not verify.
    let mut browser = UserAgent::default();
    let login = browser.get(server, &path).await;
    let tampered = login_fields(&login).replace("client_id", "client_x");
    let body = format!("{tampered}&username=alice&password=wonderland");
    assert_page(
        &browser.post(server, "/v1/oauth/login", &body).await,
        StatusCode::BAD_REQUEST,
    );
}

async fn a_burst_of_sign_ins_beyond_the_bound_is_told_to_come_back(server: &TestServer) {
    let app = delegated_app(server).await;
    let path = authorize_pkce(&app, "");
    // Sixteen forms for sixteen names (no per-user limit in the way), posted at once: at most
    // four password checks run, the others are answered 503 with Retry-After and not checked.
    let mut posts = Vec::new();
    for n in 0..16 {
        let mut browser = UserAgent::default();
        let login = browser.get(server, &path).await;
        let body = format!("{}&username=guest{n}&password=guess", login_fields(&login));
        posts.push((browser, body));
    }
    let answers = futures_util::future::join_all(
        posts
            .iter_mut()
            .map(|(browser, body)| browser.post(server, "/v1/oauth/login", body)),
    )
    .await;
    let busy: Vec<&TestResponse> = answers
        .iter()
        .filter(|a| a.status == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(
        answers
            .iter()
            .all(|a| a.status == StatusCode::OK || a.status == StatusCode::SERVICE_UNAVAILABLE),
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    assert!(
        !busy.is_empty(),
        "sixteen argon2 checks at once were all let through"
    );
    for answer in busy {
        assert_page(answer, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(answer.header("retry-after"), "1");
    }
}

async fn behind_a_trusted_proxy_each_visitor_has_its_own_address_limit(server: &TestServer) {
    let app = delegated_app(server).await;
    let path = authorize_pkce(&app, "");
    // The test server trusts loopback as its proxy: X-Forwarded-For names the visitor.
    let guess = |from: &'static str, n: usize| {
        let path = path.clone();
        async move {
            let mut browser = UserAgent::default();
            let login = browser.get(server, &path).await;
            let body = format!("{}&username=name{n}&password=guess", login_fields(&login));
            browser
                .post_with(
                    server,
                    "/v1/oauth/login",
                    &[("x-forwarded-for", from)],
                    &body,
                )
                .await
                .status
        }
    };
    for n in 0..20 {
        assert_eq!(guess("192.0.2.1", n).await, StatusCode::OK);
    }
    assert_eq!(guess("192.0.2.1", 20).await, StatusCode::TOO_MANY_REQUESTS);
    // Another visitor behind the same proxy is not locked out by the first one's failures.
    assert_eq!(guess("192.0.2.2", 21).await, StatusCode::OK);
}
