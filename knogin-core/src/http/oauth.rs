//! The OAuth routes: the token endpoint, introspection, revocation and the authorization server
//! metadata. Each handler parses, calls one operation on [`Knogin`](crate::Knogin), and renders.

use std::marker::PhantomData;

use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use serde::Serialize;

use super::access::{AuthenticatedClient, client, public};
use super::body::Form;
use super::ctx::Ctx;
use super::docs::content::{Audience, Host, PUBLIC, Section};
use super::error::ApiError;
use super::table::{Row, route};
use super::{Reply, ResponseBody, json_bytes, json_no_store, no_store};
use crate::apps::TOKEN_EXCHANGE;
use crate::audit::{Actor, AuditKind, Recording};
use crate::metrics;
use crate::oauth::{self, ACCESS_TOKEN_TYPE, Exchange, GrantError, IntrospectionBody, Metadata};
use crate::secret::RefreshToken;
use crate::token::DPOP_NONCE_HEADER;

/// The OAuth routes.
pub(super) fn routes() -> Vec<Row> {
    vec![
        route!(POST "/v1/oauth/token"                         => client(token),      OAuth,   "Exchange or mint access tokens")
            .form::<TokenRequest>()
            .answers::<TokenResponse>(StatusCode::OK),
        route!(POST "/v1/oauth/introspect"                    => client(introspect), OAuth,   "Introspect a token (RFC 7662)")
            .form::<TokenAction>()
            .answers::<IntrospectionBody>(StatusCode::OK),
        route!(POST "/v1/oauth/revoke"                        => client(revoke),     OAuth,   "Revoke a token (RFC 7009)")
            .form::<TokenAction>()
            .answers_plain(StatusCode::OK, None),
        route!(POST "/v1/oauth/par"                           => client(par),        OAuth,   "Push an authorization request (RFC 9126)")
            .form::<PushedAuthorizationRequest>()
            .answers::<PushedAuthorizationResponse>(StatusCode::CREATED),
        route!(GET  "/.well-known/oauth-authorization-server" => public(metadata),   Problem, "Authorization server metadata (RFC 8414)")
            .answers::<Metadata>(StatusCode::OK),
    ]
}

/// The required parameter `name`, or `invalid_request` naming it.
fn required<'f>(form: &'f Form, name: &str) -> Result<&'f str, ApiError> {
    Ok(oauth::required(form.get(name), name)?)
}

/// A token request (RFC 6749 §4.1.3, §4.4.2, §6), form-encoded. The client authenticates with
/// HTTP Basic, with `client_id` and `client_secret` here, or with a signed `client_assertion`
/// (`private_key_jwt`, RFC 7523). A `DPoP` header with a proof (RFC 9449) binds the token to
/// the proof's key.
#[derive(utoipa::ToSchema)]
struct TokenRequest<'f> {
    /// `client_credentials`, `authorization_code` or `refresh_token`.
    grant_type: &'f str,
    // The client-authentication guard reads these two: here they are in the schema only.
    /// `client_secret_post`: the client id.
    #[schema(value_type = Option<String>)]
    client_id: PhantomData<&'f str>,
    /// `client_secret_post`: the client secret.
    #[schema(value_type = Option<String>)]
    client_secret: PhantomData<&'f str>,
    /// `private_key_jwt`: `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`.
    #[schema(value_type = Option<String>)]
    client_assertion_type: PhantomData<&'f str>,
    /// `private_key_jwt`: a JWT signed by one of the app's registered keys (RFC 7523 §2.2).
    #[schema(value_type = Option<String>)]
    client_assertion: PhantomData<&'f str>,
    /// The scopes asked for, space-separated (`client_credentials`, `refresh_token`).
    scope: Option<&'f str>,
    /// The resource server the token is for (RFC 8707).
    resource: Option<&'f str>,
    /// `authorization_code`: the code.
    code: Option<&'f str>,
    /// `authorization_code`: the redirect URI of the authorization request.
    redirect_uri: Option<&'f str>,
    /// `authorization_code`: the PKCE verifier (RFC 7636).
    code_verifier: Option<&'f str>,
    /// `refresh_token`: the refresh token.
    refresh_token: Option<&'f str>,
    /// Token exchange (RFC 8693): the token to exchange, an access token of this issuer.
    subject_token: Option<&'f str>,
    /// Token exchange: `urn:ietf:params:oauth:token-type:access_token` (or `…:jwt`).
    subject_token_type: Option<&'f str>,
    /// Token exchange: a token of the party acting for the subject, if not the client.
    actor_token: Option<&'f str>,
    /// Token exchange: the type of `actor_token`, as `subject_token_type`.
    actor_token_type: Option<&'f str>,
    /// Token exchange: `urn:ietf:params:oauth:token-type:access_token`, the only kind issued.
    requested_token_type: Option<&'f str>,
    /// Token exchange: the server the token is for, as `resource` (one of the two).
    audience: Option<&'f str>,
}

impl<'f> TokenRequest<'f> {
    /// The request's parameters (the client's credentials were read by its guard).
    fn read(form: &'f Form) -> Result<Self, ApiError> {
        Ok(Self {
            grant_type: required(form, "grant_type")?,
            client_id: PhantomData,
            client_secret: PhantomData,
            client_assertion_type: PhantomData,
            client_assertion: PhantomData,
            scope: form.get("scope"),
            resource: form.get("resource"),
            code: form.get("code"),
            redirect_uri: form.get("redirect_uri"),
            code_verifier: form.get("code_verifier"),
            refresh_token: form.get("refresh_token"),
            subject_token: form.get("subject_token"),
            subject_token_type: form.get("subject_token_type"),
            actor_token: form.get("actor_token"),
            actor_token_type: form.get("actor_token_type"),
            requested_token_type: form.get("requested_token_type"),
            audience: form.get("audience"),
        })
    }
}

/// An access token (RFC 6749 §5.1).
#[derive(utoipa::ToSchema)]
struct TokenResponse<'a> {
    /// The access token, a JWT (RFC 9068).
    access_token: &'a str,
    /// `Bearer`, or `DPoP` for a token bound to the key of the request's `DPoP` proof
    /// (RFC 9449 §5): present that one as `Authorization: DPoP` with a proof of each request.
    token_type: &'static str,
    /// Its lifetime in seconds.
    expires_in: u64,
    /// The scopes it carries, space-separated.
    scope: String,
    /// Token exchange (RFC 8693 §2.2.1): `urn:ietf:params:oauth:token-type:access_token`.
    issued_token_type: Option<&'static str>,
    /// A refresh token (`authorization_code` and `refresh_token` grants).
    refresh_token: Option<&'a str>,
}

impl TokenResponse<'_> {
    /// The answer's JSON, without the fields it has not.
    fn to_json(&self) -> Vec<u8> {
        let mut object = crate::json::Object::with_capacity(self.access_token.len() + 160);
        object
            .str("access_token", self.access_token)
            .str("token_type", self.token_type)
            .u64("expires_in", self.expires_in)
            .str("scope", &self.scope);
        if let Some(issued) = self.issued_token_type {
            object.str("issued_token_type", issued);
        }
        if let Some(refresh) = self.refresh_token {
            object.str("refresh_token", refresh);
        }
        object.finish()
    }
}

/// A token to introspect (RFC 7662 §2.1) or revoke (RFC 7009 §2.1), form-encoded.
#[derive(utoipa::ToSchema)]
struct TokenAction<'f> {
    /// The token.
    token: &'f str,
    // RFC 7009 §2.1: the token is found without it, so it is in the schema only.
    /// `access_token` or `refresh_token`; a hint only, the token is looked up anyway.
    #[schema(value_type = Option<String>)]
    token_type_hint: PhantomData<&'f str>,
    // The client-authentication guard reads these two: here they are in the schema only.
    /// `client_secret_post`: the client id.
    #[schema(value_type = Option<String>)]
    client_id: PhantomData<&'f str>,
    /// `client_secret_post`: the client secret.
    #[schema(value_type = Option<String>)]
    client_secret: PhantomData<&'f str>,
    /// `private_key_jwt`: `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`.
    #[schema(value_type = Option<String>)]
    client_assertion_type: PhantomData<&'f str>,
    /// `private_key_jwt`: a JWT signed by one of the app's registered keys (RFC 7523 §2.2).
    #[schema(value_type = Option<String>)]
    client_assertion: PhantomData<&'f str>,
}

impl<'f> TokenAction<'f> {
    /// The request's parameters (the client's credentials were read by its guard).
    fn read(form: &'f Form) -> Result<Self, ApiError> {
        Ok(Self {
            token: required(form, "token")?,
            token_type_hint: PhantomData,
            client_id: PhantomData,
            client_secret: PhantomData,
            client_assertion_type: PhantomData,
            client_assertion: PhantomData,
        })
    }
}

/// An authorization request pushed by its client (RFC 9126 §2.1), form-encoded: the parameters
/// of `GET /v1/oauth/authorize`, checked the same way, with the client's authentication.
#[derive(utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "the schema of a form the handler reads as it comes"
)]
struct PushedAuthorizationRequest {
    /// `code`.
    response_type: String,
    /// The client; optional here, as the client authenticated (it must match).
    client_id: Option<String>,
    /// One of the client's registered redirect URIs, byte for byte.
    redirect_uri: String,
    /// The scopes asked for, space-separated (default: every scope the app was approved for).
    scope: Option<String>,
    /// Returned unchanged with the answer.
    state: Option<String>,
    /// The PKCE challenge (RFC 7636), required unless the app's governance says otherwise.
    code_challenge: Option<String>,
    /// `S256`.
    code_challenge_method: Option<String>,
    /// The resource server the tokens are for (RFC 8707).
    resource: Option<String>,
}

/// A stored pushed request (RFC 9126 §2.2).
#[derive(Serialize, utoipa::ToSchema)]
struct PushedAuthorizationResponse {
    /// Send the browser to `/v1/oauth/authorize?client_id=…&request_uri=…` with it, once.
    request_uri: String,
    /// How long it waits for the browser, in seconds.
    expires_in: u64,
}

/// An audit event of `kind` by the authenticated `client`, in its tenant, about itself.
fn client_audit<'a>(ctx: &'a Ctx, kind: AuditKind, client: &AuthenticatedClient) -> Recording<'a> {
    let app = &client.app;
    ctx.core
        .audit(kind, Actor::Client(app.client_id.to_string()))
        .tenant(&app.tenant_id)
        .client(app.client_id.as_str())
}

async fn token(mut ctx: Ctx, client: AuthenticatedClient) -> Reply {
    let form = ctx.form().await?;
    let request = TokenRequest::read(&form)?;
    let dpop_jkt = ctx.core.token_binding(&client.app, &ctx.parts).await?;
    let token_type = if dpop_jkt.is_some() { "DPoP" } else { "Bearer" };
    // The grant type as a static label, for the metrics and the audit trail.
    let (grant_type, issued) = match request.grant_type {
        "client_credentials" => (
            "client_credentials",
            ctx.core
                .client_credentials(&client.app, request.scope, request.resource, dpop_jkt)
                .await?,
        ),
        "authorization_code" => (
            "authorization_code",
            ctx.core
                .redeem_code(
                    &client.app,
                    request.code,
                    request.redirect_uri,
                    request.code_verifier,
                    request.resource,
                    dpop_jkt,
                )
                .await?,
        ),
        "refresh_token" => (
            "refresh_token",
            ctx.core
                .refresh_grant(
                    &client.app,
                    request.refresh_token,
                    request.scope,
                    request.resource,
                    dpop_jkt,
                )
                .await?,
        ),
        TOKEN_EXCHANGE => (
            TOKEN_EXCHANGE,
            ctx.core
                .exchange_token(
                    &client.app,
                    &Exchange {
                        subject_token: request.subject_token,
                        subject_token_type: request.subject_token_type,
                        actor_token: request.actor_token,
                        actor_token_type: request.actor_token_type,
                        requested_token_type: request.requested_token_type,
                        scope: request.scope,
                        resource: request.resource,
                        audience: request.audience,
                    },
                    dpop_jkt,
                )
                .await?,
        ),
        other => return Err(GrantError::UnsupportedGrantType(other.to_owned()).into()),
    };
    let alg = issued.token.algorithm().as_str();
    metrics::token_issued(grant_type, alg);
    client_audit(&ctx, AuditKind::TokenIssued, &client)
        .detail("grant_type", grant_type)
        .detail("jti", issued.token.jti())
        .detail("alg", alg)
        .detail("token_type", token_type)
        .detail("scope", issued.scopes.to_string())
        .detail(
            "refresh_token_issued",
            issued.refresh_token.is_some().to_string(),
        )
        .record();
    let answer = TokenResponse {
        access_token: issued.token.expose(),
        token_type,
        expires_in: issued.expires_in.as_secs(),
        scope: issued.scopes.to_string(),
        refresh_token: issued.refresh_token.as_ref().map(RefreshToken::expose),
        issued_token_type: (grant_type == TOKEN_EXCHANGE).then_some(ACCESS_TOKEN_TYPE),
    };
    let mut response = no_store(json_bytes(StatusCode::OK, answer.to_json()));
    if let Some(nonce) = ctx
        .core
        .dpop_nonce()
        .and_then(|n| HeaderValue::from_str(&n).ok())
    {
        response.headers_mut().insert(DPOP_NONCE_HEADER, nonce);
    }
    Ok(response)
}

async fn par(mut ctx: Ctx, client: AuthenticatedClient) -> Reply {
    let form = ctx.form().await?;
    let params: Vec<(&str, &str)> = form.pairs().collect();
    let pushed = ctx
        .core
        .push_authorization_request(&client.app, &params)
        .await?;
    Ok(json_no_store(
        StatusCode::CREATED,
        &PushedAuthorizationResponse {
            request_uri: pushed.request_uri,
            expires_in: pushed.expires_in.as_secs(),
        },
    ))
}

async fn introspect(mut ctx: Ctx, client: AuthenticatedClient) -> Reply {
    let form = ctx.form().await?;
    let action = TokenAction::read(&form)?;
    let answer = ctx.core.introspect(&client.app, action.token).await;
    Ok(json_no_store(StatusCode::OK, &answer))
}

async fn revoke(mut ctx: Ctx, client: AuthenticatedClient) -> Reply {
    let form = ctx.form().await?;
    let action = TokenAction::read(&form)?;
    // An unknown `token_type_hint` is ignored (RFC 7009 §2.1): the token is looked up anyway.
    if ctx.core.revoke_for(&client.app, action.token).await? {
        client_audit(&ctx, AuditKind::TokenRevoked, &client)
            .detail("by", "revocation_endpoint")
            .record();
    }
    let mut response = Response::new(ResponseBody::default());
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn metadata(ctx: Ctx) -> Reply {
    let mut response = Response::new(ResponseBody::new(ctx.http.metadata.clone()));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    Ok(response)
}

/// The docs section of `oauth-token`: Exchange or mint access tokens.
pub(crate) const OAUTH_TOKEN_SECTION: Section = Section {
    id: "oauth-token",
    methods: &["POST"],
    path: "/v1/oauth/token",
    title: "Exchange or mint access tokens",
    host: Host::Auth,
    auth: "OAuth auth code or client credentials",
    audience: Audience::Integrators,
    description: "Issues access tokens via authorization code or client credentials without documenting internal password or session flows.",
    notes: &[
        "Use authorization code for user-delegated access and client credentials for headless service integrations.",
        "Only request scopes that were approved during app registration.",
    ],
    request: (
        "bash",
        "curl -X POST {auth}/v1/oauth/token \\\n  -H \"Content-Type: application/x-www-form-urlencoded\" \\\n  -d \"grant_type=client_credentials&client_id=app_123&client_secret=<client-secret>&scope=webhooks:write\"",
    ),
    response: (
        "json",
        "{\n  \"access_token\": \"<jwt>\",\n  \"token_type\": \"Bearer\",\n  \"expires_in\": 3600,\n  \"scope\": \"webhooks:write\"\n}",
    ),
};

/// The docs section of `oauth-introspect`: Introspect a token (RFC 7662).
pub(crate) const OAUTH_INTROSPECT_SECTION: Section = Section {
    id: "oauth-introspect",
    methods: &["POST"],
    path: "/v1/oauth/introspect",
    title: "Introspect a token (RFC 7662)",
    host: Host::Auth,
    auth: "Client credentials",
    audience: Audience::Integrators,
    description: "Tells an authenticated client whether a token of its own tenant is active, and its claims.",
    notes: &[
        "Verify tokens locally against the JWKS where you can; introspection also sees revocations at once.",
        "A token of another tenant, expired, revoked or unknown is {\"active\": false}.",
    ],
    request: (
        "bash",
        "curl -X POST {auth}/v1/oauth/introspect \\\n  -u \"app_123:<client-secret>\" \\\n  -d \"token=<jwt>\"",
    ),
    response: (
        "json",
        "{\n  \"active\": true,\n  \"scope\": \"webhooks:write\",\n  \"client_id\": \"app_123\",\n  \"token_type\": \"Bearer\",\n  \"exp\": 1774260000\n}",
    ),
};

/// The docs section of `oauth-revoke`: Revoke a token (RFC 7009).
pub(crate) const OAUTH_REVOKE_SECTION: Section = Section {
    id: "oauth-revoke",
    methods: &["POST"],
    path: "/v1/oauth/revoke",
    title: "Revoke a token (RFC 7009)",
    host: Host::Auth,
    auth: "Client credentials",
    audience: Audience::Integrators,
    description: "Revokes an access or refresh token the client holds; every instance refuses it from its next refresh on.",
    notes: &["The answer is 200 whether or not the token was known, as RFC 7009 asks."],
    request: (
        "bash",
        "curl -X POST {auth}/v1/oauth/revoke \\\n  -u \"app_123:<client-secret>\" \\\n  -d \"token=<refresh-token>&token_type_hint=refresh_token\"",
    ),
    response: ("text", "200 OK with an empty body."),
};

/// The docs section of `oauth-par`: Push an authorization request (RFC 9126).
pub(crate) const OAUTH_PAR_SECTION: Section = Section {
    id: "oauth-par",
    methods: &["POST"],
    path: "/v1/oauth/par",
    title: "Push an authorization request (RFC 9126)",
    host: Host::Auth,
    auth: "Client credentials",
    audience: Audience::Integrators,
    description: "Takes an authorization request from its authenticated client, checks it as the authorization endpoint would, and answers a request_uri to send the browser with.",
    notes: &[
        "Then send the browser to /v1/oauth/authorize?client_id=app_123&request_uri=<request_uri>; the request_uri works once, for 90 seconds.",
        "An app whose governance sets require_pushed_authorization_requests can only start the flow this way.",
    ],
    request: (
        "bash",
        "curl -X POST {auth}/v1/oauth/par \\\n  -u \"app_123:<client-secret>\" \\\n  -d \"response_type=code&redirect_uri=https://app.example/callback&scope=webhooks:read&state=xyz&code_challenge=<S256-challenge>&code_challenge_method=S256\"",
    ),
    response: (
        "json",
        "{\n  \"request_uri\": \"urn:ietf:params:oauth:request_uri:kf_…\",\n  \"expires_in\": 90\n}",
    ),
};

/// The docs section of `oauth-metadata`: Authorization server metadata (RFC 8414).
pub(crate) const OAUTH_METADATA_SECTION: Section = Section {
    id: "oauth-metadata",
    methods: &["GET"],
    path: "/.well-known/oauth-authorization-server",
    title: "Authorization server metadata (RFC 8414)",
    host: Host::Auth,
    auth: PUBLIC,
    audience: Audience::Integrators,
    description: "Publishes the endpoints, grants, scopes and signing algorithms this server really supports, for OAuth client libraries to discover.",
    notes: &[
        "Point your OAuth library at the issuer and let it discover the endpoints instead of hard-coding them.",
    ],
    request: ("bash", "curl {auth}/.well-known/oauth-authorization-server"),
    response: (
        "json",
        "{\n  \"issuer\": \"{auth}\",\n  \"token_endpoint\": \"{auth}/v1/oauth/token\",\n  \"jwks_uri\": \"{auth}/.well-known/jwks.json\",\n  \"grant_types_supported\": [\"authorization_code\", \"client_credentials\", \"refresh_token\"]\n}",
    ),
};

#[cfg(test)]
mod tests {
    use super::TokenResponse;

    #[test]
    fn the_token_answer_is_rfc_6749_json() {
        let mut answer = TokenResponse {
            access_token: "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
            token_type: "Bearer",
            expires_in: 900,
            scope: "incidents:read webhooks:write".to_owned(),
            issued_token_type: None,
            refresh_token: None,
        };
        assert_eq!(
            String::from_utf8(answer.to_json()).unwrap(),
            r#"{"access_token":"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln","token_type":"Bearer","expires_in":900,"scope":"incidents:read webhooks:write"}"#
        );
        answer.issued_token_type = Some(crate::oauth::ACCESS_TOKEN_TYPE);
        answer.refresh_token = Some("rt_\"odd\"");
        let parsed: serde_json::Value = serde_json::from_slice(&answer.to_json()).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({
                "access_token": "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
                "token_type": "Bearer",
                "expires_in": 900,
                "scope": "incidents:read webhooks:write",
                "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                "refresh_token": "rt_\"odd\"",
            })
        );
    }
}
