//! RFC 6749 §5.2 error JSON, the error body of the OAuth endpoints.

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, PRAGMA};
use http::{Response, StatusCode};
use serde::Serialize;

use super::ApiError;
use crate::http::ResponseBody;
use crate::oauth::error_description;

/// An RFC 6749 §5.2 error.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct OAuthError<'a> {
    /// The error code (`invalid_request`, `invalid_client`, `invalid_grant`, …).
    error: &'static str,
    /// What went wrong, for the developer.
    error_description: &'a str,
}

/// The RFC 6749 error code for `error`. Bodies the endpoint cannot read are `invalid_request`
/// (§5.2); failed client authentication is `invalid_client`.
fn code(error: &ApiError) -> &'static str {
    match error {
        ApiError::Client(_) => "invalid_client",
        ApiError::Dpop(e) => e.code(),
        ApiError::Push(e) => e.error,
        ApiError::Grant(e) => e.code(),
        ApiError::Bearer(_) => "invalid_token",
        ApiError::Forbidden(_) => "access_denied",
        ApiError::Internal(_) => "server_error",
        _ => "invalid_request",
    }
}

/// RFC 6749 answers 400 to every request error except a failed client authentication (401);
/// a wrong method and a server failure keep their own status.
fn status(error: &ApiError) -> StatusCode {
    match error {
        ApiError::Client(_)
        | ApiError::Bearer(_)
        | ApiError::MethodNotAllowed(_)
        | ApiError::Forbidden(_)
        | ApiError::Internal(_) => error.status(),
        _ => StatusCode::BAD_REQUEST,
    }
}

pub(super) fn render(error: &ApiError, correlation_id: Option<String>) -> Response<ResponseBody> {
    let mut detail = error.detail().into_owned();
    if let ApiError::Invalid(errors) = error {
        detail = errors
            .0
            .iter()
            .map(|e| format!("{} {}", e.field, e.detail))
            .collect::<Vec<_>>()
            .join("; ");
    }
    if let Some(id) = correlation_id {
        detail = format!("{detail} (correlation_id {id})");
    }
    let detail = error_description(&detail);
    let body = OAuthError {
        error: code(error),
        error_description: &detail,
    };
    let body = serde_json::to_vec(&body).expect("an OAuth error serializes");
    let mut response = Response::new(ResponseBody::new(Bytes::from(body)));
    *response.status_mut() = status(error);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http::Method;

    use super::*;
    use crate::apps::GrantType;
    use crate::http::access::{ClientRejection, Rejection};
    use crate::http::error::BodyKind;
    use crate::oauth::GrantError;
    use crate::oauth::is_valid_error_description as is_valid;
    use crate::token::TokenError;
    use crate::validation::ValidationErrors;

    /// Client text as hostile as it gets: quotes, a backslash, `§`, non-ASCII and controls.
    const NASTY: &str = "\"x\\y\" §3.3 é\u{7}\n";

    #[tokio::test]
    async fn every_error_description_is_in_the_characters_rfc_6749_allows() {
        use http_body_util::BodyExt as _;
        let mut invalid = ValidationErrors::default();
        invalid.push("scope", format!("{NASTY} is not allowed"));
        let errors = vec![
            ApiError::Client(ClientRejection::Missing),
            ApiError::Client(ClientRejection::Failed { basic: true }),
            ApiError::Client(ClientRejection::Limited {
                basic: false,
                retry_after: Duration::from_secs(30),
            }),
            ApiError::Bearer(Rejection::Missing),
            ApiError::Bearer(Rejection::Invalid(TokenError::Expired)),
            ApiError::Bearer(Rejection::InsufficientScope(NASTY.into())),
            ApiError::Bearer(Rejection::NotAdmin),
            ApiError::Bearer(Rejection::AdminToken),
            ApiError::Bearer(Rejection::TenantMismatch),
            ApiError::Grant(GrantError::InvalidRequest(NASTY.into())),
            ApiError::Grant(GrantError::UnsupportedGrantType(NASTY.into())),
            ApiError::Grant(GrantError::UnauthorizedClient(GrantType::AuthorizationCode)),
            ApiError::Grant(GrantError::InvalidScope(
                crate::scope::InvalidScope(NASTY.into()).to_string(),
            )),
            ApiError::Grant(GrantError::InvalidGrant(NASTY.into())),
            ApiError::MethodNotAllowed(vec![Method::POST]),
            ApiError::UnsupportedMediaType(BodyKind::Form),
            ApiError::PayloadTooLarge(65_536),
            ApiError::EmptyBody(BodyKind::Form),
            ApiError::UnreadableBody,
            ApiError::MalformedJson(NASTY.into()),
            ApiError::RepeatedParameter(NASTY.into()),
            ApiError::Invalid(invalid),
            ApiError::NotFound("not \"here\""),
            ApiError::Forbidden(NASTY.into()),
            ApiError::BadRequest(NASTY.to_owned().into()),
            ApiError::Internal("boom \"§\"".into()),
        ];
        for error in errors {
            let shown = format!("{error:?}");
            let response = error.render(crate::http::ErrorFormat::OAuth);
            let body = response.into_body().collect().await.unwrap().to_bytes();
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let description = json["error_description"].as_str().unwrap();
            assert!(is_valid(description), "{shown}: {description:?}");
            assert!(is_valid(json["error"].as_str().unwrap()), "{shown}");
        }
    }
}
