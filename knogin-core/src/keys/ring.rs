//! The issuer's key ring: loaded (or created) once at start, then served from memory.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use jsonwebtoken::DecodingKey;
use serde::Serialize;

use super::master::MasterKey;
use super::signing::{ALGORITHM, PublicJwk, SigningKey, SigningKeyError};
use crate::clock::Timestamp;
use crate::id::KeyId;
use crate::store::{KeyStore, StoreError, StoredKey};

/// Why the key ring could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyRingError {
    /// A stored key does not open with the master key given: the operator supplied a different
    /// key from the one the database was created with.
    #[error(
        "signing key {kid} cannot be unsealed: the master key is not the one this database was created with"
    )]
    WrongMasterKey {
        /// The key that did not open.
        kid: KeyId,
    },
    /// A stored key uses an algorithm this version does not support.
    #[error("signing key {kid} uses unsupported algorithm {algorithm}")]
    UnsupportedAlgorithm {
        /// The key.
        kid: KeyId,
        /// Its algorithm.
        algorithm: String,
    },
    /// A key could not be generated or parsed.
    #[error("signing key {kid}: {source}")]
    Key {
        /// The key.
        kid: KeyId,
        /// What went wrong.
        #[source]
        source: SigningKeyError,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The `kid` for a key created at `now`: `YYYY-MM-signing-key`, like the contract's
/// `2026-03-signing-key`.
pub fn kid_for(now: Timestamp) -> KeyId {
    let (year, month) = now
        .to_datetime()
        .map_or((1970, 1), |t| (t.year(), u8::from(t.month())));
    KeyId::new(format!("{year:04}-{month:02}-signing-key"))
}

/// The keys in force: the one that signs, every one that verifies, and the JWKS document.
#[derive(Debug)]
pub struct KeyRing {
    signer: Arc<SigningKey>,
    verifiers: HashMap<KeyId, DecodingKey>,
    jwks: Bytes,
}

#[derive(Serialize)]
struct JwkSet<'a> {
    keys: Vec<&'a PublicJwk>,
}

impl KeyRing {
    /// Loads every stored key, creating the first one if the store has none. `initial` is the
    /// PKCS#8 DER to use for that first key instead of generating one (tests use a fixture).
    ///
    /// Safe when several processes start at once on one database: one key wins, the others load it.
    pub async fn load_or_create(
        store: &dyn KeyStore,
        master: &MasterKey,
        now: Timestamp,
        initial: Option<&[u8]>,
    ) -> Result<Self, KeyRingError> {
        let mut stored = store.signing_keys().await?;
        if stored.is_empty() {
            let kid = kid_for(now);
            let key = match initial {
                Some(der) => SigningKey::from_pkcs8(kid.clone(), der),
                None => SigningKey::generate(kid.clone()),
            }
            .map_err(key_error(&kid))?;
            let der = key.to_pkcs8().map_err(key_error(&kid))?;
            let record = StoredKey {
                sealed_private_key: master.seal(&der, kid.as_str().as_bytes()),
                kid,
                algorithm: ALGORITHM.to_owned(),
                created_at: now,
            };
            match store.insert_signing_key(&record).await {
                Ok(()) => tracing::info!(kid = %record.kid, "created the first signing key"),
                Err(StoreError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
            stored = store.signing_keys().await?;
        }
        let keys = stored
            .iter()
            .map(|record| open(record, master))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::from_keys(keys))
    }

    /// A ring of `keys`; the last one signs. Panics if `keys` is empty.
    pub fn from_keys(keys: Vec<SigningKey>) -> Self {
        let set = JwkSet {
            keys: keys.iter().map(SigningKey::public_jwk).collect(),
        };
        let jwks = Bytes::from(serde_json::to_vec(&set).expect("a JWK set serializes"));
        let verifiers = keys
            .iter()
            .map(|k| {
                let jwk = k.public_jwk();
                let decoding = DecodingKey::from_rsa_components(&jwk.n, &jwk.e)
                    .expect("components from a parsed RSA key are valid");
                (k.kid().clone(), decoding)
            })
            .collect();
        let signer = Arc::new(
            keys.into_iter()
                .last()
                .expect("a key ring has at least one key"),
        );
        Self {
            signer,
            verifiers,
            jwks,
        }
    }

    /// The key that signs new tokens.
    pub fn signer(&self) -> &SigningKey {
        &self.signer
    }

    /// The verification key for `kid`, if it is in the ring.
    pub(crate) fn verifier(&self, kid: &str) -> Option<&DecodingKey> {
        self.verifiers.get(&KeyId::new(kid))
    }

    /// The RFC 7517 JWK set, serialized once.
    pub fn jwks(&self) -> &Bytes {
        &self.jwks
    }
}

fn open(record: &StoredKey, master: &MasterKey) -> Result<SigningKey, KeyRingError> {
    if record.algorithm != ALGORITHM {
        return Err(KeyRingError::UnsupportedAlgorithm {
            kid: record.kid.clone(),
            algorithm: record.algorithm.clone(),
        });
    }
    let der = master
        .open(&record.sealed_private_key, record.kid.as_str().as_bytes())
        .ok_or_else(|| KeyRingError::WrongMasterKey {
            kid: record.kid.clone(),
        })?;
    SigningKey::from_pkcs8(record.kid.clone(), &der).map_err(key_error(&record.kid))
}

/// Wraps a key error with the `kid` it concerns.
fn key_error(kid: &KeyId) -> impl FnOnce(SigningKeyError) -> KeyRingError + '_ {
    move |source| KeyRingError::Key {
        kid: kid.clone(),
        source,
    }
}
