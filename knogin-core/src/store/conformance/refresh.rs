//! Refresh tokens an app keeps across uses instead of rotating them.

use std::time::Duration;

use super::{T0, code, refresh, registered, tenant};
use crate::secret::RefreshToken;
use crate::store::Store;

/// A kept refresh token stays current across uses, each use moving its expiry and recording the
/// access token issued from it, which revoking the family revokes with the rest. An unknown,
/// expired or revoked token is kept by nobody, and records nothing.
pub async fn kept_refresh_tokens_record_their_access_tokens(store: &dyn Store) {
    let hour = Duration::from_secs(3600);
    let (app, _) = registered(store, &tenant("t1"), "kept").await;
    let (_, stored_code) = code(&app, "fam_k");
    store.insert_code(&stored_code, T0).await.unwrap();
    let (kept, stored) = refresh(&app, "fam_k", "jti_k0", T0);
    assert!(store.insert_refresh(&stored, T0).await.unwrap());

    let later = T0.plus(hour);
    let moved = stored.expires_at.plus(hour * 12);
    let first = store
        .keep_refresh(&kept.hash(), "jti_k1", later.plus(hour), moved, later)
        .await
        .unwrap();
    assert_eq!(first, Some(stored.clone()), "the token as it was");
    // Past its first expiry it is still current, until the moved one.
    let past = stored.expires_at.plus(Duration::from_secs(60));
    let found = store.find_refresh(&kept.hash(), past).await.unwrap();
    assert_eq!(found.map(|t| t.expires_at), Some(moved));
    let second = store
        .keep_refresh(&kept.hash(), "jti_k2", past.plus(hour), moved, past)
        .await
        .unwrap();
    assert!(second.is_some());
    assert_eq!(
        store
            .keep_refresh(&kept.hash(), "jti_late", moved.plus(hour), moved, moved)
            .await
            .unwrap(),
        None,
        "it expires at its moved expiry"
    );
    let unknown = RefreshToken::generate();
    assert_eq!(
        store
            .keep_refresh(&unknown.hash(), "jti_unknown", past.plus(hour), moved, past)
            .await
            .unwrap(),
        None
    );

    let mut revoked = store.revoke_family("fam_k", past).await.unwrap();
    revoked.sort();
    let jtis: Vec<&str> = revoked.iter().map(|(jti, _)| jti.as_str()).collect();
    assert_eq!(jtis, ["jti_k0", "jti_k1", "jti_k2"]);
    assert_eq!(
        store
            .keep_refresh(&kept.hash(), "jti_k3", past.plus(hour), moved, past)
            .await
            .unwrap(),
        None,
        "a revoked family keeps nothing"
    );
    // Of those, only jti_k2 has not expired yet: the others need no denial.
    assert_eq!(store.revoked_tokens(past).await.unwrap(), ["jti_k2"]);
}
