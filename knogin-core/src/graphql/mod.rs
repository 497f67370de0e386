//! The GraphQL transport gate: bearer and tenant checks (by the route's guard), then curated
//! operations only.
//!
//! The contract promises transport, headers, tenancy and errors, and deliberately no schema
//! dump, no introspection and no unpublished operations. The gate holds that promise whatever
//! engine runs behind it: a request is admitted only if its document is a [`TrustedDocument`] of
//! a [`Bundle`] whose scopes the token carries, named by its exact text, by its normalized form
//! (whitespace, commas and comments aside), or by a persisted-document hash
//! (`"documentId": "sha256:<hex>"`, or Apollo's `extensions.persistedQuery.sha256Hash`).
//! Anything else is refused before execution with `OPERATION_NOT_ALLOWED`, the same answer
//! whether the document is unknown or only outside the token's scopes, so refusals reveal
//! nothing. Introspection can never be trusted: a document that selects `__schema` or `__type`
//! is refused when it is registered.
//!
//! The admitted operation runs through an [`Executor`]: the trusted text as registered, never the
//! client's spelling. The `async-graphql` feature (on by default) ships [`AsyncGraphQl`] and the
//! reference server's demo ([`reference`](mod@reference)).

#[cfg(feature = "async-graphql")]
mod async_graphql;
mod bundle;
mod document;
mod executor;
mod gate;
mod manifest;
#[cfg(feature = "async-graphql")]
pub mod reference;
mod request;
mod variables;

#[cfg(feature = "async-graphql")]
pub use self::async_graphql::AsyncGraphQl;
pub use self::bundle::{Bundle, BundleError, Bundles};
pub(crate) use self::document::sha256;
pub use self::document::{DocumentError, TrustedDocument};
pub use self::executor::{ExecutionResponse, Executor, Operation};
pub use self::gate::{GraphQlGate, GraphQlLimits};
pub use self::manifest::ManifestError;
pub use self::request::Refusal;
pub(crate) use self::request::Wire as GraphQlRequest;
