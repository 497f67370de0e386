//! A client's own signing key, for tests of `private_key_jwt` and DPoP: its public JWK to
//! register, compact JWTs it signs, and DPoP proofs.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

enum Pair {
    Es256(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A freshly generated ES256 or Ed25519 key of a test client, named by its `kid`.
///
/// ```
/// use knogin_core::testing::ClientKey;
///
/// let key = ClientKey::es256("k1");
/// let jwks = key.jwks();
/// assert_eq!(jwks["keys"][0]["kid"], "k1");
/// let jwt = key.sign(&serde_json::json!({"iss": "app_1"}));
/// assert_eq!(jwt.split('.').count(), 3);
/// ```
pub struct ClientKey {
    kid: String,
    pair: Pair,
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl ClientKey {
    /// A new P-256 key, signing `ES256`.
    pub fn es256(kid: &str) -> Self {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .expect("a P-256 key generates");
        Self {
            kid: kid.to_owned(),
            pair: Pair::Es256(pair),
        }
    }

    /// A new Ed25519 key, signing `EdDSA` (or `Ed25519`, with [`ClientKey::sign_as`]).
    pub fn ed25519(kid: &str) -> Self {
        let pair = Ed25519KeyPair::generate().expect("an Ed25519 key generates");
        Self {
            kid: kid.to_owned(),
            pair: Pair::Ed25519(pair),
        }
    }

    /// The public key as a JWK with its `kid`.
    pub fn public_jwk(&self) -> Value {
        match &self.pair {
            Pair::Es256(pair) => {
                let point = pair.public_key().as_ref();
                json!({"kty": "EC", "crv": "P-256", "kid": self.kid,
                    "x": b64(&point[1..33]), "y": b64(&point[33..65])})
            }
            Pair::Ed25519(pair) => json!({"kty": "OKP", "crv": "Ed25519", "kid": self.kid,
                "x": b64(pair.public_key().as_ref())}),
        }
    }

    /// A JWK Set of this key alone, as an app registers it.
    pub fn jwks(&self) -> Value {
        json!({"keys": [self.public_jwk()]})
    }

    /// The key's usual algorithm: `ES256` or `EdDSA`.
    pub fn alg(&self) -> &'static str {
        match self.pair {
            Pair::Es256(_) => "ES256",
            Pair::Ed25519(_) => "EdDSA",
        }
    }

    /// `claims` as a compact JWT with the header `{"alg", "typ": "JWT", "kid"}`.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_as(
            &json!({"alg": self.alg(), "typ": "JWT", "kid": self.kid}),
            claims,
        )
    }

    /// A DPoP proof (RFC 9449 §4.2) of a request with `method` to `url` made at `iat` (Unix
    /// seconds), with a fresh `jti`, and the `ath` of `access_token` when one is presented.
    ///
    /// ```
    /// use knogin_core::testing::ClientKey;
    ///
    /// let key = ClientKey::es256("k1");
    /// let proof = key.dpop_proof("POST", "https://auth.example/v1/oauth/token", 1_800_000_000, None);
    /// assert_eq!(proof.split('.').count(), 3);
    /// ```
    pub fn dpop_proof(
        &self,
        method: &str,
        url: &str,
        iat: i64,
        access_token: Option<&str>,
    ) -> String {
        let mut claims =
            json!({"jti": crate::random::hex(16), "htm": method, "htu": url, "iat": iat});
        if let Some(token) = access_token {
            claims["ath"] = knogin_verifier::jose::access_token_hash(token).into();
        }
        self.dpop(&claims)
    }

    /// `claims` as a DPoP proof: the header `{"typ": "dpop+jwt", "alg", "jwk"}` with this
    /// key's public JWK, for proofs [`ClientKey::dpop_proof`] does not make (a `nonce`, a
    /// wrong claim).
    pub fn dpop(&self, claims: &Value) -> String {
        self.sign_as(
            &json!({"typ": "dpop+jwt", "alg": self.alg(), "jwk": self.public_jwk()}),
            claims,
        )
    }

    /// `claims` as a compact JWT with exactly `header`, signed by this key whatever the header
    /// says (to test refusals).
    pub fn sign_as(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature = match &self.pair {
            Pair::Es256(pair) => pair
                .sign(&SystemRandom::new(), input.as_bytes())
                .expect("P-256 signs")
                .as_ref()
                .to_vec(),
            Pair::Ed25519(pair) => pair.sign(input.as_bytes()).as_ref().to_vec(),
        };
        format!("{input}.{}", b64(&signature))
    }
}
