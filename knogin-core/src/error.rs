//! The type-erased error of code the core calls but does not own: a request body's stream, an
//! embedder's GraphQL executor.

/// Any error that can cross threads.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
