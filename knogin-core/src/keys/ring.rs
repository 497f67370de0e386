//! The issuer's key ring: every published key with its lifecycle, loaded from the store (and
//! reloaded on an interval, so every instance on one database agrees), serving signatures,
//! verifications and the JWKS document from memory.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use knogin_verifier::VerifyingKey;
use serde::Serialize;

use super::master::{MasterKey, Purpose};
use super::signing::{PublicJwk, SigningAlgorithm, SigningKey, SigningKeyError};
use crate::clock::Timestamp;
use crate::id::KeyId;
use crate::store::{KeyStore, StoreError, StoredKey};

/// Why the key ring could not be loaded or changed.
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
    /// A stored key's algorithm is not one this version supports, or not its key type's.
    #[error(
        "signing key {kid} is stored as {algorithm}, which it is not or this version does not support"
    )]
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
    /// The store holds no key that may sign now.
    #[error("the store holds no signing key that is active now")]
    NoActiveKey,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The readable `kid` for a key created at `now`: `YYYY-MM-signing-key`, like the contract's
/// `2026-03-signing-key`. A second key of the same month gets a suffix (see
/// [`Keys::rotate`](crate::Keys::rotate)).
pub fn kid_for(now: Timestamp) -> KeyId {
    let (year, month) = now
        .to_datetime()
        .map_or((1970, 1), |t| (t.year(), u8::from(t.month())));
    KeyId::new(format!("{year:04}-{month:02}-signing-key"))
}

/// One key of the ring with its lifecycle.
#[derive(Debug)]
struct Entry {
    key: SigningKey,
    verifier: VerifyingKey,
    /// When it started (or starts) signing: its activation, or its creation for a first key
    /// stored active since ever.
    signs_from: Timestamp,
    activates_at: Timestamp,
    retires_at: Option<Timestamp>,
    removed_at: Option<Timestamp>,
}

impl Entry {
    fn published(&self, now: Timestamp) -> bool {
        self.removed_at.is_none_or(|t| t > now)
    }

    fn signs(&self, now: Timestamp) -> bool {
        self.activates_at <= now && self.retires_at.is_none_or(|t| t > now) && self.published(now)
    }
}

/// The keys in force: the ones that sign (by time), every one that verifies, and the JWKS.
#[derive(Debug)]
pub struct KeyRing {
    /// Never empty: both constructors refuse to build an empty ring.
    entries: Vec<Entry>,
    /// The most recently activated entry, signing when clocks disagree about every other.
    fallback: usize,
    by_kid: HashMap<KeyId, usize>,
    jwks: Bytes,
}

/// The public signing keys (RFC 7517).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Jwks)]
pub(crate) struct JwkSet<'a> {
    /// Every key tokens may be signed with: the current one, the next, and retired ones.
    keys: Vec<&'a PublicJwk>,
}

/// The key a rotation adds.
#[derive(Debug, Clone, Copy)]
pub(crate) enum NewKey<'a> {
    /// A new key for this algorithm.
    Generate(SigningAlgorithm),
    /// This PKCS#8 DER private key (a test fixture).
    #[cfg_attr(not(test), expect(dead_code, reason = "tests rotate to fixture keys"))]
    Pkcs8(&'a [u8]),
}

/// How a rotation schedules the keys: the new key signs `lead` after it is published, and the
/// keys it replaces stay published `token_lifetime` after that, so every token they signed
/// expires first.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schedule {
    pub(crate) lead: Duration,
    pub(crate) token_lifetime: Duration,
}

impl KeyRing {
    /// Loads every stored key at `now`, creating the first one if the store never had one.
    /// That key is generated for `algorithm`, unless `initial` gives its PKCS#8 DER (tests use
    /// a fixture).
    ///
    /// Safe when several processes start at once on one database, on either side of a month
    /// boundary: the store lets exactly one first key in, and the others load it.
    pub async fn load_or_create(
        store: &dyn KeyStore,
        master: &MasterKey,
        now: Timestamp,
        initial: Option<&[u8]>,
        algorithm: SigningAlgorithm,
    ) -> Result<Self, KeyRingError> {
        let mut stored = store.signing_keys().await?;
        if stored.is_empty() {
            let kid = kid_for(now);
            let key = match initial {
                Some(der) => SigningKey::from_pkcs8(kid.clone(), der),
                None => SigningKey::generate(kid.clone(), algorithm),
            }
            .map_err(key_error(&kid))?;
            // The first key signs from the start: no verifier could have cached another, and an
            // instance whose clock is behind the creator's must still find it active.
            let record = seal(&key, master, now, Timestamp::from_unix(0))?;
            if store.insert_first_signing_key(&record).await? {
                tracing::info!(kid = %record.kid, "created the first signing key");
            }
            stored = store.signing_keys().await?;
        }
        Self::open(&stored, master, now)
    }

    /// A ring of `stored` keys at `now` (each unsealed with `master`).
    pub(crate) fn open(
        stored: &[StoredKey],
        master: &MasterKey,
        now: Timestamp,
    ) -> Result<Self, KeyRingError> {
        let mut entries = Vec::new();
        for record in stored
            .iter()
            .filter(|r| r.removed_at.is_none_or(|t| t > now))
        {
            let key = open(record, master)?;
            let verifier = key.verifier().map_err(key_error(&record.kid))?;
            entries.push(Entry {
                key,
                verifier,
                signs_from: record.activates_at.max(record.created_at),
                activates_at: record.activates_at,
                retires_at: record.retires_at,
                removed_at: record.removed_at,
            });
        }
        if !entries.iter().any(|e| e.activates_at <= now) {
            return Err(KeyRingError::NoActiveKey);
        }
        Ok(Self::index(entries))
    }

    /// A ring of `keys`, all active since the beginning of time; the last one signs. For tests
    /// and tools that hold keys in memory. Panics if `keys` is empty.
    pub fn from_keys(keys: Vec<SigningKey>) -> Self {
        assert!(!keys.is_empty(), "a key ring has at least one key");
        let entries = keys
            .into_iter()
            .enumerate()
            .map(|(i, key)| {
                let verifier = key
                    .verifier()
                    .expect("the public half of a parsed key is valid");
                let activates_at = Timestamp::from_unix(i64::try_from(i).unwrap_or(0));
                Entry {
                    key,
                    verifier,
                    signs_from: activates_at,
                    activates_at,
                    retires_at: None,
                    removed_at: None,
                }
            })
            .collect::<Vec<_>>();
        Self::index(entries)
    }

    /// The ring of `entries`: indexed by kid, with its JWK set serialized once.
    fn index(entries: Vec<Entry>) -> Self {
        let set = JwkSet {
            keys: entries.iter().map(|e| e.key.public_jwk()).collect(),
        };
        let jwks = Bytes::from(serde_json::to_vec(&set).expect("a JWK set serializes"));
        let by_kid = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.key.kid().clone(), i))
            .collect();
        let fallback = (0..entries.len())
            .max_by_key(|&i| entries[i].activates_at)
            .unwrap_or(0);
        Self {
            entries,
            fallback,
            by_kid,
            jwks,
        }
    }

    /// The `kid` and algorithm of the key that signs at `now`. The key itself stays inside the
    /// core: tokens are signed only through [`Knogin`](crate::Knogin)'s policies.
    pub fn signing_key(&self, now: Timestamp) -> (&KeyId, SigningAlgorithm) {
        let key = self.signer(now);
        (key.kid(), key.algorithm())
    }

    /// When the key that signs at `now` started signing.
    pub(crate) fn signing_since(&self, now: Timestamp) -> Timestamp {
        let kid = self.signer(now).kid();
        self.by_kid
            .get(kid.as_str())
            .map_or(now, |&i| self.entries[i].signs_from.min(now))
    }

    /// The key that signs at `now`: the most recently activated key that is neither retired nor
    /// removed. If clocks disagree and none qualifies, the most recently activated published key.
    pub(crate) fn signer(&self, now: Timestamp) -> &SigningKey {
        let newest = |keep: &dyn Fn(&Entry) -> bool| {
            self.entries
                .iter()
                .filter(|e| keep(e))
                .max_by_key(|e| e.activates_at)
        };
        newest(&|e| e.signs(now))
            .or_else(|| newest(&|e| e.activates_at <= now))
            .map_or(&self.entries[self.fallback].key, |e| &e.key)
    }

    /// The verification key for `kid` at `now` (with the one algorithm it verifies), if it is
    /// in the ring and not removed.
    pub(crate) fn verifier(&self, kid: &str, now: Timestamp) -> Option<&VerifyingKey> {
        let entry = &self.entries[*self.by_kid.get(kid)?];
        entry.published(now).then_some(&entry.verifier)
    }

    /// The kids in the ring (published, pending and retired).
    pub fn kids(&self) -> impl Iterator<Item = &KeyId> {
        self.entries.iter().map(|e| e.key.kid())
    }

    /// The RFC 7517 JWK set of every published key, serialized when the ring was loaded.
    pub fn jwks(&self) -> &Bytes {
        &self.jwks
    }

    /// Adds a new signing key: published now, signing `schedule.lead` from now; every key not yet
    /// retired retires then and is removed `schedule.token_lifetime` later. Returns its `kid`:
    /// the month's readable form, or with a suffix from its JWK thumbprint when that is taken.
    pub(crate) async fn rotate(
        store: &dyn KeyStore,
        master: &MasterKey,
        now: Timestamp,
        schedule: Schedule,
        new_key: NewKey<'_>,
    ) -> Result<KeyId, KeyRingError> {
        let taken: Vec<KeyId> = store
            .signing_keys()
            .await?
            .into_iter()
            .map(|k| k.kid)
            .collect();
        let base = kid_for(now);
        let draft = match new_key {
            NewKey::Pkcs8(der) => SigningKey::from_pkcs8(base.clone(), der),
            NewKey::Generate(algorithm) => SigningKey::generate(base.clone(), algorithm),
        }
        .map_err(key_error(&base))?;
        let kid = if taken.contains(&base) {
            KeyId::new(format!("{base}-{}", &draft.thumbprint()[..8]))
        } else {
            base
        };
        let key = draft.with_kid(kid.clone());
        let activates_at = now.plus(schedule.lead);
        let record = seal(&key, master, now, activates_at)?;
        store
            .rotate_signing_key(&record, activates_at.plus(schedule.token_lifetime))
            .await?;
        tracing::info!(%kid, algorithm = %key.algorithm(), activates_at = %activates_at, "added a signing key");
        Ok(kid)
    }
}

/// `key` sealed for the store, published at `now` and signing from `activates_at`.
fn seal(
    key: &SigningKey,
    master: &MasterKey,
    now: Timestamp,
    activates_at: Timestamp,
) -> Result<StoredKey, KeyRingError> {
    let der = key.to_pkcs8().map_err(key_error(key.kid()))?;
    Ok(StoredKey {
        sealed_private_key: master.seal(Purpose::SigningKey, key.kid().as_str().as_bytes(), &der),
        kid: key.kid().clone(),
        algorithm: key.algorithm().as_str().to_owned(),
        created_at: now,
        activates_at,
        retires_at: None,
        removed_at: None,
    })
}

fn open(record: &StoredKey, master: &MasterKey) -> Result<SigningKey, KeyRingError> {
    let unsupported = || KeyRingError::UnsupportedAlgorithm {
        kid: record.kid.clone(),
        algorithm: record.algorithm.clone(),
    };
    let algorithm = SigningAlgorithm::parse(&record.algorithm).ok_or_else(unsupported)?;
    let der = master
        .open(
            Purpose::SigningKey,
            record.kid.as_str().as_bytes(),
            &record.sealed_private_key,
        )
        .ok_or_else(|| KeyRingError::WrongMasterKey {
            kid: record.kid.clone(),
        })?;
    let key = SigningKey::from_pkcs8(record.kid.clone(), &der).map_err(key_error(&record.kid))?;
    if key.algorithm() != algorithm {
        return Err(unsupported());
    }
    Ok(key)
}

/// Wraps a key error with the `kid` it concerns.
fn key_error(kid: &KeyId) -> impl FnOnce(SigningKeyError) -> KeyRingError + '_ {
    move |source| KeyRingError::Key {
        kid: kid.clone(),
        source,
    }
}
