//! JWTs a client signs with its own key: DPoP proofs (RFC 9449) and client assertions
//! (RFC 7523). [`PublicJwk`] and [`PublicJwkSet`] read a client's public keys, [`Jws`] a compact
//! JWS whose signature one of them checks. Algorithms: `ES256`, `EdDSA` (also under its fully
//! specified name `Ed25519`, RFC 9864), `RS256` and `PS256`; never `none` or HMAC.

mod dpop;
mod jwk;
mod jws;
#[cfg(test)]
mod tests;

pub use self::dpop::{
    CheckedProof, DPOP_ALGORITHMS, DPOP_HEADER, DPOP_PROOF_TYPE, DpopError, MAX_PROOF_BYTES,
    ProofContext, RequestProofPolicy, access_token_hash, check_proof, check_request_proof,
};
pub use self::jwk::{JwkError, MAX_CLIENT_KEYS, PublicJwk, PublicJwkSet};
pub use self::jws::{Jws, JwsError};

/// A JWS algorithm a client may sign with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JwsAlgorithm {
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// Ed25519, under the polymorphic name `EdDSA` (RFC 8037).
    EdDsa,
    /// Ed25519, under its fully specified name `Ed25519` (RFC 9864).
    Ed25519,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PSS with SHA-256.
    Ps256,
}

impl JwsAlgorithm {
    /// Every algorithm, as metadata lists them (`*_signing_alg_values_supported`).
    pub const ALL: [Self; 5] = [
        Self::Es256,
        Self::EdDsa,
        Self::Ed25519,
        Self::Ps256,
        Self::Rs256,
    ];

    /// Reads an `alg` name, case-sensitively; `None` for anything else (`none`, `HS256`, …).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "ES256" => Self::Es256,
            "EdDSA" => Self::EdDsa,
            "Ed25519" => Self::Ed25519,
            "RS256" => Self::Rs256,
            "PS256" => Self::Ps256,
            _ => return None,
        })
    }

    /// The `alg` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
            Self::Ed25519 => "Ed25519",
            Self::Rs256 => "RS256",
            Self::Ps256 => "PS256",
        }
    }

    /// Whether the two name the same signature: `EdDSA` on an Ed25519 key is `Ed25519`.
    pub fn same_as(self, other: Self) -> bool {
        let ed = |a| matches!(a, Self::EdDsa | Self::Ed25519);
        self == other || (ed(self) && ed(other))
    }
}

impl std::fmt::Display for JwsAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
