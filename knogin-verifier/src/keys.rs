//! An issuer's public keys, read from its JWKS: each `kid` with the one algorithm it may verify.

use std::collections::HashMap;
use std::sync::Arc;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};

/// A public key and the one algorithm it verifies (RFC 8725 §3.1: the token's header must name
/// exactly this one).
#[derive(Clone)]
pub struct VerifyingKey {
    pub(crate) key: Arc<DecodingKey>,
    pub(crate) algorithm: Algorithm,
}

impl VerifyingKey {
    /// `key`, verifying `algorithm` only.
    pub fn new(key: DecodingKey, algorithm: Algorithm) -> Self {
        Self {
            key: Arc::new(key),
            algorithm,
        }
    }

    /// The algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// The keys of one JWKS by `kid`. Only the algorithms knogin signs with are taken: `RS256`
/// (RSA), `ES256` (EC P-256) and `EdDSA` (Ed25519). A key without a `kid`, of another type or
/// curve, a symmetric (`oct`) key, or one whose `alg` disagrees with its type is left out.
#[derive(Debug, Clone, Default)]
pub struct PublicKeys(HashMap<String, VerifyingKey>);

/// The algorithm `jwk` verifies, if it is one knogin signs with and its `alg` (when present)
/// agrees with its type and curve.
fn algorithm_of(jwk: &Jwk) -> Option<Algorithm> {
    let by_type = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        _ => return None,
    };
    let declared = match jwk.common.key_algorithm {
        None => return Some(by_type),
        Some(KeyAlgorithm::RS256) => Algorithm::RS256,
        Some(KeyAlgorithm::ES256) => Algorithm::ES256,
        Some(KeyAlgorithm::EdDSA) => Algorithm::EdDSA,
        Some(_) => return None,
    };
    (declared == by_type).then_some(by_type)
}

/// Whether `jwk` may verify signatures: not an encryption key, and `verify` among its
/// `key_ops` when it has any (RFC 7517 §4.2, §4.3).
fn for_signatures(jwk: &jsonwebtoken::jwk::Jwk) -> bool {
    use jsonwebtoken::jwk::{KeyOperations, PublicKeyUse};
    let usable = !matches!(
        jwk.common.public_key_use,
        Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
    );
    let operations = jwk
        .common
        .key_operations
        .as_ref()
        .is_none_or(|ops| ops.contains(&KeyOperations::Verify));
    usable && operations
}

impl PublicKeys {
    /// The usable keys of a JWKS document: signature keys only (not `use: enc`, nor with
    /// `key_ops` that leave out `verify`). `None` if it is not a JWKS, or if two keys share a
    /// `kid` (which of them a token meant cannot be told).
    pub fn from_jwks(body: &[u8]) -> Option<Self> {
        let set: JwkSet = serde_json::from_slice(body).ok()?;
        let mut kids = std::collections::HashSet::new();
        if !set
            .keys
            .iter()
            .filter_map(|jwk| jwk.common.key_id.as_deref())
            .all(|kid| kids.insert(kid))
        {
            return None;
        }
        let keys = set
            .keys
            .iter()
            .filter(|jwk| for_signatures(jwk))
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                let algorithm = algorithm_of(jwk)?;
                let key = DecodingKey::from_jwk(jwk).ok()?;
                Some((
                    kid,
                    VerifyingKey {
                        key: Arc::new(key),
                        algorithm,
                    },
                ))
            })
            .collect();
        Some(Self(keys))
    }

    /// The key `kid` names.
    pub fn get(&self, kid: &str) -> Option<&VerifyingKey> {
        self.0.get(kid)
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_knogin_algorithms_with_matching_alg_are_kept() {
        let jwks = br#"{"keys":[
            {"kty":"oct","kid":"hmac","k":"c2VjcmV0"},
            {"kty":"OKP","crv":"Ed25519","kid":"ed","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"kty":"OKP","crv":"Ed25519","kid":"ed-as-rs","alg":"RS256","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
        ]}"#;
        let keys = PublicKeys::from_jwks(jwks).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys.get("ed").unwrap().algorithm(), Algorithm::EdDSA);
        assert!(keys.get("hmac").is_none() && keys.get("ed-as-rs").is_none());
        assert!(PublicKeys::from_jwks(b"not json").is_none());
    }

    #[test]
    fn encryption_keys_are_skipped_and_duplicate_kids_refused() {
        let jwk = |kid: &str, extra: &str| {
            format!(
                r#"{{"kty":"EC","crv":"P-256","kid":"{kid}","alg":"ES256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"{extra}}}"#
            )
        };
        let set = |keys: &[String]| format!(r#"{{"keys":[{}]}}"#, keys.join(","));
        let keys = PublicKeys::from_jwks(
            set(&[
                jwk("sig", ""),
                jwk("enc", r#","use":"enc""#),
                jwk("ops", r#","key_ops":["encrypt"]"#),
                jwk("verify", r#","key_ops":["verify"]"#),
            ])
            .as_bytes(),
        )
        .unwrap();
        assert!(keys.get("sig").is_some() && keys.get("verify").is_some());
        assert!(keys.get("enc").is_none() && keys.get("ops").is_none());
        assert!(PublicKeys::from_jwks(set(&[jwk("a", ""), jwk("a", "")]).as_bytes()).is_none());
    }
}
