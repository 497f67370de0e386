//! A client's public key as a JWK (RFC 7517): its type's members checked and decoded once, its
//! RFC 7638 thumbprint computed once.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::JwsAlgorithm;

/// The smallest RSA modulus taken, in bytes (2048 bits).
const MIN_RSA_MODULUS: usize = 256;

/// The members that make a JWK a private key (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Why a JWK was refused. The message is safe to show the client that sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwkError {
    /// Not a JSON object with the members its `kty` needs, each well formed.
    #[error("the key is not a well-formed JWK: {0}")]
    Malformed(&'static str),
    /// A type, curve or size this server does not verify with.
    #[error("the key type is not supported: {0}")]
    Unsupported(&'static str),
    /// It holds private key material.
    #[error("the key holds private key material")]
    Private,
}

#[derive(Clone, PartialEq, Eq)]
enum Material {
    /// An uncompressed P-256 point: `0x04 ‖ x ‖ y`.
    P256(Vec<u8>),
    /// An Ed25519 public key.
    Ed25519(Vec<u8>),
    /// An RSA modulus and exponent, big-endian.
    Rsa { n: Vec<u8>, e: Vec<u8> },
}

/// A public signing key as a JWK: EC P-256 (`ES256`), OKP Ed25519 (`EdDSA`, `Ed25519`) or RSA of
/// 2048 bits or more (`RS256`, `PS256`). A key whose `alg` is set verifies that algorithm only.
///
/// ```
/// use knogin_verifier::jose::PublicJwk;
///
/// let jwk = serde_json::json!({"kty": "OKP", "crv": "Ed25519",
///     "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
/// let key = PublicJwk::from_json(&jwk).unwrap();
/// assert_eq!(key.thumbprint(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct PublicJwk {
    material: Material,
    alg: Option<JwsAlgorithm>,
    kid: Option<String>,
    thumbprint: String,
}

impl std::fmt::Debug for PublicJwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicJwk")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

fn member<'a>(jwk: &'a Map<String, Value>, name: &'static str) -> Result<&'a str, JwkError> {
    jwk.get(name)
        .and_then(Value::as_str)
        .ok_or(JwkError::Malformed(name))
}

fn decoded(jwk: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>, JwkError> {
    URL_SAFE_NO_PAD
        .decode(member(jwk, name)?)
        .map_err(|_| JwkError::Malformed(name))
}

/// The RFC 7638 thumbprint: SHA-256 of the required members, in lexicographic order, with no
/// whitespace, base64url without padding.
fn thumbprint_of(required: &[(&str, &str)]) -> String {
    let canonical: Map<String, Value> = required
        .iter()
        .map(|(name, value)| ((*name).to_owned(), Value::from(*value)))
        .collect();
    let text = serde_json::to_string(&canonical).expect("strings serialize");
    URL_SAFE_NO_PAD.encode(digest(&SHA256, text.as_bytes()))
}

impl PublicJwk {
    /// Reads one JWK. Refused: private members, symmetric keys, curves other than P-256 and
    /// Ed25519, RSA under 2048 bits, an `alg` its type cannot verify, and (RFC 7517 §4.2, §4.3)
    /// a key whose `use` or `key_ops` leaves out signature verification.
    pub fn from_json(value: &Value) -> Result<Self, JwkError> {
        let jwk = value
            .as_object()
            .ok_or(JwkError::Malformed("not an object"))?;
        if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
            return Err(JwkError::Private);
        }
        let kty = member(jwk, "kty")?;
        let (material, thumbprint) = match kty {
            "EC" => {
                let crv = member(jwk, "crv")?;
                if crv != "P-256" {
                    return Err(JwkError::Unsupported("EC keys must be on P-256"));
                }
                let (x, y) = (decoded(jwk, "x")?, decoded(jwk, "y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(JwkError::Malformed("x and y must be 32 bytes"));
                }
                let point = [&[0x04][..], &x, &y].concat();
                let thumbprint = thumbprint_of(&[
                    ("crv", crv),
                    ("kty", kty),
                    ("x", member(jwk, "x")?),
                    ("y", member(jwk, "y")?),
                ]);
                (Material::P256(point), thumbprint)
            }
            "OKP" => {
                let crv = member(jwk, "crv")?;
                if crv != "Ed25519" {
                    return Err(JwkError::Unsupported("OKP keys must be Ed25519"));
                }
                let x = decoded(jwk, "x")?;
                if x.len() != 32 {
                    return Err(JwkError::Malformed("x must be 32 bytes"));
                }
                let thumbprint =
                    thumbprint_of(&[("crv", crv), ("kty", kty), ("x", member(jwk, "x")?)]);
                (Material::Ed25519(x), thumbprint)
            }
            "RSA" => {
                let (n, e) = (decoded(jwk, "n")?, decoded(jwk, "e")?);
                let significant = n.iter().skip_while(|b| **b == 0).count();
                if significant < MIN_RSA_MODULUS {
                    return Err(JwkError::Unsupported(
                        "RSA keys must have 2048 bits or more",
                    ));
                }
                if e.is_empty() {
                    return Err(JwkError::Malformed("e"));
                }
                let thumbprint = thumbprint_of(&[
                    ("e", member(jwk, "e")?),
                    ("kty", kty),
                    ("n", member(jwk, "n")?),
                ]);
                (Material::Rsa { n, e }, thumbprint)
            }
            "oct" => return Err(JwkError::Unsupported("symmetric keys are not taken")),
            _ => return Err(JwkError::Unsupported("kty must be EC, OKP or RSA")),
        };
        let alg = match jwk.get("alg") {
            None => None,
            Some(alg) => Some(
                alg.as_str()
                    .and_then(JwsAlgorithm::parse)
                    .ok_or(JwkError::Unsupported("alg"))?,
            ),
        };
        let kid = match jwk.get("kid") {
            None => None,
            Some(kid) => Some(kid.as_str().ok_or(JwkError::Malformed("kid"))?.to_owned()),
        };
        if !for_signatures(jwk) {
            return Err(JwkError::Unsupported("the key is not for signatures"));
        }
        let key = Self {
            material,
            alg: None,
            kid,
            thumbprint,
        };
        if let Some(alg) = alg
            && !key.fits(alg)
        {
            return Err(JwkError::Unsupported("alg does not fit the key type"));
        }
        Ok(Self { alg, ..key })
    }

    /// The key's `kid`, if it has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The key's `alg`, if it names one.
    pub fn alg(&self) -> Option<JwsAlgorithm> {
        self.alg
    }

    /// Its RFC 7638 JWK SHA-256 thumbprint, base64url: what DPoP's `cnf.jkt` holds.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// Whether a signature by `alg` may be checked with this key: the algorithm fits the key's
    /// type, and is the key's `alg` when it has one (RFC 8725 §3.1).
    pub fn verifies(&self, alg: JwsAlgorithm) -> bool {
        self.fits(alg) && self.alg.is_none_or(|own| own.same_as(alg))
    }

    fn fits(&self, alg: JwsAlgorithm) -> bool {
        matches!(
            (&self.material, alg),
            (Material::P256(_), JwsAlgorithm::Es256)
                | (
                    Material::Ed25519(_),
                    JwsAlgorithm::EdDsa | JwsAlgorithm::Ed25519
                )
                | (
                    Material::Rsa { .. },
                    JwsAlgorithm::Rs256 | JwsAlgorithm::Ps256
                )
        )
    }

    /// Whether `signature` is `alg`'s signature of `message` by this key.
    pub(crate) fn check(&self, alg: JwsAlgorithm, message: &[u8], signature: &[u8]) -> bool {
        if !self.verifies(alg) {
            return false;
        }
        match (&self.material, alg) {
            (Material::P256(point), _) => {
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature)
                    .is_ok()
            }
            (Material::Ed25519(x), _) => UnparsedPublicKey::new(&signature::ED25519, x)
                .verify(message, signature)
                .is_ok(),
            (Material::Rsa { n, e }, JwsAlgorithm::Ps256) => RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PSS_2048_8192_SHA256, message, signature)
                .is_ok(),
            (Material::Rsa { n, e }, _) => RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, signature)
                .is_ok(),
        }
    }
}

/// Whether the JWK may verify signatures: not `use: enc`, and `verify` among its `key_ops`
/// when it has any.
fn for_signatures(jwk: &Map<String, Value>) -> bool {
    let usable = jwk.get("use").is_none_or(|u| u == "sig");
    let operations = jwk.get("key_ops").is_none_or(|ops| {
        ops.as_array()
            .is_some_and(|ops| ops.iter().any(|op| op == "verify"))
    });
    usable && operations
}

/// The `keys` array of a JWK Set document.
fn keys_of(value: &Value) -> Result<&Vec<Value>, JwkError> {
    value
        .get("keys")
        .and_then(Value::as_array)
        .ok_or(JwkError::Malformed(
            "a JWK Set is an object with a keys array",
        ))
}

/// A client's JWK Set (RFC 7517 §5): its signature keys, each readable, no two with one `kid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicJwkSet(Vec<PublicJwk>);

/// The most keys a client's set may hold.
pub const MAX_CLIENT_KEYS: usize = 16;

impl PublicJwkSet {
    /// Reads `{"keys": [...]}`. Every key must be a public signature key this server verifies
    /// with (a set meant for it has no use for others), there must be one to
    /// [`MAX_CLIENT_KEYS`], and no two may share a `kid`.
    pub fn from_json(value: &Value) -> Result<Self, JwkError> {
        let keys = keys_of(value)?;
        if keys.is_empty() || keys.len() > MAX_CLIENT_KEYS {
            return Err(JwkError::Malformed("a set holds 1 to 16 keys"));
        }
        let keys = keys
            .iter()
            .map(PublicJwk::from_json)
            .collect::<Result<Vec<_>, _>>()?;
        Self::distinct(keys)
    }

    /// Reads a set a client publishes at its `jwks_uri`, which may serve other parties too: keys
    /// this server cannot verify with (encryption keys, other curves, anything unreadable) are
    /// skipped. One to [`MAX_CLIENT_KEYS`] usable keys must remain, no two with one `kid`.
    pub fn from_published_json(value: &Value) -> Result<Self, JwkError> {
        let keys: Vec<PublicJwk> = keys_of(value)?
            .iter()
            .filter_map(|key| PublicJwk::from_json(key).ok())
            .collect();
        if keys.is_empty() || keys.len() > MAX_CLIENT_KEYS {
            return Err(JwkError::Malformed(
                "a set holds 1 to 16 keys this server verifies signatures with",
            ));
        }
        Self::distinct(keys)
    }

    /// The set of `keys`, unless two share a `kid`.
    fn distinct(keys: Vec<PublicJwk>) -> Result<Self, JwkError> {
        let mut kids = std::collections::HashSet::new();
        if !keys
            .iter()
            .filter_map(PublicJwk::kid)
            .all(|kid| kids.insert(kid))
        {
            return Err(JwkError::Malformed("two keys share a kid"));
        }
        Ok(Self(keys))
    }

    /// The keys that may check a signature by `alg` with header `kid`: the key of that `kid`,
    /// or, without one, every key fit for `alg`.
    pub fn candidates(
        &self,
        alg: JwsAlgorithm,
        kid: Option<&str>,
    ) -> impl Iterator<Item = &PublicJwk> {
        self.0
            .iter()
            .filter(move |key| kid.is_none_or(|kid| key.kid() == Some(kid)) && key.verifies(alg))
    }

    /// Every key.
    pub fn keys(&self) -> &[PublicJwk] {
        &self.0
    }
}
