//! Fixtures for tests (feature `test-util`): ready RSA keys, so no test generates one.

/// An RSA-2048 private key in PKCS#8 DER, for [`crate::Builder::initial_signing_key`].
pub const FIXTURE_KEY: &[u8] = include_bytes!("../fixtures/rsa-2048-1.pk8.der");

/// A second, unrelated RSA-2048 key, to sign tokens this issuer must refuse.
pub const OTHER_FIXTURE_KEY: &[u8] = include_bytes!("../fixtures/rsa-2048-2.pk8.der");

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::keys::MasterKey;
use crate::knogin::Knogin;
use crate::scope::ScopeCatalog;
use crate::store::memory::MemoryStore;

/// The issuer every test handle uses.
pub const TEST_ISSUER: &str = "https://auth.knogin.test";

/// A handle on a fresh [`MemoryStore`] with the reference scope catalog, the fixture key, the
/// given clock and secret-rotation grace.
pub async fn test_knogin_with(clock: Arc<dyn Clock>, grace: Duration) -> Knogin {
    Knogin::builder(
        TEST_ISSUER,
        Arc::new(MemoryStore::new()),
        MasterKey::generate(),
    )
    .clock(clock)
    .scopes(ScopeCatalog::reference())
    .secret_rotation_grace(grace)
    .initial_signing_key(FIXTURE_KEY.to_vec())
    .build()
    .await
    .expect("a test handle builds")
}
