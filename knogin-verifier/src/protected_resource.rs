//! RFC 9728 protected resource metadata: what a resource server publishes so a client can find
//! the authorization server and the scopes it needs.

use http::Response;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use serde::Serialize;

use crate::ResponseBody;

/// The well-known path of the metadata of a resource whose identifier has no path.
pub const PROTECTED_RESOURCE_PATH: &str = "/.well-known/oauth-protected-resource";

/// A resource server's metadata (RFC 9728 §2).
///
/// ```
/// use knogin_verifier::ProtectedResource;
///
/// let resource = ProtectedResource::new("https://api.example.com", "https://auth.example.com")
///     .scopes(["incidents:read"]);
/// assert_eq!(
///     resource.metadata_url(),
///     "https://api.example.com/.well-known/oauth-protected-resource"
/// );
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct ProtectedResource {
    resource: String,
    authorization_servers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    scopes_supported: Vec<String>,
    bearer_methods_supported: [&'static str; 1],
}

impl ProtectedResource {
    /// The resource `resource` (its identifier: an https URL, the `aud` its tokens carry),
    /// protected by the authorization server `issuer`.
    pub fn new(resource: impl Into<String>, issuer: impl Into<String>) -> Self {
        Self {
            resource: resource.into(),
            authorization_servers: vec![issuer.into()],
            scopes_supported: Vec::new(),
            bearer_methods_supported: ["header"],
        }
    }

    /// The scopes the resource's routes need.
    #[must_use]
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes_supported = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Where the metadata is served (RFC 9728 §3.1): the well-known path inserted between the
    /// resource's host and its path.
    pub fn metadata_url(&self) -> String {
        let parsed = self.resource.parse::<http::Uri>().ok();
        match parsed
            .as_ref()
            .and_then(|u| Some((u.scheme_str()?, u.authority()?, u.path())))
        {
            Some((scheme, authority, path)) => {
                let path = path.trim_end_matches('/');
                format!("{scheme}://{authority}{PROTECTED_RESOURCE_PATH}{path}")
            }
            None => format!(
                "{}{PROTECTED_RESOURCE_PATH}",
                self.resource.trim_end_matches('/')
            ),
        }
    }

    /// The metadata document as an answer (`application/json`, cacheable for an hour).
    pub fn response(&self) -> Response<ResponseBody> {
        let body = serde_json::to_vec(self).expect("metadata serializes");
        let mut response = Response::new(ResponseBody::from(body));
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=3600"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_well_known_path_goes_before_the_resource_path() {
        let with_path = ProtectedResource::new("https://api.example.com/v1/", "https://a");
        assert_eq!(
            with_path.metadata_url(),
            "https://api.example.com/.well-known/oauth-protected-resource/v1"
        );
        let doc: serde_json::Value = serde_json::from_slice(
            &http_body_util::BodyExt::collect(with_path.scopes(["x"]).response().into_body())
                .now_or_never()
                .unwrap()
                .unwrap()
                .to_bytes(),
        )
        .unwrap();
        assert_eq!(
            doc["authorization_servers"],
            serde_json::json!(["https://a"])
        );
        assert_eq!(doc["scopes_supported"], serde_json::json!(["x"]));
        assert_eq!(
            doc["bearer_methods_supported"],
            serde_json::json!(["header"])
        );
    }

    use futures_util::FutureExt as _;
}
