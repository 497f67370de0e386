//! The route table: every route of the contract, one row each, assembled from the capability
//! modules, and the matcher over it.

use std::fmt;

use http::Method;

use super::access::{Access, Guarded, Run};
use super::error::ErrorFormat;
use crate::knogin::Knogin;

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

/// One row of the route table: method, path, who may call it, how it answers errors, and what it
/// does. Routing, the adapters, the tests and the docs all read these rows.
pub struct Route {
    method: Method,
    path: &'static str,
    access: Access,
    errors: ErrorFormat,
    summary: &'static str,
    body_limit: Option<usize>,
    hide_other_methods: bool,
    /// Whether a handle serves the route (a capability it may not have configured).
    enabled: fn(&Knogin) -> bool,
    pub(crate) run: Run,
}

impl Route {
    /// A row. The guard (`public(h)`, `admin(h)`, `bearer(scope, h)`, …) fixes both who may call
    /// the route and the principal its handler receives.
    pub(crate) fn new(
        method: Method,
        path: &'static str,
        guarded: Guarded,
        errors: ErrorFormat,
        summary: &'static str,
    ) -> Self {
        Self {
            method,
            path,
            access: guarded.access,
            errors,
            summary,
            body_limit: None,
            hide_other_methods: false,
            enabled: |_| true,
            run: guarded.run,
        }
    }

    /// Sets a body limit for this route instead of the handle's default.
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "for a route whose bodies need another limit than the default"
        )
    )]
    pub(crate) fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = Some(bytes);
        self
    }

    /// Answers other methods on this path like an unknown route (404) instead of 405 with
    /// `Allow`: for a path that must not reveal what else it serves (`/graphql`, where a `GET`
    /// would look for a playground).
    pub(crate) fn hide_other_methods(mut self) -> Self {
        self.hide_other_methods = true;
        self
    }

    /// Serves the route only on handles for which `enabled` holds (e.g. the GraphQL gate, on
    /// handles built with one); on others its path is unknown.
    pub(crate) fn only_if(mut self, enabled: fn(&Knogin) -> bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Whether `knogin` serves this route.
    pub fn is_served_by(&self, knogin: &Knogin) -> bool {
        (self.enabled)(knogin)
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

    /// The route's own body limit, if it has one.
    pub(crate) fn own_body_limit(&self) -> Option<usize> {
        self.body_limit
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

/// `route!(GET "/path/{id}" => admin(handler), Problem, "Summary")`: one row of the table.
macro_rules! route {
    ($method:ident $path:literal => $guarded:expr, $errors:ident, $summary:literal) => {
        $crate::http::table::Route::new(
            ::http::Method::$method,
            $path,
            $guarded,
            $crate::http::ErrorFormat::$errors,
            $summary,
        )
    };
}
pub(crate) use route;

/// The routes, indexed by path for matching.
pub(crate) struct Table {
    routes: Vec<Route>,
    /// Path template → the indexes of its routes in `routes`.
    paths: matchit::Router<Vec<usize>>,
}

/// The result of looking a request up in the table.
pub(crate) enum Lookup<'t> {
    /// A route, and the path's parameters by name.
    Found(&'t Route, Vec<(String, String)>),
    /// The path exists with other methods: the `Allow` list, and the format to say so in.
    MethodNotAllowed(Vec<Method>, ErrorFormat),
    /// No route has this path.
    NotFound,
}

impl Table {
    /// Indexes `routes`. Panics on a duplicate method and path or on templates that conflict:
    /// the table is fixed at compile time, and a unit test builds it.
    pub(crate) fn build(routes: Vec<Route>) -> Self {
        let mut templates: Vec<(&'static str, Vec<usize>)> = Vec::new();
        for (i, route) in routes.iter().enumerate() {
            match templates.iter_mut().find(|(p, _)| *p == route.path) {
                Some((_, rows)) => {
                    assert!(
                        rows.iter().all(|&r| routes[r].method != route.method),
                        "the route table has {} {} twice",
                        route.method,
                        route.path
                    );
                    rows.push(i);
                }
                None => templates.push((route.path, vec![i])),
            }
        }
        let mut paths = matchit::Router::new();
        for (path, rows) in templates {
            if let Err(e) = paths.insert(path, rows) {
                panic!("the route table's path {path} conflicts with another: {e}");
            }
        }
        Self { routes, paths }
    }

    /// Every route, in table order.
    pub(crate) fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Finds the route `knogin` serves for `method` and `path`. `HEAD` finds the `GET` route
    /// (RFC 9110 §9.3.2).
    pub(crate) fn find(&self, knogin: &Knogin, method: &Method, path: &str) -> Lookup<'_> {
        let Ok(matched) = self.paths.at(path) else {
            return Lookup::NotFound;
        };
        let wanted = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        let rows = matched
            .value
            .iter()
            .map(|&i| &self.routes[i])
            .filter(|r| r.is_served_by(knogin));
        if let Some(route) = rows.clone().find(|r| r.method == *wanted) {
            let params = matched
                .params
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            return Lookup::Found(route, params);
        }
        if rows.clone().next().is_none() || rows.clone().any(|r| r.hide_other_methods) {
            return Lookup::NotFound;
        }
        let mut allow = Vec::new();
        for route in rows.clone() {
            allow.push(route.method.clone());
            if route.method == Method::GET {
                allow.push(Method::HEAD);
            }
        }
        let format = rows
            .map(|r| r.errors)
            .next()
            .unwrap_or(ErrorFormat::Problem);
        Lookup::MethodNotAllowed(allow, format)
    }

    /// Whether any route `knogin` serves has this path, whatever the method.
    pub(crate) fn serves_path(&self, knogin: &Knogin, path: &str, surfaces: Surfaces) -> bool {
        self.paths.at(path).is_ok_and(|matched| {
            matched.value.iter().any(|&i| {
                let route = &self.routes[i];
                surfaces.contains(route.surface()) && route.is_served_by(knogin)
            })
        })
    }
}
