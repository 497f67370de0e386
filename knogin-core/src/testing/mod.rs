//! Fixtures for tests (feature `test-util`): ready RSA keys, so no test generates one.

/// An RSA-2048 private key in PKCS#8 DER, for [`crate::Builder::initial_signing_key`].
pub const FIXTURE_KEY: &[u8] = include_bytes!("../../fixtures/rsa-2048-1.pk8.der");

/// A second, unrelated RSA-2048 key, to sign tokens this issuer must refuse.
pub const OTHER_FIXTURE_KEY: &[u8] = include_bytes!("../../fixtures/rsa-2048-2.pk8.der");

mod client_key;

pub use self::client_key::ClientKey;

use std::sync::Arc;
use std::time::Duration;

use crate::apps::{App, Governance, GrantType, Registration};
use crate::clock::Clock;
use crate::clock::Timestamp;
use crate::id::{AppId, TenantId};
use crate::keys::MasterKey;
use crate::knogin::{Builder, Knogin};
use crate::scope::ScopeCatalog;
use crate::scope::ScopeSet;
use crate::store::Store;
use crate::store::memory::MemoryStore;

/// The issuer every test handle uses.
pub const TEST_ISSUER: &str = "https://auth.knogin.test";

/// A builder for [`TEST_ISSUER`] on `store` with `master_key` and `clock`, the reference scope
/// and event catalogs and the fixture key: every test handle starts here.
pub fn builder(store: Arc<dyn Store>, master_key: MasterKey, clock: Arc<dyn Clock>) -> Builder {
    builder_for(TEST_ISSUER, store, master_key, clock)
}

/// Like [`builder`], for another issuer (e.g. a loopback `http://127.0.0.1:PORT` a browser test
/// opens).
pub fn builder_for(
    issuer: &str,
    store: Arc<dyn Store>,
    master_key: MasterKey,
    clock: Arc<dyn Clock>,
) -> Builder {
    Knogin::builder(issuer, store, master_key)
        .clock(clock)
        .events(crate::webhooks::EventCatalog::reference())
        .scopes(ScopeCatalog::reference())
        .initial_signing_key(FIXTURE_KEY.to_vec())
}

/// One master key per test process, as the instances of one deployment share theirs: handles
/// built with it accept each other's nonces and secrets.
pub fn shared_master_key() -> MasterKey {
    static KEY: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| MasterKey::generate().to_base64());
    MasterKey::from_base64(&KEY).expect("a generated key reads back")
}

/// A valid client-credentials registration: "Case sync connector", scope `webhooks:write`.
pub fn registration() -> Registration {
    Registration {
        name: "Case sync connector".into(),
        grant_types: vec!["client_credentials".into()],
        redirect_uris: vec![],
        requested_scopes: vec!["webhooks:write".into()],
        ..Registration::default()
    }
}

/// The redirect URI of [`delegated_registration`].
pub const DELEGATED_CALLBACK: &str = "https://integrator.example/callback";

/// A valid authorization-code registration: "Delegated", redirecting to [`DELEGATED_CALLBACK`],
/// scopes `webhooks:read` and `webhooks:write`.
pub fn delegated_registration() -> Registration {
    Registration {
        name: "Delegated".into(),
        grant_types: vec!["authorization_code".into()],
        redirect_uris: vec![DELEGATED_CALLBACK.into()],
        requested_scopes: vec!["webhooks:read".into(), "webhooks:write".into()],
        ..Registration::default()
    }
}

/// An app of tenant `t1` registered for client credentials with `scopes` approved, not stored:
/// for policy tests.
pub fn app_with_scopes<const N: usize>(scopes: [&str; N]) -> App {
    App {
        client_id: AppId::generate(),
        tenant_id: TenantId::parse("t1").expect("a valid tenant id"),
        name: "Case sync connector".into(),
        grant_types: vec![GrantType::ClientCredentials],
        redirect_uris: vec![],
        requested_scopes: ScopeSet::new(scopes).expect("scope tokens"),
        created_at: Timestamp::from_unix(1_800_000_000),
        governance: Governance::default(),
        token_endpoint_auth_method: crate::apps::TokenEndpointAuthMethod::default(),
        client_keys: None,
    }
}

/// A handle on a fresh [`MemoryStore`] with the given clock and secret-rotation grace.
pub async fn test_knogin_with(clock: Arc<dyn Clock>, grace: Duration) -> Knogin {
    builder(Arc::new(MemoryStore::new()), MasterKey::generate(), clock)
        .secret_rotation_grace(grace)
        .build()
        .await
        .expect("a test handle builds")
}

/// The shared core of [`test_knogin_with`]'s handle, for the crate's own policy tests.
#[cfg(test)]
pub(crate) async fn test_core_with(clock: Arc<dyn Clock>, grace: Duration) -> crate::shared::Core {
    test_knogin_with(clock, grace).await.core().clone()
}

/// A caller as the routes hand it on after verifying its token: an access token of [`TEST_ISSUER`]
/// for `tenant` with the space-separated `scope`. For executors' and handlers' own tests.
pub fn bearer(tenant: &str, scope: &str) -> crate::token::Bearer {
    const CLIENT: &str = "app_0123456789abcdef0123456789abcdef";
    crate::token::Bearer {
        tenant: TenantId::parse(tenant).expect("a valid tenant id"),
        claims: crate::token::AccessClaims {
            iss: TEST_ISSUER.into(),
            sub: CLIENT.into(),
            aud: crate::token::Audience::One(TEST_ISSUER.into()),
            exp: i64::MAX,
            nbf: 0,
            iat: 0,
            jti: "jti_test".into(),
            client_id: CLIENT.into(),
            scope: scope.into(),
            tenant: tenant.into(),
            cnf: None,
            act: None,
        },
    }
}

/// A GraphQL executor that runs nothing and answers every operation with an empty response,
/// for tests of the gate and of what surrounds it.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmptyExecutor;

#[async_trait::async_trait]
impl crate::graphql::Executor for EmptyExecutor {
    async fn execute(
        &self,
        _: crate::graphql::Operation,
        _: &crate::token::Bearer,
    ) -> Result<crate::graphql::ExecutionResponse, crate::BoxError> {
        Ok(crate::graphql::ExecutionResponse::default())
    }
}

/// Runs the client-credentials grant for `app` as the token endpoint does once the app is
/// authenticated: for benchmarks and tests of the grant itself.
pub async fn client_credentials(
    knogin: &Knogin,
    app: &App,
) -> Result<crate::oauth::IssuedToken, crate::oauth::GrantError> {
    knogin
        .core()
        .client_credentials(app, None, None, None)
        .await
}

/// Issues an authorization code for an approved request, as approving a consent page does. It
/// is single-use, lives the configured code lifetime and starts a new family of tokens.
///
/// This direct entry checks neither the catalog nor the app's grants: it exists only for tests.
pub async fn issue_code(
    knogin: &Knogin,
    request: crate::oauth::CodeRequest,
) -> Result<crate::AuthorizationCode, crate::store::StoreError> {
    knogin.core().issue_approved_code(request).await
}

/// Remembers `user`'s consent to the authorization request `query` (the query string of a
/// `GET /v1/oauth/authorize`), as approving its consent page would: to set up a consent given
/// in the past, such as one from a tenant the user has since left.
pub async fn remember_consent(
    knogin: &Knogin,
    query: &str,
    user: &crate::oauth::SignedInUser,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let core = knogin.core();
    let request = core
        .authorization_request(query)
        .await
        .map_err(|e| format!("{e:?}"))?;
    core.approve(&request, user).await?;
    Ok(())
}
