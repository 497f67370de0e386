//! Conformance checks of the browser flow's state and the sign-in failure counts.

use std::time::Duration;

use super::T0;
use crate::secret::FlowToken;
use crate::store::{AuthFailures, FlowKind, FlowState, Store, StoreError};

fn state(kind: FlowKind, value: &str, lives: u64) -> (FlowToken, FlowState) {
    let token = FlowToken::generate();
    let state = FlowState {
        kind,
        key: token.hash(),
        value: value.to_owned(),
        expires_at: T0.plus(Duration::from_secs(lives)),
    };
    (token, state)
}

/// A state reads back under its kind and key until it ends; taken, it is gone; a state of
/// another kind or key never answers; a key is stored once per kind.
pub async fn flow_states_are_kept_until_they_end_and_taken_once(store: &dyn Store) {
    let (token, session) = state(FlowKind::Session, "alice", 60);
    store.put_state(&session, T0).await.unwrap();
    let key = token.hash();
    let at = |s| T0.plus(Duration::from_secs(s));
    assert_eq!(
        store.state(FlowKind::Session, &key, at(59)).await.unwrap(),
        Some("alice".to_owned())
    );
    assert_eq!(
        store.state(FlowKind::Session, &key, at(60)).await.unwrap(),
        None
    );
    assert_eq!(
        store.state(FlowKind::Consent, &key, T0).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .state(FlowKind::Session, &FlowToken::generate().hash(), T0)
            .await
            .unwrap(),
        None
    );
    assert!(matches!(
        store.put_state(&session, T0).await,
        Err(StoreError::Conflict)
    ));
    // The same key under another kind is another state.
    let consent = FlowState {
        kind: FlowKind::Consent,
        value: "{}".to_owned(),
        ..session.clone()
    };
    store.put_state(&consent, T0).await.unwrap();
    assert_eq!(
        store.take_state(FlowKind::Consent, &key, T0).await.unwrap(),
        Some("{}".to_owned())
    );
    assert_eq!(
        store.take_state(FlowKind::Consent, &key, T0).await.unwrap(),
        None
    );
    assert_eq!(
        store.state(FlowKind::Session, &key, T0).await.unwrap(),
        Some("alice".to_owned())
    );
    // An ended state cannot be taken.
    let (late, form) = state(FlowKind::LoginForm, "q", 10);
    store.put_state(&form, T0).await.unwrap();
    assert_eq!(
        store
            .take_state(FlowKind::LoginForm, &late.hash(), at(10))
            .await
            .unwrap(),
        None
    );
}

/// Of 16 concurrent takes of one form's state, exactly one gets it.
pub async fn racing_takes_have_one_winner(store: &dyn Store) {
    let (ticket, form) = state(FlowKind::Consent, "pending", 60);
    store.put_state(&form, T0).await.unwrap();
    let key = ticket.hash();
    let outcomes = futures_util::future::join_all(
        (0..16).map(|_| store.take_state(FlowKind::Consent, &key, T0)),
    )
    .await;
    let won = outcomes.iter().filter(|t| matches!(t, Ok(Some(_)))).count();
    assert_eq!(won, 1, "{outcomes:?}");
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
}

/// Sign-in failures count per key in fixed windows, read back while the window lasts; a
/// released attempt is given back.
pub async fn sign_in_failures_count_in_fixed_windows(store: &dyn Store) {
    let window = Duration::from_secs(900);
    let at = |s| T0.plus(Duration::from_secs(s));
    assert_eq!(
        store
            .sign_in_failures("user:alice", T0, window)
            .await
            .unwrap(),
        None
    );
    for n in 1..=3 {
        let failures = store
            .record_sign_in_failure("user:alice", at(n), window)
            .await
            .unwrap();
        assert_eq!(
            failures,
            AuthFailures {
                window_start: at(1),
                count: u32::try_from(n).unwrap()
            }
        );
    }
    store
        .record_sign_in_failure("addr:192.0.2.7", at(2), window)
        .await
        .unwrap();
    // A success gives one attempt back, within the window only.
    store
        .release_sign_in_attempt("user:alice", at(5), window)
        .await
        .unwrap();
    store
        .release_sign_in_attempt("user:nobody", at(5), window)
        .await
        .unwrap();
    store
        .record_sign_in_failure("user:bob", at(5), window)
        .await
        .unwrap();
    store
        .release_sign_in_attempt("user:bob", at(6), window)
        .await
        .unwrap();
    assert_eq!(
        store
            .sign_in_failures("user:bob", at(6), window)
            .await
            .unwrap()
            .map_or(0, |f| f.count),
        0
    );
    let read = store
        .sign_in_failures("user:alice", at(900), window)
        .await
        .unwrap();
    assert_eq!(read.map(|f| f.count), Some(2));
    store
        .release_sign_in_attempt("user:alice", at(901), window)
        .await
        .unwrap();
    assert_eq!(
        store
            .sign_in_failures("user:alice", at(901), window)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .sign_in_failures("addr:192.0.2.7", at(3), window)
            .await
            .unwrap()
            .map(|f| f.count),
        Some(1)
    );
    // A window that has ended starts over.
    let again = store
        .record_sign_in_failure("user:alice", at(901), window)
        .await
        .unwrap();
    assert_eq!(
        again,
        AuthFailures {
            window_start: at(901),
            count: 1
        }
    );
}

/// A used JWT id is a state of its own kind: recording it again while it lives is a conflict,
/// of several racing recordings one wins, and once it has expired it may be recorded anew.
pub async fn a_used_jti_is_refused_until_it_expires(store: &dyn Store) {
    let (_, used) = state(FlowKind::UsedJti, "", 60);
    store.put_state(&used, T0).await.unwrap();
    assert!(matches!(
        store
            .put_state(&used, T0.plus(Duration::from_secs(59)))
            .await,
        Err(StoreError::Conflict)
    ));
    let (_, racing) = state(FlowKind::UsedJti, "", 60);
    let tries = (0..8).map(|_| store.put_state(&racing, T0));
    let won = futures_util::future::join_all(tries)
        .await
        .into_iter()
        .flatten()
        .count();
    assert_eq!(won, 1, "one of the racing recordings wins");
    store
        .put_state(&used, T0.plus(Duration::from_secs(60)))
        .await
        .expect("an expired record makes way");
}
