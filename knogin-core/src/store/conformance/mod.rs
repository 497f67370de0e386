//! The store conformance suite: one set of checks every [`Store`] implementation must pass.
//!
//! Run it against your own store with [`crate::store_conformance_tests!`], giving an `async`
//! expression that yields `Some(pointer_to_a_fresh_store)` (or `None` to skip, e.g. when a
//! database is not configured). The in-memory store runs it like this:
//!
//! ```
//! # mod conformance {
//! knogin_core::store_conformance_tests!(async {
//!     Some(Box::new(knogin_core::store::memory::MemoryStore::new()))
//! });
//! # }
//! ```

use std::time::Duration;

use crate::apps::{App, Governance, GovernancePatch, GrantType, Override, SecurityProfile};
use crate::clock::Timestamp;
use crate::id::{AppId, KeyId, TenantId};
use crate::scope::ScopeSet;
use crate::secret::{AuthorizationCode, ClientSecret, RefreshToken, SecretHash};
use crate::store::{
    AuthFailures, ClientLookup, CodeRedemption, Cursor, RefreshUse, Store, StoreError, StoredCode,
    StoredKey, StoredRefresh, UserGrant,
};

mod deliveries;
mod delivery_faults;
mod flow;
mod refresh;
mod retention;
mod webhooks;

pub use self::deliveries::{
    a_batch_changes_health_as_its_attempts_would_one_by_one, attempts_are_recorded_in_batches,
    attempts_are_recorded_under_their_lease,
    deleting_a_subscription_cancels_its_pending_deliveries,
    deliveries_are_claimed_once_until_their_lease_ends, deliveries_can_be_sent_again,
    events_are_published_in_batches, failing_since_marks_the_first_failure_until_a_success,
    gone_fails_the_delivery_and_disables_its_subscription,
    publishing_fans_out_to_matching_enabled_subscriptions,
    publishing_for_an_unknown_tenant_is_refused, racing_claimers_never_share_a_delivery,
    send_slots_are_counted_per_second_and_deferred_deliveries_wait,
};
pub use self::delivery_faults::{
    a_delivery_never_recorded_fails_after_its_claims_run_out,
    a_disabled_subscription_s_deliveries_wait_until_it_is_enabled,
    an_unstorable_answer_does_not_sink_its_batch,
};
pub use self::flow::{
    a_used_jti_is_refused_until_it_expires, flow_states_are_kept_until_they_end_and_taken_once,
    racing_takes_have_one_winner, sign_in_failures_count_in_fixed_windows,
};
pub use self::refresh::kept_refresh_tokens_record_their_access_tokens;
pub use self::retention::{
    purges_delete_finished_events_with_their_deliveries,
    the_backlog_counts_due_deliveries_and_the_oldest,
};
pub use self::webhooks::{
    webhooks_list_newest_first_in_pages, webhooks_round_trip_within_their_tenant,
};

const T0: Timestamp = Timestamp::from_unix(1_800_000_000);

fn tenant(s: &str) -> TenantId {
    TenantId::parse(s).expect("valid tenant id")
}

fn app(tenant: &TenantId, name: &str) -> App {
    App {
        client_id: AppId::generate(),
        tenant_id: tenant.clone(),
        name: name.to_owned(),
        grant_types: vec![GrantType::ClientCredentials, GrantType::AuthorizationCode],
        redirect_uris: vec![
            crate::apps::RedirectUri::parse("https://integrator.example/cb").expect("valid uri"),
        ],
        requested_scopes: crate::scope::ScopeSet::new(["webhooks:write", "webhooks:read"])
            .expect("scope tokens"),
        created_at: T0,
        governance: Governance::default(),
        token_endpoint_auth_method: crate::apps::TokenEndpointAuthMethod::default(),
        client_keys: None,
    }
}

async fn registered(store: &dyn Store, tenant: &TenantId, name: &str) -> (App, ClientSecret) {
    store
        .ensure_tenant(tenant, T0)
        .await
        .expect("ensure tenant");
    let app = app(tenant, name);
    let secret = ClientSecret::generate();
    store
        .insert_app(&app, Some(&secret.hash()))
        .await
        .expect("insert app");
    (app, secret)
}

/// A tenant is created once; ensuring it again is a no-op that says so.
pub async fn tenants_are_created_once(store: &dyn Store) {
    let t = tenant("acme");
    assert!(!store.tenant_exists(&t).await.unwrap());
    assert!(store.ensure_tenant(&t, T0).await.unwrap());
    assert!(!store.ensure_tenant(&t, T0).await.unwrap());
    assert!(store.tenant_exists(&t).await.unwrap());
}

/// Of several concurrent `ensure_tenant` calls for one new tenant, exactly one creates it.
pub async fn racing_tenant_creation_creates_once(store: &dyn Store) {
    let t = tenant("raced");
    let (a, b, c, d) = tokio::join!(
        store.ensure_tenant(&t, T0),
        store.ensure_tenant(&t, T0),
        store.ensure_tenant(&t, T0),
        store.ensure_tenant(&t, T0),
    );
    let created = [a, b, c, d]
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(created, 1);
}

/// An app reads back exactly as stored, and only within its tenant.
pub async fn apps_round_trip_within_their_tenant(store: &dyn Store) {
    let (t1, t2) = (tenant("t1"), tenant("t2"));
    store.ensure_tenant(&t2, T0).await.unwrap();
    let (stored, _) = registered(store, &t1, "Case sync connector").await;
    let read = store.get_app(&t1, &stored.client_id).await.unwrap();
    assert_eq!(read.as_ref(), Some(&stored));
    assert_eq!(store.get_app(&t2, &stored.client_id).await.unwrap(), None);
    assert_eq!(store.get_app(&t1, &AppId::generate()).await.unwrap(), None);
    let found = store
        .client_lookup(stored.client_id.as_str(), T0)
        .await
        .unwrap();
    assert_eq!(
        found.app.as_ref(),
        Some(&stored),
        "found by client id alone"
    );
    let unknown = AppId::generate();
    assert_eq!(
        store.client_lookup(unknown.as_str(), T0).await.unwrap(),
        ClientLookup::default()
    );
}

/// An app that authenticates with its keys is stored without a secret, with its method and JWK
/// Set (or the URL of its published set), and reads back the same by tenant and by client id.
pub async fn key_apps_round_trip_without_a_secret(store: &dyn Store) {
    use crate::apps::{ClientJwks, ClientKeys, TokenEndpointAuthMethod};

    let t1 = tenant("t1");
    store.ensure_tenant(&t1, T0).await.unwrap();
    let jwks = crate::testing::ClientKey::es256("k1").jwks();
    let signed = App {
        token_endpoint_auth_method: TokenEndpointAuthMethod::PrivateKeyJwt,
        client_keys: Some(ClientKeys::Jwks(ClientJwks::parse(jwks).unwrap())),
        ..app(&t1, "Signed")
    };
    store.insert_app(&signed, None).await.unwrap();
    assert_eq!(
        store
            .get_app(&t1, &signed.client_id)
            .await
            .unwrap()
            .as_ref(),
        Some(&signed)
    );
    let found = store
        .client_lookup(signed.client_id.as_str(), T0)
        .await
        .unwrap();
    assert_eq!(found.app.as_ref(), Some(&signed));
    assert!(found.secrets.is_empty());
    let post = App {
        client_id: AppId::generate(),
        token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretPost,
        ..app(&t1, "Posting")
    };
    store
        .insert_app(&post, Some(&ClientSecret::generate().hash()))
        .await
        .unwrap();
    let read = store.get_app(&t1, &post.client_id).await.unwrap().unwrap();
    assert_eq!(
        read.token_endpoint_auth_method,
        TokenEndpointAuthMethod::ClientSecretPost
    );
    let published = App {
        client_id: AppId::generate(),
        token_endpoint_auth_method: TokenEndpointAuthMethod::PrivateKeyJwt,
        client_keys: Some(ClientKeys::JwksUri(
            crate::apps::ClientJwksUri::parse("https://client.example/jwks.json", false).unwrap(),
        )),
        ..app(&t1, "Published")
    };
    store.insert_app(&published, None).await.unwrap();
    let found = store
        .client_lookup(published.client_id.as_str(), T0)
        .await
        .unwrap();
    assert_eq!(found.app.as_ref(), Some(&published));
    let read = store.get_app(&t1, &published.client_id).await.unwrap();
    assert_eq!(read.as_ref(), Some(&published));
}

/// An app of a tenant that does not exist is refused the same way by every store.
pub async fn apps_need_their_tenant(store: &dyn Store) {
    let orphan = app(&tenant("nobody"), "orphan");
    let err = store
        .insert_app(&orphan, Some(&ClientSecret::generate().hash()))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::MissingParent), "{err:?}");
    let lookup = store.client_lookup(orphan.client_id.as_str(), T0).await;
    assert_eq!(lookup.unwrap(), ClientLookup::default());
}

/// A second app with a taken client id is a conflict.
pub async fn duplicate_client_ids_conflict(store: &dyn Store) {
    let t = tenant("t1");
    let (first, _) = registered(store, &t, "one").await;
    let again = App {
        name: "two".into(),
        ..first
    };
    let err = store
        .insert_app(&again, Some(&ClientSecret::generate().hash()))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err:?}");
}

/// Listing is per tenant, newest first, and pages end to end without gaps or repeats.
pub async fn apps_list_newest_first_in_pages(store: &dyn Store) {
    let (t1, t2) = (tenant("t1"), tenant("t2"));
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            registered(store, &t1, &format!("app {i}"))
                .await
                .0
                .client_id,
        );
        registered(store, &t2, &format!("other {i}")).await;
    }
    ids.reverse();

    let mut seen = Vec::new();
    let mut after: Option<Cursor> = None;
    loop {
        let page = store.list_apps(&t1, after, 2).await.unwrap();
        assert!(page.apps.len() <= 2);
        assert!(page.apps.iter().all(|a| a.tenant_id == t1));
        seen.extend(page.apps.into_iter().map(|a| a.client_id));
        match page.next {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, ids);

    let all = store.list_apps(&t1, None, 5).await.unwrap();
    assert_eq!(all.apps.len(), 5);
    assert_eq!(all.next, None, "an exactly full page has no next cursor");
    let none = store.list_apps(&tenant("nobody"), None, 10).await.unwrap();
    assert!(none.apps.is_empty() && none.next.is_none());
}

/// A governance patch changes only the fields it names, and only for the owning tenant.
pub async fn governance_patches_apply_within_tenant(store: &dyn Store) {
    let (t1, t2) = (tenant("t1"), tenant("t2"));
    store.ensure_tenant(&t2, T0).await.unwrap();
    let (app, _) = registered(store, &t1, "gov").await;
    let patch = GovernancePatch {
        allow_service_tokens: Some(true),
        access_token_ttl: Some(Override::Value(600)),
        ..GovernancePatch::default()
    };
    assert_eq!(
        store
            .update_governance(&t2, &app.client_id, patch)
            .await
            .unwrap(),
        None
    );
    let updated = store
        .update_governance(&t1, &app.client_id, patch)
        .await
        .unwrap();
    let expected = Governance {
        allow_service_tokens: true,
        enforce_pkce: true,
        access_token_ttl: Some(600),
        allow_token_introspection: false,
        require_dpop: false,
        require_pushed_authorization_requests: false,
        security_profile: None,
        rotate_refresh_tokens: true,
    };
    assert_eq!(updated, Some(expected));
    let off = GovernancePatch {
        enforce_pkce: Some(false),
        access_token_ttl: Some(Override::Default),
        allow_token_introspection: Some(true),
        require_dpop: Some(true),
        require_pushed_authorization_requests: Some(true),
        security_profile: Some(Override::Value(SecurityProfile::Fapi2)),
        rotate_refresh_tokens: Some(false),
        ..GovernancePatch::default()
    };
    store
        .update_governance(&t1, &app.client_id, off)
        .await
        .unwrap();
    let read = store.get_app(&t1, &app.client_id).await.unwrap().unwrap();
    assert_eq!(
        read.governance,
        Governance {
            allow_service_tokens: true,
            enforce_pkce: false,
            access_token_ttl: None,
            allow_token_introspection: true,
            require_dpop: true,
            require_pushed_authorization_requests: true,
            security_profile: Some(SecurityProfile::Fapi2),
            rotate_refresh_tokens: false,
        }
    );
    let found = store
        .client_lookup(app.client_id.as_str(), T0)
        .await
        .unwrap();
    assert_eq!(found.app.map(|a| a.governance), Some(read.governance));
    assert_eq!(
        store
            .update_governance(&t1, &AppId::generate(), patch)
            .await
            .unwrap(),
        None
    );
}

/// Rotating with no grace makes the old secret invalid at once.
pub async fn rotation_without_grace_retires_the_old_secret(store: &dyn Store) {
    let t = tenant("t1");
    let (app, old) = registered(store, &t, "rot").await;
    assert_eq!(valid_secrets(store, &app.client_id, T0).await, [old.hash()]);
    let new = ClientSecret::generate();
    assert!(
        store
            .rotate_secret(&t, &app.client_id, &new.hash(), T0, T0)
            .await
            .unwrap()
    );
    assert_eq!(valid_secrets(store, &app.client_id, T0).await, [new.hash()]);
}

/// Rotating with a grace period keeps the old secret valid until the period ends, and a second
/// rotation does not extend an earlier secret's life.
pub async fn rotation_with_grace_keeps_the_old_secret_until_it_ends(store: &dyn Store) {
    let t = tenant("t1");
    let (app, first) = registered(store, &t, "rot").await;
    assert_eq!(valid_until(store, &app.client_id, T0).await, None);
    let grace_end = T0.plus(Duration::from_secs(3600));
    let second = ClientSecret::generate();
    store
        .rotate_secret(&t, &app.client_id, &second.hash(), T0, grace_end)
        .await
        .unwrap();
    let valid = valid_secrets(store, &app.client_id, T0).await;
    assert!(valid.contains(&first.hash()) && valid.contains(&second.hash()));
    assert_eq!(
        valid_until(store, &app.client_id, T0).await,
        Some(grace_end),
        "a lookup says when its first secret expires"
    );

    let later = T0.plus(Duration::from_secs(1800));
    let third = ClientSecret::generate();
    store
        .rotate_secret(
            &t,
            &app.client_id,
            &third.hash(),
            later,
            later.plus(Duration::from_secs(3600)),
        )
        .await
        .unwrap();
    let valid = valid_secrets(store, &app.client_id, grace_end).await;
    assert!(
        !valid.contains(&first.hash()),
        "the first secret's grace ended"
    );
    assert!(valid.contains(&second.hash()) && valid.contains(&third.hash()));
    let end = later.plus(Duration::from_secs(3600));
    assert_eq!(
        valid_secrets(store, &app.client_id, end).await,
        [third.hash()]
    );
    assert_eq!(valid_until(store, &app.client_id, end).await, None);
}

/// Another tenant's app, or none, cannot be rotated.
pub async fn rotation_of_a_foreign_app_is_refused(store: &dyn Store) {
    let (t1, t2) = (tenant("t1"), tenant("t2"));
    store.ensure_tenant(&t2, T0).await.unwrap();
    let (app, old) = registered(store, &t1, "rot").await;
    let new = ClientSecret::generate().hash();
    assert!(
        !store
            .rotate_secret(&t2, &app.client_id, &new, T0, T0)
            .await
            .unwrap()
    );
    assert!(
        !store
            .rotate_secret(&t1, &AppId::generate(), &new, T0, T0)
            .await
            .unwrap()
    );
    assert_eq!(valid_secrets(store, &app.client_id, T0).await, [old.hash()]);
}

/// Concurrent rotations of one app run one after the other: with no grace, exactly one secret
/// (the last one written) is left valid, never two.
pub async fn racing_rotations_leave_one_valid_secret(store: &dyn Store) {
    let t = tenant("t1");
    let (app, first) = registered(store, &t, "raced").await;
    let secrets: Vec<ClientSecret> = (0..4).map(|_| ClientSecret::generate()).collect();
    let hashes: Vec<_> = secrets.iter().map(ClientSecret::hash).collect();
    let id = &app.client_id;
    let (a, b, c, d) = tokio::join!(
        store.rotate_secret(&t, id, &hashes[0], T0, T0),
        store.rotate_secret(&t, id, &hashes[1], T0, T0),
        store.rotate_secret(&t, id, &hashes[2], T0, T0),
        store.rotate_secret(&t, id, &hashes[3], T0, T0),
    );
    assert!([a, b, c, d].into_iter().all(|r| r.unwrap()));
    let valid = valid_secrets(store, id, T0).await;
    assert_eq!(valid.len(), 1, "one secret survives the race");
    assert!(hashes.contains(&valid[0]) && valid[0] != first.hash());
}

/// The secrets of app `id` valid at `now`, as client authentication reads them.
async fn valid_secrets(store: &dyn Store, id: &AppId, now: Timestamp) -> Vec<SecretHash> {
    store.client_lookup(id.as_str(), now).await.unwrap().secrets
}

/// When the first of app `id`'s secrets valid at `now` expires, as client authentication reads it.
async fn valid_until(store: &dyn Store, id: &AppId, now: Timestamp) -> Option<Timestamp> {
    store
        .client_lookup(id.as_str(), now)
        .await
        .unwrap()
        .valid_until
}

/// Failed authentications are counted per key, in fixed windows.
pub async fn auth_failures_count_in_fixed_windows(store: &dyn Store) {
    let window = Duration::from_secs(60);
    let (app, secret) = registered(store, &tenant("t1"), "limited").await;
    let id = app.client_id.as_str();
    for n in 1..=3 {
        let at = T0.plus(Duration::from_secs(n));
        let failures = store.record_auth_failure(id, at, window).await.unwrap();
        assert_eq!(
            failures,
            AuthFailures {
                window_start: T0.plus(Duration::from_secs(1)),
                count: u32::try_from(n).unwrap()
            }
        );
    }
    let lookup = store
        .client_lookup(id, T0.plus(Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(lookup.app.as_ref(), Some(&app));
    assert_eq!(lookup.secrets, [secret.hash()]);

    let unknown = AppId::generate();
    let elsewhere = format!("{unknown} addr:192.0.2.1");
    assert_eq!(
        store
            .record_auth_failure(&elsewhere, T0, window)
            .await
            .unwrap(),
        AuthFailures {
            window_start: T0,
            count: 1
        }
    );
    let lookup = store.client_lookup(unknown.as_str(), T0).await.unwrap();
    assert_eq!(lookup, ClientLookup::default());

    // A window that has ended starts over.
    let later = T0.plus(Duration::from_secs(61));
    let failures = store.record_auth_failure(id, later, window).await.unwrap();
    assert_eq!(
        failures,
        AuthFailures {
            window_start: later,
            count: 1
        }
    );
}

/// Concurrent failures under one client id are all counted.
pub async fn racing_auth_failures_are_all_counted(store: &dyn Store) {
    let window = Duration::from_secs(60);
    let id = AppId::generate();
    let id = id.as_str();
    let (a, b, c, d) = tokio::join!(
        store.record_auth_failure(id, T0, window),
        store.record_auth_failure(id, T0, window),
        store.record_auth_failure(id, T0, window),
        store.record_auth_failure(id, T0, window),
    );
    let mut counts: Vec<u32> = [a, b, c, d].into_iter().map(|r| r.unwrap().count).collect();
    counts.sort_unstable();
    assert_eq!(counts, [1, 2, 3, 4]);
}

fn key(kid: &str, created_at: Timestamp) -> StoredKey {
    StoredKey {
        kid: KeyId::new(kid),
        algorithm: "RS256".into(),
        sealed_private_key: vec![1, 2, 3, 4],
        created_at,
        activates_at: created_at,
        retires_at: None,
        removed_at: None,
    }
}

/// The first key is stored once; a rotation adds a key and schedules every earlier one to retire
/// when it activates; a taken `kid` is a conflict.
pub async fn signing_keys_round_trip_with_their_lifecycle(store: &dyn Store) {
    assert!(store.signing_keys().await.unwrap().is_empty());
    let first = key("2026-03-signing-key", T0);
    assert!(store.insert_first_signing_key(&first).await.unwrap());
    let again = key("2026-04-signing-key", T0);
    assert!(
        !store.insert_first_signing_key(&again).await.unwrap(),
        "only one first key, ever"
    );
    assert_eq!(
        store.signing_keys().await.unwrap(),
        std::slice::from_ref(&first)
    );

    let activates = T0.plus(Duration::from_secs(600));
    let removed = activates.plus(Duration::from_secs(3600));
    let second = StoredKey {
        activates_at: activates,
        ..key(
            "2026-03-signing-key-abcdefgh",
            T0.plus(Duration::from_secs(60)),
        )
    };
    store.rotate_signing_key(&second, removed).await.unwrap();
    let retired = StoredKey {
        retires_at: Some(activates),
        removed_at: Some(removed),
        ..first.clone()
    };
    assert_eq!(
        store.signing_keys().await.unwrap(),
        [retired.clone(), second.clone()]
    );

    let err = store.rotate_signing_key(&first, removed).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err:?}");
    assert_eq!(
        store.signing_keys().await.unwrap(),
        [retired, second],
        "nothing changed"
    );
}

/// Of several processes racing to store the first key, under different kids (their clocks on
/// either side of a month boundary), exactly one wins.
pub async fn racing_first_keys_have_one_winner(store: &dyn Store) {
    let keys = [
        key("2026-04-signing-key", T0),
        key("2026-05-signing-key", T0),
        key("2026-04-signing-key", T0),
        key("2026-05-signing-key", T0),
    ];
    let (a, b, c, d) = tokio::join!(
        store.insert_first_signing_key(&keys[0]),
        store.insert_first_signing_key(&keys[1]),
        store.insert_first_signing_key(&keys[2]),
        store.insert_first_signing_key(&keys[3]),
    );
    let won = [a, b, c, d]
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(won, 1);
    assert_eq!(store.signing_keys().await.unwrap().len(), 1);
}

/// Revoked tokens are listed until they expire; revoking twice is fine.
pub async fn revocations_last_until_the_token_expires(store: &dyn Store) {
    let exp = T0.plus(Duration::from_secs(60));
    store.revoke_token("jti-1", exp, T0).await.unwrap();
    store.revoke_token("jti-1", exp, T0).await.unwrap();
    store.revoke_token("jti-2", T0, T0).await.unwrap();
    assert_eq!(store.revoked_tokens(T0).await.unwrap(), ["jti-1"]);
    assert!(store.revoked_tokens(exp).await.unwrap().is_empty());
}

/// A withdrawn key stops signing and is removed at once; withdrawing it again changes nothing.
pub async fn a_withdrawn_key_is_removed_at_once(store: &dyn Store) {
    let first = key("2026-03-signing-key", T0);
    assert!(store.insert_first_signing_key(&first).await.unwrap());
    let later = T0.plus(Duration::from_secs(60));
    assert!(
        !store
            .withdraw_signing_key(&KeyId::new("no-such-key"), later)
            .await
            .unwrap()
    );
    assert!(store.withdraw_signing_key(&first.kid, later).await.unwrap());
    assert!(!store.withdraw_signing_key(&first.kid, later).await.unwrap());
    let read = store.signing_keys().await.unwrap();
    assert_eq!(
        (read[0].retires_at, read[0].removed_at),
        (Some(later), Some(later))
    );
}

/// A cut-off is kept per key, and only ever moves later.
pub async fn token_cutoffs_only_move_later(store: &dyn Store) {
    let later = T0.plus(Duration::from_secs(60));
    store.cut_off_tokens("app:a", later).await.unwrap();
    store.cut_off_tokens("app:a", T0).await.unwrap();
    store.cut_off_tokens("tenant:t1", T0).await.unwrap();
    let mut read = store.token_cutoffs().await.unwrap();
    read.sort();
    assert_eq!(
        read,
        [("app:a".to_owned(), later), ("tenant:t1".to_owned(), T0)]
    );
}

fn user_grant(app: &App) -> UserGrant {
    UserGrant {
        client_id: app.client_id.clone(),
        tenant: app.tenant_id.clone(),
        subject: "alice".into(),
        scopes: app.requested_scopes.clone(),
        resource: Some("https://files.example".into()),
    }
}

/// A code of `app` for alice, valid for 10 minutes from `T0`, starting the family `family`.
fn code(app: &App, family: &str) -> (AuthorizationCode, StoredCode) {
    let code = AuthorizationCode::generate();
    let stored = StoredCode {
        code_hash: code.hash(),
        family: family.to_owned(),
        grant: user_grant(app),
        redirect_uri: "https://integrator.example/cb".into(),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        expires_at: T0.plus(Duration::from_secs(600)),
        family_expires_at: T0.plus(Duration::from_secs(30 * 86_400)),
    };
    (code, stored)
}

/// A refresh token of `family` issued at `at` beside the access token `jti`, idle for a day.
fn refresh(app: &App, family: &str, jti: &str, at: Timestamp) -> (RefreshToken, StoredRefresh) {
    let token = RefreshToken::generate();
    let stored = StoredRefresh {
        token_hash: token.hash(),
        family: family.to_owned(),
        grant: user_grant(app),
        access_jti: jti.to_owned(),
        access_expires_at: at.plus(Duration::from_secs(3600)),
        created_at: at,
        expires_at: at.plus(Duration::from_secs(86_400)),
        family_expires_at: T0.plus(Duration::from_secs(30 * 86_400)),
    };
    (token, stored)
}

/// A code is redeemed once: then it is a replay naming its family. An expired or unknown code is
/// invalid.
pub async fn codes_are_single_use_and_expire(store: &dyn Store) {
    let (app, _) = registered(store, &tenant("t1"), "flow").await;
    let (used, stored) = code(&app, "fam_1");
    store.insert_code(&stored, T0).await.unwrap();
    assert_eq!(
        store.redeem_code(&used.hash(), T0).await.unwrap(),
        CodeRedemption::Redeemed(Box::new(stored.clone()))
    );
    assert_eq!(
        store.redeem_code(&used.hash(), T0).await.unwrap(),
        CodeRedemption::Replayed {
            family: "fam_1".into()
        }
    );
    let (late, stored) = code(&app, "fam_2");
    store.insert_code(&stored, T0).await.unwrap();
    assert_eq!(
        store
            .redeem_code(&late.hash(), stored.expires_at)
            .await
            .unwrap(),
        CodeRedemption::Invalid,
        "a code expires at its expires_at"
    );
    let unknown = AuthorizationCode::generate();
    assert_eq!(
        store.redeem_code(&unknown.hash(), T0).await.unwrap(),
        CodeRedemption::Invalid
    );
}

/// Of 32 concurrent redemptions of one code, exactly one wins; the others are replays.
pub async fn racing_redemptions_have_one_winner(store: &dyn Store) {
    let (app, _) = registered(store, &tenant("t1"), "raced").await;
    let (raced, stored) = code(&app, "fam_race");
    store.insert_code(&stored, T0).await.unwrap();
    let hash = raced.hash();
    let outcomes =
        futures_util::future::join_all((0..32).map(|_| store.redeem_code(&hash, T0))).await;
    let won = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(CodeRedemption::Redeemed(_))))
        .count();
    let replays = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(CodeRedemption::Replayed { .. })))
        .count();
    assert_eq!((won, replays), (1, 31), "{outcomes:?}");
}

/// A refresh token is current until used once; used again it is a reuse naming its family. It
/// expires at its `expires_at`.
pub async fn refresh_tokens_rotate_once(store: &dyn Store) {
    let (app, _) = registered(store, &tenant("t1"), "refresh").await;
    let (_, stored_code) = code(&app, "fam_r");
    store.insert_code(&stored_code, T0).await.unwrap();
    let (first, stored) = refresh(&app, "fam_r", "jti_1", T0);
    assert!(store.insert_refresh(&stored, T0).await.unwrap());
    assert_eq!(
        store.find_refresh(&first.hash(), T0).await.unwrap(),
        Some(stored.clone())
    );
    assert_eq!(
        store.use_refresh(&first.hash(), T0).await.unwrap(),
        RefreshUse::Current(Box::new(stored))
    );
    assert_eq!(store.find_refresh(&first.hash(), T0).await.unwrap(), None);
    assert_eq!(
        store.use_refresh(&first.hash(), T0).await.unwrap(),
        RefreshUse::Reused {
            family: "fam_r".into()
        }
    );
    let (second, stored) = refresh(&app, "fam_r", "jti_2", T0);
    assert!(store.insert_refresh(&stored, T0).await.unwrap());
    assert_eq!(
        store
            .use_refresh(&second.hash(), stored.expires_at)
            .await
            .unwrap(),
        RefreshUse::Invalid,
        "an idle refresh token expires"
    );
    let unknown = RefreshToken::generate();
    assert_eq!(
        store.use_refresh(&unknown.hash(), T0).await.unwrap(),
        RefreshUse::Invalid
    );
}

/// Revoking a family stops its refresh tokens and revokes its access tokens, and a token stored
/// into a family revoked first is stored dead with its access token revoked.
pub async fn revoking_a_family_revokes_its_tokens(store: &dyn Store) {
    let (app, _) = registered(store, &tenant("t1"), "family").await;
    let (_, stored_code) = code(&app, "fam_x");
    store.insert_code(&stored_code, T0).await.unwrap();
    let (live, stored) = refresh(&app, "fam_x", "jti_a", T0);
    assert!(store.insert_refresh(&stored, T0).await.unwrap());
    let mut revoked = store.revoke_family("fam_x", T0).await.unwrap();
    revoked.sort();
    assert_eq!(revoked, [("jti_a".to_owned(), stored.access_expires_at)]);
    assert_eq!(
        store.use_refresh(&live.hash(), T0).await.unwrap(),
        RefreshUse::Invalid
    );
    assert_eq!(store.find_refresh(&live.hash(), T0).await.unwrap(), None);
    let (late, stored) = refresh(&app, "fam_x", "jti_b", T0);
    assert!(!store.insert_refresh(&stored, T0).await.unwrap());
    assert_eq!(
        store.use_refresh(&late.hash(), T0).await.unwrap(),
        RefreshUse::Invalid
    );
    let mut denied = store.revoked_tokens(T0).await.unwrap();
    denied.sort();
    assert_eq!(denied, ["jti_a", "jti_b"]);
    assert_eq!(
        store.revoke_family("fam_x", T0).await.unwrap().len(),
        2,
        "revoking twice is fine"
    );
}

/// Consent is remembered per client, tenant and user, the last answer replacing the one
/// before, until it is withdrawn.
pub async fn consents_are_remembered_per_client_tenant_and_user(store: &dyn Store) {
    let (app, _) = registered(store, &tenant("t1"), "consent").await;
    let id = &app.client_id;
    let (t1, t2) = (tenant("t1"), tenant("t2"));
    assert_eq!(
        store.consented_scopes(id, &t1, "alice").await.unwrap(),
        None
    );
    let read = ScopeSet::new(["webhooks:read"]).unwrap();
    store
        .remember_consent(id, &t1, "alice", &read, T0)
        .await
        .unwrap();
    assert_eq!(
        store.consented_scopes(id, &t1, "alice").await.unwrap(),
        Some(read)
    );
    assert_eq!(store.consented_scopes(id, &t1, "bob").await.unwrap(), None);
    assert_eq!(
        store.consented_scopes(id, &t2, "alice").await.unwrap(),
        None
    );
    let both = ScopeSet::new(["webhooks:read", "webhooks:write"]).unwrap();
    store
        .remember_consent(id, &t1, "alice", &both, T0)
        .await
        .unwrap();
    assert_eq!(
        store.consented_scopes(id, &t1, "alice").await.unwrap(),
        Some(both)
    );
    assert!(store.forget_consent(id, &t1, "alice").await.unwrap());
    assert!(!store.forget_consent(id, &t1, "alice").await.unwrap());
    assert_eq!(
        store.consented_scopes(id, &t1, "alice").await.unwrap(),
        None
    );
}

/// Expands to one `#[tokio::test]` per conformance check, each on a fresh store from `$make`: an
/// `async` expression yielding `Option<P>` where `P` dereferences to the store (a `Box`, an
/// `Arc`, or a guard that owns the database); `None` skips the check.
#[macro_export]
macro_rules! store_conformance_tests {
    ($make:expr) => {
        $crate::store_conformance_tests!(@each $make;
            tenants_are_created_once,
            racing_tenant_creation_creates_once,
            apps_round_trip_within_their_tenant,
            apps_need_their_tenant,
            key_apps_round_trip_without_a_secret,
            duplicate_client_ids_conflict,
            apps_list_newest_first_in_pages,
            governance_patches_apply_within_tenant,
            rotation_without_grace_retires_the_old_secret,
            rotation_with_grace_keeps_the_old_secret_until_it_ends,
            rotation_of_a_foreign_app_is_refused,
            racing_rotations_leave_one_valid_secret,
            auth_failures_count_in_fixed_windows,
            racing_auth_failures_are_all_counted,
            signing_keys_round_trip_with_their_lifecycle,
            racing_first_keys_have_one_winner,
            revocations_last_until_the_token_expires,
            a_withdrawn_key_is_removed_at_once,
            token_cutoffs_only_move_later,
            codes_are_single_use_and_expire,
            racing_redemptions_have_one_winner,
            refresh_tokens_rotate_once,
            kept_refresh_tokens_record_their_access_tokens,
            revoking_a_family_revokes_its_tokens,
            consents_are_remembered_per_client_tenant_and_user,
            flow_states_are_kept_until_they_end_and_taken_once,
            racing_takes_have_one_winner,
            a_used_jti_is_refused_until_it_expires,
            sign_in_failures_count_in_fixed_windows,
            webhooks_round_trip_within_their_tenant,
            webhooks_list_newest_first_in_pages,
            publishing_fans_out_to_matching_enabled_subscriptions,
            deliveries_are_claimed_once_until_their_lease_ends,
            attempts_are_recorded_under_their_lease,
            gone_fails_the_delivery_and_disables_its_subscription,
            failing_since_marks_the_first_failure_until_a_success,
            a_batch_changes_health_as_its_attempts_would_one_by_one,
            publishing_for_an_unknown_tenant_is_refused,
            deleting_a_subscription_cancels_its_pending_deliveries,
            deliveries_can_be_sent_again,
            send_slots_are_counted_per_second_and_deferred_deliveries_wait,
            attempts_are_recorded_in_batches,
            racing_claimers_never_share_a_delivery,
            events_are_published_in_batches,
            an_unstorable_answer_does_not_sink_its_batch,
            a_delivery_never_recorded_fails_after_its_claims_run_out,
            a_disabled_subscription_s_deliveries_wait_until_it_is_enabled,
            the_backlog_counts_due_deliveries_and_the_oldest,
            purges_delete_finished_events_with_their_deliveries,
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                match $make.await {
                    Some(store) => $crate::store::conformance::$name(&*store).await,
                    None => eprintln!("skipped: store not configured"),
                }
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    /// Every check is in the macro's list: a check missing from it would never run.
    #[test]
    fn the_macro_runs_every_check() {
        let source = include_str!("mod.rs");
        let (checks, list) = source.split_once("macro_rules!").expect("the macro");
        let checks = format!(
            "{checks}{}{}",
            include_str!("flow.rs"),
            include_str!("webhooks.rs"),
        ) + include_str!("deliveries.rs")
            + include_str!("delivery_faults.rs")
            + include_str!("retention.rs")
            + include_str!("refresh.rs");
        let names: Vec<&str> = checks
            .split("pub async fn ")
            .skip(1)
            .map(|rest| rest.split('(').next().unwrap_or(""))
            .collect();
        assert!(names.len() >= 14, "{names:?}");
        for name in names {
            assert!(
                list.contains(&format!("{name},")),
                "{name} is not in store_conformance_tests!"
            );
        }
    }
}
