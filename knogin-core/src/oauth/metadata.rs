//! The authorization server metadata (RFC 8414): what this server really supports, built once.

use bytes::Bytes;
use serde::Serialize;

use crate::keys::SigningAlgorithm;
use crate::scope::ScopeCatalog;

/// The client authentication methods every client-authenticated endpoint accepts.
const AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

#[derive(Serialize)]
struct Metadata<'a> {
    issuer: &'a str,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    grant_types_supported: [&'static str; 3],
    response_types_supported: [&'static str; 1],
    /// RFC 7636 §4.3: S256 only.
    code_challenge_methods_supported: [&'static str; 1],
    /// RFC 9207: every authorization response carries `iss`.
    authorization_response_iss_parameter_supported: bool,
    token_endpoint_auth_methods_supported: [&'static str; 2],
    introspection_endpoint: String,
    introspection_endpoint_auth_methods_supported: [&'static str; 2],
    revocation_endpoint: String,
    revocation_endpoint_auth_methods_supported: [&'static str; 2],
    scopes_supported: Vec<&'a str>,
    /// RFC 9068 §2.1: the algorithms access tokens are signed with.
    access_token_signing_alg_values_supported: Vec<&'static str>,
}

/// The RFC 8414 metadata document of `issuer`, serialized.
pub(crate) fn metadata(issuer: &str, scopes: &ScopeCatalog) -> Bytes {
    let base = issuer.trim_end_matches('/');
    let document = Metadata {
        issuer,
        authorization_endpoint: format!("{base}/v1/oauth/authorize"),
        token_endpoint: format!("{base}/v1/oauth/token"),
        jwks_uri: format!("{base}/.well-known/jwks.json"),
        grant_types_supported: ["authorization_code", "client_credentials", "refresh_token"],
        response_types_supported: ["code"],
        code_challenge_methods_supported: ["S256"],
        authorization_response_iss_parameter_supported: true,
        token_endpoint_auth_methods_supported: AUTH_METHODS,
        introspection_endpoint: format!("{base}/v1/oauth/introspect"),
        introspection_endpoint_auth_methods_supported: AUTH_METHODS,
        revocation_endpoint: format!("{base}/v1/oauth/revoke"),
        revocation_endpoint_auth_methods_supported: AUTH_METHODS,
        scopes_supported: scopes.scopes().iter().map(|s| s.name.as_str()).collect(),
        access_token_signing_alg_values_supported: SigningAlgorithm::ALL
            .iter()
            .map(|a| a.as_str())
            .collect(),
    };
    Bytes::from(serde_json::to_vec(&document).expect("metadata serializes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_hang_off_the_issuer() {
        let doc: serde_json::Value = serde_json::from_slice(&metadata(
            "https://auth.example/",
            &ScopeCatalog::reference(),
        ))
        .unwrap();
        assert_eq!(doc["issuer"], "https://auth.example/");
        assert_eq!(doc["token_endpoint"], "https://auth.example/v1/oauth/token");
        assert_eq!(
            doc["jwks_uri"],
            "https://auth.example/.well-known/jwks.json"
        );
        assert_eq!(
            doc["authorization_endpoint"],
            "https://auth.example/v1/oauth/authorize"
        );
        assert_eq!(
            doc["grant_types_supported"],
            serde_json::json!(["authorization_code", "client_credentials", "refresh_token"])
        );
        assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
        assert_eq!(
            doc["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
        assert_eq!(doc["scopes_supported"][0], "webhooks:read");
    }
}
