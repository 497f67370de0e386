//! App operations ([`Apps`], lent by `Knogin::apps`): each runs one policy and one store call,
//! and records its change in the audit trail.

use crate::apps::{
    App, AppError, ClientJwksUri, Governance, GovernancePatch, Override, PreviousSecrets,
    Registration, SecurityProfile, TokenEndpointAuthMethod,
};
use crate::audit::{Actor, AuditKind};
use crate::id::{AppId, TenantId};
use crate::secret::ClientSecret;
use crate::shared::Core;
use crate::store::{AppPage, Cursor};
use crate::validation::ValidationErrors;

/// Registering apps, reading them, governing them and rotating their client secrets, for one
/// handle: [`Knogin::apps`](crate::Knogin::apps). The audit trail names the operator as the
/// actor of the changes made through it.
#[derive(Debug, Clone)]
pub struct Apps<'a> {
    pub(crate) knogin: &'a Core,
    /// Who the audit trail names for each change.
    pub(crate) actor: Actor,
}

impl Core {
    /// Runs the registration policy for `tenant` at the current time: the app to store, or
    /// every broken rule.
    pub(crate) fn check_registration(
        &self,
        tenant: &TenantId,
        registration: Registration,
    ) -> Result<App, ValidationErrors> {
        let mut refused = ValidationErrors::default();
        if let Some(uri) = &registration.jwks_uri {
            let allow_private = self.0.webhooks.allow_private_targets;
            if !self.0.client_jwks.fetches() {
                refused.push(
                    "jwks_uri",
                    "is not fetched by this server: register the public keys as jwks instead",
                );
            } else if ClientJwksUri::parse(uri, true).is_ok()
                && let Err(why) = ClientJwksUri::parse(uri, allow_private)
            {
                refused.push("jwks_uri", why.to_string());
            }
        }
        let validated = registration.validate(
            &self.0.scopes,
            AppId::generate(),
            tenant.clone(),
            self.0.clock.now(),
        );
        match validated {
            Ok(app) if refused.0.is_empty() => Ok(app),
            Ok(_) => Err(refused),
            Err(mut errors) => {
                errors.0.extend(refused.0);
                Err(errors)
            }
        }
    }

    /// Stores an app that passed [`Core::check_registration`], with a new client secret unless
    /// it authenticates with its keys, and returns the secret (the only time it exists in clear).
    async fn store_app(&self, app: &App) -> Result<Option<ClientSecret>, AppError> {
        let secret = app
            .token_endpoint_auth_method
            .uses_secret()
            .then(ClientSecret::generate);
        self.0
            .store
            .ensure_tenant(&app.tenant_id, app.created_at)
            .await?;
        let hash = secret.as_ref().map(ClientSecret::hash);
        self.0.store.insert_app(app, hash.as_ref()).await?;
        Ok(secret)
    }
}

impl Apps<'_> {
    /// Registers an app for `tenant` and returns it with its client secret, the only time the
    /// secret exists in clear (`None` for an app that authenticates with `private_key_jwt`).
    pub async fn register(
        &self,
        tenant: &TenantId,
        registration: Registration,
    ) -> Result<(App, Option<ClientSecret>), AppError> {
        let app = self.knogin.check_registration(tenant, registration)?;
        self.store(app).await
    }

    /// Stores an app that passed [`Core::check_registration`] (with a new client secret unless
    /// it authenticates with its keys) and returns it with the secret.
    pub(crate) async fn store(&self, app: App) -> Result<(App, Option<ClientSecret>), AppError> {
        let secret = self.knogin.store_app(&app).await?;
        self.knogin
            .audit(AuditKind::AppRegistered, self.actor.clone())
            .tenant(&app.tenant_id)
            .client(app.client_id.as_str())
            .detail("name", app.name.as_str())
            .record();
        Ok((app, secret))
    }

    /// `tenant`'s app `id`.
    pub async fn get(&self, tenant: &TenantId, id: &AppId) -> Result<App, AppError> {
        self.knogin
            .0
            .store
            .get_app(tenant, id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// A page of `tenant`'s apps, newest first.
    pub async fn list(
        &self,
        tenant: &TenantId,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<AppPage, AppError> {
        Ok(self.knogin.0.store.list_apps(tenant, after, limit).await?)
    }

    /// Applies `patch` to the governance of `tenant`'s app `id`.
    pub async fn update_governance(
        &self,
        tenant: &TenantId,
        id: &AppId,
        patch: GovernancePatch,
    ) -> Result<Governance, AppError> {
        if patch.security_profile == Some(Override::Value(SecurityProfile::Fapi2))
            && self.get(tenant, id).await?.token_endpoint_auth_method
                != TokenEndpointAuthMethod::PrivateKeyJwt
        {
            let mut errors = ValidationErrors::default();
            errors.push(
                "security_profile",
                "fapi2 needs an app that authenticates with private_key_jwt: register one with \
                 token_endpoint_auth_method private_key_jwt and its jwks",
            );
            return Err(errors.into());
        }
        let governance = self
            .knogin
            .0
            .store
            .update_governance(tenant, id, patch)
            .await?
            .ok_or(AppError::NotFound)?;
        self.knogin.0.clients.forget(id.as_str());
        self.knogin
            .audit(AuditKind::AppGovernanceChanged, self.actor.clone())
            .tenant(tenant)
            .client(id.as_str())
            .detail(
                "governance",
                serde_json::to_string(&governance).unwrap_or_default(),
            )
            .record();
        Ok(governance)
    }

    /// Gives `tenant`'s app `id` a new client secret ([`AppError::NoClientSecret`] for an app
    /// that authenticates with its keys). The previous ones stop working at once, or
    /// at the end of the configured grace period unless `previous` says to revoke them now.
    pub async fn rotate_secret(
        &self,
        tenant: &TenantId,
        id: &AppId,
        previous: PreviousSecrets,
    ) -> Result<ClientSecret, AppError> {
        if !self
            .get(tenant, id)
            .await?
            .token_endpoint_auth_method
            .uses_secret()
        {
            return Err(AppError::NoClientSecret);
        }
        let now = self.knogin.0.clock.now();
        let grace = match previous {
            PreviousSecrets::KeepForGrace => self.knogin.0.secret_grace,
            PreviousSecrets::RevokeNow => std::time::Duration::ZERO,
        };
        let secret = ClientSecret::generate();
        let rotated = self
            .knogin
            .0
            .store
            .rotate_secret(tenant, id, &secret.hash(), now, now.plus(grace))
            .await?;
        if !rotated {
            return Err(AppError::NotFound);
        }
        self.knogin.0.clients.forget(id.as_str());
        let previous = match previous {
            PreviousSecrets::RevokeNow => "revoked",
            PreviousSecrets::KeepForGrace => "kept_for_grace",
        };
        self.knogin
            .audit(AuditKind::AppSecretRotated, self.actor.clone())
            .tenant(tenant)
            .client(id.as_str())
            .detail("previous_secrets", previous)
            .record();
        Ok(secret)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::clock::{ManualClock, Timestamp};
    use crate::testing::test_core_with;

    /// A handle with the given grace, one registered app in tenant `t1`, and its first secret.
    struct Fixture {
        clock: Arc<ManualClock>,
        knogin: Core,
        app: App,
        secret: ClientSecret,
    }

    impl Fixture {
        async fn new(grace: Duration) -> Self {
            let clock = Arc::new(ManualClock::new(Timestamp::from_unix(1_800_000_000)));
            let knogin = test_core_with(clock.clone(), grace).await;
            let (app, secret) = knogin
                .apps()
                .register(&tenant("t1"), crate::testing::registration())
                .await
                .unwrap();
            Self {
                clock,
                knogin,
                app,
                secret: secret.expect("a secret app has a secret"),
            }
        }

        async fn rotate(&self) -> ClientSecret {
            self.knogin
                .apps()
                .rotate_secret(
                    &tenant("t1"),
                    &self.app.client_id,
                    PreviousSecrets::KeepForGrace,
                )
                .await
                .unwrap()
        }

        async fn accepts(&self, secret: &ClientSecret) -> bool {
            self.knogin
                .apps()
                .check_secret(&self.app.client_id, secret)
                .await
                .unwrap()
        }
    }

    fn tenant(s: &str) -> TenantId {
        TenantId::parse(s).unwrap()
    }

    #[tokio::test]
    async fn rotation_without_grace_stops_the_old_secret_at_once() {
        let f = Fixture::new(Duration::ZERO).await;
        assert!(f.accepts(&f.secret).await);
        let new = f.rotate().await;
        assert!(!f.accepts(&f.secret).await);
        assert!(f.accepts(&new).await);
    }

    #[tokio::test]
    async fn rotation_with_grace_keeps_the_old_secret_until_the_grace_ends() {
        let f = Fixture::new(Duration::from_secs(600)).await;
        let new = f.rotate().await;
        f.clock.advance(Duration::from_secs(599));
        assert!(f.accepts(&f.secret).await && f.accepts(&new).await);
        f.clock.advance(Duration::from_secs(1));
        assert!(!f.accepts(&f.secret).await);
        assert!(f.accepts(&new).await);
    }

    #[tokio::test]
    async fn revoking_previous_secrets_cuts_them_off_despite_the_grace() {
        let f = Fixture::new(Duration::from_secs(600)).await;
        let new = f
            .knogin
            .apps()
            .rotate_secret(&tenant("t1"), &f.app.client_id, PreviousSecrets::RevokeNow)
            .await
            .unwrap();
        assert!(!f.accepts(&f.secret).await);
        assert!(f.accepts(&new).await);
    }

    #[tokio::test]
    async fn another_tenants_app_is_not_found() {
        let f = Fixture::new(Duration::ZERO).await;
        let (other, id) = (tenant("t2"), &f.app.client_id);
        assert!(matches!(
            f.knogin.apps().get(&other, id).await,
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            f.knogin
                .apps()
                .rotate_secret(&other, id, PreviousSecrets::KeepForGrace)
                .await,
            Err(AppError::NotFound)
        ));
        let patch = GovernancePatch {
            allow_service_tokens: Some(true),
            ..GovernancePatch::default()
        };
        let updated = f.knogin.apps().update_governance(&other, id, patch).await;
        assert!(matches!(updated, Err(AppError::NotFound)));
        assert!(f.accepts(&f.secret).await, "nothing changed");
    }

    #[tokio::test]
    async fn a_wrong_secret_or_unknown_app_does_not_authenticate() {
        let f = Fixture::new(Duration::ZERO).await;
        let guess = ClientSecret::generate();
        assert!(!f.accepts(&guess).await);
        let unknown = f
            .knogin
            .apps()
            .check_secret(&AppId::generate(), &f.secret)
            .await;
        assert!(!unknown.unwrap());
    }
}
