//! The HTTP half of the verifier (feature `fetch`): the JWKS fetch and the introspection check,
//! on hyper's client with rustls.

mod introspection;
mod jwks;
mod tls;

pub use self::introspection::{
    DEFAULT_INTROSPECTION_CACHE, DEFAULT_INTROSPECTION_CAPACITY, IntrospectionCheck,
};
pub use self::jwks::{
    DEFAULT_FETCH_TIMEOUT, DEFAULT_MAX_DOCUMENT_BYTES, FetchError, HttpJwksFetcher,
};
pub use self::tls::https_connector;
