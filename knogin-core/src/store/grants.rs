//! What the authorization-code flow stores: single-use codes, rotating refresh tokens, and the
//! users' remembered consents.
//!
//! Every code starts a **family**: the code, and each refresh token and access token issued from
//! it. Redeeming a code twice, or presenting a refresh token that was already rotated, is a sign
//! that one of them leaked (RFC 9700 §2.1.1, §4.14), so the store can revoke a whole family at
//! once, access tokens included.

use async_trait::async_trait;

use super::StoreError;
use crate::clock::Timestamp;
use crate::id::{AppId, TenantId};
use crate::scope::ScopeSet;
use crate::secret::SecretHash;

/// What a user granted a client: the subject, client, tenant and scopes of every token issued
/// from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserGrant {
    /// The client the user authorized.
    pub client_id: AppId,
    /// The client's tenant, which the tokens act in.
    pub tenant: TenantId,
    /// The user (the tokens' `sub`).
    pub subject: String,
    /// The scopes granted.
    pub scopes: ScopeSet,
    /// The resource server the tokens are for (RFC 8707), when the request named one.
    pub resource: Option<String>,
}

/// An authorization code as stored: its hash and what redeeming it yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    /// SHA-256 of the code.
    pub code_hash: SecretHash,
    /// The family the code starts (a new, unique id).
    pub family: String,
    /// What the user granted.
    pub grant: UserGrant,
    /// The `redirect_uri` of the authorization request, which the token request must repeat.
    pub redirect_uri: String,
    /// The PKCE `code_challenge` (S256), if the request sent one.
    pub code_challenge: Option<String>,
    /// When the code stops being redeemable.
    pub expires_at: Timestamp,
    /// When the family ends: no refresh token issued from it lives longer.
    pub family_expires_at: Timestamp,
}

/// What redeeming a code found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeRedemption {
    /// The code was unused and unexpired; it is now used up.
    Redeemed(Box<StoredCode>),
    /// The code was redeemed before: the family should be revoked.
    Replayed {
        /// The code's family.
        family: String,
    },
    /// No such code, or it expired unused.
    Invalid,
}

/// A refresh token as stored, with the access token issued beside it (so revoking the family
/// revokes that access token too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRefresh {
    /// SHA-256 of the refresh token.
    pub token_hash: SecretHash,
    /// Its family.
    pub family: String,
    /// What it grants (its scopes may be narrower than the code's).
    pub grant: UserGrant,
    /// The `jti` of the access token issued with it.
    pub access_jti: String,
    /// When that access token expires.
    pub access_expires_at: Timestamp,
    /// When it was issued.
    pub created_at: Timestamp,
    /// When it expires unused: the idle limit, never past the family's end.
    pub expires_at: Timestamp,
    /// When its family ends: no successor lives longer.
    pub family_expires_at: Timestamp,
}

/// What presenting a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefreshUse {
    /// The token was current; it is now rotated out (its successor must be stored next).
    Current(Box<StoredRefresh>),
    /// The token was rotated out before, and its family is live: the family should be revoked.
    Reused {
        /// The token's family.
        family: String,
    },
    /// No such token, or it expired, or its family was revoked.
    Invalid,
}

/// Authorization codes, refresh tokens and consents.
#[async_trait]
pub trait GrantStore: Send + Sync {
    /// Stores a new code and starts its family. Codes and families that ended long ago may be
    /// deleted on the way.
    async fn insert_code(&self, code: &StoredCode, now: Timestamp) -> Result<(), StoreError>;

    /// Uses up the code with this hash, in one atomic step: of any number of concurrent
    /// redemptions exactly one gets [`CodeRedemption::Redeemed`], the others
    /// [`CodeRedemption::Replayed`].
    async fn redeem_code(
        &self,
        code_hash: &SecretHash,
        now: Timestamp,
    ) -> Result<CodeRedemption, StoreError>;

    /// Stores a refresh token of its family. Returns `false` when the family was revoked first:
    /// the token is stored dead and its access token's `jti` is revoked with the family's, so a
    /// token issued while a replay raced it is refused like the rest.
    async fn insert_refresh(
        &self,
        token: &StoredRefresh,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Rotates out the refresh token with this hash, in one atomic step: of concurrent uses
    /// exactly one gets [`RefreshUse::Current`].
    async fn use_refresh(
        &self,
        token_hash: &SecretHash,
        now: Timestamp,
    ) -> Result<RefreshUse, StoreError>;

    /// Uses the refresh token with this hash without rotating it (an app whose governance keeps
    /// refresh tokens), in one atomic step: if it is current, unexpired and its family live, its
    /// expiry becomes `expires_at` and the access token issued from it (`access_jti`, valid
    /// until `access_expires_at`) is recorded with its family, so that revoking the family
    /// revokes it too. Returns the token as it was before, or `None` (nothing changed).
    async fn keep_refresh(
        &self,
        token_hash: &SecretHash,
        access_jti: &str,
        access_expires_at: Timestamp,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Option<StoredRefresh>, StoreError>;

    /// The refresh token with this hash, if it is current, unexpired and its family live.
    async fn find_refresh(
        &self,
        token_hash: &SecretHash,
        now: Timestamp,
    ) -> Result<Option<StoredRefresh>, StoreError>;

    /// Revokes `family`: its refresh tokens stop working and the `jti`s of its access tokens
    /// (those issued beside a refresh token and those recorded by
    /// [`keep_refresh`](Self::keep_refresh)) join the revoked tokens, in one transaction. Returns those `jti`s with their expiry.
    /// Revoking twice is fine.
    async fn revoke_family(
        &self,
        family: &str,
        now: Timestamp,
    ) -> Result<Vec<(String, Timestamp)>, StoreError>;

    /// Remembers that `subject` of `tenant` consented to `scopes` for `client_id` (replacing
    /// what was remembered).
    async fn remember_consent(
        &self,
        client_id: &AppId,
        tenant: &TenantId,
        subject: &str,
        scopes: &ScopeSet,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// The scopes `subject` of `tenant` last consented to for `client_id`, if any.
    async fn consented_scopes(
        &self,
        client_id: &AppId,
        tenant: &TenantId,
        subject: &str,
    ) -> Result<Option<ScopeSet>, StoreError>;

    /// Forgets the consent of `subject` of `tenant` to `client_id` (the user withdrew it).
    /// Returns whether there was one.
    async fn forget_consent(
        &self,
        client_id: &AppId,
        tenant: &TenantId,
        subject: &str,
    ) -> Result<bool, StoreError>;
}
