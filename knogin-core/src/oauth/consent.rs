//! The user's decision on an authorization request: remembered consents, the pending request a
//! consent form carries (its token is the form's CSRF token, bound to the user and used once),
//! and the redirects that answer an approval or a denial.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::id::{AppId, TenantId};
use crate::oauth::authorize::redirect_location;
use crate::oauth::{AuthorizationRequest, CodeChallenge, CodeRequest, ErrorRedirect, SignedInUser};
use crate::scope::ScopeSet;
use crate::secret::{FlowToken, SecretHash};
use crate::shared::Core;
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
    #[serde(default)]
    resource: Option<String>,
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
            resource: request.resource.clone(),
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
            resource: self.resource,
            pushed: None,
        })
    }
}

impl Core {
    /// Whether `user` already consented to every scope of `request` for its client within its
    /// tenant, so the consent page can be skipped. Never for a user who is not a member of the
    /// request's tenant.
    pub(crate) async fn consent_remembered(
        &self,
        request: &AuthorizationRequest,
        user: &SignedInUser,
    ) -> Result<bool, StoreError> {
        if !user.is_member_of(&request.tenant) {
            return Ok(false);
        }
        let remembered = self
            .0
            .store
            .consented_scopes(&request.client_id, &request.tenant, &user.subject)
            .await?;
        Ok(remembered.is_some_and(|r| request.scopes.iter().all(|s| r.contains(s.as_str()))))
    }

    /// Stores `request` to wait for `subject`'s decision for [`CONSENT_TTL`], and returns the
    /// token the consent form carries back: whoever posts the decision must hold it and be
    /// signed in as `subject`.
    pub(crate) async fn await_consent(
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
    pub(crate) async fn take_consent(
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

    /// `user` approves `request`: the consent is remembered (added to what was), a code is
    /// issued, and the answer is the `Location` that hands it to the client with `state` and
    /// `iss`. A user who is not a member of the request's tenant gets no code: the answer is
    /// `access_denied` (see [`Core::refuse_outsider`]).
    pub(crate) async fn approve(
        &self,
        request: &AuthorizationRequest,
        user: &SignedInUser,
    ) -> Result<String, StoreError> {
        if !user.is_member_of(&request.tenant) {
            return Ok(self.refuse_outsider(request));
        }
        let subject = user.subject.as_str();
        let now = self.0.clock.now();
        let store = &self.0.store;
        let mut remembered = store
            .consented_scopes(&request.client_id, &request.tenant, subject)
            .await?
            .unwrap_or_default();
        for scope in &request.scopes {
            remembered.insert(scope.clone());
        }
        store
            .remember_consent(
                &request.client_id,
                &request.tenant,
                subject,
                &remembered,
                now,
            )
            .await?;
        let code = self
            .issue_approved_code(CodeRequest {
                grant: UserGrant {
                    client_id: request.client_id.clone(),
                    tenant: request.tenant.clone(),
                    subject: subject.to_owned(),
                    scopes: request.scopes.clone(),
                    resource: request.resource.clone(),
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

    /// The `Location` answering `request` with `access_denied` because the signed-in user is
    /// not a member of the app's tenant.
    pub(crate) fn refuse_outsider(&self, request: &AuthorizationRequest) -> String {
        ErrorRedirect::to(
            request,
            "access_denied",
            "the signed-in user is not a member of the tenant of this application",
        )
        .location(&self.0.issuer)
    }

    /// The `Location` answering `request` with `access_denied`: the user said no.
    pub(crate) fn deny(&self, request: &AuthorizationRequest) -> String {
        ErrorRedirect::to(
            request,
            "access_denied",
            "the user denied the authorization request",
        )
        .location(&self.0.issuer)
    }
}

impl crate::apps::Apps<'_> {
    /// Withdraws what `subject` of `tenant` consented to for `client_id`: the next
    /// authorization request of that client shows the consent page again. Returns whether
    /// there was a consent. Tokens already issued stay valid until they expire or are revoked.
    pub async fn withdraw_consent(
        &self,
        client_id: &AppId,
        tenant: &TenantId,
        subject: &str,
    ) -> Result<bool, StoreError> {
        self.knogin
            .0
            .store
            .forget_consent(client_id, tenant, subject)
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::{ManualClock, Timestamp};
    use crate::oauth::AuthorizeError;
    use crate::testing::{DELEGATED_CALLBACK, delegated_registration, test_core_with};

    const CALLBACK: &str = DELEGATED_CALLBACK;
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    async fn setup() -> (Arc<ManualClock>, Core, String) {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix(1_800_000_000)));
        let knogin = test_core_with(clock.clone(), Duration::ZERO).await;
        let tenant = TenantId::parse("t1").unwrap();
        let (app, _) = knogin
            .apps()
            .register(&tenant, delegated_registration())
            .await
            .unwrap();
        let query = format!(
            "response_type=code&client_id={}&redirect_uri={CALLBACK}&state=st\
             &code_challenge={CHALLENGE}&code_challenge_method=S256",
            app.client_id
        );
        (clock, knogin, query)
    }

    #[tokio::test]
    async fn a_checked_request_carries_what_the_code_needs() {
        let (_, knogin, query) = setup().await;
        let request = knogin.authorization_request(&query).await.unwrap();
        assert_eq!(request.redirect_uri, CALLBACK);
        assert_eq!(request.scopes.to_string(), "webhooks:read webhooks:write");
        assert_eq!(request.state.as_deref(), Some("st"));
        assert_eq!(
            request.challenge.as_ref().map(CodeChallenge::as_str),
            Some(CHALLENGE)
        );
        let narrowed = knogin
            .authorization_request(&format!("{query}&scope=webhooks:write"))
            .await
            .unwrap();
        assert_eq!(narrowed.scopes.to_string(), "webhooks:write");
        let wrong = query.replace("callback", "callback2");
        assert!(matches!(
            knogin.authorization_request(&wrong).await,
            Err(AuthorizeError::Page(_))
        ));
        let Err(AuthorizeError::Redirect(to)) = knogin
            .authorization_request(&format!("{query}&scope=incidents:read"))
            .await
        else {
            panic!("a wider scope is redirected");
        };
        assert_eq!(
            (to.error, to.state.as_deref()),
            ("invalid_scope", Some("st"))
        );
    }

    #[tokio::test]
    async fn a_pending_consent_is_answered_once_by_its_user_before_it_expires() {
        let (clock, knogin, query) = setup().await;
        let request = knogin.authorization_request(&query).await.unwrap();
        let token = knogin.await_consent(&request, "alice").await.unwrap();
        assert_eq!(
            knogin.take_consent(token.expose(), "bob").await.unwrap(),
            None
        );
        // Bob's attempt used it up.
        assert_eq!(
            knogin.take_consent(token.expose(), "alice").await.unwrap(),
            None
        );

        let token = knogin.await_consent(&request, "alice").await.unwrap();
        assert_eq!(
            knogin.take_consent(token.expose(), "alice").await.unwrap(),
            Some(request.clone())
        );
        assert_eq!(
            knogin.take_consent(token.expose(), "alice").await.unwrap(),
            None
        );

        let token = knogin.await_consent(&request, "alice").await.unwrap();
        clock.advance(CONSENT_TTL);
        assert_eq!(
            knogin.take_consent(token.expose(), "alice").await.unwrap(),
            None
        );
    }

    fn member(name: &str) -> SignedInUser {
        SignedInUser::new(name, [TenantId::parse("t1").unwrap()])
    }

    #[tokio::test]
    async fn consent_is_remembered_per_user_and_grows_with_approvals() {
        let (_, knogin, query) = setup().await;
        let read = knogin
            .authorization_request(&format!("{query}&scope=webhooks:read"))
            .await
            .unwrap();
        let both = knogin.authorization_request(&query).await.unwrap();
        let (alice, bob) = (member("alice"), member("bob"));
        assert!(!knogin.consent_remembered(&read, &alice).await.unwrap());
        let location = knogin.approve(&read, &alice).await.unwrap();
        assert!(
            location.starts_with(&format!("{CALLBACK}?code=kc_")),
            "{location}"
        );
        assert!(location.ends_with("&state=st&iss=https%3A%2F%2Fauth.knogin.test"));
        assert!(knogin.consent_remembered(&read, &alice).await.unwrap());
        assert!(!knogin.consent_remembered(&read, &bob).await.unwrap());
        assert!(!knogin.consent_remembered(&both, &alice).await.unwrap());
        knogin.approve(&both, &alice).await.unwrap();
        assert!(knogin.consent_remembered(&read, &alice).await.unwrap());
        assert!(knogin.consent_remembered(&both, &alice).await.unwrap());
        assert_eq!(
            knogin.deny(&both),
            format!(
                "{CALLBACK}?error=access_denied&error_description=the+user+denied+the+\
                 authorization+request&state=st&iss=https%3A%2F%2Fauth.knogin.test"
            )
        );
        assert!(
            knogin
                .apps()
                .withdraw_consent(&both.client_id, &both.tenant, "alice")
                .await
                .unwrap()
        );
        assert!(!knogin.consent_remembered(&read, &alice).await.unwrap());
    }

    #[tokio::test]
    async fn a_user_of_another_tenant_gets_no_code_even_with_a_remembered_consent() {
        let (_, knogin, query) = setup().await;
        let request = knogin.authorization_request(&query).await.unwrap();
        let alice = member("alice");
        knogin.approve(&request, &alice).await.unwrap();
        let outsider = SignedInUser::new("alice", [TenantId::parse("t2").unwrap()]);
        assert!(
            !knogin
                .consent_remembered(&request, &outsider)
                .await
                .unwrap()
        );
        let location = knogin.approve(&request, &outsider).await.unwrap();
        assert!(
            location.starts_with(&format!("{CALLBACK}?error=access_denied&")),
            "{location}"
        );
        assert!(!location.contains("code="));
        let nobody = SignedInUser::new("mallory", []);
        assert!(
            knogin
                .approve(&request, &nobody)
                .await
                .unwrap()
                .contains("error=access_denied")
        );
    }
}
