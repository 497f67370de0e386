//! One RSA signing key, parsed once and kept ready to sign.

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use crate::id::KeyId;

/// The JWS algorithm of every key the issuer creates.
pub const ALGORITHM: &str = "RS256";

/// A key's public half in RFC 7517 form. It has no private member (`d`, `p`, `q`, `dp`, `dq`,
/// `qi`) to leak: the type cannot hold one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicJwk {
    /// Always `RSA`.
    pub kty: &'static str,
    /// The key id tokens name in their header.
    pub kid: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub use_: &'static str,
    /// Always `RS256`.
    pub alg: &'static str,
    /// The modulus, unpadded base64url.
    pub n: String,
    /// The public exponent, unpadded base64url.
    pub e: String,
}

/// An RS256 signing key with its `kid`. The private key is parsed once, here, so signing a token
/// costs one RSA operation and nothing else.
pub struct SigningKey {
    kid: KeyId,
    pair: RsaKeyPair,
    jwk: PublicJwk,
}

/// Why a key could not be created or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SigningKeyError {
    /// The bytes are not an RSA private key in PKCS#8 DER, or the key is unusable for RS256.
    #[error("not a usable RSA private key in PKCS#8 DER: {0}")]
    Rejected(String),
    /// Key generation failed in the crypto library.
    #[error("RSA key generation failed")]
    Generation,
}

impl SigningKey {
    /// A fresh RSA-2048 key. Slow (a fraction of a second): the issuer does it once, on first start.
    pub fn generate(kid: KeyId) -> Result<Self, SigningKeyError> {
        let pair =
            RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| SigningKeyError::Generation)?;
        Ok(Self::from_pair(kid, pair))
    }

    /// A key from its PKCS#8 DER private key.
    pub fn from_pkcs8(kid: KeyId, der: &[u8]) -> Result<Self, SigningKeyError> {
        let pair =
            RsaKeyPair::from_pkcs8(der).map_err(|e| SigningKeyError::Rejected(e.to_string()))?;
        Ok(Self::from_pair(kid, pair))
    }

    fn from_pair(kid: KeyId, pair: RsaKeyPair) -> Self {
        let public = pair.public_key();
        let jwk = PublicJwk {
            kty: "RSA",
            kid: kid.as_str().to_owned(),
            use_: "sig",
            alg: ALGORITHM,
            n: URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            e: URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        };
        Self { kid, pair, jwk }
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

    /// The RFC 7638 JWK thumbprint (SHA-256, unpadded base64url): a name for the key material.
    pub fn thumbprint(&self) -> String {
        // The required members in lexicographic order, no whitespace (RFC 7638 §3.3).
        let canonical = format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            self.jwk.e, self.jwk.n
        );
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
        URL_SAFE_NO_PAD.encode(digest.as_ref())
    }

    /// The key id.
    pub fn kid(&self) -> &KeyId {
        &self.kid
    }

    /// The public half as a JWK.
    pub fn public_jwk(&self) -> &PublicJwk {
        &self.jwk
    }

    /// The private key as PKCS#8 DER, to seal it for the store.
    pub(crate) fn to_pkcs8(&self) -> Result<Vec<u8>, SigningKeyError> {
        let der = self
            .pair
            .as_der()
            .map_err(|e| SigningKeyError::Rejected(e.to_string()))?;
        Ok(der.as_ref().to_vec())
    }

    /// An RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signature over `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let mut signature = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .expect("signing with a validated RSA key into a modulus-sized buffer cannot fail");
        signature
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("private", &"[redacted]")
            .finish()
    }
}
