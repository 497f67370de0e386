//! The authorization-code flow's policy, with the memory store and a manual clock.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::apps::GovernancePatch;
use crate::clock::Clock as _;
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
    .lifetimes(crate::oauth::TokenLifetimes::default().authorization_code(Duration::from_secs(300)))
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
async fn a_kept_refresh_token_works_across_uses_and_revokes_with_its_family() {
    let flow = flow().await;
    let keep = GovernancePatch {
        rotate_refresh_tokens: Some(false),
        ..GovernancePatch::default()
    };
    let governance = flow
        .knogin
        .apps()
        .update_governance(&flow.app.tenant_id, &flow.app.client_id, keep)
        .await
        .unwrap();
    let kept_app = App {
        governance,
        ..flow.app.clone()
    };
    let first = flow
        .redeem(&flow.code(Some(CHALLENGE)).await, Some(VERIFIER))
        .await
        .unwrap();
    let refresh = first.refresh_token.as_ref().unwrap().expose();
    let use_it = |scope| {
        flow.knogin
            .refresh_grant(&kept_app, Some(refresh), scope, None, None)
    };
    let mut issued = Vec::new();
    // Used well past the idle limit in all: each use moves it on.
    for _ in 0..3 {
        flow.clock.advance(crate::oauth::DEFAULT_REFRESH_IDLE / 2);
        let token = use_it(None).await.unwrap();
        assert!(token.refresh_token.is_none(), "no new refresh token");
        flow.accepted(&token).await.unwrap();
        issued.push(token);
    }
    let narrow = use_it(Some("webhooks:read")).await.unwrap();
    assert_eq!(narrow.scopes, ScopeSet::new(["webhooks:read"]).unwrap());

    // Revoking the refresh token's family revokes every access token issued from it.
    let family = flow
        .knogin
        .0
        .store
        .find_refresh(
            &RefreshToken::from_presented(refresh).hash(),
            flow.clock.now(),
        )
        .await
        .unwrap()
        .unwrap()
        .family;
    flow.knogin.revoke_family(&family).await.unwrap();
    // (The earlier ones have expired by now; the store suite checks their jtis are revoked.)
    for token in [issued.last().unwrap(), &narrow] {
        assert_eq!(flow.accepted(token).await, Err(TokenError::Revoked));
    }
    assert_eq!(code_of(use_it(None).await.unwrap_err()), "invalid_grant");
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
