//! What can go wrong with an app operation.

use crate::store::StoreError;
use crate::validation::ValidationErrors;

/// Why an app operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// The request broke one or more rules; each field is named.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// No app with this client id exists in the caller's tenant (another tenant's app included).
    #[error("no app with this client_id exists")]
    NotFound,
    /// The app authenticates with `private_key_jwt`: it has no client secret to rotate.
    #[error("this app authenticates with private_key_jwt and has no client secret")]
    NoClientSecret,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
