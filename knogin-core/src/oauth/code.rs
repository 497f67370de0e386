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

/// Why a refresh token that is not current cannot be used.
const UNUSABLE_REFRESH: &str = "the refresh token is unknown, expired or revoked";

/// The access token a user's `grant` gives `app`, for the app's lifetime, bound to `dpop_jkt`.
fn access_grant(core: &Core, app: &App, grant: &UserGrant, dpop_jkt: Option<String>) -> TokenGrant {
    TokenGrant {
        tenant: grant.tenant.clone(),
        subject: grant.subject.clone(),
        client_id: grant.client_id.as_str().to_owned(),
        scopes: grant.scopes.clone(),
        ttl: core.0.lifetimes.access_for(&app.governance),
        resource: grant.resource.clone(),
        dpop_jkt,
        actor: None,
    }
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
    /// when given (at most the token's scopes: RFC 6749 §6). An app whose governance keeps its
    /// refresh tokens gets a new access token only, and keeps using the one it has.
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
            Some(current) => {
                let scopes = self.narrowed(app, &current, scope)?;
                let resource = target(current.grant.resource.as_deref(), resource.clone())?;
                if !app.governance.rotate_refresh_tokens {
                    let grant = UserGrant {
                        scopes,
                        resource,
                        ..current.grant
                    };
                    return self
                        .keep_refresh(app, &hash, grant, current.family_expires_at, dpop_jkt)
                        .await;
                }
                Some((scopes, resource))
            }
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
            RefreshUse::Invalid => return Err(invalid_grant(UNUSABLE_REFRESH)),
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

    /// Signs an access token for `grant` (the refresh token's, narrowed as asked) and keeps the
    /// refresh token whose hash is `hash`: its idle expiry moves on and the access token is
    /// recorded with its family. If the family was revoked, or the token expired, meanwhile, the
    /// grant is refused (and the signed token dropped unseen).
    async fn keep_refresh(
        &self,
        app: &App,
        hash: &crate::secret::SecretHash,
        grant: UserGrant,
        family_expires_at: crate::Timestamp,
        dpop_jkt: Option<String>,
    ) -> Result<IssuedToken, FlowError> {
        let now = self.0.clock.now();
        let issued = self
            .issue_access_token(access_grant(self, app, &grant, dpop_jkt))
            .await;
        let expires_at = self.0.flow.refresh_expiry(now, family_expires_at);
        let (jti, access_expires_at) = (issued.token.jti(), issued.token.expires_at());
        let kept = self
            .0
            .store
            .keep_refresh(hash, jti, access_expires_at, expires_at, now)
            .await?;
        match kept {
            Some(_) => Ok(issued),
            None => Err(invalid_grant(UNUSABLE_REFRESH)),
        }
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
        let token_grant = access_grant(self, app, &grant, dpop_jkt);
        let expires_in = token_grant.ttl;
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
#[path = "code_tests.rs"]
mod tests;
