//! The authorization server metadata (RFC 8414): what this server really supports, built once.
//! Only names a specification registers (IANA's OAuth Authorization Server Metadata registry),
//! each true of the running server: the signing algorithms of access tokens are in the JWKS,
//! key by key, not here (no specification defines a metadata name for them).

use bytes::Bytes;
use serde::Serialize;

use crate::scope::ScopeCatalog;

/// The client authentication methods every client-authenticated endpoint accepts.
const AUTH_METHODS: [&str; 3] = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
];

/// The algorithms a client's JWS may be signed with: a `private_key_jwt` assertion, a DPoP
/// proof (the verifier's `JwsAlgorithm::ALL`).
const JWS_ALGS: [&str; 5] = ["ES256", "EdDSA", "Ed25519", "PS256", "RS256"];

/// RFC 8414 authorization server metadata.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AuthorizationServerMetadata)]
pub(crate) struct Metadata<'a> {
    /// The issuer, as tokens name it in `iss`.
    issuer: &'a str,
    /// The authorization endpoint.
    authorization_endpoint: String,
    /// The token endpoint.
    token_endpoint: String,
    /// The JWKS of the keys tokens are signed with.
    jwks_uri: String,
    /// The grants the token endpoint takes.
    grant_types_supported: [&'static str; 4],
    /// `code`.
    response_types_supported: [&'static str; 1],
    /// RFC 7636 §4.3: S256 only.
    code_challenge_methods_supported: [&'static str; 1],
    /// RFC 9207: every authorization response carries `iss`.
    authorization_response_iss_parameter_supported: bool,
    /// How clients authenticate at the token endpoint.
    token_endpoint_auth_methods_supported: [&'static str; 3],
    /// The algorithms of `private_key_jwt` assertions at the token endpoint.
    token_endpoint_auth_signing_alg_values_supported: [&'static str; 5],
    /// The introspection endpoint (RFC 7662).
    introspection_endpoint: String,
    /// How clients authenticate at the introspection endpoint.
    introspection_endpoint_auth_methods_supported: [&'static str; 3],
    /// The algorithms of `private_key_jwt` assertions at the introspection endpoint.
    introspection_endpoint_auth_signing_alg_values_supported: [&'static str; 5],
    /// The revocation endpoint (RFC 7009).
    revocation_endpoint: String,
    /// How clients authenticate at the revocation endpoint.
    revocation_endpoint_auth_methods_supported: [&'static str; 3],
    /// The algorithms of `private_key_jwt` assertions at the revocation endpoint.
    revocation_endpoint_auth_signing_alg_values_supported: [&'static str; 5],
    /// The pushed authorization request endpoint (RFC 9126 §5).
    pushed_authorization_request_endpoint: String,
    /// Whether every client must push its authorization requests: no, only those whose
    /// governance says so (RFC 9126 §5).
    require_pushed_authorization_requests: bool,
    /// The algorithms of DPoP proofs (RFC 9449 §5.1).
    dpop_signing_alg_values_supported: [&'static str; 5],
    /// The scopes apps may request.
    scopes_supported: Vec<&'a str>,
}

/// The RFC 8414 metadata document of `issuer`, serialized.
pub(crate) fn metadata(issuer: &str, scopes: &ScopeCatalog) -> Bytes {
    let base = issuer.trim_end_matches('/');
    let document = Metadata {
        issuer,
        authorization_endpoint: format!("{base}/v1/oauth/authorize"),
        token_endpoint: format!("{base}/v1/oauth/token"),
        jwks_uri: format!("{base}/.well-known/jwks.json"),
        grant_types_supported: [
            "authorization_code",
            "client_credentials",
            "refresh_token",
            crate::apps::TOKEN_EXCHANGE,
        ],
        response_types_supported: ["code"],
        code_challenge_methods_supported: ["S256"],
        authorization_response_iss_parameter_supported: true,
        token_endpoint_auth_methods_supported: AUTH_METHODS,
        token_endpoint_auth_signing_alg_values_supported: JWS_ALGS,
        introspection_endpoint: format!("{base}/v1/oauth/introspect"),
        introspection_endpoint_auth_methods_supported: AUTH_METHODS,
        introspection_endpoint_auth_signing_alg_values_supported: JWS_ALGS,
        revocation_endpoint: format!("{base}/v1/oauth/revoke"),
        revocation_endpoint_auth_methods_supported: AUTH_METHODS,
        revocation_endpoint_auth_signing_alg_values_supported: JWS_ALGS,
        pushed_authorization_request_endpoint: format!("{base}/v1/oauth/par"),
        require_pushed_authorization_requests: false,
        dpop_signing_alg_values_supported: JWS_ALGS,
        scopes_supported: scopes.scopes().iter().map(|s| s.name.as_str()).collect(),
    };
    Bytes::from(serde_json::to_vec(&document).expect("metadata serializes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_one_a_specification_registers() {
        // IANA's OAuth Authorization Server Metadata registry (RFC 8414, 7636, 9126, 9207, 9449).
        const REGISTERED: [&str; 20] = [
            "dpop_signing_alg_values_supported",
            "pushed_authorization_request_endpoint",
            "require_pushed_authorization_requests",
            "token_endpoint_auth_signing_alg_values_supported",
            "introspection_endpoint_auth_signing_alg_values_supported",
            "revocation_endpoint_auth_signing_alg_values_supported",
            "issuer",
            "authorization_endpoint",
            "token_endpoint",
            "jwks_uri",
            "grant_types_supported",
            "response_types_supported",
            "code_challenge_methods_supported",
            "authorization_response_iss_parameter_supported",
            "token_endpoint_auth_methods_supported",
            "introspection_endpoint",
            "introspection_endpoint_auth_methods_supported",
            "revocation_endpoint",
            "revocation_endpoint_auth_methods_supported",
            "scopes_supported",
        ];
        let doc: serde_json::Value =
            serde_json::from_slice(&metadata("https://a.example", &ScopeCatalog::reference()))
                .unwrap();
        for name in doc.as_object().unwrap().keys() {
            assert!(REGISTERED.contains(&name.as_str()), "{name}");
        }
    }

    #[test]
    fn the_algorithms_listed_are_those_the_verifier_checks() {
        let checked = knogin_verifier::jose::JwsAlgorithm::ALL
            .map(knogin_verifier::jose::JwsAlgorithm::as_str);
        assert_eq!(JWS_ALGS, checked);
        assert_eq!(crate::token::DPOP_ALGORITHMS, checked.join(" "));
    }

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
            serde_json::json!([
                "authorization_code",
                "client_credentials",
                "refresh_token",
                "urn:ietf:params:oauth:grant-type:token-exchange"
            ])
        );
        assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
        assert_eq!(
            doc["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
        assert_eq!(doc["scopes_supported"][0], "webhooks:read");
        assert_eq!(
            doc["token_endpoint_auth_methods_supported"],
            serde_json::json!([
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt"
            ])
        );
    }

    #[test]
    fn the_assertion_algorithms_are_those_the_verifier_takes() {
        let names: Vec<&str> = knogin_verifier::jose::JwsAlgorithm::ALL
            .iter()
            .map(|alg| alg.as_str())
            .collect();
        assert_eq!(names, JWS_ALGS);
    }
}
