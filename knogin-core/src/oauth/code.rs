//! The authorization-code grant (RFC 6749 §4.1) with PKCE, and the refresh-token grant with
//! rotation (RFC 9700 §4.14): issuing a code for a user's approval, redeeming it once, and
//! rotating refresh tokens, with a whole family revoked on any replay.

use crate::apps::{App, FAPI2_MAX_CODE_TTL, GrantType};
use crate::oauth::{CodeChallenge, GrantError, IssuedToken, requested_within, required};
use crate::random;
use crate::scope::ScopeSet;
use crate::secret::{AuthorizationCode, RefreshToken, SecretHash};
use crate::shared::Core;
use crate::store::{CodeRedemption, RefreshUse, StoreError, StoredCode, StoredRefresh, UserGrant};
use crate::token::TokenGrant;

/// A user's approval of an authorization request, to turn into a code.
#[derive(Debug, Clone)]
pub struct CodeRequest {
    /// The client, its tenant and the user, and the scopes the user approved.
    pub grant: UserGrant,
    /// The authorization request's `redirect_uri` (one registered for the client).
    pub redirect_uri: String,
    /// Its PKCE challenge, if it sent one.
    pub challenge: Option<CodeChallenge>,
}

/// Why the code or refresh-token grant failed: the RFC 6749 error to answer, or the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlowError {
    /// The grant is refused (answered as RFC 6749 §5.2 JSON).
    #[error(transparent)]
    Grant(#[from] GrantError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid_grant(message: &str) -> FlowError {
    GrantError::InvalidGrant(message.to_owned()).into()
}

impl Core {
    /// Issues the code of a request a policy approved.
    pub(crate) async fn issue_approved_code(
        &self,
        request: CodeRequest,
    ) -> Result<AuthorizationCode, StoreError> {
        let now = self.0.clock.now();
        let code = AuthorizationCode::generate();
        let stored = StoredCode {
            code_hash: code.hash(),
            family: format!("fam_{}", random::hex(16)),
            grant: request.grant,
            redirect_uri: request.redirect_uri,
            code_challenge: request.challenge.map(|c| c.as_str().to_owned()),
            expires_at: now.plus(self.0.flow.code),
            family_expires_at: now.plus(self.0.flow.refresh_absolute),
        };
        self.0.store.insert_code(&stored, now).await?;
        Ok(code)
    }

    /// The `authorization_code` grant for `app`, an authenticated client: redeems `code` once
    /// (a second redemption revokes every token issued from it), checks that `redirect_uri`
    /// repeats the authorization request's and that `code_verifier` answers its PKCE challenge,
    /// and issues an access token for the user with a refresh token.
    pub(crate) async fn redeem_code(
        &self,
        app: &App,
        code: Option<&str>,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
        resource: Option<&str>,
        dpop_jkt: Option<String>,
    ) -> Result<IssuedToken, FlowError> {
        let resource = self.resource(resource)?;
        if !app.grant_types.contains(&GrantType::AuthorizationCode) {
            return Err(GrantError::UnauthorizedClient(GrantType::AuthorizationCode).into());
        }
        let code = required(code, "code")?;
        let redirect_uri = required(redirect_uri, "redirect_uri")?;
        let now = self.0.clock.now();
        let stored = match self.0.store.redeem_code(&SecretHash::of(code), now).await? {
            CodeRedemption::Redeemed(stored) => *stored,
            CodeRedemption::Replayed { family } => {
                tracing::warn!(client_id = %app.client_id, family, "an authorization code was redeemed twice");
                self.revoke_family(&family).await?;
                return Err(invalid_grant(
                    "the code was already used: every token issued from it is revoked",
                ));
            }
            CodeRedemption::Invalid => {
                return Err(invalid_grant("the code is unknown or expired"));
            }
        };
        if stored.grant.client_id != app.client_id {
            return Err(invalid_grant("the code was issued to another client"));
        }
        if app.governance.is_fapi2() {
            let issued = crate::clock::before(stored.expires_at, self.0.flow.code);
            if crate::clock::between(issued, now) > FAPI2_MAX_CODE_TTL {
                return Err(invalid_grant(
                    "the code is older than the 60 seconds this app's FAPI 2.0 profile allows",
                ));
            }
        }
        if stored.redirect_uri != redirect_uri {
            return Err(invalid_grant(
                "redirect_uri differs from the one of the authorization request",
            ));
        }
        match (&stored.code_challenge, code_verifier) {
            (Some(challenge), Some(verifier))
                if CodeChallenge::from_stored(challenge.clone()).verify(verifier) => {}
            (Some(_), Some(_)) => {
                return Err(invalid_grant(
                    "code_verifier does not match the code_challenge",
                ));
            }
            (Some(_), None) => {
                return Err(GrantError::InvalidRequest(
                    "the code_verifier parameter is required: the authorization request sent a code_challenge"
                        .into(),
                )
                .into());
            }
            (None, Some(_)) => {
                return Err(invalid_grant(
                    "code_verifier was sent, but the authorization request sent no code_challenge",
                ));
            }
            (None, None) if app.governance.requires_pkce() => {
                return Err(invalid_grant("this client must use PKCE"));
            }
            (None, None) => {}
        }
        let grant = UserGrant {
            resource: target(stored.grant.resource.as_deref(), resource)?,
            ..stored.grant
        };
        self.issue_with_refresh(
            app,
            grant,
            &stored.family,
            stored.family_expires_at,
            dpop_jkt,
        )
        .await
    }

    /// The `refresh_token` grant for `app`: rotates `refresh_token` (presenting it again later
    /// revokes its whole family) and issues a new access token and refresh token, for `scope`
    /// when given (at most the token's scopes: RFC 6749 §6).
    pub(crate) async fn refresh_grant(
        &self,
        app: &App,
        refresh_token: Option<&str>,
        scope: Option<&str>,
        resource: Option<&str>,
        dpop_jkt: Option<String>,
    ) -> Result<IssuedToken, FlowError> {
        let resource = self.resource(resource)?;
        if !app.grant_types.contains(&GrantType::AuthorizationCode) {
            return Err(GrantError::UnauthorizedClient(GrantType::AuthorizationCode).into());
        }
        let hash = RefreshToken::from_presented(required(refresh_token, "refresh_token")?).hash();
        let now = self.0.clock.now();
        // Checked before rotating, so a refused scope leaves the client its refresh token.
        let checked = match self.0.store.find_refresh(&hash, now).await? {
            Some(current) if current.grant.client_id != app.client_id => {
                self.revoke_family(&current.family).await?;
                return Err(invalid_grant(
                    "the refresh token was issued to another client",
                ));
            }
            Some(current) => Some((
                self.narrowed(app, &current, scope)?,
                target(current.grant.resource.as_deref(), resource.clone())?,
            )),
            None => None,
        };
        let current = match self.0.store.use_refresh(&hash, now).await? {
            RefreshUse::Current(current) => *current,
            RefreshUse::Reused { family } => {
                tracing::warn!(client_id = %app.client_id, family, "a rotated-out refresh token was presented");
                self.revoke_family(&family).await?;
                return Err(invalid_grant(
                    "the refresh token was already used: its whole family is revoked",
                ));
            }
            RefreshUse::Invalid => {
                return Err(invalid_grant(
                    "the refresh token is unknown, expired or revoked",
                ));
            }
        };
        // A token found current above is the one just rotated: its scopes were checked then.
        let (scopes, resource) = match checked {
            Some(checked) => checked,
            None => (
                self.narrowed(app, &current, scope)?,
                target(current.grant.resource.as_deref(), resource)?,
            ),
        };
        let grant = UserGrant {
            scopes,
            resource,
            ..current.grant
        };
        self.issue_with_refresh(
            app,
            grant,
            &current.family,
            current.family_expires_at,
            dpop_jkt,
        )
        .await
    }

    /// Signs an access token for `grant` and stores a new refresh token beside it in `family`.
    /// If the family was revoked meanwhile (a replay raced this), both are issued dead.
    async fn issue_with_refresh(
        &self,
        app: &App,
        grant: UserGrant,
        family: &str,
        family_expires_at: crate::Timestamp,
        dpop_jkt: Option<String>,
    ) -> Result<IssuedToken, FlowError> {
        let now = self.0.clock.now();
        let expires_in = self.0.lifetimes.access_for(&app.governance);
        let token_grant = TokenGrant {
            tenant: grant.tenant.clone(),
            subject: grant.subject.clone(),
            client_id: grant.client_id.as_str().to_owned(),
            scopes: grant.scopes.clone(),
            ttl: expires_in,
            resource: grant.resource.clone(),
            dpop_jkt,
            actor: None,
        };
        let token = self.sign_access_token(&token_grant).await;
        let refresh = RefreshToken::generate();
        let stored = StoredRefresh {
            token_hash: refresh.hash(),
            family: family.to_owned(),
            access_jti: token.jti().to_owned(),
            access_expires_at: token.expires_at(),
            created_at: now,
            expires_at: self.0.flow.refresh_expiry(now, family_expires_at),
            family_expires_at,
            grant,
        };
        if !self.0.store.insert_refresh(&stored, now).await? {
            self.0.live.add_revoked(token.jti());
        }
        Ok(IssuedToken {
            token,
            expires_in,
            scopes: stored.grant.scopes,
            refresh_token: Some(refresh),
        })
    }

    /// Revokes every token of `family` here at once, and on other instances at their next
    /// reload.
    pub(crate) async fn revoke_family(&self, family: &str) -> Result<(), StoreError> {
        let revoked = self
            .0
            .store
            .revoke_family(family, self.0.clock.now())
            .await?;
        for (jti, _) in &revoked {
            self.0.live.add_revoked(jti);
        }
        tracing::info!(family, tokens = revoked.len(), "revoked a token family");
        Ok(())
    }
}

/// The resource the tokens of a grant made for `granted` are for, when the token request asks
/// for `requested` (already one of the issuer's audiences): the grant's, which a request may
/// repeat but not change, else the requested one (RFC 8707 §2.2).
fn target(granted: Option<&str>, requested: Option<String>) -> Result<Option<String>, GrantError> {
    match (granted, requested) {
        (Some(granted), Some(requested)) if granted != requested => Err(GrantError::InvalidTarget(
            format!("this grant is for the resource {granted}, not {requested}"),
        )),
        (Some(granted), _) => Ok(Some(granted.to_owned())),
        (None, requested) => Ok(requested),
    }
}

impl Core {
    /// The scopes a refresh of `current` by `app` gets: `scope` if given (each one of the
    /// token's), else the token's own; of those, only scopes still approved for the app and in
    /// the catalog (one removed since the consent is not issued again). Nothing left is
    /// `invalid_scope`.
    fn narrowed(
        &self,
        app: &App,
        current: &StoredRefresh,
        scope: Option<&str>,
    ) -> Result<ScopeSet, GrantError> {
        let offered = |s: &str| app.requested_scopes.contains(s) && self.0.scopes.contains(s);
        match scope {
            Some(scope) => requested_within(
                scope,
                |s| current.grant.scopes.contains(s) && offered(s),
                "was not granted to this refresh token, or is no longer offered",
            ),
            None => {
                let left =
                    ScopeSet::new(current.grant.scopes.iter().filter(|s| offered(s.as_str())))
                        .expect("granted scopes are scope tokens");
                if left.is_empty() {
                    return Err(GrantError::InvalidScope(
                        "none of the scopes granted to this refresh token is still offered".into(),
                    ));
                }
                Ok(left)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::clock::{ManualClock, Timestamp};
    use crate::testing::{DELEGATED_CALLBACK, delegated_registration, test_core_with};
    use crate::token::TokenError;
    use crate::{ScopeSet, TenantId};

    const CALLBACK: &str = DELEGATED_CALLBACK;
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    struct Flow {
        clock: Arc<ManualClock>,
        knogin: Core,
        app: App,
    }

    async fn flow() -> Flow {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix(1_800_000_000)));
        let knogin = test_core_with(clock.clone(), Duration::ZERO).await;
        let tenant = TenantId::parse("t1").unwrap();
        let (app, _) = knogin
            .apps()
            .register(&tenant, delegated_registration())
            .await
            .unwrap();
        Flow { clock, knogin, app }
    }

    impl Flow {
        async fn code(&self, challenge: Option<&str>) -> AuthorizationCode {
            self.knogin
                .issue_approved_code(CodeRequest {
                    grant: UserGrant {
                        client_id: self.app.client_id.clone(),
                        tenant: self.app.tenant_id.clone(),
                        subject: "alice".into(),
                        scopes: self.app.requested_scopes.clone(),
                        resource: None,
                    },
                    redirect_uri: CALLBACK.into(),
                    challenge: challenge.map(|c| CodeChallenge::parse(c, Some("S256")).unwrap()),
                })
                .await
                .unwrap()
        }

        async fn redeem(
            &self,
            code: &AuthorizationCode,
            verifier: Option<&str>,
        ) -> Result<IssuedToken, FlowError> {
            self.knogin
                .redeem_code(
                    &self.app,
                    Some(code.expose()),
                    Some(CALLBACK),
                    verifier,
                    None,
                    None,
                )
                .await
        }

        async fn refresh(
            &self,
            token: &IssuedToken,
            scope: Option<&str>,
        ) -> Result<IssuedToken, FlowError> {
            let refresh = token.refresh_token.as_ref().unwrap().expose();
            self.knogin
                .refresh_grant(&self.app, Some(refresh), scope, None, None)
                .await
        }

        async fn accepted(&self, token: &IssuedToken) -> Result<(), TokenError> {
            self.knogin
                .tokens()
                .verify(token.token.expose())
                .await
                .map(|_| ())
        }
    }

    fn code_of(e: FlowError) -> &'static str {
        match e {
            FlowError::Grant(e) => e.code(),
            FlowError::Store(e) => panic!("store failed: {e}"),
        }
    }

    #[tokio::test]
    async fn a_code_is_redeemed_once_for_the_user_and_a_replay_revokes_its_tokens() {
        let flow = flow().await;
        let code = flow.code(Some(CHALLENGE)).await;
        let issued = flow.redeem(&code, Some(VERIFIER)).await.unwrap();
        let (claims, _) = flow
            .knogin
            .tokens()
            .verify(issued.token.expose())
            .await
            .unwrap();
        assert_eq!(claims.sub, "alice");
        assert_eq!(claims.client_id, flow.app.client_id.as_str());
        assert_eq!(claims.scope, "webhooks:read webhooks:write");
        assert!(issued.refresh_token.is_some());

        assert_eq!(
            code_of(flow.redeem(&code, Some(VERIFIER)).await.unwrap_err()),
            "invalid_grant"
        );
        assert_eq!(flow.accepted(&issued).await, Err(TokenError::Revoked));
        assert_eq!(
            code_of(flow.refresh(&issued, None).await.unwrap_err()),
            "invalid_grant"
        );
    }

    #[tokio::test]
    async fn pkce_and_the_redirect_uri_are_checked() {
        let flow = flow().await;
        let code = flow.code(Some(CHALLENGE)).await;
        let wrong = "x".repeat(43);
        assert_eq!(
            code_of(flow.redeem(&code, Some(&wrong)).await.unwrap_err()),
            "invalid_grant"
        );
        let code = flow.code(Some(CHALLENGE)).await;
        assert_eq!(
            code_of(flow.redeem(&code, None).await.unwrap_err()),
            "invalid_request"
        );
        let code = flow.code(None).await;
        assert_eq!(
            code_of(flow.redeem(&code, Some(VERIFIER)).await.unwrap_err()),
            "invalid_grant",
            "a verifier without a challenge is a downgrade"
        );
        let code = flow.code(None).await;
        assert_eq!(
            code_of(flow.redeem(&code, None).await.unwrap_err()),
            "invalid_grant",
            "enforce_pkce is on by default"
        );
        let code = flow.code(Some(CHALLENGE)).await;
        let other_uri = flow
            .knogin
            .redeem_code(
                &flow.app,
                Some(code.expose()),
                Some("https://integrator.example/other"),
                Some(VERIFIER),
                None,
                None,
            )
            .await;
        assert_eq!(code_of(other_uri.unwrap_err()), "invalid_grant");
    }

    #[tokio::test]
    async fn codes_expire() {
        let flow = flow().await;
        let code = flow.code(Some(CHALLENGE)).await;
        flow.clock.advance(crate::oauth::DEFAULT_CODE_TTL);
        assert_eq!(
            code_of(flow.redeem(&code, Some(VERIFIER)).await.unwrap_err()),
            "invalid_grant"
        );
    }

    #[tokio::test]
    async fn a_fapi2_apps_code_lives_at_most_60_seconds_whatever_the_configured_lifetime() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix(1_800_000_000)));
        let store = Arc::new(crate::store::memory::MemoryStore::new());
        let knogin = crate::testing::builder(
            store.clone(),
            crate::keys::MasterKey::generate(),
            clock.clone(),
        )
        .lifetimes(
            crate::oauth::TokenLifetimes::default().authorization_code(Duration::from_secs(300)),
        )
        .build()
        .await
        .unwrap();
        let tenant = TenantId::parse("t1").unwrap();
        let (app, _) = knogin
            .apps()
            .register(&tenant, delegated_registration())
            .await
            .unwrap();
        let patch = crate::apps::GovernancePatch {
            security_profile: Some(crate::apps::Override::Value(
                crate::apps::SecurityProfile::Fapi2,
            )),
            ..crate::apps::GovernancePatch::default()
        };
        // The store takes the profile as it is (the handle checks the app's method first).
        let governance =
            crate::store::AppStore::update_governance(&*store, &tenant, &app.client_id, patch)
                .await
                .unwrap()
                .unwrap();
        assert!(
            governance.requires_pkce()
                && governance.requires_dpop()
                && governance.requires_pushed_requests()
        );
        let flow = Flow {
            clock,
            knogin: knogin.core().clone(),
            app: App { governance, ..app },
        };
        let fresh = flow.code(Some(CHALLENGE)).await;
        flow.clock.advance(Duration::from_secs(59));
        flow.redeem(&fresh, Some(VERIFIER)).await.unwrap();
        let stale = flow.code(Some(CHALLENGE)).await;
        flow.clock.advance(Duration::from_secs(61));
        assert_eq!(
            code_of(flow.redeem(&stale, Some(VERIFIER)).await.unwrap_err()),
            "invalid_grant"
        );
    }

    #[tokio::test]
    async fn refresh_tokens_rotate_and_a_reuse_revokes_the_family() {
        let flow = flow().await;
        let first = flow
            .redeem(&flow.code(Some(CHALLENGE)).await, Some(VERIFIER))
            .await
            .unwrap();
        let second = flow.refresh(&first, None).await.unwrap();
        assert_eq!(second.scopes, first.scopes);
        flow.accepted(&second).await.unwrap();

        assert_eq!(
            code_of(flow.refresh(&first, None).await.unwrap_err()),
            "invalid_grant"
        );
        assert_eq!(flow.accepted(&second).await, Err(TokenError::Revoked));
        assert_eq!(flow.accepted(&first).await, Err(TokenError::Revoked));
        assert_eq!(
            code_of(flow.refresh(&second, None).await.unwrap_err()),
            "invalid_grant"
        );
    }

    #[tokio::test]
    async fn a_refresh_may_narrow_the_scope_but_not_widen_it() {
        let flow = flow().await;
        let first = flow
            .redeem(&flow.code(Some(CHALLENGE)).await, Some(VERIFIER))
            .await
            .unwrap();
        let narrow = flow.refresh(&first, Some("webhooks:read")).await.unwrap();
        assert_eq!(narrow.scopes, ScopeSet::new(["webhooks:read"]).unwrap());
        assert_eq!(
            code_of(
                flow.refresh(&narrow, Some("webhooks:write"))
                    .await
                    .unwrap_err()
            ),
            "invalid_scope"
        );
        flow.refresh(&narrow, None)
            .await
            .expect("a refused scope leaves the refresh token usable");
    }

    #[test]
    fn a_token_request_may_repeat_the_grant_s_resource_but_not_change_it() {
        let files = "https://files.example";
        assert_eq!(target(None, None).unwrap(), None);
        assert_eq!(
            target(None, Some(files.into())).unwrap().as_deref(),
            Some(files)
        );
        assert_eq!(target(Some(files), None).unwrap().as_deref(), Some(files));
        assert_eq!(
            target(Some(files), Some(files.into())).unwrap().as_deref(),
            Some(files)
        );
        assert!(matches!(
            target(Some(files), Some("https://api.example".into())),
            Err(GrantError::InvalidTarget(_))
        ));
    }

    #[tokio::test]
    async fn a_refresh_issues_only_scopes_still_offered() {
        let flow = flow().await;
        let first = flow
            .redeem(&flow.code(Some(CHALLENGE)).await, Some(VERIFIER))
            .await
            .unwrap();
        // webhooks:write is no longer approved for the app.
        let narrowed = App {
            requested_scopes: ScopeSet::new(["webhooks:read"]).unwrap(),
            ..flow.app.clone()
        };
        let refresh = first.refresh_token.as_ref().unwrap().expose();
        let refreshed = flow
            .knogin
            .refresh_grant(&narrowed, Some(refresh), None, None, None)
            .await
            .unwrap();
        assert_eq!(refreshed.scopes, ScopeSet::new(["webhooks:read"]).unwrap());
        let refresh = refreshed.refresh_token.as_ref().unwrap().expose();
        let asked = flow
            .knogin
            .refresh_grant(&narrowed, Some(refresh), Some("webhooks:write"), None, None)
            .await
            .unwrap_err();
        assert_eq!(code_of(asked), "invalid_scope");
        let nothing = App {
            requested_scopes: ScopeSet::new(["incidents:read"]).unwrap(),
            ..flow.app.clone()
        };
        let none_left = flow
            .knogin
            .refresh_grant(&nothing, Some(refresh), None, None, None)
            .await
            .unwrap_err();
        assert_eq!(code_of(none_left), "invalid_scope");
    }

    #[tokio::test]
    async fn refresh_tokens_expire_when_idle_and_with_their_family() {
        let flow = flow().await;
        let first = flow
            .redeem(&flow.code(Some(CHALLENGE)).await, Some(VERIFIER))
            .await
            .unwrap();
        flow.clock.advance(crate::oauth::DEFAULT_REFRESH_IDLE);
        assert_eq!(
            code_of(flow.refresh(&first, None).await.unwrap_err()),
            "invalid_grant"
        );

        let mut token = flow
            .redeem(&flow.code(Some(CHALLENGE)).await, Some(VERIFIER))
            .await
            .unwrap();
        let step = crate::oauth::DEFAULT_REFRESH_IDLE
            .checked_sub(Duration::from_secs(1))
            .unwrap();
        let mut lived = Duration::ZERO;
        while lived + step < crate::oauth::DEFAULT_REFRESH_ABSOLUTE {
            flow.clock.advance(step);
            lived += step;
            token = flow.refresh(&token, None).await.unwrap();
        }
        flow.clock.advance(step);
        assert_eq!(
            code_of(flow.refresh(&token, None).await.unwrap_err()),
            "invalid_grant",
            "the family's absolute lifetime ends every refresh token in it"
        );
    }
}
