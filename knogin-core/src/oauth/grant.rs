//! The token endpoint's grants: what each may issue, as plain functions, and issuing it.

use std::time::Duration;

use crate::apps::{App, GrantType};
use crate::scope::{ScopeCatalog, ScopeSet};
use crate::shared::Core;
use crate::token::{AccessToken, TokenGrant};

/// Why the token endpoint refuses a grant: the RFC 6749 §5.2 error codes besides
/// `invalid_client`. Each message is safe to show the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrantError {
    /// A required parameter is missing or malformed.
    #[error("{0}")]
    InvalidRequest(String),
    /// The `grant_type` is not one this server supports.
    #[error("the grant type '{0}' is not supported")]
    UnsupportedGrantType(String),
    /// The client was not registered for this grant.
    #[error("this client is not registered for the {0} grant")]
    UnauthorizedClient(GrantType),
    /// The requested scope is malformed, unknown, or beyond what the app was approved for.
    #[error("{0}")]
    InvalidScope(String),
    /// The grant (e.g. an authorization code) is invalid, expired, revoked or not this client's.
    #[error("{0}")]
    InvalidGrant(String),
    /// The `resource` (RFC 8707) is not one of this issuer's audiences, or not the one the grant
    /// was made for.
    #[error("{0}")]
    InvalidTarget(String),
}

impl GrantError {
    /// The RFC 6749 `error` code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::UnsupportedGrantType(_) => "unsupported_grant_type",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::InvalidScope(_) => "invalid_scope",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::InvalidTarget(_) => "invalid_target",
        }
    }
}

/// An access token as the token endpoint answers it.
#[derive(Debug)]
pub struct IssuedToken {
    /// The signed JWT.
    pub token: AccessToken,
    /// Its lifetime (`expires_in`).
    pub expires_in: Duration,
    /// The scopes granted (`scope`).
    pub scopes: ScopeSet,
    /// The refresh token issued beside it (the authorization-code and refresh-token grants).
    pub refresh_token: Option<crate::secret::RefreshToken>,
}

/// The scopes a client-credentials request for `app` gets (RFC 6749 §3.3): the `requested`
/// ones, each approved for the app and still in the catalog; without a request, every approved
/// scope still in the catalog.
///
/// ```
/// use knogin_core::ScopeCatalog;
/// use knogin_core::oauth::granted_scopes;
/// # let app = knogin_core::testing::app_with_scopes(["webhooks:read", "webhooks:write"]);
///
/// let catalog = ScopeCatalog::reference();
/// assert_eq!(granted_scopes(&app, Some("webhooks:read"), &catalog).unwrap().to_string(), "webhooks:read");
/// assert_eq!(granted_scopes(&app, None, &catalog).unwrap().to_string(), "webhooks:read webhooks:write");
/// assert!(granted_scopes(&app, Some("incidents:read"), &catalog).is_err());
/// ```
pub fn granted_scopes(
    app: &App,
    requested: Option<&str>,
    catalog: &ScopeCatalog,
) -> Result<ScopeSet, GrantError> {
    let usable = |s: &str| app.requested_scopes.contains(s) && catalog.contains(s);
    let Some(requested) = requested else {
        let scopes = ScopeSet::new(
            app.requested_scopes
                .iter()
                .filter(|s| catalog.contains(s.as_str())),
        )
        .expect("approved scopes are scope tokens");
        if scopes.is_empty() {
            return Err(GrantError::InvalidScope(
                "the app has no approved scope left in the catalog".into(),
            ));
        }
        return Ok(scopes);
    };
    requested_within(requested, usable, "is not one this app is approved for")
}

/// The `scope` parameter `requested` (RFC 6749 §3.3) as a non-empty set whose every scope is
/// `allowed`; a refused scope is `invalid_scope`, naming it with `refusal`.
pub(crate) fn requested_within(
    requested: &str,
    allowed: impl Fn(&str) -> bool,
    refusal: &str,
) -> Result<ScopeSet, GrantError> {
    let scopes = ScopeSet::parse(requested).map_err(|e| GrantError::InvalidScope(e.to_string()))?;
    if scopes.is_empty() {
        return Err(GrantError::InvalidScope(
            "the scope parameter names no scope".into(),
        ));
    }
    if let Some(refused) = scopes.iter().find(|s| !allowed(s.as_str())) {
        return Err(GrantError::InvalidScope(format!(
            "the scope {refused} {refusal}"
        )));
    }
    Ok(scopes)
}

/// The value of the required token-request parameter `name`, or `invalid_request` naming it.
pub(crate) fn required<'a>(value: Option<&'a str>, name: &str) -> Result<&'a str, GrantError> {
    value.ok_or_else(|| GrantError::InvalidRequest(format!("the {name} parameter is required")))
}

impl Core {
    /// `resource` (RFC 8707) checked against the issuer's audiences: `invalid_target` unless it
    /// is one of them.
    pub(crate) fn resource(&self, resource: Option<&str>) -> Result<Option<String>, GrantError> {
        match resource {
            None => Ok(None),
            Some(r) if self.0.audiences.iter().any(|a| a == r) => Ok(Some(r.to_owned())),
            Some(r) => Err(GrantError::InvalidTarget(format!(
                "the resource {r} is not one this server issues tokens for"
            ))),
        }
    }

    /// Issues a client-credentials access token (RFC 6749 §4.4) to `app`, an authenticated
    /// client, for the `scope` it asked for (see [`granted_scopes`]) and the `resource` server
    /// it named (RFC 8707; one of the issuer's audiences, else the default one). Its lifetime
    /// is the app's governance `access_token_ttl` or the embedder's default. Reads and writes
    /// nothing.
    pub(crate) async fn client_credentials(
        &self,
        app: &App,
        scope: Option<&str>,
        resource: Option<&str>,
        dpop_jkt: Option<String>,
    ) -> Result<IssuedToken, GrantError> {
        if !app.grant_types.contains(&GrantType::ClientCredentials) {
            return Err(GrantError::UnauthorizedClient(GrantType::ClientCredentials));
        }
        let scopes = granted_scopes(app, scope, &self.0.scopes)?;
        let resource = self.resource(resource)?;
        let expires_in = self.0.lifetimes.access_for(&app.governance);
        let grant = TokenGrant {
            tenant: app.tenant_id.clone(),
            subject: app.client_id.as_str().to_owned(),
            client_id: app.client_id.as_str().to_owned(),
            scopes,
            ttl: expires_in,
            resource,
            dpop_jkt,
            actor: None,
        };
        Ok(self.issue_access_token(grant).await)
    }

    /// Signs `grant` as an access token without a refresh token, as the token endpoint
    /// answers it.
    pub(crate) async fn issue_access_token(&self, grant: TokenGrant) -> IssuedToken {
        let token = self.sign_access_token(&grant).await;
        IssuedToken {
            token,
            expires_in: grant.ttl,
            scopes: grant.scopes,
            refresh_token: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::apps::{GovernancePatch, Override};
    use crate::clock::{ManualClock, Timestamp};
    use crate::testing::{app_with_scopes, test_core_with};
    use crate::token::TokenKind;

    fn catalog() -> ScopeCatalog {
        ScopeCatalog::reference()
    }

    #[tokio::test]
    async fn a_token_carries_the_one_audience_it_was_issued_for() {
        const FILES: &str = "https://files.knogin.test";
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix(1_800_000_000)));
        let knogin = crate::testing::builder(
            Arc::new(crate::store::memory::MemoryStore::new()),
            crate::keys::MasterKey::generate(),
            clock,
        )
        .audiences([crate::testing::TEST_ISSUER, FILES])
        .build()
        .await
        .unwrap()
        .core()
        .clone();
        let (app, _) = knogin
            .apps()
            .register(
                &crate::TenantId::parse("t1").unwrap(),
                crate::testing::registration(),
            )
            .await
            .unwrap();
        let default = knogin
            .client_credentials(&app, None, None, None)
            .await
            .unwrap();
        let files = knogin
            .client_credentials(&app, None, Some(FILES), None)
            .await
            .unwrap();
        // The issuer's own routes take only tokens for it.
        let (claims, _) = knogin
            .tokens()
            .verify(default.token.expose())
            .await
            .unwrap();
        assert_eq!(
            claims.aud,
            crate::token::Audience::One(crate::testing::TEST_ISSUER.into())
        );
        assert!(knogin.tokens().verify(files.token.expose()).await.is_err());
        // Introspection speaks for every resource server of the issuer.
        let crate::oauth::Introspection::Active(claims) =
            knogin.introspect(&app, files.token.expose()).await
        else {
            panic!("a token for another audience of the issuer introspects active");
        };
        assert_eq!(claims.aud, crate::token::Audience::One(FILES.into()));
        let unknown = knogin
            .client_credentials(&app, None, Some("https://evil.example"), None)
            .await;
        assert!(matches!(unknown, Err(GrantError::InvalidTarget(_))));
        assert_eq!(unknown.unwrap_err().code(), "invalid_target");
    }

    #[test]
    fn requested_scopes_must_be_approved_and_in_the_catalog() {
        let app = app_with_scopes(["webhooks:read", "webhooks:write", "retired:scope"]);
        let ok = granted_scopes(&app, Some("webhooks:write  webhooks:read"), &catalog()).unwrap();
        assert_eq!(ok.to_string(), "webhooks:write webhooks:read");
        for (bad, why) in [
            (
                "incidents:read",
                "the scope incidents:read is not one this app is approved for",
            ),
            (
                "retired:scope",
                "the scope retired:scope is not one this app is approved for",
            ),
            (
                "platform:admin",
                "the scope platform:admin is not one this app is approved for",
            ),
            ("   ", "the scope parameter names no scope"),
        ] {
            let refused = granted_scopes(&app, Some(bad), &catalog());
            assert_eq!(
                refused,
                Err(GrantError::InvalidScope(why.into())),
                "{bad:?}"
            );
        }
        assert!(matches!(
            granted_scopes(&app, Some("a\"b"), &catalog()),
            Err(GrantError::InvalidScope(_))
        ));
    }

    #[test]
    fn no_scope_means_every_approved_scope_still_in_the_catalog() {
        let app = app_with_scopes(["retired:scope", "webhooks:read"]);
        assert_eq!(
            granted_scopes(&app, None, &catalog()).unwrap().to_string(),
            "webhooks:read"
        );
        let stale = app_with_scopes(["retired:scope"]);
        assert!(matches!(
            granted_scopes(&stale, None, &catalog()),
            Err(GrantError::InvalidScope(_))
        ));
    }

    #[tokio::test]
    async fn tokens_carry_the_clients_identity_and_the_apps_lifetime() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix(1_800_000_000)));
        let knogin = test_core_with(clock, Duration::ZERO).await;
        let tenant = crate::TenantId::parse("t1").unwrap();
        let (app, _) = knogin
            .apps()
            .register(&tenant, crate::testing::registration())
            .await
            .unwrap();
        let issued = knogin
            .client_credentials(&app, None, None, None)
            .await
            .unwrap();
        assert_eq!(issued.expires_in, Duration::from_secs(3600));
        let (claims, kind) = knogin.tokens().verify(issued.token.expose()).await.unwrap();
        assert_eq!(kind, TokenKind::Access);
        assert_eq!(
            (claims.sub.as_str(), claims.client_id.as_str()),
            (app.client_id.as_str(), app.client_id.as_str())
        );
        assert_eq!(
            (claims.tenant.as_str(), claims.scope.as_str()),
            ("t1", "webhooks:write")
        );
        assert_eq!(claims.exp - claims.iat, 3600);

        let patch = GovernancePatch {
            access_token_ttl: Some(Override::Value(600)),
            ..GovernancePatch::default()
        };
        let governance = knogin
            .apps()
            .update_governance(&tenant, &app.client_id, patch)
            .await
            .unwrap();
        let app = App { governance, ..app };
        assert_eq!(
            knogin
                .client_credentials(&app, None, None, None)
                .await
                .unwrap()
                .expires_in,
            Duration::from_secs(600)
        );
    }

    #[tokio::test]
    async fn the_app_must_be_registered_for_the_grant() {
        let knogin = test_core_with(
            Arc::new(ManualClock::new(Timestamp::from_unix(1_800_000_000))),
            Duration::ZERO,
        )
        .await;
        let app = App {
            grant_types: vec![GrantType::AuthorizationCode],
            ..app_with_scopes(["webhooks:read"])
        };
        assert_eq!(
            knogin
                .client_credentials(&app, None, None, None)
                .await
                .unwrap_err(),
            GrantError::UnauthorizedClient(GrantType::ClientCredentials)
        );
    }
}
