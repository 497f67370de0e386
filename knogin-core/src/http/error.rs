//! The one place a failure becomes an HTTP answer on the platform routes.

use std::fmt::Write as _;

use http::header::{ALLOW, WWW_AUTHENTICATE};
use http::{HeaderValue, Method, Response, StatusCode};

use super::ResponseBody;
use super::bearer::Rejection;
use super::problem::Problem;
use crate::apps::AppError;
use crate::random;
use crate::store::StoreError;
use crate::validation::ValidationErrors;

/// Everything a platform request can fail with.
#[derive(Debug)]
pub(crate) enum ApiError {
    Bearer(Rejection),
    MethodNotAllowed(Vec<&'static Method>),
    UnsupportedMediaType,
    PayloadTooLarge(usize),
    EmptyBody,
    UnreadableBody,
    MalformedJson(String),
    Invalid(ValidationErrors),
    NotFound(&'static str),
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl From<Rejection> for ApiError {
    fn from(e: Rejection) -> Self {
        Self::Bearer(e)
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
            AppError::NotFound => {
                Self::NotFound("No app with this client_id exists in your tenant.")
            }
            AppError::Store(e) => e.into(),
        }
    }
}

const REALM: &str = r#"Bearer realm="knogin""#;

/// An RFC 6750 challenge with `error` and one more parameter, left out if it cannot be quoted.
fn bearer_challenge(error: &str, name: &str, value: &str) -> HeaderValue {
    let mut challenge = format!(r#"{REALM}, error="{error}""#);
    if value
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
    {
        let _ = write!(challenge, r#", {name}="{value}""#);
    }
    HeaderValue::from_str(&challenge).unwrap_or_else(|_| HeaderValue::from_static(REALM))
}

impl ApiError {
    /// The problem+json answer.
    pub(crate) fn into_response(self) -> Response<ResponseBody> {
        use StatusCode as S;
        let problem = match self {
            Self::Bearer(Rejection::Missing) => Problem::new(
                S::UNAUTHORIZED,
                "unauthorized",
                "Unauthorized",
                "This route needs a bearer token: send `Authorization: Bearer <token>`.",
            )
            .with_header(WWW_AUTHENTICATE, HeaderValue::from_static(REALM)),
            Self::Bearer(Rejection::Invalid(e)) => Problem::new(
                S::UNAUTHORIZED,
                "invalid-token",
                "Unauthorized",
                e.to_string(),
            )
            .with_header(
                WWW_AUTHENTICATE,
                bearer_challenge("invalid_token", "error_description", &e.to_string()),
            ),
            Self::Bearer(Rejection::InsufficientScope(scope)) => Problem::new(
                S::FORBIDDEN,
                "insufficient-scope",
                "Forbidden",
                format!("This route needs a token with the {scope} scope."),
            )
            .with_header(
                WWW_AUTHENTICATE,
                bearer_challenge("insufficient_scope", "scope", &scope),
            ),
            Self::MethodNotAllowed(allow) => {
                let list: Vec<&str> = allow.iter().map(|m| m.as_str()).collect();
                let list = list.join(", ");
                Problem::new(
                    S::METHOD_NOT_ALLOWED,
                    "method-not-allowed",
                    "Method Not Allowed",
                    format!("This route accepts {list}."),
                )
                .with_header(
                    ALLOW,
                    HeaderValue::from_str(&list).expect("method names are tokens"),
                )
            }
            Self::UnsupportedMediaType => Problem::new(
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported Media Type",
                "Send the body as JSON with `Content-Type: application/json`.",
            ),
            Self::PayloadTooLarge(limit) => Problem::new(
                S::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Content Too Large",
                format!("The request body is larger than the limit of {limit} bytes."),
            ),
            Self::EmptyBody => Problem::new(
                S::BAD_REQUEST,
                "empty-body",
                "Bad Request",
                "The request body is empty: send a JSON object.",
            ),
            Self::UnreadableBody => Problem::new(
                S::BAD_REQUEST,
                "unreadable-body",
                "Bad Request",
                "The request body could not be read.",
            ),
            Self::MalformedJson(why) => Problem::new(
                S::BAD_REQUEST,
                "malformed-json",
                "Bad Request",
                format!("The request body is not valid JSON: {why}."),
            ),
            Self::Invalid(errors) => Problem::new(
                S::BAD_REQUEST,
                "validation",
                "Bad Request",
                "The request has invalid fields; see `errors`.",
            )
            .with_errors(errors.0),
            Self::NotFound(detail) => Problem::new(S::NOT_FOUND, "not-found", "Not Found", detail),
            Self::Internal(e) => {
                let id = random::hex(8);
                tracing::error!(correlation_id = %id, error = %e, "internal error");
                Problem::new(
                    S::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal Server Error",
                    "The server failed to handle the request; quote the correlation_id when reporting it.",
                )
                .with_correlation_id(id)
            }
        };
        problem.into_response()
    }
}
