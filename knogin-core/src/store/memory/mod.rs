//! An in-memory store for unit tests and examples. Nothing survives the process.

mod purge;
mod webhooks;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use super::{
    AppPage, AppStore, AuthFailures, ClientAuthStore, ClientLookup, CodeRedemption, Cursor,
    Delivery, Event, FlowKind, FlowState, FlowStore, GrantStore, KeyStore, RefreshUse,
    RevocationStore, StoreError, StoredCode, StoredKey, StoredRefresh, TenantStore,
};
use crate::apps::{App, Governance, GovernancePatch};
use crate::clock::Timestamp;
use crate::id::{AppId, DeliveryId, EventId, KeyId, TenantId, WebhookId};
use crate::scope::ScopeSet;
use crate::secret::SecretHash;
use crate::webhooks::StoredWebhook;

/// A delivery with its sequence number, tenant and lease (token and end).
type DeliveryRow = (i64, TenantId, Delivery, Option<(String, Timestamp)>);

#[derive(Debug, Default)]
struct Inner {
    tenants: HashMap<TenantId, Timestamp>,
    /// Apps in insertion order with their sequence number.
    apps: Vec<(i64, App)>,
    secrets: HashMap<AppId, Vec<(SecretHash, Option<Timestamp>)>>,
    keys: Vec<StoredKey>,
    first_key_stored: bool,
    revoked: HashMap<String, Timestamp>,
    cutoffs: HashMap<String, Timestamp>,
    failures: HashMap<String, AuthFailures>,
    next_seq: i64,
    /// Codes with when each was redeemed.
    codes: Vec<(StoredCode, Option<Timestamp>)>,
    /// Families with when each was revoked.
    families: HashMap<String, Option<Timestamp>>,
    /// Refresh tokens with when each was rotated out.
    refresh: Vec<(StoredRefresh, Option<Timestamp>)>,
    /// Access tokens issued from kept refresh tokens: family, `jti`, expiry.
    family_access: Vec<(String, String, Timestamp)>,
    consents: HashMap<(AppId, TenantId, String), ScopeSet>,
    states: HashMap<(FlowKind, SecretHash), (String, Timestamp)>,
    /// Subscriptions in insertion order with their sequence number and deletion time.
    webhooks: Vec<(i64, StoredWebhook, Option<Timestamp>)>,
    events: HashMap<EventId, Event>,
    /// Deliveries in creation order with their sequence number, tenant and lease.
    deliveries: Vec<DeliveryRow>,
    /// Claims in a row without a recorded attempt, per delivery.
    unrecorded: HashMap<DeliveryId, u32>,
    /// Sends per subscription in the current second.
    send_windows: HashMap<WebhookId, (Timestamp, u32)>,
    sign_in_failures: HashMap<String, AuthFailures>,
    rate_counters: HashMap<String, AuthFailures>,
}

impl Inner {
    fn family_live(&self, family: &str) -> bool {
        matches!(self.families.get(family), Some(None))
    }
}

/// A store held in a mutex in this process. Behaves like the SQL stores (the conformance suite
/// checks it), so tests written against it hold for them too.
#[derive(Debug, Default)]
pub struct MemoryStore(Mutex<Inner>);

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Counts a failure under `key` in `failures`, in a fixed window of `window` (stale windows of
/// every key are dropped).
fn count_failure(
    failures: &mut HashMap<String, AuthFailures>,
    key: &str,
    now: Timestamp,
    window: Duration,
) -> AuthFailures {
    failures.retain(|_, f| f.window_start.plus(window) > now);
    let entry = failures.entry(key.to_owned()).or_insert(AuthFailures {
        window_start: now,
        count: 0,
    });
    entry.count += 1;
    *entry
}

/// One page of `rows` (in insertion order, each with its sequence number), newest first: up
/// to `limit` of those before `after`, and the cursor of the next page if there is one.
fn page<'a, T>(
    rows: impl DoubleEndedIterator<Item = (i64, &'a T)>,
    after: Option<Cursor>,
    limit: u32,
) -> (Vec<&'a T>, Option<Cursor>) {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut newest_first = rows
        .rev()
        .filter(|(seq, _)| after.is_none_or(|c| *seq < c.0));
    let taken: Vec<(i64, &T)> = newest_first.by_ref().take(limit).collect();
    let next = newest_first
        .next()
        .and_then(|_| taken.last().map(|(seq, _)| Cursor(*seq)));
    (taken.into_iter().map(|(_, row)| row).collect(), next)
}

fn still_valid(expires_at: Option<Timestamp>, now: Timestamp) -> bool {
    expires_at.is_none_or(|t| t > now)
}

#[async_trait]
impl TenantStore for MemoryStore {
    async fn ensure_tenant(&self, tenant: &TenantId, now: Timestamp) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        if inner.tenants.contains_key(tenant) {
            return Ok(false);
        }
        inner.tenants.insert(tenant.clone(), now);
        Ok(true)
    }

    async fn tenant_exists(&self, tenant: &TenantId) -> Result<bool, StoreError> {
        Ok(self.lock().tenants.contains_key(tenant))
    }
}

#[async_trait]
impl AppStore for MemoryStore {
    async fn insert_app(&self, app: &App, secret: Option<&SecretHash>) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if !inner.tenants.contains_key(&app.tenant_id) {
            return Err(StoreError::MissingParent);
        }
        if inner.apps.iter().any(|(_, a)| a.client_id == app.client_id) {
            return Err(StoreError::Conflict);
        }
        inner.next_seq += 1;
        let seq = inner.next_seq;
        inner.apps.push((seq, app.clone()));
        let secrets = secret.map(|s| (s.clone(), None)).into_iter().collect();
        inner.secrets.insert(app.client_id.clone(), secrets);
        Ok(())
    }

    async fn get_app(&self, tenant: &TenantId, id: &AppId) -> Result<Option<App>, StoreError> {
        Ok(self
            .lock()
            .apps
            .iter()
            .find(|(_, a)| &a.client_id == id && &a.tenant_id == tenant)
            .map(|(_, a)| a.clone()))
    }

    async fn list_apps(
        &self,
        tenant: &TenantId,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<AppPage, StoreError> {
        let inner = self.lock();
        let theirs = inner.apps.iter().filter(|(_, a)| &a.tenant_id == tenant);
        let (apps, next) = page(theirs.map(|(seq, a)| (*seq, a)), after, limit);
        Ok(AppPage {
            apps: apps.into_iter().cloned().collect(),
            next,
        })
    }

    async fn update_governance(
        &self,
        tenant: &TenantId,
        id: &AppId,
        patch: GovernancePatch,
    ) -> Result<Option<Governance>, StoreError> {
        let mut inner = self.lock();
        Ok(inner
            .apps
            .iter_mut()
            .find(|(_, a)| &a.client_id == id && &a.tenant_id == tenant)
            .map(|(_, a)| {
                a.governance = patch.apply(a.governance);
                a.governance
            }))
    }

    async fn rotate_secret(
        &self,
        tenant: &TenantId,
        id: &AppId,
        new: &SecretHash,
        now: Timestamp,
        old_valid_until: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        if !inner
            .apps
            .iter()
            .any(|(_, a)| &a.client_id == id && &a.tenant_id == tenant)
        {
            return Ok(false);
        }
        let secrets = inner.secrets.entry(id.clone()).or_default();
        secrets.retain(|(_, exp)| still_valid(*exp, now));
        for (_, exp) in secrets.iter_mut() {
            if still_valid(*exp, old_valid_until) {
                *exp = Some(old_valid_until);
            }
        }
        secrets.push((new.clone(), None));
        Ok(true)
    }
}

#[async_trait]
impl ClientAuthStore for MemoryStore {
    async fn client_lookup(
        &self,
        client_id: &str,
        now: Timestamp,
    ) -> Result<ClientLookup, StoreError> {
        let inner = self.lock();
        let app = inner
            .apps
            .iter()
            .find(|(_, a)| a.client_id.as_str() == client_id)
            .map(|(_, a)| a.clone());
        let valid: Vec<(SecretHash, Option<Timestamp>)> = app
            .as_ref()
            .and_then(|a| inner.secrets.get(&a.client_id))
            .map(|v| {
                v.iter()
                    .filter(|(_, exp)| still_valid(*exp, now))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        Ok(ClientLookup {
            app,
            valid_until: valid.iter().filter_map(|(_, exp)| *exp).min(),
            secrets: valid.into_iter().map(|(h, _)| h).collect(),
        })
    }

    async fn record_auth_failure(
        &self,
        client_id: &str,
        now: Timestamp,
        window: Duration,
    ) -> Result<AuthFailures, StoreError> {
        Ok(count_failure(
            &mut self.lock().failures,
            client_id,
            now,
            window,
        ))
    }
}

#[async_trait]
impl KeyStore for MemoryStore {
    async fn insert_first_signing_key(&self, key: &StoredKey) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        if inner.first_key_stored {
            return Ok(false);
        }
        inner.first_key_stored = true;
        inner.keys.push(key.clone());
        Ok(true)
    }

    async fn rotate_signing_key(
        &self,
        key: &StoredKey,
        removed_at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.keys.iter().any(|k| k.kid == key.kid) {
            return Err(StoreError::Conflict);
        }
        for old in inner.keys.iter_mut().filter(|k| k.retires_at.is_none()) {
            old.retires_at = Some(key.activates_at);
            old.removed_at = Some(removed_at);
        }
        inner.keys.push(key.clone());
        Ok(())
    }

    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        Ok(self.lock().keys.clone())
    }

    async fn withdraw_signing_key(&self, kid: &KeyId, now: Timestamp) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let Some(key) = inner
            .keys
            .iter_mut()
            .find(|k| k.kid == *kid && k.removed_at.is_none_or(|t| t > now))
        else {
            return Ok(false);
        };
        key.retires_at = Some(key.retires_at.map_or(now, |t| t.min(now)));
        key.removed_at = Some(now);
        Ok(true)
    }
}

#[async_trait]
impl RevocationStore for MemoryStore {
    async fn revoke_token(
        &self,
        jti: &str,
        expires_at: Timestamp,
        _now: Timestamp,
    ) -> Result<(), StoreError> {
        self.lock().revoked.insert(jti.to_owned(), expires_at);
        Ok(())
    }

    async fn revoked_tokens(&self, now: Timestamp) -> Result<Vec<String>, StoreError> {
        let mut inner = self.lock();
        inner.revoked.retain(|_, expires| *expires > now);
        Ok(inner.revoked.keys().cloned().collect())
    }

    async fn cut_off_tokens(&self, key: &str, not_before: Timestamp) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let at = inner.cutoffs.entry(key.to_owned()).or_insert(not_before);
        *at = (*at).max(not_before);
        Ok(())
    }

    async fn token_cutoffs(&self) -> Result<Vec<(String, Timestamp)>, StoreError> {
        Ok(self
            .lock()
            .cutoffs
            .iter()
            .map(|(k, t)| (k.clone(), *t))
            .collect())
    }
}

#[async_trait]
impl GrantStore for MemoryStore {
    async fn insert_code(&self, code: &StoredCode, _now: Timestamp) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.families.contains_key(&code.family)
            || inner
                .codes
                .iter()
                .any(|(c, _)| c.code_hash == code.code_hash)
        {
            return Err(StoreError::Conflict);
        }
        inner.families.insert(code.family.clone(), None);
        inner.codes.push((code.clone(), None));
        Ok(())
    }

    async fn redeem_code(
        &self,
        code_hash: &SecretHash,
        now: Timestamp,
    ) -> Result<CodeRedemption, StoreError> {
        let mut inner = self.lock();
        let Some((code, redeemed)) = inner
            .codes
            .iter_mut()
            .find(|(c, _)| c.code_hash == *code_hash)
        else {
            return Ok(CodeRedemption::Invalid);
        };
        Ok(match redeemed {
            Some(_) => CodeRedemption::Replayed {
                family: code.family.clone(),
            },
            None if code.expires_at <= now => CodeRedemption::Invalid,
            None => {
                *redeemed = Some(now);
                CodeRedemption::Redeemed(Box::new(code.clone()))
            }
        })
    }

    async fn insert_refresh(
        &self,
        token: &StoredRefresh,
        _now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let live = inner.family_live(&token.family);
        if !live {
            inner
                .revoked
                .insert(token.access_jti.clone(), token.access_expires_at);
        }
        inner.refresh.push((token.clone(), None));
        Ok(live)
    }

    async fn use_refresh(
        &self,
        token_hash: &SecretHash,
        now: Timestamp,
    ) -> Result<RefreshUse, StoreError> {
        let mut inner = self.lock();
        let Some(index) = inner
            .refresh
            .iter()
            .position(|(t, _)| t.token_hash == *token_hash)
        else {
            return Ok(RefreshUse::Invalid);
        };
        let live = inner.family_live(&inner.refresh[index].0.family);
        let (token, rotated) = &mut inner.refresh[index];
        Ok(match rotated {
            _ if !live => RefreshUse::Invalid,
            Some(_) => RefreshUse::Reused {
                family: token.family.clone(),
            },
            None if token.expires_at <= now => RefreshUse::Invalid,
            None => {
                *rotated = Some(now);
                RefreshUse::Current(Box::new(token.clone()))
            }
        })
    }

    async fn keep_refresh(
        &self,
        token_hash: &SecretHash,
        access_jti: &str,
        access_expires_at: Timestamp,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Option<StoredRefresh>, StoreError> {
        let mut inner = self.lock();
        let Some(index) = inner.refresh.iter().position(|(t, rotated)| {
            t.token_hash == *token_hash && rotated.is_none() && t.expires_at > now
        }) else {
            return Ok(None);
        };
        let family = inner.refresh[index].0.family.clone();
        if !inner.family_live(&family) {
            return Ok(None);
        }
        let kept = inner.refresh[index].0.clone();
        inner.refresh[index].0.expires_at = expires_at;
        inner
            .family_access
            .push((family, access_jti.to_owned(), access_expires_at));
        Ok(Some(kept))
    }

    async fn find_refresh(
        &self,
        token_hash: &SecretHash,
        now: Timestamp,
    ) -> Result<Option<StoredRefresh>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .refresh
            .iter()
            .find(|(t, rotated)| {
                t.token_hash == *token_hash
                    && rotated.is_none()
                    && t.expires_at > now
                    && inner.family_live(&t.family)
            })
            .map(|(t, _)| t.clone()))
    }

    async fn revoke_family(
        &self,
        family: &str,
        now: Timestamp,
    ) -> Result<Vec<(String, Timestamp)>, StoreError> {
        let mut inner = self.lock();
        if let Some(revoked @ None) = inner.families.get_mut(family) {
            *revoked = Some(now);
        }
        let beside_refresh = inner
            .refresh
            .iter()
            .filter(|(t, _)| t.family == family)
            .map(|(t, _)| (t.access_jti.clone(), t.access_expires_at));
        let from_kept = inner
            .family_access
            .iter()
            .filter(|(f, _, _)| f == family)
            .map(|(_, jti, expires_at)| (jti.clone(), *expires_at));
        let jtis: Vec<(String, Timestamp)> = beside_refresh.chain(from_kept).collect();
        for (jti, expires_at) in &jtis {
            inner.revoked.insert(jti.clone(), *expires_at);
        }
        Ok(jtis)
    }

    async fn remember_consent(
        &self,
        client_id: &AppId,
        tenant: &TenantId,
        subject: &str,
        scopes: &ScopeSet,
        _now: Timestamp,
    ) -> Result<(), StoreError> {
        self.lock().consents.insert(
            (client_id.clone(), tenant.clone(), subject.to_owned()),
            scopes.clone(),
        );
        Ok(())
    }

    async fn consented_scopes(
        &self,
        client_id: &AppId,
        tenant: &TenantId,
        subject: &str,
    ) -> Result<Option<ScopeSet>, StoreError> {
        Ok(self
            .lock()
            .consents
            .get(&(client_id.clone(), tenant.clone(), subject.to_owned()))
            .cloned())
    }

    async fn forget_consent(
        &self,
        client_id: &AppId,
        tenant: &TenantId,
        subject: &str,
    ) -> Result<bool, StoreError> {
        Ok(self
            .lock()
            .consents
            .remove(&(client_id.clone(), tenant.clone(), subject.to_owned()))
            .is_some())
    }
}

#[async_trait]
impl FlowStore for MemoryStore {
    async fn put_state(&self, state: &FlowState, now: Timestamp) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.states.retain(|_, (_, expires)| *expires > now);
        let key = (state.kind, state.key.clone());
        if inner.states.contains_key(&key) {
            return Err(StoreError::Conflict);
        }
        inner
            .states
            .insert(key, (state.value.clone(), state.expires_at));
        Ok(())
    }

    async fn state(
        &self,
        kind: FlowKind,
        key: &SecretHash,
        now: Timestamp,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .lock()
            .states
            .get(&(kind, key.clone()))
            .filter(|(_, expires)| *expires > now)
            .map(|(value, _)| value.clone()))
    }

    async fn take_state(
        &self,
        kind: FlowKind,
        key: &SecretHash,
        now: Timestamp,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .lock()
            .states
            .remove(&(kind, key.clone()))
            .filter(|(_, expires)| *expires > now)
            .map(|(value, _)| value))
    }

    async fn record_sign_in_failure(
        &self,
        key: &str,
        now: Timestamp,
        window: Duration,
    ) -> Result<AuthFailures, StoreError> {
        Ok(count_failure(
            &mut self.lock().sign_in_failures,
            key,
            now,
            window,
        ))
    }

    async fn release_sign_in_attempt(
        &self,
        key: &str,
        now: Timestamp,
        window: Duration,
    ) -> Result<(), StoreError> {
        if let Some(failures) = self.lock().sign_in_failures.get_mut(key)
            && failures.window_start.plus(window) > now
        {
            failures.count = failures.count.saturating_sub(1);
        }
        Ok(())
    }

    async fn sign_in_failures(
        &self,
        key: &str,
        now: Timestamp,
        window: Duration,
    ) -> Result<Option<AuthFailures>, StoreError> {
        Ok(self
            .lock()
            .sign_in_failures
            .get(key)
            .filter(|f| f.window_start.plus(window) > now)
            .copied())
    }
}

#[cfg(test)]
mod tests {
    crate::store_conformance_tests!(async { Some(Box::new(super::MemoryStore::new())) });
}
