//! DPoP at this issuer (RFC 9449): the proof of a request checked against the request and the
//! token it presents, each proof used once across instances, and server nonces that every
//! instance derives alike from the master key and the time.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use knogin_verifier::jose::{CheckedProof, DpopError, RequestProofPolicy, check_request_proof};

use super::Core;
use crate::apps::App;
use crate::clock::Timestamp;
use crate::secret::SecretHash;
use crate::store::{FlowKind, FlowState, StoreError};
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

impl Core {
    /// The nonce of the window `window`.
    fn nonce_of(&self, window: i64) -> String {
        let key = self.0.master_key.derive(b"knogin dpop nonce");
        let key = hmac::Key::new(hmac::HMAC_SHA256, key.as_slice());
        let tag = hmac::sign(&key, &window.to_be_bytes());
        let mut nonce = window.to_be_bytes().to_vec();
        nonce.extend_from_slice(&tag.as_ref()[..16]);
        URL_SAFE_NO_PAD.encode(nonce)
    }

    fn window(now: Timestamp) -> i64 {
        now.unix().div_euclid(NONCE_WINDOW_SECS)
    }

    /// The nonce to hand out now, when this server requires nonces.
    pub(crate) fn dpop_nonce(&self) -> Option<String> {
        self.0
            .dpop_nonces
            .then(|| self.nonce_of(Self::window(self.0.clock.now())))
    }

    /// Whether `nonce` is this window's or the previous one's.
    fn nonce_is_current(&self, nonce: &str, now: Timestamp) -> bool {
        let window = Self::window(now);
        [window, window - 1].into_iter().any(|w| {
            bool::from(subtle::ConstantTimeEq::ct_eq(
                nonce.as_bytes(),
                self.nonce_of(w).as_bytes(),
            ))
        })
    }

    /// Records a proof's `jti` for its key until the proof is too old to be taken anyway:
    /// `false` if it was recorded already.
    async fn first_proof(&self, proof: &CheckedProof) -> Result<bool, StoreError> {
        let state = FlowState {
            kind: FlowKind::UsedJti,
            key: SecretHash::of(&format!("dpop\0{}\0{}", proof.jkt, proof.jti)),
            value: String::new(),
            expires_at: proof.iat.plus(DPOP_PROOF_MAX_AGE + LEEWAY),
        };
        match self.0.store.put_state(&state, self.0.clock.now()).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
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
        if self.0.dpop_nonces
            && !checked
                .nonce
                .as_deref()
                .is_some_and(|nonce| self.nonce_is_current(nonce, now))
        {
            return Err(DpopRejection::UseNonce(self.nonce_of(Self::window(now))).into());
        }
        if !self.first_proof(&checked).await? {
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
