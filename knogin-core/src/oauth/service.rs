//! Service tokens: access tokens an admin mints for an app's automation, without a client secret
//! or a user, while the app's governance allows it.

use std::time::Duration;

use crate::apps::App;
use crate::id::{AppId, TenantId};
use crate::scope::{ADMIN_SCOPE, ScopeCatalog, ScopeSet, ScopeToken};
use crate::store::StoreError;
use crate::token::{AccessToken, TokenGrant};
use crate::validation::ValidationErrors;

/// What an admin asks a service token for.
#[derive(Debug, Clone, Default, PartialEq, Eq, utoipa::ToSchema)]
pub struct ServiceTokenRequest {
    /// The scopes, each approved for the app.
    pub scopes: Vec<String>,
    /// Its lifetime in seconds, instead of the embedder's default (at most the maximum).
    pub expires_in: Option<u32>,
}

/// Why a service token was not minted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceTokenError {
    /// The tenant has no such app.
    #[error("no such app")]
    NotFound,
    /// The app's governance does not allow service tokens.
    #[error(
        "this app may not have service tokens: set its governance allow_service_tokens to true first"
    )]
    NotAllowed,
    /// The request breaks a rule; each bad field is named.
    #[error(transparent)]
    Invalid(ValidationErrors),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ServiceTokenRequest {
    /// The scopes and lifetime of a service token for `app`, or every broken rule: each scope
    /// must be one scope token, in `catalog` (never the reserved admin scope) and approved for
    /// the app; at least one is needed; `expires_in` lies between 1 second and the maximum.
    pub fn validate(
        &self,
        app: &App,
        catalog: &ScopeCatalog,
        max_ttl: Duration,
        default_ttl: Duration,
    ) -> Result<(ScopeSet, Duration), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let mut scopes = ScopeSet::default();
        if self.scopes.is_empty() {
            errors.push("scopes", "must name at least one scope");
        }
        for (i, scope) in self.scopes.iter().enumerate() {
            let field = format!("scopes[{i}]");
            let problem = match ScopeToken::parse(scope) {
                _ if scope == ADMIN_SCOPE => format!("{scope:?} is reserved for admin tokens"),
                None => format!(
                    "{scope:?} is not one scope token (no spaces, quotes, backslashes or control characters)"
                ),
                Some(_) if !catalog.contains(scope) => {
                    format!("{scope:?} is not in the scope catalog")
                }
                Some(_) if !app.requested_scopes.contains(scope) => {
                    format!("{scope:?} is not among the app's approved scopes")
                }
                Some(token) => {
                    scopes.insert(token);
                    continue;
                }
            };
            errors.push(field, problem);
        }
        let ttl = match self.expires_in {
            None => default_ttl,
            Some(s) if s > 0 && u64::from(s) <= max_ttl.as_secs() => {
                Duration::from_secs(u64::from(s))
            }
            Some(_) => {
                errors.push(
                    "expires_in",
                    format!("must be between 1 and {} seconds", max_ttl.as_secs()),
                );
                default_ttl
            }
        };
        errors.into_result((scopes, ttl))
    }
}

impl crate::shared::Tokens<'_> {
    /// Mints a service token for `tenant`'s app `id`: an access token (same type, JWKS and
    /// checks as the token endpoint's, revocable by `jti`) whose subject is the app. Refused
    /// while the app's governance `allow_service_tokens` is false. Writes nothing.
    pub async fn mint_service(
        &self,
        tenant: &TenantId,
        id: &AppId,
        request: &ServiceTokenRequest,
    ) -> Result<AccessToken, ServiceTokenError> {
        let app = self
            .knogin
            .0
            .store
            .get_app(tenant, id)
            .await?
            .ok_or(ServiceTokenError::NotFound)?;
        if !app.governance.allow_service_tokens {
            return Err(ServiceTokenError::NotAllowed);
        }
        let lifetimes = &self.knogin.0.lifetimes;
        let (scopes, ttl) = request
            .validate(
                &app,
                &self.knogin.0.scopes,
                lifetimes.max_service,
                lifetimes.service,
            )
            .map_err(ServiceTokenError::Invalid)?;
        let grant = TokenGrant {
            tenant: app.tenant_id.clone(),
            subject: app.client_id.as_str().to_owned(),
            client_id: app.client_id.as_str().to_owned(),
            scopes,
            ttl,
            resource: None,
            dpop_jkt: None,
            actor: None,
        };
        let token = self.knogin.sign_access_token(&grant).await;
        tracing::info!(tenant = %tenant, client_id = %id, scope = %grant.scopes, "minted a service token");
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::apps::GovernancePatch;
    use crate::clock::{ManualClock, Timestamp};
    use crate::testing::{app_with_scopes, registration, test_core_with};

    const MAX: Duration = Duration::from_secs(7200);
    const DEFAULT: Duration = Duration::from_secs(3600);

    fn check(
        scopes: &[&str],
        expires_in: Option<u32>,
    ) -> Result<(ScopeSet, Duration), ValidationErrors> {
        let app = app_with_scopes(["webhooks:read", "webhooks:write"]);
        let request = ServiceTokenRequest {
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            expires_in,
        };
        request.validate(&app, &ScopeCatalog::reference(), MAX, DEFAULT)
    }

    #[test]
    fn scopes_must_be_approved_catalog_tokens_and_never_admin() {
        let (scopes, ttl) = check(&["webhooks:write"], None).unwrap();
        assert_eq!(
            (scopes.to_string().as_str(), ttl),
            ("webhooks:write", DEFAULT)
        );
        let errors = check(
            &[
                "webhooks:read",
                "platform:admin",
                "a b",
                "nope:x",
                "incidents:read",
            ],
            None,
        )
        .unwrap_err();
        let fields: Vec<(&str, &str)> = errors
            .0
            .iter()
            .map(|e| (e.field.as_str(), e.detail.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                (
                    "scopes[1]",
                    "\"platform:admin\" is reserved for admin tokens"
                ),
                (
                    "scopes[2]",
                    "\"a b\" is not one scope token (no spaces, quotes, backslashes or control characters)"
                ),
                ("scopes[3]", "\"nope:x\" is not in the scope catalog"),
                (
                    "scopes[4]",
                    "\"incidents:read\" is not among the app's approved scopes"
                ),
            ]
        );
        assert_eq!(check(&[], None).unwrap_err().0[0].field, "scopes");
    }

    #[test]
    fn lifetimes_are_bounded() {
        assert_eq!(check(&["webhooks:read"], Some(7200)).unwrap().1, MAX);
        for bad in [0, 7201] {
            assert_eq!(
                check(&["webhooks:read"], Some(bad)).unwrap_err().0[0].field,
                "expires_in"
            );
        }
    }

    #[tokio::test]
    async fn only_apps_whose_governance_allows_them_get_service_tokens() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix(1_800_000_000)));
        let knogin = test_core_with(clock, Duration::ZERO).await;
        let tenant = TenantId::parse("t1").unwrap();
        let (app, _) = knogin
            .apps()
            .register(&tenant, registration())
            .await
            .unwrap();
        let request = ServiceTokenRequest {
            scopes: vec!["webhooks:write".into()],
            expires_in: None,
        };
        let refused = knogin
            .tokens()
            .mint_service(&tenant, &app.client_id, &request)
            .await;
        assert!(matches!(refused, Err(ServiceTokenError::NotAllowed)));
        let allow = GovernancePatch {
            allow_service_tokens: Some(true),
            ..GovernancePatch::default()
        };
        knogin
            .apps()
            .update_governance(&tenant, &app.client_id, allow)
            .await
            .unwrap();
        let token = knogin
            .tokens()
            .mint_service(&tenant, &app.client_id, &request)
            .await
            .unwrap();
        let (claims, _) = knogin.tokens().verify(token.expose()).await.unwrap();
        assert_eq!(
            (claims.scope.as_str(), claims.sub.as_str()),
            ("webhooks:write", app.client_id.as_str())
        );
        let other = TenantId::parse("t2").unwrap();
        let foreign = knogin
            .tokens()
            .mint_service(&other, &app.client_id, &request)
            .await;
        assert!(matches!(foreign, Err(ServiceTokenError::NotFound)));
    }
}
