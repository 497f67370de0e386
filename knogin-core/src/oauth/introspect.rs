//! Token introspection (RFC 7662) and revocation (RFC 7009) for authenticated clients: a client
//! revokes only its own tokens (RFC 7009 §2.1), and introspects its own, or every access token
//! of its tenant when its governance makes it a resource server (`allow_token_introspection`).

use serde::Serialize;

use crate::apps::App;
use crate::secret::RefreshToken;
use crate::shared::Core;
use crate::store::StoreError;
use crate::token::{AccessClaims, TokenKind};

/// What introspection says about a token (RFC 7662 §2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Introspection {
    /// Not a token this client may know about: invalid, expired, revoked, an admin token,
    /// another tenant's, or (unless the client is a resource server) another client's. All look
    /// the same.
    Inactive,
    /// An active access or service token the client may know about, with its claims.
    Active(Box<AccessClaims>),
}

/// RFC 7662: `active`, and the token's claims when it is.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Introspection)]
pub(crate) struct IntrospectionBody<'a> {
    /// Whether the token is active and the client may know about it.
    active: bool,
    /// `DPoP` for a DPoP-bound token, `Bearer` for another, when active (RFC 9449 §6.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    token_type: Option<&'static str>,
    /// The token's claims, when active.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    claims: Option<&'a AccessClaims>,
}

impl Serialize for Introspection {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let claims = match self {
            Self::Inactive => None,
            Self::Active(claims) => Some(&**claims),
        };
        IntrospectionBody {
            active: claims.is_some(),
            token_type: claims.map(|c| if c.cnf.is_some() { "DPoP" } else { "Bearer" }),
            claims,
        }
        .serialize(serializer)
    }
}

impl Core {
    /// The claims of `token` if it is an active access or service token of `client`'s tenant,
    /// issued to `client` unless `any_client`.
    async fn visible_token(
        &self,
        client: &App,
        token: &str,
        any_client: bool,
    ) -> Option<AccessClaims> {
        match self.verify_any_audience(token).await {
            Ok((claims, TokenKind::Access))
                if claims.tenant == client.tenant_id.as_str()
                    && (any_client || claims.client_id == client.client_id.as_str()) =>
            {
                Some(claims)
            }
            _ => None,
        }
    }

    /// Introspects `token` for `client` (RFC 7662): active only if it is an access or service
    /// token of this issuer, valid now and not revoked, of the client's tenant, and issued to
    /// the client unless the client's governance allows it to introspect the tenant's tokens
    /// (a resource server).
    pub(crate) async fn introspect(&self, client: &App, token: &str) -> Introspection {
        let any_client = client.governance.allow_token_introspection;
        match self.visible_token(client, token, any_client).await {
            Some(claims) => Introspection::Active(Box::new(claims)),
            None => Introspection::Inactive,
        }
    }

    /// Revokes `token` for `client` (RFC 7009) if it is an active access or service token issued
    /// to the client (§2.1), or a current refresh token issued to the client (which revokes its whole
    /// family, access tokens included); anything else is left alone, and the answer is the same
    /// (§2.2). Returns whether a token was revoked.
    pub(crate) async fn revoke_for(&self, client: &App, token: &str) -> Result<bool, StoreError> {
        if token.starts_with(RefreshToken::PREFIX) {
            let hash = RefreshToken::from_presented(token).hash();
            let now = self.0.clock.now();
            return match self.0.store.find_refresh(&hash, now).await? {
                Some(refresh) if refresh.grant.client_id == client.client_id => {
                    self.revoke_family(&refresh.family).await?;
                    crate::metrics::tokens_revoked(1);
                    Ok(true)
                }
                _ => Ok(false),
            };
        }
        let Some(claims) = self.visible_token(client, token, false).await else {
            return Ok(false);
        };
        self.tokens().revoke(&claims).await?;
        tracing::info!(client_id = %client.client_id, jti = %claims.jti, "revoked a token");
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::TenantId;
    use crate::clock::{ManualClock, Timestamp};
    use crate::testing::{registration, test_core_with};

    #[tokio::test]
    async fn clients_see_and_revoke_only_their_own_tokens() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix(1_800_000_000)));
        let knogin = test_core_with(clock.clone(), Duration::ZERO).await;
        let (t1, t2) = (
            TenantId::parse("t1").unwrap(),
            TenantId::parse("t2").unwrap(),
        );
        let (mine, _) = knogin.apps().register(&t1, registration()).await.unwrap();
        let (theirs, _) = knogin.apps().register(&t2, registration()).await.unwrap();
        let token = knogin
            .client_credentials(&mine, None, None, None)
            .await
            .unwrap()
            .token;
        let admin = knogin
            .tokens()
            .mint_admin(&t1, Duration::from_secs(60))
            .await
            .unwrap();

        let seen = knogin.introspect(&mine, token.expose()).await;
        let Introspection::Active(claims) = &seen else {
            panic!("{seen:?}")
        };
        assert_eq!(claims.client_id, mine.client_id.as_str());
        let body = serde_json::to_value(&seen).unwrap();
        assert_eq!(
            (body["active"].as_bool(), body["token_type"].as_str()),
            (Some(true), Some("Bearer"))
        );
        assert_eq!(body["scope"], "webhooks:write");

        assert_eq!(
            knogin.introspect(&theirs, token.expose()).await,
            Introspection::Inactive
        );
        assert_eq!(
            knogin.introspect(&mine, admin.expose()).await,
            Introspection::Inactive
        );
        assert_eq!(
            knogin.introspect(&mine, "garbage").await,
            Introspection::Inactive
        );
        assert_eq!(
            serde_json::to_string(&Introspection::Inactive).unwrap(),
            r#"{"active":false}"#
        );

        assert!(!knogin.revoke_for(&theirs, token.expose()).await.unwrap());
        assert!(!knogin.revoke_for(&mine, admin.expose()).await.unwrap());
        assert!(knogin.tokens().verify(token.expose()).await.is_ok());
        assert!(knogin.revoke_for(&mine, token.expose()).await.unwrap());
        assert_eq!(
            knogin.introspect(&mine, token.expose()).await,
            Introspection::Inactive
        );

        clock.advance(Duration::from_secs(3601));
        // Another client of the tenant neither revokes nor introspects this client's tokens,
        // unless its governance makes it a resource server (which still cannot revoke them).
        let (sibling, _) = knogin.apps().register(&t1, registration()).await.unwrap();
        let fresh = knogin
            .client_credentials(&mine, None, None, None)
            .await
            .unwrap()
            .token;
        assert_eq!(
            knogin.introspect(&sibling, fresh.expose()).await,
            Introspection::Inactive
        );
        assert!(!knogin.revoke_for(&sibling, fresh.expose()).await.unwrap());
        let resource_server = crate::apps::App {
            governance: crate::apps::Governance {
                allow_token_introspection: true,
                ..sibling.governance
            },
            ..sibling.clone()
        };
        assert!(matches!(
            knogin.introspect(&resource_server, fresh.expose()).await,
            Introspection::Active(_)
        ));
        assert!(
            !knogin
                .revoke_for(&resource_server, fresh.expose())
                .await
                .unwrap()
        );
        assert!(knogin.tokens().verify(fresh.expose()).await.is_ok());
        let expired = knogin
            .client_credentials(&mine, None, None, None)
            .await
            .unwrap()
            .token;
        clock.advance(Duration::from_secs(3600 + crate::token::LEEWAY.as_secs()));
        assert_eq!(
            knogin.introspect(&mine, expired.expose()).await,
            Introspection::Inactive
        );
    }
}
