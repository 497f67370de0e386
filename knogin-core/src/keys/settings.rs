//! How the handle publishes, reloads and creates signing keys: [`SigningKeySettings`].

use std::time::Duration;

use super::SigningAlgorithm;

/// How often, by default, an instance reloads signing keys and revocations from the store.
pub const DEFAULT_KEY_REFRESH: Duration = Duration::from_secs(30);

/// The default `max-age` of the JWKS answers.
pub const DEFAULT_JWKS_MAX_AGE: Duration = Duration::from_secs(300);

/// How the handle publishes, reloads and creates signing keys, for
/// [`Builder::signing_keys`](crate::Builder::signing_keys).
///
/// ```
/// use std::time::Duration;
/// use knogin_core::SigningAlgorithm;
/// use knogin_core::keys::SigningKeySettings;
///
/// let settings = SigningKeySettings::default()
///     .algorithm(SigningAlgorithm::Es256)
///     .refresh(Duration::from_secs(10));
/// # let _ = settings;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigningKeySettings {
    pub(crate) jwks_max_age: Duration,
    pub(crate) refresh: Duration,
    pub(crate) activation_lead: Option<Duration>,
    pub(crate) algorithm: SigningAlgorithm,
}

impl Default for SigningKeySettings {
    fn default() -> Self {
        Self {
            jwks_max_age: DEFAULT_JWKS_MAX_AGE,
            refresh: DEFAULT_KEY_REFRESH,
            activation_lead: None,
            algorithm: SigningAlgorithm::default(),
        }
    }
}

impl SigningKeySettings {
    /// The `max-age` of the JWKS `Cache-Control` header (default [`DEFAULT_JWKS_MAX_AGE`]).
    #[must_use]
    pub fn jwks_max_age(mut self, max_age: Duration) -> Self {
        self.jwks_max_age = max_age;
        self
    }

    /// How often keys and revocations are reloaded from the store, so instances sharing it
    /// agree (default [`DEFAULT_KEY_REFRESH`]).
    #[must_use]
    pub fn refresh(mut self, interval: Duration) -> Self {
        self.refresh = interval;
        self
    }

    /// How long a rotated-in key is published before it signs (default and minimum: the JWKS
    /// `max-age` plus the refresh interval).
    #[must_use]
    pub fn activation_lead(mut self, lead: Duration) -> Self {
        self.activation_lead = Some(lead);
        self
    }

    /// The algorithm of the keys the handle creates: the first key of a new store and each
    /// [`Keys::rotate`](crate::Keys::rotate) (default [`SigningAlgorithm::Rs256`]). Keys
    /// already stored keep theirs: rotate to switch.
    #[must_use]
    pub fn algorithm(mut self, algorithm: SigningAlgorithm) -> Self {
        self.algorithm = algorithm;
        self
    }
}
