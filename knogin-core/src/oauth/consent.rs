//! The user's decision on an authorization request: remembered consents, the pending request a
//! consent form carries (its token is the form's CSRF token, bound to the user and used once),
//! and the redirects that answer an approval or a denial.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::id::{AppId, TenantId};
use crate::knogin::Knogin;
use crate::oauth::authorize::redirect_location;
use crate::oauth::{AuthorizationRequest, CodeChallenge, CodeRequest, ErrorRedirect};
use crate::scope::ScopeSet;
use crate::secret::{FlowToken, SecretHash};
use crate::store::{FlowKind, FlowState, StoreError, UserGrant};

/// How long a consent page waits for the user's decision.
pub const CONSENT_TTL: Duration = Duration::from_secs(600);

/// A request waiting on the consent page, as stored.
#[derive(Serialize, Deserialize)]
struct Pending {
    subject: String,
    client_id: String,
    tenant: String,
    client_name: String,
    redirect_uri: String,
    scopes: String,
    state: Option<String>,
    code_challenge: Option<String>,
}

impl Pending {
    fn new(request: &AuthorizationRequest, subject: &str) -> Self {
        Self {
            subject: subject.to_owned(),
            client_id: request.client_id.as_str().to_owned(),
            tenant: request.tenant.as_str().to_owned(),
            client_name: request.client_name.clone(),
            redirect_uri: request.redirect_uri.clone(),
            scopes: request.scopes.to_string(),
            state: request.state.clone(),
            code_challenge: request.challenge.as_ref().map(|c| c.as_str().to_owned()),
        }
    }

    fn request(self) -> Result<AuthorizationRequest, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("pending consent: {what}"));
        Ok(AuthorizationRequest {
            client_id: AppId::parse(&self.client_id).ok_or_else(|| corrupt("client_id"))?,
            tenant: TenantId::parse(&self.tenant).ok_or_else(|| corrupt("tenant"))?,
            client_name: self.client_name,
            redirect_uri: self.redirect_uri,
            scopes: ScopeSet::parse(&self.scopes).map_err(|_| corrupt("scopes"))?,
            state: self.state,
            challenge: self.code_challenge.map(CodeChallenge::from_stored),
        })
    }
}

impl Knogin {
    /// Whether `subject` already consented to every scope of `request` for its client, so the
    /// consent page can be skipped.
    pub async fn consent_remembered(
        &self,
        request: &AuthorizationRequest,
        subject: &str,
    ) -> Result<bool, StoreError> {
        let remembered = self
            .0
            .store
            .consented_scopes(&request.client_id, subject)
            .await?;
        Ok(remembered.is_some_and(|r| request.scopes.iter().all(|s| r.contains(s.as_str()))))
    }

    /// Stores `request` to wait for `subject`'s decision for [`CONSENT_TTL`], and returns the
    /// token the consent form carries back: whoever posts the decision must hold it and be
    /// signed in as `subject`.
    pub async fn await_consent(
        &self,
        request: &AuthorizationRequest,
        subject: &str,
    ) -> Result<FlowToken, StoreError> {
        let now = self.0.clock.now();
        let token = FlowToken::generate();
        let value = serde_json::to_string(&Pending::new(request, subject))
            .expect("a pending request serializes");
        let state = FlowState {
            kind: FlowKind::Consent,
            key: token.hash(),
            value,
            expires_at: now.plus(CONSENT_TTL),
        };
        self.0.store.put_state(&state, now).await?;
        Ok(token)
    }

    /// Takes the request waiting under `token` (once: a second post finds nothing), if it is
    /// still waiting and was shown to `subject`.
    pub async fn take_consent(
        &self,
        token: &str,
        subject: &str,
    ) -> Result<Option<AuthorizationRequest>, StoreError> {
        let now = self.0.clock.now();
        let Some(value) = self
            .0
            .store
            .take_state(FlowKind::Consent, &SecretHash::of(token), now)
            .await?
        else {
            return Ok(None);
        };
        let pending: Pending = serde_json::from_str(&value)
            .map_err(|e| StoreError::Corrupt(format!("pending consent: {e}")))?;
        if pending.subject != subject {
            return Ok(None);
        }
        pending.request().map(Some)
    }

    /// `subject` approves `request`: the consent is remembered (added to what was), a code is
    /// issued, and the answer is the `Location` that hands it to the client with `state` and
    /// `iss`.
    pub async fn approve(
        &self,
        request: &AuthorizationRequest,
        subject: &str,
    ) -> Result<String, StoreError> {
        let now = self.0.clock.now();
        let store = &self.0.store;
        let mut remembered = store
            .consented_scopes(&request.client_id, subject)
            .await?
            .unwrap_or_default();
        for scope in &request.scopes {
            remembered.insert(scope.clone());
        }
        store
            .remember_consent(&request.client_id, subject, &remembered, now)
            .await?;
        let code = self
            .issue_code(CodeRequest {
                grant: UserGrant {
                    client_id: request.client_id.clone(),
                    tenant: request.tenant.clone(),
                    subject: subject.to_owned(),
                    scopes: request.scopes.clone(),
                },
                redirect_uri: request.redirect_uri.clone(),
                challenge: request.challenge.clone(),
            })
            .await?;
        Ok(redirect_location(
            &request.redirect_uri,
            &[("code", code.expose())],
            request.state.as_deref(),
            &self.0.issuer,
        ))
    }

    /// The `Location` answering `request` with `access_denied`: the user said no.
    pub fn deny(&self, request: &AuthorizationRequest) -> String {
        ErrorRedirect::to(
            request,
            "access_denied",
            "the user denied the authorization request",
        )
        .location(&self.0.issuer)
    }
}
