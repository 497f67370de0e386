//! Token exchange (RFC 8693): a client trades an access token of its tenant (a user's, say, that
//! reached it as a resource server) for a token of its own to call another resource server, for
//! the same subject, with at most the scopes both had, and an `act` claim saying who acts.

use std::time::Duration;

use crate::apps::{App, GrantType};
use crate::clock::Timestamp;
use crate::oauth::{GrantError, IssuedToken, requested_within, required};
use crate::scope::ScopeSet;
use crate::shared::Core;
use crate::token::{AccessClaims, ActorClaim, TokenGrant, TokenKind};

/// The token type of an access token (RFC 8693 §3): what is issued, and what a subject or actor
/// token may be.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// The token type of a JWT (RFC 8693 §3), which this issuer's access tokens also are.
pub const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";

/// The parameters of a token-exchange request (RFC 8693 §2.1).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Exchange<'a> {
    pub(crate) subject_token: Option<&'a str>,
    pub(crate) subject_token_type: Option<&'a str>,
    pub(crate) actor_token: Option<&'a str>,
    pub(crate) actor_token_type: Option<&'a str>,
    pub(crate) requested_token_type: Option<&'a str>,
    pub(crate) scope: Option<&'a str>,
    pub(crate) resource: Option<&'a str>,
    pub(crate) audience: Option<&'a str>,
}

/// `invalid_request` unless `kind` (the `name` parameter) is a token type this issuer reads.
fn token_type(kind: Option<&str>, name: &str) -> Result<(), GrantError> {
    match required(kind, name)? {
        ACCESS_TOKEN_TYPE | JWT_TOKEN_TYPE => Ok(()),
        other => Err(GrantError::InvalidRequest(format!(
            "the {name} {other} is not supported: use {ACCESS_TOKEN_TYPE}"
        ))),
    }
}

/// The scopes the exchanged token gets: those asked for, or without `scope` all, that both the
/// subject token carries and `app` is approved for (and are still in the catalog).
fn exchanged_scopes(
    app: &App,
    subject: &AccessClaims,
    scope: Option<&str>,
    catalog: &crate::ScopeCatalog,
) -> Result<ScopeSet, GrantError> {
    let usable =
        |s: &str| subject.has_scope(s) && app.requested_scopes.contains(s) && catalog.contains(s);
    match scope {
        Some(scope) => requested_within(
            scope,
            usable,
            "is not both in the subject token and approved for this app",
        ),
        None => {
            let shared = ScopeSet::new(subject.scope.split(' ').filter(|s| usable(s)))
                .map_err(|e| GrantError::InvalidScope(e.to_string()))?;
            if shared.is_empty() {
                return Err(GrantError::InvalidScope(
                    "the subject token and this app share no approved scope".into(),
                ));
            }
            Ok(shared)
        }
    }
}

impl Core {
    /// A token `what` names (the `subject_token` or `actor_token`), verified: an active access
    /// token of this issuer, for any of its audiences, in `app`'s tenant.
    async fn exchanged(
        &self,
        app: &App,
        token: &str,
        what: &str,
    ) -> Result<AccessClaims, GrantError> {
        let refused = |why: String| GrantError::InvalidGrant(format!("the {what} {why}"));
        let (claims, kind) = self
            .verify_for(&self.0.audiences, token)
            .await
            .map_err(|e| refused(format!("is not usable: {e}")))?;
        if kind != TokenKind::Access {
            return Err(refused("is not an access token".into()));
        }
        if claims.tenant != app.tenant_id.as_str() {
            return Err(refused("belongs to another tenant".into()));
        }
        Ok(claims)
    }

    /// Exchanges the request's subject token for an access token of `app` (RFC 8693 §2): for
    /// the same subject and tenant, the `resource` or `audience` asked for (one of the
    /// issuer's audiences), scopes both tokens may have, no longer than the subject token lives,
    /// an `act` claim naming the actor (the actor token's subject, else `app`) before any
    /// earlier one, and bound to `dpop_jkt` when the request had a DPoP proof. A DPoP-bound
    /// subject token is taken only with a proof by its key.
    pub(crate) async fn exchange_token(
        &self,
        app: &App,
        request: &Exchange<'_>,
        dpop_jkt: Option<String>,
    ) -> Result<IssuedToken, GrantError> {
        if !app.grant_types.contains(&GrantType::TokenExchange) {
            return Err(GrantError::UnauthorizedClient(GrantType::TokenExchange));
        }
        let subject_token = required(request.subject_token, "subject_token")?;
        token_type(request.subject_token_type, "subject_token_type")?;
        if let Some(requested) = request.requested_token_type
            && requested != ACCESS_TOKEN_TYPE
            && requested != JWT_TOKEN_TYPE
        {
            return Err(GrantError::InvalidRequest(format!(
                "the requested_token_type {requested} cannot be issued: ask for {ACCESS_TOKEN_TYPE}"
            )));
        }
        let resource = match (request.resource, request.audience) {
            (Some(resource), Some(audience)) if resource != audience => {
                return Err(GrantError::InvalidTarget(
                    "resource and audience name different servers: name one".into(),
                ));
            }
            (resource, audience) => self.resource(resource.or(audience))?,
        };
        let subject = self.exchanged(app, subject_token, "subject_token").await?;
        if let Some(bound) = subject.dpop_jkt()
            && dpop_jkt.as_deref() != Some(bound)
        {
            return Err(GrantError::InvalidGrant(
                "the subject_token is DPoP-bound: send a DPoP proof by its key".into(),
            ));
        }
        let actor = match (request.actor_token, request.actor_token_type) {
            (Some(token), kind) => {
                token_type(kind, "actor_token_type")?;
                self.exchanged(app, token, "actor_token").await?.sub
            }
            (None, Some(_)) => {
                return Err(GrantError::InvalidRequest(
                    "actor_token_type was sent without an actor_token".into(),
                ));
            }
            (None, None) => app.client_id.to_string(),
        };
        let scopes = exchanged_scopes(app, &subject, request.scope, &self.0.scopes)?;
        let now = self.0.clock.now();
        let left = crate::clock::between(now, Timestamp::from_unix(subject.exp));
        let expires_in = self
            .0
            .lifetimes
            .access_for(&app.governance)
            .min(left)
            .max(Duration::from_secs(1));
        let grant = TokenGrant {
            tenant: app.tenant_id.clone(),
            subject: subject.sub.clone(),
            client_id: app.client_id.to_string(),
            scopes,
            ttl: expires_in,
            resource,
            dpop_jkt,
            actor: Some(ActorClaim {
                sub: actor,
                act: subject.act.clone().map(Box::new),
            }),
        };
        Ok(self.issue_access_token(grant).await)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::apps::{Registration, TOKEN_EXCHANGE};
    use crate::clock::ManualClock;
    use crate::testing::test_knogin_with;
    use crate::{Knogin, TenantId};

    struct Fixture {
        knogin: Knogin,
        app: App,
    }

    async fn fixture() -> Fixture {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix(1_800_000_000)));
        let knogin = test_knogin_with(clock, Duration::ZERO).await;
        let registration = Registration {
            name: "Gateway".into(),
            grant_types: vec![TOKEN_EXCHANGE.into()],
            requested_scopes: vec!["webhooks:read".into(), "incidents:read".into()],
            ..Registration::default()
        };
        let t1 = TenantId::parse("t1").unwrap();
        let (app, _) = knogin.apps().register(&t1, registration).await.unwrap();
        Fixture { knogin, app }
    }

    impl Fixture {
        /// A token of `tenant` for `subject` with `scope`, issued to another client.
        async fn token(
            &self,
            tenant: &str,
            subject: &str,
            scope: &str,
            jkt: Option<&str>,
        ) -> String {
            let grant = TokenGrant {
                tenant: TenantId::parse(tenant).unwrap(),
                subject: subject.into(),
                client_id: "app_0123456789abcdef0123456789abcdef".into(),
                scopes: ScopeSet::parse(scope).unwrap(),
                ttl: Duration::from_secs(300),
                resource: None,
                dpop_jkt: jkt.map(str::to_owned),
                actor: None,
            };
            self.knogin
                .tokens()
                .mint_access(&grant)
                .await
                .unwrap()
                .expose()
                .to_owned()
        }

        async fn exchange(
            &self,
            request: Exchange<'_>,
            jkt: Option<&str>,
        ) -> Result<AccessClaims, GrantError> {
            let issued = self
                .knogin
                .core()
                .exchange_token(&self.app, &request, jkt.map(str::to_owned))
                .await?;
            let (claims, _) = self
                .knogin
                .tokens()
                .verify(issued.token.expose())
                .await
                .unwrap();
            Ok(claims)
        }
    }

    fn of(subject_token: &str) -> Exchange<'_> {
        Exchange {
            subject_token: Some(subject_token),
            subject_token_type: Some(ACCESS_TOKEN_TYPE),
            ..Exchange::default()
        }
    }

    #[tokio::test]
    async fn the_exchanged_token_acts_for_the_subject_with_the_shared_scopes_and_an_actor() {
        let f = fixture().await;
        let alice = f
            .token("t1", "alice", "webhooks:read webhooks:write", None)
            .await;
        let claims = f.exchange(of(&alice), None).await.unwrap();
        assert_eq!(claims.sub, "alice");
        assert_eq!(claims.client_id, f.app.client_id.as_str());
        assert_eq!(claims.scope, "webhooks:read", "what both may have");
        assert!(
            claims.exp - claims.iat <= 300,
            "no longer than the subject token"
        );
        let act = claims.act.clone().unwrap();
        assert_eq!(act.sub, f.app.client_id.as_str());
        assert_eq!(act.act, None);

        // An actor token names the actor; exchanging an exchanged token nests the earlier one.
        let bob = f.token("t1", "bob", "webhooks:read", None).await;
        let exchanged = f
            .knogin
            .core()
            .exchange_token(&f.app, &of(&alice), None)
            .await
            .unwrap();
        let chained = Exchange {
            actor_token: Some(&bob),
            actor_token_type: Some(JWT_TOKEN_TYPE),
            ..of(exchanged.token.expose())
        };
        let claims = f.exchange(chained, None).await.unwrap();
        let act = claims.act.unwrap();
        assert_eq!(act.sub, "bob");
        assert_eq!(act.act.unwrap().sub, f.app.client_id.as_str());
    }

    #[tokio::test]
    async fn what_cannot_be_exchanged_is_refused_with_its_code() {
        let f = fixture().await;
        let alice = f.token("t1", "alice", "webhooks:read", None).await;
        let elsewhere = f.token("t2", "alice", "webhooks:read", None).await;
        let admin = f
            .knogin
            .tokens()
            .mint_admin(&TenantId::parse("t1").unwrap(), Duration::from_secs(60))
            .await
            .unwrap();
        let cases: [(Exchange<'_>, &str); 9] = [
            (
                Exchange {
                    subject_token_type: None,
                    ..of(&alice)
                },
                "invalid_request",
            ),
            (
                Exchange {
                    subject_token_type: Some("urn:x"),
                    ..of(&alice)
                },
                "invalid_request",
            ),
            (
                Exchange {
                    requested_token_type: Some("urn:ietf:params:oauth:token-type:refresh_token"),
                    ..of(&alice)
                },
                "invalid_request",
            ),
            (
                Exchange {
                    actor_token_type: Some(ACCESS_TOKEN_TYPE),
                    ..of(&alice)
                },
                "invalid_request",
            ),
            (
                Exchange {
                    scope: Some("webhooks:write"),
                    ..of(&alice)
                },
                "invalid_scope",
            ),
            (
                Exchange {
                    resource: Some("https://a.example"),
                    audience: Some("https://b.example"),
                    ..of(&alice)
                },
                "invalid_target",
            ),
            (of(&elsewhere), "invalid_grant"),
            (of(admin.expose()), "invalid_grant"),
            (of("x.y.z"), "invalid_grant"),
        ];
        for (request, code) in cases {
            let e = f.exchange(request, None).await.unwrap_err();
            assert_eq!(e.code(), code, "{request:?}: {e}");
        }
        let no_shared = f.token("t1", "alice", "webhooks:write", None).await;
        assert_eq!(
            f.exchange(of(&no_shared), None).await.unwrap_err().code(),
            "invalid_scope"
        );
        // The grant must be the app's.
        let other = crate::testing::app_with_scopes(["webhooks:read"]);
        let e = f
            .knogin
            .core()
            .exchange_token(&other, &of(&alice), None)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "unauthorized_client");
    }

    #[tokio::test]
    async fn a_dpop_bound_subject_token_needs_a_proof_by_its_key() {
        let f = fixture().await;
        let bound = f.token("t1", "alice", "webhooks:read", Some("jkt-a")).await;
        assert_eq!(
            f.exchange(of(&bound), None).await.unwrap_err().code(),
            "invalid_grant"
        );
        assert_eq!(
            f.exchange(of(&bound), Some("jkt-b"))
                .await
                .unwrap_err()
                .code(),
            "invalid_grant"
        );
        let claims = f.exchange(of(&bound), Some("jkt-a")).await.unwrap();
        assert_eq!(claims.dpop_jkt(), Some("jkt-a"));
    }
}
