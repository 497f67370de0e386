//! A JWKS cache: honours the issuer's `Cache-Control` within bounds, refreshes on an unknown
//! `kid` at most once per interval with concurrent refreshes merged into one fetch, and keeps
//! serving the keys it has when a refresh fails. The fetch itself is a [`JwksFetcher`] (the
//! HTTP one is in `knogin-hyper`), so this logic is I/O-free and tested with a manual clock.

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::lock::Mutex;

use crate::{KeySource, PublicKeys, VerifyingKey};
use knogin_time::{Clock, Timestamp};

/// A JWKS document as fetched: its body and its `Cache-Control` header, if any.
#[derive(Debug, Clone)]
pub struct FetchedJwks {
    /// The JSON body.
    pub body: Bytes,
    /// The `Cache-Control` header.
    pub cache_control: Option<String>,
}

/// Fetches an issuer's JWKS.
#[async_trait]
pub trait JwksFetcher: Send + Sync {
    /// The current JWKS, or why it could not be had.
    async fn fetch(&self) -> Result<FetchedJwks, Box<dyn StdError + Send + Sync>>;
}

/// How the cache refreshes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheSettings {
    /// At most one refresh per this interval, whatever the reason (default 60 s).
    pub min_refresh_interval: Duration,
    /// The shortest time a JWKS is kept fresh, whatever its `Cache-Control` says (default 60 s).
    pub min_ttl: Duration,
    /// The longest (default 1 day).
    pub max_ttl: Duration,
    /// How long a JWKS without `max-age` is kept fresh (default 5 minutes).
    pub default_ttl: Duration,
    /// How long past its freshness a JWKS is still used while refreshes fail (default 1 day);
    /// after that its keys are dropped and every token is refused until a fetch succeeds, so a
    /// key the issuer withdrew cannot keep verifying behind a blocked fetch.
    pub max_stale: Duration,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            min_refresh_interval: Duration::from_secs(60),
            min_ttl: Duration::from_secs(60),
            max_ttl: Duration::from_secs(86_400),
            default_ttl: Duration::from_secs(300),
            max_stale: Duration::from_secs(86_400),
        }
    }
}

impl CacheSettings {
    /// How long a JWKS served with `cache_control` (its `Cache-Control` header) stays fresh:
    /// its `max-age` within [`min_ttl`](Self::min_ttl) and [`max_ttl`](Self::max_ttl), the
    /// minimum for `no-store` or `no-cache`, [`default_ttl`](Self::default_ttl) otherwise.
    pub fn ttl(&self, cache_control: Option<&str>) -> Duration {
        let Some(value) = cache_control else {
            return self.default_ttl;
        };
        let directives: Vec<&str> = value.split(',').map(str::trim).collect();
        if directives
            .iter()
            .any(|d| d.eq_ignore_ascii_case("no-store") || d.eq_ignore_ascii_case("no-cache"))
        {
            return self.min_ttl;
        }
        let max_age = directives.iter().find_map(|d| {
            let (name, value) = d.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("max-age")
                .then(|| value.trim().trim_matches('"').parse::<u64>().ok())
                .flatten()
        });
        max_age
            .map_or(self.default_ttl, Duration::from_secs)
            .clamp(self.min_ttl, self.max_ttl)
    }
}

/// What the cache holds: the keys, until when they are fresh, and when a fetch last ran.
#[derive(Debug, Default)]
struct Snapshot {
    keys: PublicKeys,
    fresh_until: Option<Timestamp>,
    last_attempt: Option<Timestamp>,
    /// Counts refresh attempts, so a waiter sees that another one ran meanwhile.
    generation: u64,
}

/// A cached JWKS (see the module docs), usable as the [`KeySource`] of a
/// [`Verifier`](super::Verifier).
pub struct JwksCache {
    fetcher: Arc<dyn JwksFetcher>,
    clock: Arc<dyn Clock>,
    settings: CacheSettings,
    current: ArcSwap<Snapshot>,
    refreshing: Mutex<()>,
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let current = self.current.load();
        f.debug_struct("JwksCache")
            .field("settings", &self.settings)
            .field("keys", &current.keys.len())
            .field("fresh_until", &current.fresh_until)
            .finish_non_exhaustive()
    }
}

impl JwksCache {
    /// An empty cache over `fetcher`: the first verification fetches (or call
    /// [`JwksCache::refresh`] at start).
    pub fn new(
        fetcher: Arc<dyn JwksFetcher>,
        clock: Arc<dyn Clock>,
        settings: CacheSettings,
    ) -> Self {
        Self {
            fetcher,
            clock,
            settings,
            current: ArcSwap::from_pointee(Snapshot::default()),
            refreshing: Mutex::new(()),
        }
    }

    /// Fetches now, unless a fetch ran less than the minimum interval ago. Returns whether the
    /// cache holds keys fetched successfully at some point.
    pub async fn refresh(&self) -> bool {
        let seen = self.current.load().generation;
        self.refresh_after(seen).await;
        !self.current.load().keys.is_empty()
    }

    /// Whether `snapshot`'s keys may still be used at `now`: fresh, or stale for at most
    /// [`CacheSettings::max_stale`].
    fn usable(&self, snapshot: &Snapshot, now: Timestamp) -> bool {
        snapshot
            .fresh_until
            .is_some_and(|until| now < until.plus(self.settings.max_stale))
    }

    /// Whether a fetch may run at `now`.
    fn due(&self, snapshot: &Snapshot, now: Timestamp) -> bool {
        snapshot
            .last_attempt
            .is_none_or(|at| at.plus(self.settings.min_refresh_interval) <= now)
    }

    /// Fetches once, unless a refresh newer than generation `seen` ran while this one waited
    /// for the lock (then that one's result stands: concurrent refreshes merge).
    async fn refresh_after(&self, seen: u64) {
        let _guard = self.refreshing.lock().await;
        let current = self.current.load_full();
        let now = self.clock.now();
        if current.generation != seen || !self.due(&current, now) {
            return;
        }
        let fetched = match self.fetcher.fetch().await {
            Ok(fetched) => PublicKeys::from_jwks(&fetched.body)
                .map(|keys| (keys, fetched.cache_control))
                .ok_or_else(|| "the JWKS is not a JSON key set".into()),
            Err(e) => Err(e),
        };
        let next = match fetched {
            Ok((keys, cache_control)) => Snapshot {
                keys,
                fresh_until: Some(now.plus(self.settings.ttl(cache_control.as_deref()))),
                last_attempt: Some(now),
                generation: current.generation + 1,
            },
            Err(e) => {
                tracing::warn!(error = %e, "the JWKS refresh failed; keeping the keys held");
                Snapshot {
                    keys: current.keys.clone(),
                    fresh_until: current.fresh_until,
                    last_attempt: Some(now),
                    generation: current.generation + 1,
                }
            }
        };
        self.current.store(Arc::new(next));
    }
}

#[async_trait]
impl KeySource for JwksCache {
    async fn key(&self, kid: &str) -> Option<VerifyingKey> {
        let snapshot = self.current.load();
        let now = self.clock.now();
        let fresh = snapshot.fresh_until.is_some_and(|until| now < until);
        if let Some(key) = snapshot.keys.get(kid)
            && fresh
        {
            return Some(key.clone());
        }
        // An unknown kid or a stale set: refresh, at most once per interval.
        if self.due(&snapshot, now) {
            let seen = snapshot.generation;
            drop(snapshot);
            self.refresh_after(seen).await;
            let refreshed = self.current.load();
            return self
                .usable(&refreshed, now)
                .then(|| refreshed.keys.get(kid).cloned())?;
        }
        self.usable(&snapshot, now)
            .then(|| snapshot.keys.get(kid).cloned())?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_is_honoured_within_bounds() {
        let settings = CacheSettings::default();
        assert_eq!(settings.ttl(None), Duration::from_secs(300));
        assert_eq!(
            settings.ttl(Some("public, max-age=600")),
            Duration::from_secs(600)
        );
        assert_eq!(settings.ttl(Some("max-age=5")), Duration::from_secs(60));
        assert_eq!(
            settings.ttl(Some("max-age=99999999")),
            Duration::from_secs(86_400)
        );
        assert_eq!(settings.ttl(Some("no-store")), Duration::from_secs(60));
        assert_eq!(settings.ttl(Some("public")), Duration::from_secs(300));
    }
}
