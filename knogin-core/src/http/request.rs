//! Reading a request's JSON body.

use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::request::Parts;
use http_body::Body;
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use serde_json::Value;

use super::error::ApiError;
use crate::knogin::Knogin;

/// The boxed error type request bodies may fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Knogin {
    /// The request body as a JSON value: at most the configured limit, not empty, sent as JSON.
    pub(crate) async fn json_body<B>(&self, parts: &Parts, body: B) -> Result<Value, ApiError>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let limit = self.0.body_limit;
        let declared = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        let bytes = Limited::new(body, limit)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<LengthLimitError>().is_some() {
                    ApiError::PayloadTooLarge(limit)
                } else {
                    ApiError::UnreadableBody
                }
            })?
            .to_bytes();
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::EmptyBody);
        }
        if !is_json(parts) {
            return Err(ApiError::UnsupportedMediaType);
        }
        serde_json::from_slice(&bytes).map_err(|e| ApiError::MalformedJson(e.to_string()))
    }
}

/// Whether the request says its body is JSON: `application/json` or `application/*+json`,
/// parameters such as `charset` allowed.
fn is_json(parts: &Parts) -> bool {
    let Some(value) = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json"))
}
