//! Minting, verifying and revoking this issuer's tokens.

use std::time::Duration;

use super::Core;
use super::live::cutoff_key;
use crate::audit::{Actor, AuditKind};
use crate::clock::Timestamp;
use crate::id::{AppId, TenantId};
use crate::keys::KeyRing;
use crate::scope::{ADMIN_SCOPE, ScopeSet};
use crate::store::StoreError;
use crate::token::{self, AccessClaims, AccessToken, Audience, TokenError, TokenGrant, TokenKind};

/// The default lifetime of an admin token: 1 hour.
pub const DEFAULT_ADMIN_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// The longest lifetime of an admin token: 24 hours.
pub const MAX_ADMIN_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

/// Why a token could not be minted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MintError {
    /// A scope is not in the catalog (the reserved admin scope never is).
    #[error("the scope '{0}' is not in the scope catalog")]
    UnknownScope(String),
    /// The resource is not one of the issuer's audiences.
    #[error("the resource '{0}' is not one of this issuer's audiences")]
    UnknownResource(String),
    /// The lifetime is longer than the kind of token allows.
    #[error("the token lifetime may be at most {} seconds", .0.as_secs())]
    TtlTooLong(Duration),
    /// The tenant could not be created.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Tokens, for one handle ([`Knogin::tokens`](crate::Knogin::tokens)): minting admin, access and service tokens within
/// the catalog and lifetime limits, verifying them, revoking them, and checking the bearer
/// token of a request to the embedder's own routes.
#[derive(Debug, Clone, Copy)]
pub struct Tokens<'a> {
    pub(crate) knogin: &'a Core,
}

impl Core {
    async fn mint(
        &self,
        grant: &TokenGrant,
        audience: Audience,
        kind: TokenKind,
    ) -> Result<AccessToken, MintError> {
        self.0
            .store
            .ensure_tenant(&grant.tenant, self.0.clock.now())
            .await?;
        Ok(self.sign(grant, audience, kind).await)
    }

    /// Signs an access token for `grant`, whose tenant exists and whose scopes and resource a
    /// policy checked: no store call, so issuing a token writes nothing.
    pub(crate) async fn sign_access_token(&self, grant: &TokenGrant) -> AccessToken {
        let audience = self
            .audience_for(grant.resource.as_deref())
            .unwrap_or_else(|| Audience::One(self.0.audiences[0].clone()));
        self.sign(grant, audience, TokenKind::Access).await
    }

    /// The one audience of a token for `resource` (RFC 8707): that resource if it is one of
    /// the configured audiences, the default (first) audience without one, `None` otherwise.
    pub(crate) fn audience_for(&self, resource: Option<&str>) -> Option<Audience> {
        match resource {
            None => Some(Audience::One(self.0.audiences[0].clone())),
            Some(r) => self
                .0
                .audiences
                .iter()
                .any(|a| a == r)
                .then(|| Audience::One(r.to_owned())),
        }
    }

    async fn sign(&self, grant: &TokenGrant, audience: Audience, kind: TokenKind) -> AccessToken {
        let now = self.0.clock.now();
        let ring = self.live_keys().await;
        token::mint(ring.signer(now), &self.0.issuer, audience, now, grant, kind)
    }

    /// Like [`Tokens::verify`](crate::Tokens::verify), accepting a token for any of the configured audiences
    /// (introspection and revocation speak for every resource server of the issuer).
    pub(crate) async fn verify_any_audience(
        &self,
        token: &str,
    ) -> Result<(AccessClaims, TokenKind), TokenError> {
        self.verify_for(&self.0.audiences, token).await
    }

    pub(crate) async fn verify_for(
        &self,
        audiences: &[String],
        token: &str,
    ) -> Result<(AccessClaims, TokenKind), TokenError> {
        let ring = self.live_keys().await;
        let verified = self.check(&ring, self.0.clock.now(), token, audiences)?;
        if self.0.live.is_revoked(&verified.0.jti) || self.0.live.is_cut_off(&verified.0) {
            return Err(TokenError::Revoked);
        }
        Ok(verified)
    }

    /// The signature, type, issuer, audience (one of `audiences`) and time checks of `token`
    /// against `ring` at `now`.
    fn check(
        &self,
        ring: &KeyRing,
        now: Timestamp,
        token: &str,
        audiences: &[String],
    ) -> Result<(AccessClaims, TokenKind), TokenError> {
        token::verify(
            ring,
            &self.0.issuer,
            audiences,
            &self.0.admin_audience,
            now,
            token,
        )
    }

    async fn cut_off(&self, key: &str) -> Result<(), StoreError> {
        let now = self.0.clock.now();
        self.0.store.cut_off_tokens(key, now).await?;
        self.0.live.add_cutoff(key, now);
        crate::metrics::tokens_revoked(1);
        let audit = self
            .audit(AuditKind::TokenRevoked, Actor::Operator)
            .detail("cut_off", key);
        match key.split_once(':') {
            Some(("tenant", tenant)) => match TenantId::parse(tenant) {
                Some(tenant) => audit.tenant(&tenant).record(),
                None => audit.record(),
            },
            Some(("app", client_id)) => audit.client(client_id).record(),
            _ => audit.record(),
        }
        tracing::warn!(key, "cut off every token issued so far");
        Ok(())
    }

    /// Mints a token with the current signer and verifies it, so a misconfigured JWT library
    /// fails the build instead of every request.
    pub(crate) fn self_test(&self) -> Result<(), TokenError> {
        let now = self.0.clock.now();
        let ring = self.0.live.ring();
        let grant = TokenGrant {
            tenant: TenantId::parse("self-test").expect("a valid tenant id"),
            subject: "self-test".into(),
            client_id: "self-test".into(),
            scopes: ScopeSet::default(),
            ttl: Duration::from_secs(60),
            resource: None,
            dpop_jkt: None,
            actor: None,
        };
        let audience = Audience::One(self.0.audiences[0].clone());
        let token = token::mint(
            ring.signer(now),
            &self.0.issuer,
            audience,
            now,
            &grant,
            TokenKind::Access,
        );
        self.check(&ring, now, token.expose(), &self.0.audiences[..1])
            .map(|_| ())
    }
}

impl Tokens<'_> {
    /// Mints an admin token for `tenant` (creating the tenant if it does not exist), valid for
    /// `ttl` (at most [`MAX_ADMIN_TOKEN_TTL`]). It is typed apart from access tokens (its own
    /// `typ` and `aud`), so it passes the platform routes' admin check and nothing else. Only the
    /// operator should call this.
    pub async fn mint_admin(
        &self,
        tenant: &TenantId,
        ttl: Duration,
    ) -> Result<AccessToken, MintError> {
        if ttl > MAX_ADMIN_TOKEN_TTL {
            return Err(MintError::TtlTooLong(MAX_ADMIN_TOKEN_TTL));
        }
        let grant = TokenGrant {
            tenant: tenant.clone(),
            subject: "operator".to_owned(),
            client_id: "operator".to_owned(),
            scopes: ScopeSet::new([ADMIN_SCOPE]).expect("the admin scope is a scope token"),
            ttl,
            resource: None,
            dpop_jkt: None,
            actor: None,
        };
        let audience = Audience::One(self.knogin.0.admin_audience.clone());
        self.knogin.mint(&grant, audience, TokenKind::Admin).await
    }

    /// Mints an access token for `grant`, creating its tenant if needed. Every scope must be in
    /// the catalog (so never the reserved admin scope).
    pub async fn mint_access(&self, grant: &TokenGrant) -> Result<AccessToken, MintError> {
        if let Some(unknown) = grant
            .scopes
            .iter()
            .find(|s| !self.knogin.0.scopes.contains(s.as_str()))
        {
            return Err(MintError::UnknownScope(unknown.to_string()));
        }
        if grant.ttl > self.knogin.0.keys.token_lifetime {
            return Err(MintError::TtlTooLong(self.knogin.0.keys.token_lifetime));
        }
        let audience = self
            .knogin
            .audience_for(grant.resource.as_deref())
            .ok_or_else(|| {
                MintError::UnknownResource(grant.resource.clone().unwrap_or_default())
            })?;
        self.knogin.mint(grant, audience, TokenKind::Access).await
    }

    /// Verifies a bearer token this issuer minted for its own routes: size, signature by a
    /// published key, pinned algorithm, type, issuer, audience (this server's own, the first
    /// configured: a token for another resource server is refused here), time (with
    /// [`token::LEEWAY`] of skew) and revocation. Returns its claims and kind.
    pub async fn verify(&self, token: &str) -> Result<(AccessClaims, TokenKind), TokenError> {
        self.knogin
            .verify_for(&self.knogin.0.audiences[..1], token)
            .await
    }

    /// Revokes the token with these claims: it is refused at once on this instance, and on every
    /// other instance sharing the store within its key-refresh interval.
    pub async fn revoke(&self, claims: &AccessClaims) -> Result<(), StoreError> {
        let now = self.knogin.0.clock.now();
        let expires_at = Timestamp::from_unix(claims.exp);
        self.knogin
            .0
            .store
            .revoke_token(&claims.jti, expires_at, now)
            .await?;
        self.knogin.0.live.add_revoked(&claims.jti);
        crate::metrics::tokens_revoked(1);
        Ok(())
    }

    /// Revokes the token whose `jti` is `jti`, whatever its kind (admin tokens included), without
    /// its claims in hand: refused at once here, and on every other instance within its
    /// key-refresh interval. The denylist keeps it for the longest lifetime any token may have.
    pub async fn revoke_jti(&self, jti: &str) -> Result<(), StoreError> {
        let now = self.knogin.0.clock.now();
        let longest = self.knogin.0.keys.token_lifetime.max(MAX_ADMIN_TOKEN_TTL);
        let kept_until = now.plus(longest + token::LEEWAY);
        self.knogin
            .0
            .store
            .revoke_token(jti, kept_until, now)
            .await?;
        self.knogin.0.live.add_revoked(jti);
        crate::metrics::tokens_revoked(1);
        self.knogin
            .audit(AuditKind::TokenRevoked, Actor::Operator)
            .detail("jti", jti)
            .record();
        tracing::warn!(jti, "revoked a token by its jti");
        Ok(())
    }

    /// Cuts off every token issued so far to app `client_id` (access, service and refresh-born
    /// tokens): each issued at or before this second is refused from now on, here at once and
    /// on every other instance within its key-refresh interval. Tokens issued later pass.
    pub async fn revoke_app(&self, client_id: &AppId) -> Result<(), StoreError> {
        self.knogin
            .cut_off(&cutoff_key("app", client_id.as_str()))
            .await
    }

    /// Cuts off every token issued so far in `tenant`, admin tokens included (see
    /// [`Tokens::revoke_app`](crate::Tokens::revoke_app)).
    pub async fn revoke_tenant(&self, tenant: &TenantId) -> Result<(), StoreError> {
        self.knogin
            .cut_off(&cutoff_key("tenant", tenant.as_str()))
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::ManualClock;
    use crate::id::KeyId;
    use crate::keys::MasterKey;
    use crate::store::memory::MemoryStore;
    use crate::testing::{builder, registration};

    struct Fixture {
        clock: Arc<ManualClock>,
        store: Arc<MemoryStore>,
        master: String,
        knogin: Core,
    }

    async fn fixture() -> Fixture {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix(1_800_000_000)));
        let store = Arc::new(MemoryStore::new());
        let master = MasterKey::generate().to_base64();
        let knogin = builder(
            store.clone(),
            MasterKey::from_base64(&master).unwrap(),
            clock.clone(),
        )
        .build()
        .await
        .unwrap()
        .core()
        .clone();
        Fixture {
            clock,
            store,
            master,
            knogin,
        }
    }

    impl Fixture {
        /// Another instance on the same store.
        async fn other(&self) -> Core {
            builder(
                self.store.clone(),
                MasterKey::from_base64(&self.master).unwrap(),
                self.clock.clone(),
            )
            .build()
            .await
            .unwrap()
            .core()
            .clone()
        }
    }

    #[tokio::test]
    async fn a_withdrawn_key_verifies_nothing_and_a_replacement_signs_at_once() {
        let f = fixture().await;
        let other = f.other().await;
        let t1 = TenantId::parse("t1").unwrap();
        let (app, _) = f.knogin.apps().register(&t1, registration()).await.unwrap();
        let before = f
            .knogin
            .client_credentials(&app, None, None, None)
            .await
            .unwrap();
        let leaked = f.knogin.keys().signing_key().0;
        assert_eq!(
            f.knogin
                .keys()
                .withdraw(&KeyId::new("no-such-key"))
                .await
                .unwrap(),
            None
        );
        let replacement = f.knogin.keys().withdraw(&leaked).await.unwrap().unwrap();
        assert_ne!(replacement, leaked);
        assert!(
            f.knogin
                .tokens()
                .verify(before.token.expose())
                .await
                .is_err()
        );
        assert!(!f.knogin.keys().kids().contains(&leaked));
        let jwks = String::from_utf8(f.knogin.keys().jwks().to_vec()).unwrap();
        assert!(!jwks.contains(&format!(r#""kid":"{leaked}""#)), "{jwks}");
        let after = f
            .knogin
            .client_credentials(&app, None, None, None)
            .await
            .unwrap();
        f.knogin
            .tokens()
            .verify(after.token.expose())
            .await
            .unwrap();
        // Another instance follows at its next reload.
        other.keys().reload().await.unwrap();
        assert!(other.tokens().verify(before.token.expose()).await.is_err());
        other.tokens().verify(after.token.expose()).await.unwrap();
        assert_eq!(f.knogin.keys().withdraw(&leaked).await.unwrap(), None);
    }

    #[tokio::test]
    async fn any_token_is_revoked_by_jti_and_an_app_or_tenant_is_cut_off() {
        let f = fixture().await;
        let other = f.other().await;
        let t1 = TenantId::parse("t1").unwrap();
        let (app, _) = f.knogin.apps().register(&t1, registration()).await.unwrap();
        let (sibling, _) = f.knogin.apps().register(&t1, registration()).await.unwrap();
        let admin = f
            .knogin
            .tokens()
            .mint_admin(&t1, Duration::from_secs(600))
            .await
            .unwrap();
        let (claims, _) = f.knogin.tokens().verify(admin.expose()).await.unwrap();
        f.knogin.tokens().revoke_jti(&claims.jti).await.unwrap();
        assert!(matches!(
            f.knogin.tokens().verify(admin.expose()).await,
            Err(TokenError::Revoked)
        ));
        other.keys().reload().await.unwrap();
        assert!(other.tokens().verify(admin.expose()).await.is_err());

        let old = f
            .knogin
            .client_credentials(&app, None, None, None)
            .await
            .unwrap();
        let kept = f
            .knogin
            .client_credentials(&sibling, None, None, None)
            .await
            .unwrap();
        f.knogin.tokens().revoke_app(&app.client_id).await.unwrap();
        assert!(f.knogin.tokens().verify(old.token.expose()).await.is_err());
        f.knogin.tokens().verify(kept.token.expose()).await.unwrap();
        f.clock.advance(Duration::from_secs(1));
        let new = f
            .knogin
            .client_credentials(&app, None, None, None)
            .await
            .unwrap();
        f.knogin.tokens().verify(new.token.expose()).await.unwrap();
        other.keys().reload().await.unwrap();
        assert!(other.tokens().verify(old.token.expose()).await.is_err());
        other.tokens().verify(new.token.expose()).await.unwrap();

        let admin = f
            .knogin
            .tokens()
            .mint_admin(&t1, Duration::from_secs(600))
            .await
            .unwrap();
        f.knogin.tokens().revoke_tenant(&t1).await.unwrap();
        for token in [&admin, &new.token, &kept.token] {
            assert!(f.knogin.tokens().verify(token.expose()).await.is_err());
        }
    }
}
