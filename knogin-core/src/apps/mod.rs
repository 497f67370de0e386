//! Apps: registration, governance, client secrets and their rotation.

mod error;
mod model;
mod operations;
mod registration;

pub use error::AppError;
pub(crate) use model::is_loopback;
pub use model::{
    App, ClientJwks, ClientJwksUri, ClientKeys, FAPI2_MAX_CODE_TTL, Governance, GovernancePatch,
    GrantType, Override, PreviousSecrets, RedirectUri, SecurityProfile, TOKEN_EXCHANGE,
    TokenEndpointAuthMethod,
};
pub use operations::Apps;
pub(crate) use registration::is_visible_text;
pub use registration::{MAX_NAME_CHARS, MAX_REDIRECT_URIS, Registration};
