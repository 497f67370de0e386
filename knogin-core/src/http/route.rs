//! What a route is, as integrators, docs and adapters see it: method, path, who may call it,
//! how it answers errors, what it does, and the part of the contract it belongs to.
//!
//! The description knows nothing of handlers: the route table ([`super::table`]) pairs each with
//! what runs it, and the docs read descriptions alone.

use std::fmt;

use http::{Method, StatusCode};
use utoipa::ToSchema;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::{Ref, RefOr};

use super::error::ErrorFormat;

/// The component schemas an OpenAPI document collects, by name.
pub(crate) type Schemas = Vec<(String, RefOr<Schema>)>;

/// Registers `T`'s schema (and those it refers to) in `schemas`, and refers to it.
pub(crate) fn schema_of<T: ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    let name = T::name();
    schemas.push((name.to_string(), T::schema()));
    T::schemas(schemas);
    Ref::from_schema_name(name).into()
}

/// A body's media type and, when it has one, the type whose schema describes it.
#[derive(Clone, Copy)]
pub(crate) struct BodyShape {
    pub(crate) media: &'static str,
    pub(crate) schema: Option<fn(&mut Schemas) -> RefOr<Schema>>,
}

/// What a route takes and gives beyond its guard: the request body, the query, the answer on
/// success, and the refusals its own rules add. Set on the route's row from the very types its
/// handler parses and serializes; the OpenAPI document reads it.
#[derive(Clone, Copy)]
pub(crate) struct Shape {
    /// The request body, and whether it may be left out.
    pub(crate) request: Option<(BodyShape, bool)>,
    /// Query parameters: name, and the values it takes (empty: any string).
    pub(crate) query: &'static [(&'static str, &'static [&'static str])],
    /// The status of success, and its body.
    pub(crate) success: (StatusCode, Option<BodyShape>),
    /// Another media type the success body may be asked for in (`?format=markdown`).
    pub(crate) also_as: Option<&'static str>,
    /// Error statuses beyond those the guard, the path and the body imply.
    pub(crate) refusals: &'static [StatusCode],
}

impl Default for Shape {
    fn default() -> Self {
        Self {
            request: None,
            query: &[],
            success: (StatusCode::OK, None),
            also_as: None,
            refusals: &[],
        }
    }
}

/// Who may call a route. Derived from the route's guard, so it cannot disagree with what the
/// handler receives; docs and tests read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Access {
    /// Anyone.
    Public,
    /// An admin token of this issuer (the operator's, for one tenant).
    Admin,
    /// An access or service token of this issuer that carries the scope.
    Bearer {
        /// The scope the token must carry.
        scope: &'static str,
    },
    /// An access or service token of this issuer whose tenant the `X-Tenant-ID` header names.
    /// The scopes it needs depend on what it asks for (the GraphQL gate's bundles).
    TenantBearer,
    /// An OAuth client authenticated with its secret (RFC 6749 §2.3.1).
    Client,
    /// The embedder's signed-in user (see [`UserAuthenticator`](crate::http::UserAuthenticator)).
    User,
}

/// A part of the contract an adapter may mount or leave to the embedder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Surface {
    /// The API: `/v1/…` and `POST /graphql`.
    Api,
    /// The documents at the host's root: the JWKS and the RFC 8414 metadata
    /// (`/.well-known/…`). RFC 8414 §3 puts the metadata at
    /// `/.well-known/oauth-authorization-server` followed by the issuer's path, so it stays at
    /// the root even when the API is nested under a prefix.
    WellKnown,
    /// The machine-readable docs: `/api/docs…` and `/llms.txt`.
    Docs,
}

/// The surfaces an adapter mounts: all of them by default.
///
/// ```
/// use knogin_core::http::{Surface, Surfaces};
///
/// let mounted = Surfaces::ALL.without(Surface::Docs);
/// assert!(mounted.contains(Surface::Api) && !mounted.contains(Surface::Docs));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Surfaces {
    api: bool,
    well_known: bool,
    docs: bool,
}

impl Surfaces {
    /// Every surface.
    pub const ALL: Self = Self {
        api: true,
        well_known: true,
        docs: true,
    };

    /// These surfaces but `surface`.
    #[must_use]
    pub const fn without(mut self, surface: Surface) -> Self {
        match surface {
            Surface::Api => self.api = false,
            Surface::WellKnown => self.well_known = false,
            Surface::Docs => self.docs = false,
        }
        self
    }

    /// Whether `surface` is among them.
    pub const fn contains(self, surface: Surface) -> bool {
        match surface {
            Surface::Api => self.api,
            Surface::WellKnown => self.well_known,
            Surface::Docs => self.docs,
        }
    }
}

impl Default for Surfaces {
    fn default() -> Self {
        Self::ALL
    }
}

/// One route of the contract: method, path, who may call it, how it answers errors, and what it
/// does. Routing, the adapters, the tests and the docs all read these.
pub struct Route {
    method: Method,
    path: &'static str,
    access: Access,
    errors: ErrorFormat,
    summary: &'static str,
    pub(crate) shape: Shape,
}

impl Route {
    /// A description.
    pub(crate) fn new(
        method: Method,
        path: &'static str,
        access: Access,
        errors: ErrorFormat,
        summary: &'static str,
    ) -> Self {
        Self {
            method,
            path,
            access,
            errors,
            summary,
            shape: Shape::default(),
        }
    }

    /// The HTTP method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path template, with `{name}` for each parameter (axum's and matchit's syntax).
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// Who may call it.
    pub fn access(&self) -> &Access {
        &self.access
    }

    /// The format of its error answers.
    pub fn errors(&self) -> ErrorFormat {
        self.errors
    }

    /// One line saying what it does, for docs.
    pub fn summary(&self) -> &'static str {
        self.summary
    }

    /// The part of the contract it belongs to, by its path.
    pub fn surface(&self) -> Surface {
        if self.path.starts_with("/.well-known/") {
            Surface::WellKnown
        } else if self.path.starts_with("/api/docs") || self.path == "/llms.txt" {
            Surface::Docs
        } else {
            Surface::Api
        }
    }
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("access", &self.access)
            .field("errors", &self.errors)
            .finish_non_exhaustive()
    }
}
