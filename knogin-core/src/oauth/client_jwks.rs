//! Client keys registered by URL (RFC 7591 `jwks_uri`): fetched when a client assertion first
//! needs them, through the [`Transport`] the embedder configured (`knogin-hyper`'s
//! `HttpTransport` connects to public addresses only), and cached per app within bounds:
//! fresh for the `Cache-Control` `max-age` (1 minute to 1 day, 5 minutes without one), fetched
//! again when stale or when no key verifies an assertion, at most once a minute per app, with
//! concurrent fetches for one app merged into one. A failed fetch keeps the keys held for up to
//! a day past their freshness, so a client's brief outage does not lock it out, while a key it
//! withdrew stops verifying once a fetch succeeds.

use std::collections::HashMap;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use bytes::Bytes;
use futures_util::future::{Either, select};
use http::header::{ACCEPT, CACHE_CONTROL, USER_AGENT};
use http::{Request, StatusCode};
use knogin_verifier::CacheSettings;
use knogin_verifier::jose::PublicJwkSet;

use crate::apps::ClientJwksUri;
use crate::clock::{Clock, Timestamp};
use crate::id::AppId;
use crate::webhooks::Transport;

/// The largest JWK Set document read from a `jwks_uri`, in bytes.
pub const MAX_CLIENT_JWKS_BYTES: usize = 64 * 1024;

/// How long one fetch of a `jwks_uri` may take.
pub const CLIENT_JWKS_FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The most apps whose fetched keys are held at once; past it, one is dropped for each new one
/// (and fetched again when next needed).
const MAX_HELD_APPS: usize = 10_000;

/// What is held for one app: its URL, the keys last fetched from it, and when.
#[derive(Debug, Default)]
struct Held {
    keys: Option<Arc<PublicJwkSet>>,
    fresh_until: Option<Timestamp>,
    last_attempt: Option<Timestamp>,
    /// Counts fetch attempts, so a waiter sees that another one ran meanwhile.
    generation: u64,
}

/// One app's cache entry.
#[derive(Debug)]
struct Slot {
    uri: ClientJwksUri,
    held: ArcSwap<Held>,
    fetching: futures_util::lock::Mutex<()>,
}

/// The keys of every `jwks_uri` app this handle has needed (see the module docs).
pub(crate) struct ClientJwksCache {
    transport: Option<Arc<dyn Transport>>,
    settings: CacheSettings,
    slots: Mutex<HashMap<AppId, Arc<Slot>>>,
}

impl std::fmt::Debug for ClientJwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientJwksCache")
            .field("fetches", &self.fetches())
            .finish_non_exhaustive()
    }
}

impl ClientJwksCache {
    /// A cache fetching through `transport`; without one, `jwks_uri` apps cannot be registered.
    pub(crate) fn new(transport: Option<Arc<dyn Transport>>) -> Self {
        Self {
            transport,
            settings: CacheSettings::default(),
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// Whether this handle fetches client keys.
    pub(crate) fn fetches(&self) -> bool {
        self.transport.is_some()
    }

    /// Whether a key `app` publishes at `uri` passes `verifies`: with the keys held while they
    /// are fresh, else (or when none of them passes) with keys fetched again, if a fetch is due.
    pub(crate) async fn verify(
        &self,
        app: &AppId,
        uri: &ClientJwksUri,
        clock: &dyn Clock,
        verifies: impl Fn(&PublicJwkSet) -> bool,
    ) -> bool {
        let slot = self.slot(app, uri);
        let now = clock.now();
        let held = slot.held.load_full();
        let fresh = held.fresh_until.is_some_and(|until| now < until);
        if fresh && held.keys.as_deref().is_some_and(&verifies) {
            return true;
        }
        if self.due(&held, now) {
            self.fetch_after(&slot, held.generation, clock).await;
        }
        let held = slot.held.load();
        let usable = held
            .fresh_until
            .is_some_and(|until| now < until.plus(self.settings.max_stale));
        usable && held.keys.as_deref().is_some_and(verifies)
    }

    /// The slot of `app`, new when it had none or its URL changed.
    fn slot(&self, app: &AppId, uri: &ClientJwksUri) -> Arc<Slot> {
        let mut slots = self.slots.lock().expect("the cache lock is never poisoned");
        if let Some(slot) = slots.get(app).filter(|slot| slot.uri == *uri) {
            return Arc::clone(slot);
        }
        if slots.len() >= MAX_HELD_APPS && !slots.contains_key(app) {
            let dropped = slots.keys().next().cloned();
            if let Some(dropped) = dropped {
                slots.remove(&dropped);
            }
        }
        let slot = Arc::new(Slot {
            uri: uri.clone(),
            held: ArcSwap::from_pointee(Held::default()),
            fetching: futures_util::lock::Mutex::new(()),
        });
        slots.insert(app.clone(), Arc::clone(&slot));
        slot
    }

    /// Whether a fetch may run at `now`.
    fn due(&self, held: &Held, now: Timestamp) -> bool {
        held.last_attempt
            .is_none_or(|at| at.plus(self.settings.min_refresh_interval) <= now)
    }

    /// Fetches once, unless a fetch newer than generation `seen` ran while this one waited
    /// for the lock (then that one's result stands).
    async fn fetch_after(&self, slot: &Slot, seen: u64, clock: &dyn Clock) {
        let Some(transport) = &self.transport else {
            return;
        };
        let _fetching = slot.fetching.lock().await;
        let held = slot.held.load_full();
        let now = clock.now();
        if held.generation != seen || !self.due(&held, now) {
            return;
        }
        let fetched = {
            let fetch = pin!(fetch(&**transport, &slot.uri));
            match select(fetch, clock.sleep(CLIENT_JWKS_FETCH_TIMEOUT)).await {
                Either::Left((fetched, _)) => fetched,
                Either::Right(_) => Err(format!(
                    "no answer within {} s",
                    CLIENT_JWKS_FETCH_TIMEOUT.as_secs()
                )),
            }
        };
        let next = match fetched {
            Ok((keys, cache_control)) => Held {
                keys: Some(Arc::new(keys)),
                fresh_until: Some(now.plus(self.settings.ttl(cache_control.as_deref()))),
                last_attempt: Some(now),
                generation: held.generation + 1,
            },
            Err(why) => {
                tracing::warn!(
                    jwks_uri = slot.uri.as_str(),
                    error = %why,
                    "a client's jwks_uri could not be read; keeping the keys held"
                );
                Held {
                    keys: held.keys.clone(),
                    fresh_until: held.fresh_until,
                    last_attempt: Some(now),
                    generation: held.generation + 1,
                }
            }
        };
        slot.held.store(Arc::new(next));
    }
}

/// GETs `uri` and reads the JWK Set it serves, with its `Cache-Control` header.
async fn fetch(
    transport: &dyn Transport,
    uri: &ClientJwksUri,
) -> Result<(PublicJwkSet, Option<String>), String> {
    let request = Request::get(uri.as_str())
        .header(ACCEPT, "application/jwk-set+json, application/json")
        .header(USER_AGENT, concat!("knogin/", env!("CARGO_PKG_VERSION")))
        .body(Bytes::new())
        .map_err(|e| e.to_string())?;
    let response = transport
        .send(request, MAX_CLIENT_JWKS_BYTES + 1)
        .await
        .map_err(|e| e.to_string())?;
    if response.status() != StatusCode::OK {
        return Err(format!("answered {}", response.status()));
    }
    if response.body().len() > MAX_CLIENT_JWKS_BYTES {
        return Err(format!(
            "the set is larger than {MAX_CLIENT_JWKS_BYTES} bytes"
        ));
    }
    let cache_control = response
        .headers()
        .get(CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let document: serde_json::Value =
        serde_json::from_slice(response.body()).map_err(|_| "the body is not JSON".to_owned())?;
    let keys = PublicJwkSet::from_published_json(&document).map_err(|e| e.to_string())?;
    Ok((keys, cache_control))
}

#[cfg(test)]
#[path = "client_jwks_tests.rs"]
mod tests;
