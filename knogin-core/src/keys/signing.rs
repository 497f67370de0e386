//! One signing key (RS256, ES256 or EdDSA), parsed once and kept ready to sign.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RSA_PKCS1_SHA256,
    RsaKeyPair,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::DecodingKey;
use knogin_verifier::VerifyingKey;
use serde::Serialize;

use crate::id::KeyId;

/// The JWS algorithms the issuer signs with (RFC 7518 §3.1, RFC 8037 §3.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SigningAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 over an RSA-2048 key: what every JWT library verifies.
    #[default]
    Rs256,
    /// ECDSA over P-256 with SHA-256: short tokens, fast signing.
    Es256,
    /// EdDSA over Ed25519: the shortest tokens and the fastest signing.
    EdDsa,
}

impl SigningAlgorithm {
    /// Every algorithm, in the order metadata lists them.
    pub const ALL: [Self; 3] = [Self::Rs256, Self::Es256, Self::EdDsa];

    /// The JWS `alg` name: `RS256`, `ES256` or `EdDSA`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }

    /// The algorithm named `alg` (exactly as JWS spells it), if the issuer supports it.
    pub fn parse(alg: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == alg)
    }

    /// The same algorithm as the JWT library names it.
    pub fn jwt(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::Rs256 => jsonwebtoken::Algorithm::RS256,
            Self::Es256 => jsonwebtoken::Algorithm::ES256,
            Self::EdDsa => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a supported signing algorithm.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported signing algorithm {0:?}: use RS256, ES256 or EdDSA")]
pub struct UnknownAlgorithm(pub String);

impl FromStr for SigningAlgorithm {
    type Err = UnknownAlgorithm;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| UnknownAlgorithm(s.to_owned()))
    }
}

/// A key's public half in RFC 7517 form (`RSA`, `EC` P-256 or `OKP` Ed25519). It has no private
/// member (`d`, `p`, `q`, …) to leak: the type cannot hold one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PublicJwk {
    /// `RSA`, `EC` or `OKP`.
    pub kty: &'static str,
    /// The key id tokens name in their header.
    pub kid: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub use_: &'static str,
    /// The algorithm the key signs with.
    pub alg: &'static str,
    /// The curve: `P-256` or `Ed25519`; absent for RSA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<&'static str>,
    /// RSA: the modulus, unpadded base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA: the public exponent, unpadded base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// EC and OKP: the x coordinate (Ed25519: the public key), unpadded base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// EC: the y coordinate, unpadded base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

impl PublicJwk {
    /// The RFC 7638 canonical form: the required members in lexicographic order, no whitespace.
    fn canonical(&self) -> String {
        let get = |m: &Option<String>| m.clone().unwrap_or_default();
        match self.kty {
            "RSA" => format!(
                r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                get(&self.e),
                get(&self.n)
            ),
            "EC" => format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                get(&self.x),
                get(&self.y)
            ),
            _ => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, get(&self.x)),
        }
    }
}

/// The RFC 7638 thumbprint of `jwk`.
pub(crate) fn thumbprint_of(jwk: &PublicJwk) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, jwk.canonical().as_bytes());
    b64(digest.as_ref())
}

/// The parsed private key.
enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A signing key with its `kid`. The private key is parsed once, here, so signing a token costs
/// one signature operation and nothing else.
pub struct SigningKey {
    kid: KeyId,
    pair: Pair,
    jwk: PublicJwk,
}

/// Why a key could not be created or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SigningKeyError {
    /// The bytes are not an RSA, P-256 or Ed25519 private key in PKCS#8 DER.
    #[error("not a usable RSA, P-256 or Ed25519 private key in PKCS#8 DER")]
    Rejected,
    /// Key generation or encoding failed in the crypto library.
    #[error("{0} key generation failed")]
    Generation(SigningAlgorithm),
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl SigningKey {
    /// A fresh key for `algorithm`. RSA-2048 takes a fraction of a second; the others microseconds.
    pub fn generate(kid: KeyId, algorithm: SigningAlgorithm) -> Result<Self, SigningKeyError> {
        let failed = |_| SigningKeyError::Generation(algorithm);
        let pair = match algorithm {
            SigningAlgorithm::Rs256 => {
                Pair::Rsa(RsaKeyPair::generate(KeySize::Rsa2048).map_err(failed)?)
            }
            SigningAlgorithm::Es256 => {
                Pair::Ec(EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(failed)?)
            }
            SigningAlgorithm::EdDsa => Pair::Ed(Ed25519KeyPair::generate().map_err(failed)?),
        };
        Ok(Self::from_pair(kid, pair))
    }

    /// A key from its PKCS#8 DER private key; the algorithm follows from the key type (RSA,
    /// P-256 or Ed25519).
    pub fn from_pkcs8(kid: KeyId, der: &[u8]) -> Result<Self, SigningKeyError> {
        let pair = RsaKeyPair::from_pkcs8(der)
            .map(Pair::Rsa)
            .or_else(|_| {
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der).map(Pair::Ec)
            })
            .or_else(|_| Ed25519KeyPair::from_pkcs8(der).map(Pair::Ed))
            .map_err(|_| SigningKeyError::Rejected)?;
        Ok(Self::from_pair(kid, pair))
    }

    fn from_pair(kid: KeyId, pair: Pair) -> Self {
        let mut jwk = PublicJwk {
            kty: "RSA",
            kid: kid.as_str().to_owned(),
            use_: "sig",
            alg: "",
            crv: None,
            n: None,
            e: None,
            x: None,
            y: None,
        };
        match &pair {
            Pair::Rsa(rsa) => {
                let public = rsa.public_key();
                jwk.n = Some(b64(public.modulus().big_endian_without_leading_zero()));
                jwk.e = Some(b64(public.exponent().big_endian_without_leading_zero()));
            }
            Pair::Ec(ec) => {
                // The uncompressed point: 0x04, then x and y of 32 bytes each.
                let point = ec.public_key().as_ref();
                jwk.kty = "EC";
                jwk.crv = Some("P-256");
                jwk.x = Some(b64(&point[1..33]));
                jwk.y = Some(b64(&point[33..65]));
            }
            Pair::Ed(ed) => {
                jwk.kty = "OKP";
                jwk.crv = Some("Ed25519");
                jwk.x = Some(b64(ed.public_key().as_ref()));
            }
        }
        let mut key = Self { kid, pair, jwk };
        key.jwk.alg = key.algorithm().as_str();
        key
    }

    /// The same key under another `kid`.
    pub(crate) fn with_kid(self, kid: KeyId) -> Self {
        let mut jwk = self.jwk;
        kid.as_str().clone_into(&mut jwk.kid);
        Self {
            kid,
            pair: self.pair,
            jwk,
        }
    }

    /// The algorithm the key signs with.
    pub fn algorithm(&self) -> SigningAlgorithm {
        match self.pair {
            Pair::Rsa(_) => SigningAlgorithm::Rs256,
            Pair::Ec(_) => SigningAlgorithm::Es256,
            Pair::Ed(_) => SigningAlgorithm::EdDsa,
        }
    }

    /// The RFC 7638 JWK thumbprint (SHA-256, unpadded base64url): a name for the key material.
    pub fn thumbprint(&self) -> String {
        thumbprint_of(&self.jwk)
    }

    /// The key id.
    pub fn kid(&self) -> &KeyId {
        &self.kid
    }

    /// The public half as a JWK.
    pub fn public_jwk(&self) -> &PublicJwk {
        &self.jwk
    }

    /// The public half as the JWT library's verification key.
    pub(crate) fn verifier(&self) -> Result<VerifyingKey, SigningKeyError> {
        let jwk = &self.jwk;
        let part = |m: &Option<String>| m.clone().unwrap_or_default();
        match self.pair {
            Pair::Rsa(_) => DecodingKey::from_rsa_components(&part(&jwk.n), &part(&jwk.e)),
            Pair::Ec(_) => DecodingKey::from_ec_components(&part(&jwk.x), &part(&jwk.y)),
            Pair::Ed(_) => DecodingKey::from_ed_components(&part(&jwk.x)),
        }
        .map(|key| VerifyingKey::new(key, self.algorithm().jwt()))
        .map_err(|_| SigningKeyError::Rejected)
    }

    /// The private key as PKCS#8 DER, to seal it for the store.
    pub(crate) fn to_pkcs8(&self) -> Result<Vec<u8>, SigningKeyError> {
        let failed = |_| SigningKeyError::Generation(self.algorithm());
        let der = match &self.pair {
            Pair::Rsa(rsa) => rsa.as_der().map_err(failed)?.as_ref().to_vec(),
            Pair::Ec(ec) => ec.to_pkcs8v1().map_err(failed)?.as_ref().to_vec(),
            Pair::Ed(ed) => ed.to_pkcs8().map_err(failed)?.as_ref().to_vec(),
        };
        Ok(der)
    }

    /// The JWS signature of `message` under the key's algorithm (for ES256 the fixed-width
    /// `r || s` form JWS requires, RFC 7518 §3.4).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        const INFALLIBLE: &str = "signing with a validated key cannot fail";
        match &self.pair {
            Pair::Rsa(rsa) => {
                let mut signature = vec![0u8; rsa.public_modulus_len()];
                rsa.sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message,
                    &mut signature,
                )
                .expect(INFALLIBLE);
                signature
            }
            Pair::Ec(ec) => ec
                .sign(&SystemRandom::new(), message)
                .expect(INFALLIBLE)
                .as_ref()
                .to_vec(),
            Pair::Ed(ed) => ed.sign(message).as_ref().to_vec(),
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm())
            .field("private", &"[redacted]")
            .finish()
    }
}
