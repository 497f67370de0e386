//! Apps: registration, governance, client secrets and their rotation.

mod error;
mod model;
mod operations;
mod registration;

pub use error::AppError;
pub(crate) use model::AppView;
pub use model::{App, Governance, GovernancePatch, GrantType, RedirectUri};
pub use registration::{MAX_NAME_CHARS, Registration};
