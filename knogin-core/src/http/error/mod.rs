//! Everything a request can fail with, and how each route renders it.
//!
//! An [`ApiError`] owns its status, a short slug, and a detail a person can act on (the axum-core
//! rejection pattern). The route's [`ErrorFormat`] picks the renderer: RFC 9457 problem+json,
//! RFC 6749 §5.2 JSON, an HTML page, or GraphQL errors.

mod graphql;
mod html;
mod oauth;
mod problem;

use std::borrow::Cow;

use http::header::{ALLOW, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderName, HeaderValue, Method, Response, StatusCode};

pub(crate) use self::graphql::GraphQlErrors;
pub(crate) use self::oauth::OAuthError;
pub(crate) use self::problem::Problem;
pub use self::problem::{PROBLEM_JSON, not_found};
use super::access::rejection::ClientRejection;
use super::reply::ResponseBody;
use super::served::CorrelationId;
use crate::apps::AppError;
use crate::oauth::{FlowError, GrantError, PushFailure, PushRefusal, ServiceTokenError};
use crate::random;
use crate::shared::DpopFailure;
use crate::store::StoreError;
use crate::token::{DPOP_ALGORITHMS, DPOP_NONCE_HEADER, DpopRejection, Rejection};
use crate::validation::ValidationErrors;
use crate::webhooks::WebhookError;
use knogin_verifier::bearer_challenge;

/// What a handler returns: an answer, or the error to render in the route's error format.
pub(crate) type Reply = Result<Response<ResponseBody>, ApiError>;

/// How a route answers its errors. Part of each route's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorFormat {
    /// RFC 9457 `application/problem+json`: the platform and webhook routes.
    Problem,
    /// RFC 6749 §5.2 JSON (`error`, `error_description`): the OAuth endpoints.
    OAuth,
    /// An HTML page, for routes a person's browser opens (the authorization endpoint).
    Html,
    /// GraphQL errors (`{"errors":[{"message","extensions":{"code"}}]}`): the GraphQL gate.
    GraphQl,
}

/// The detail of the 404 every app route answers for an app the caller cannot see.
pub(crate) const UNKNOWN_APP: &str = "No app with this client_id exists in your tenant.";

/// The one answer for a webhook that does not exist in the caller's tenant.
pub(crate) const UNKNOWN_WEBHOOK: &str = "No webhook with this id exists in your tenant.";

/// Everything a request can fail with.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// The bearer token is missing, invalid, or lacks what the route needs.
    Bearer(Rejection),
    /// Client authentication (RFC 6749 §2.3) failed.
    Client(ClientRejection),
    /// The token endpoint refuses the grant (RFC 6749 §5.2).
    Grant(GrantError),
    /// The token endpoint refuses the request's DPoP proof (RFC 9449 §5, §8).
    Dpop(DpopRejection),
    /// The pushed authorization request endpoint refuses the request (RFC 9126 §2.3).
    Push(PushRefusal),
    /// The path exists with other methods.
    MethodNotAllowed(Vec<Method>),
    /// The body is not in the media type the route reads.
    UnsupportedMediaType(BodyKind),
    /// The body is larger than the route's limit.
    PayloadTooLarge(usize),
    /// The route needs a body and got none.
    EmptyBody(BodyKind),
    /// The body could not be read off the connection.
    UnreadableBody,
    /// The body is not JSON.
    MalformedJson(String),
    /// A form or query parameter appears twice (RFC 6749 §3.1).
    RepeatedParameter(String),
    /// Fields broke the route's rules; each is named.
    Invalid(ValidationErrors),
    /// The object does not exist for this caller.
    NotFound(&'static str),
    /// The caller may not do this (beyond token scope: a policy refusal).
    Forbidden(String),
    /// The request conflicts with the object's current state: a change raced another, or a
    /// quota is reached.
    Conflict(String),
    /// Too many requests of this kind: try again after the wait.
    TooManyRequests(String, std::time::Duration),
    /// The request cannot go on, said in words for whoever sent it: an authorization request
    /// from an unknown client, an expired form, a body that is not a GraphQL request.
    BadRequest(Cow<'static, str>),
    /// Something failed on the server's side: logged with detail, answered opaquely.
    Internal(Box<dyn std::error::Error + Send + Sync>),
    /// Not a failure: a guard answers the request itself (e.g. the embedder's login step).
    Answer(Box<Response<ResponseBody>>),
}

/// The media types a route reads bodies in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// `application/json` (or `application/*+json`).
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
}

impl From<Rejection> for ApiError {
    fn from(e: Rejection) -> Self {
        Self::Bearer(e)
    }
}

impl From<ClientRejection> for ApiError {
    fn from(e: ClientRejection) -> Self {
        Self::Client(e)
    }
}

impl From<GrantError> for ApiError {
    fn from(e: GrantError) -> Self {
        Self::Grant(e)
    }
}

impl From<DpopFailure> for ApiError {
    fn from(e: DpopFailure) -> Self {
        match e {
            DpopFailure::Refused(e) => Self::Dpop(e),
            DpopFailure::Store(e) => e.into(),
        }
    }
}

/// The headers of a refused DPoP proof or binding: the RFC 9449 §7.1 challenge, and the nonce
/// to use.
fn dpop_headers(e: &DpopRejection) -> Vec<(HeaderName, HeaderValue)> {
    let challenge = knogin_verifier::dpop_challenge(&[
        REALM,
        ("error", e.code()),
        ("error_description", &e.to_string()),
        ("algs", DPOP_ALGORITHMS),
    ]);
    let mut headers = vec![(WWW_AUTHENTICATE, challenge)];
    if let Some(nonce) = e.nonce().and_then(|n| HeaderValue::from_str(n).ok()) {
        headers.push((DPOP_NONCE_HEADER, nonce));
    }
    headers
}

impl From<PushFailure> for ApiError {
    fn from(e: PushFailure) -> Self {
        match e {
            PushFailure::Refused(e) => Self::Push(e),
            PushFailure::Store(e) => e.into(),
        }
    }
}

impl From<FlowError> for ApiError {
    fn from(e: FlowError) -> Self {
        match e {
            FlowError::Grant(e) => Self::Grant(e),
            e => Self::Internal(Box::new(e)),
        }
    }
}

impl From<ServiceTokenError> for ApiError {
    fn from(e: ServiceTokenError) -> Self {
        match e {
            ServiceTokenError::NotFound => Self::NotFound(UNKNOWN_APP),
            ServiceTokenError::NotAllowed => Self::Forbidden(e.to_string()),
            ServiceTokenError::Invalid(errors) => Self::Invalid(errors),
            e => Self::Internal(Box::new(e)),
        }
    }
}

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> Self {
        match e {
            WebhookError::Invalid(errors) => Self::Invalid(errors),
            WebhookError::NotFound => Self::NotFound(UNKNOWN_WEBHOOK),
            WebhookError::QuotaReached(max) => Self::Conflict(format!(
                "This tenant has {max} webhook subscriptions, the most it may have: delete one \
                 before creating another."
            )),
            WebhookError::RateLimited { retry_after } => Self::TooManyRequests(
                format!(
                    "This webhook had as many of these requests as it may this minute: try again \
                     in {} seconds.",
                    retry_after.as_secs()
                ),
                retry_after,
            ),
            WebhookError::Conflict => Self::Conflict(
                "The webhook was changed by another request meanwhile: read it again and retry \
                 your change."
                    .into(),
            ),
            e => Self::Internal(Box::new(e)),
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        Self::Invalid(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::Internal(Box::new(e))
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(errors) => Self::Invalid(errors),
            AppError::NotFound => Self::NotFound(UNKNOWN_APP),
            e @ AppError::NoClientSecret => Self::Conflict(format!(
                "{e}: it signs its client assertions with its own keys"
            )),
            AppError::Store(e) => e.into(),
        }
    }
}

/// The title of a status: its reason phrase, with RFC 9110's name for 413.
pub(crate) fn title(status: StatusCode) -> &'static str {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => "Content Too Large",
        _ => status.canonical_reason().unwrap_or("Error"),
    }
}

/// The realm of this issuer's `Bearer` challenges.
const REALM: (&str, &str) = ("realm", "knogin");

impl ApiError {
    /// The HTTP status.
    pub(crate) fn status(&self) -> StatusCode {
        use StatusCode as S;
        match self {
            Self::Bearer(r) => r.status(),
            Self::Client(e) => e.status(),
            Self::Dpop(_) => S::UNAUTHORIZED,
            Self::MethodNotAllowed(_) => S::METHOD_NOT_ALLOWED,
            Self::UnsupportedMediaType(_) => S::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge(_) => S::PAYLOAD_TOO_LARGE,
            Self::Grant(_)
            | Self::Push(_)
            | Self::EmptyBody(_)
            | Self::UnreadableBody
            | Self::MalformedJson(_)
            | Self::RepeatedParameter(_)
            | Self::BadRequest(_)
            | Self::Invalid(_) => S::BAD_REQUEST,
            Self::NotFound(_) => S::NOT_FOUND,
            Self::Forbidden(_) => S::FORBIDDEN,
            Self::Conflict(_) => S::CONFLICT,
            Self::TooManyRequests(..) => S::TOO_MANY_REQUESTS,
            Self::Internal(_) => S::INTERNAL_SERVER_ERROR,
            Self::Answer(answer) => answer.status(),
        }
    }

    /// A short, stable name for the kind of error (the problem `type` is `urn:knogin:problem:{slug}`).
    pub(crate) fn slug(&self) -> &'static str {
        match self {
            Self::Bearer(Rejection::Missing) => "unauthorized",
            Self::Bearer(Rejection::Invalid(_)) => "invalid-token",
            Self::Bearer(Rejection::InsufficientScope(_) | Rejection::NotAdmin) => {
                "insufficient-scope"
            }
            Self::Bearer(Rejection::TenantMismatch) => "tenant-mismatch",
            Self::Bearer(Rejection::AdminToken) => "admin-token",
            Self::Bearer(Rejection::Dpop(e)) | Self::Dpop(e) => match e {
                DpopRejection::UseNonce(_) => "use-dpop-nonce",
                DpopRejection::Invalid(_) => "invalid-dpop-proof",
                _ => "invalid-token",
            },
            Self::Bearer(Rejection::Unavailable) => "unavailable",
            Self::Push(e) => match e.error {
                "invalid_scope" => "invalid-scope",
                "invalid_target" => "invalid-target",
                "unauthorized_client" => "unauthorized-client",
                "unsupported_response_type" => "unsupported-response-type",
                "request_not_supported" => "request-not-supported",
                _ => "invalid-request",
            },
            Self::Client(_) => "invalid-client",
            Self::Grant(e) => match e {
                GrantError::InvalidRequest(_) => "invalid-request",
                GrantError::UnsupportedGrantType(_) => "unsupported-grant-type",
                GrantError::UnauthorizedClient(_) => "unauthorized-client",
                GrantError::InvalidScope(_) => "invalid-scope",
                _ => "invalid-grant",
            },
            Self::MethodNotAllowed(_) => "method-not-allowed",
            Self::UnsupportedMediaType(_) => "unsupported-media-type",
            Self::PayloadTooLarge(_) => "payload-too-large",
            Self::EmptyBody(_) => "empty-body",
            Self::UnreadableBody => "unreadable-body",
            Self::MalformedJson(_) => "malformed-json",
            Self::RepeatedParameter(_) | Self::Invalid(_) => "validation",
            Self::NotFound(_) => "not-found",
            Self::Forbidden(_) => "forbidden",
            Self::Conflict(_) => "conflict",
            Self::TooManyRequests(..) => "too-many-requests",
            Self::BadRequest(_) => "bad-request",
            Self::Internal(_) => "internal",
            Self::Answer(_) => "answer",
        }
    }

    /// What went wrong, in words the caller can act on (never internal details).
    pub(crate) fn detail(&self) -> Cow<'static, str> {
        match self {
            Self::Bearer(Rejection::Missing) => "This route needs an access token: send \
                 `Authorization: Bearer <token>`, or `Authorization: DPoP <token>` with a DPoP \
                 proof for a DPoP-bound token."
                .into(),
            Self::Bearer(Rejection::Unavailable) => {
                "The DPoP proof could not be checked now: try again with a new proof.".into()
            }
            Self::Bearer(Rejection::Invalid(e)) => e.to_string().into(),
            Self::Bearer(Rejection::InsufficientScope(scope)) => {
                format!("This route needs a token with the {scope} scope.").into()
            }
            Self::Bearer(Rejection::NotAdmin) => "This route needs an admin token: a token of \
                 its own type and audience that the operator mints for one tenant. An access or \
                 service token never passes, whatever its scopes."
                .into(),
            Self::Bearer(Rejection::TenantMismatch) => {
                "The X-Tenant-ID header must name the tenant of the bearer token.".into()
            }
            Self::Bearer(Rejection::AdminToken) => "An admin token is for the platform routes \
                 only: send an access or service token."
                .into(),
            Self::Client(e) => e.to_string().into(),
            Self::Bearer(Rejection::Dpop(e)) | Self::Dpop(e) => e.to_string().into(),
            Self::Push(e) => e.to_string().into(),
            Self::Grant(e) => e.to_string().into(),
            Self::MethodNotAllowed(allow) => {
                format!("This route accepts {}.", allow_list(allow)).into()
            }
            Self::UnsupportedMediaType(BodyKind::Json) => {
                "Send the body as JSON with `Content-Type: application/json`.".into()
            }
            Self::UnsupportedMediaType(BodyKind::Form) => "Send the body form-encoded with \
                 `Content-Type: application/x-www-form-urlencoded`."
                .into(),
            Self::PayloadTooLarge(limit) => {
                format!("The request body is larger than the limit of {limit} bytes.").into()
            }
            Self::EmptyBody(BodyKind::Json) => {
                "The request body is empty: send a JSON object.".into()
            }
            Self::EmptyBody(BodyKind::Form) => {
                "The request body is empty: send form-encoded parameters.".into()
            }
            Self::UnreadableBody => "The request body could not be read.".into(),
            Self::MalformedJson(why) => {
                format!("The request body is not valid JSON: {why}.").into()
            }
            Self::RepeatedParameter(name) => {
                format!("The parameter {name} is given more than once.").into()
            }
            Self::Invalid(_) => "The request has invalid fields; see `errors`.".into(),
            Self::NotFound(detail) => Cow::Borrowed(detail),
            Self::Forbidden(detail) | Self::Conflict(detail) | Self::TooManyRequests(detail, _) => {
                detail.clone().into()
            }
            Self::BadRequest(detail) => detail.clone(),
            Self::Internal(_) => "The server failed to handle the request; quote the \
                 correlation_id when reporting it."
                .into(),
            Self::Answer(_) => "".into(),
        }
    }

    /// Headers the answer must carry whatever its format: `Allow` on 405, RFC 6750 challenges.
    fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        match self {
            Self::Bearer(Rejection::Missing) => vec![
                (WWW_AUTHENTICATE, bearer_challenge(&[REALM])),
                (
                    WWW_AUTHENTICATE,
                    knogin_verifier::dpop_challenge(&[REALM, ("algs", DPOP_ALGORITHMS)]),
                ),
            ],
            Self::Bearer(Rejection::Invalid(e)) => vec![(
                WWW_AUTHENTICATE,
                bearer_challenge(&[
                    REALM,
                    ("error", "invalid_token"),
                    ("error_description", &e.to_string()),
                ]),
            )],
            Self::Bearer(Rejection::InsufficientScope(scope)) => vec![(
                WWW_AUTHENTICATE,
                bearer_challenge(&[REALM, ("error", "insufficient_scope"), ("scope", scope)]),
            )],
            Self::Bearer(Rejection::NotAdmin) => vec![(
                WWW_AUTHENTICATE,
                bearer_challenge(&[REALM, ("error", "insufficient_scope")]),
            )],
            Self::Client(e) => {
                let mut headers = Vec::new();
                if e.used_basic() {
                    headers.push((
                        WWW_AUTHENTICATE,
                        HeaderValue::from_static(r#"Basic realm="knogin", charset="UTF-8""#),
                    ));
                }
                if let Some(wait) = e.retry_after() {
                    headers.push((RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1))));
                }
                headers
            }
            Self::TooManyRequests(_, wait) => {
                vec![(RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)))]
            }
            Self::Bearer(Rejection::Dpop(e)) | Self::Dpop(e) => dpop_headers(e),
            Self::MethodNotAllowed(allow) => vec![(
                ALLOW,
                HeaderValue::from_str(&allow_list(allow)).expect("method names are tokens"),
            )],
            _ => Vec::new(),
        }
    }

    /// Logs an internal error under the request's correlation id (a new one without) and
    /// returns the id; `None` for the caller's own mistakes, which are not logged.
    fn log_internal(&self, request: Option<&CorrelationId>) -> Option<String> {
        let Self::Internal(e) = self else { return None };
        let id = request.map_or_else(|| random::hex(8), |id| id.as_str().to_owned());
        tracing::error!(correlation_id = %id, error = %e, "internal error");
        Some(id)
    }

    /// The answer, in the route's format.
    pub(crate) fn render(self, format: ErrorFormat) -> Response<ResponseBody> {
        self.render_for(format, None)
    }

    /// The answer, in the route's format, to a request with correlation id `request`.
    pub(crate) fn render_for(
        self,
        format: ErrorFormat,
        request: Option<&CorrelationId>,
    ) -> Response<ResponseBody> {
        if let Self::Answer(answer) = self {
            return *answer;
        }
        let correlation_id = self.log_internal(request);
        let mut response = match format {
            ErrorFormat::Problem => problem::render(&self, correlation_id),
            ErrorFormat::OAuth => oauth::render(&self, correlation_id),
            ErrorFormat::Html => html::render(&self, correlation_id),
            ErrorFormat::GraphQl => graphql::render(&self, correlation_id),
        };
        let headers = response.headers_mut();
        for (name, value) in self.headers() {
            headers.append(name, value);
        }
        response
    }
}

fn allow_list(allow: &[Method]) -> String {
    let list: Vec<&str> = allow.iter().map(Method::as_str).collect();
    list.join(", ")
}
