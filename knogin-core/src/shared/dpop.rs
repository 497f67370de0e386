//! DPoP at this issuer (RFC 9449): the proof of a request checked against the request and the
//! token it presents, each proof used once across instances, and server nonces that every
//! instance derives alike from the master key and the time.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use knogin_verifier::jose::{CheckedProof, DpopError, RequestProofPolicy, check_request_proof};

use crate::keys::MasterKey;

use super::Core;
use crate::apps::App;
use crate::clock::Timestamp;
use crate::secret::SecretHash;
use crate::store::StoreError;
use crate::token::{DPOP_PROOF_MAX_AGE, DpopRejection, LEEWAY, RequestHead};

/// How long one nonce window lasts; a nonce is good in its window and the next.
const NONCE_WINDOW_SECS: i64 = 300;

/// Why checking a proof could not finish.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DpopFailure {
    #[error(transparent)]
    Refused(#[from] DpopRejection),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The key server nonces are made with: derived from the master key, so every instance of a
/// deployment makes and accepts the same nonces.
pub(crate) fn dpop_nonce_key(master_key: &MasterKey) -> hmac::Key {
    let key = master_key.derive(b"knogin dpop nonce");
    hmac::Key::new(hmac::HMAC_SHA256, key.as_slice())
}

/// The nonce of the window `window` under `key`.
fn nonce_of(key: &hmac::Key, window: i64) -> String {
    let tag = hmac::sign(key, &window.to_be_bytes());
    let mut nonce = window.to_be_bytes().to_vec();
    nonce.extend_from_slice(&tag.as_ref()[..16]);
    URL_SAFE_NO_PAD.encode(nonce)
}

fn window(now: Timestamp) -> i64 {
    now.unix().div_euclid(NONCE_WINDOW_SECS)
}

/// Whether `nonce` is `key`'s nonce of the window of `now` or of the one before.
fn nonce_is_current(key: &hmac::Key, nonce: &str, now: Timestamp) -> bool {
    let window = window(now);
    [window, window - 1].into_iter().any(|w| {
        bool::from(subtle::ConstantTimeEq::ct_eq(
            nonce.as_bytes(),
            nonce_of(key, w).as_bytes(),
        ))
    })
}

impl Core {
    /// The nonce to hand out now, when this server requires nonces.
    pub(crate) fn dpop_nonce(&self) -> Option<String> {
        let key = self.0.dpop_nonce_key.as_ref()?;
        Some(nonce_of(key, window(self.0.clock.now())))
    }

    /// The key an access token issued to `app` for `request` is bound to: the thumbprint of
    /// the request's checked DPoP proof, `None` without one, refused without one when the
    /// app's governance requires DPoP.
    pub(crate) async fn token_binding(
        &self,
        app: &App,
        request: &impl RequestHead,
    ) -> Result<Option<String>, DpopFailure> {
        match self.dpop_proof(request, None).await? {
            Some(proof) => Ok(Some(proof.jkt)),
            None if app.governance.requires_dpop() => Err(DpopRejection::Invalid(
                "this app's access tokens must be DPoP-bound: send a DPoP proof".into(),
            )
            .into()),
            None => Ok(None),
        }
    }

    /// The DPoP proof of `request`, checked: `None` without a `DPoP` header. `access_token` is
    /// the token it must be bound to (its `ath`), except at the token endpoint.
    pub(crate) async fn dpop_proof(
        &self,
        request: &impl RequestHead,
        access_token: Option<&str>,
    ) -> Result<Option<CheckedProof>, DpopFailure> {
        let now = self.0.clock.now();
        let policy = RequestProofPolicy {
            origins: &[origin(self.issuer())],
            now,
            max_age: DPOP_PROOF_MAX_AGE,
            leeway: LEEWAY,
        };
        let Some(checked) = check_request_proof(request, &policy, access_token)
            .map_err(|e| DpopRejection::Invalid(e.to_string()))?
        else {
            return Ok(None);
        };
        if let Some(key) = &self.0.dpop_nonce_key
            && !checked
                .nonce
                .as_deref()
                .is_some_and(|nonce| nonce_is_current(key, nonce, now))
        {
            return Err(DpopRejection::UseNonce(nonce_of(key, window(now))).into());
        }
        // Recorded per key until the proof is too old to be taken anyway.
        let used = SecretHash::of(&format!("dpop\0{}\0{}", checked.jkt, checked.jti));
        let until = checked.iat.plus(DPOP_PROOF_MAX_AGE + LEEWAY);
        if !self.first_use(used, until, now).await? {
            return Err(DpopRejection::Invalid(DpopError::Reused.to_string()).into());
        }
        Ok(Some(checked))
    }
}

/// The scheme and authority of `url`, without a path.
fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}
