//! The route table: every route of the contract, one row each, assembled from the capability
//! modules, and the matcher over it.

use http::{Method, StatusCode};
use utoipa::ToSchema;

use super::access::{Guarded, Run};
use super::route::{BodyShape, Route, Surfaces, schema_of};
use crate::shared::Core;

/// One row of the route table: a route's description, and what runs it. Built with [`route!`].
pub(crate) struct Row {
    route: Route,
    serving: Serving,
}

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

/// How a row serves its route.
struct Serving {
    body_limit: Option<usize>,
    hide_other_methods: bool,
    /// Whether a handle serves the route (a capability it may not have configured).
    enabled: fn(&Core) -> bool,
    run: Run,
}

impl Row {
    /// A row. The guard (`public(h)`, `admin(h)`, `bearer(scope, h)`, …) fixes both who may call
    /// the route and the principal its handler receives.
    pub(crate) fn new(
        method: Method,
        path: &'static str,
        guarded: Guarded,
        errors: super::error::ErrorFormat,
        summary: &'static str,
    ) -> Self {
        Self {
            route: Route::new(method, path, guarded.access, errors, summary),
            serving: Serving {
                body_limit: None,
                hide_other_methods: false,
                enabled: |_| true,
                run: guarded.run,
            },
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
        self.serving.body_limit = Some(bytes);
        self
    }

    /// Answers other methods on this path like an unknown route (404) instead of 405 with
    /// `Allow`: for a path that must not reveal what else it serves (`/graphql`, where a `GET`
    /// would look for a playground).
    pub(crate) fn hide_other_methods(mut self) -> Self {
        self.serving.hide_other_methods = true;
        self
    }

    /// Takes a JSON body of `T`'s fields.
    pub(crate) fn json<T: ToSchema>(self) -> Self {
        self.request::<T>(JSON, false)
    }

    /// Takes a JSON body of `T`'s fields, or none.
    pub(crate) fn optional_json<T: ToSchema>(self) -> Self {
        self.request::<T>(JSON, true)
    }

    /// Takes a form-encoded body of `T`'s fields.
    pub(crate) fn form<T: ToSchema>(self) -> Self {
        self.request::<T>(FORM, false)
    }

    fn request<T: ToSchema>(mut self, media: &'static str, optional: bool) -> Self {
        let body = BodyShape {
            media,
            schema: Some(schema_of::<T>),
        };
        self.route.shape.request = Some((body, optional));
        self
    }

    /// Takes these query parameters: name, and the values each takes (empty: any string).
    pub(crate) fn query(
        mut self,
        params: &'static [(&'static str, &'static [&'static str])],
    ) -> Self {
        self.route.shape.query = params;
        self
    }

    /// Answers `status` with a JSON `T` on success.
    pub(crate) fn answers<T: ToSchema>(mut self, status: StatusCode) -> Self {
        let body = BodyShape {
            media: JSON,
            schema: Some(schema_of::<T>),
        };
        self.route.shape.success = (status, Some(body));
        self
    }

    /// Answers `status` on success, with a body of `media` when it has one (no schema).
    pub(crate) fn answers_plain(mut self, status: StatusCode, media: Option<&'static str>) -> Self {
        let body = media.map(|media| BodyShape {
            media,
            schema: None,
        });
        self.route.shape.success = (status, body);
        self
    }

    /// May also answer success as text of `media`, when the request asks for it.
    pub(crate) fn also_as(mut self, media: &'static str) -> Self {
        self.route.shape.also_as = Some(media);
        self
    }

    /// May also refuse with these statuses, by rules of its own (a quota, a race, a limit).
    pub(crate) fn refuses(mut self, statuses: &'static [StatusCode]) -> Self {
        self.route.shape.refusals = statuses;
        self
    }

    /// Serves the route only on handles for which `enabled` holds (e.g. the GraphQL gate, on
    /// handles built with one); on others its path is unknown.
    pub(crate) fn only_if(mut self, enabled: fn(&Core) -> bool) -> Self {
        self.serving.enabled = enabled;
        self
    }
}

/// `route!(GET "/path/{id}" => admin(handler), Problem, "Summary")`: one row of the table.
macro_rules! route {
    ($method:ident $path:literal => $guarded:expr, $errors:ident, $summary:literal) => {
        $crate::http::table::Row::new(
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
    /// The descriptions, in table order.
    routes: Vec<Route>,
    /// How each is served, at the same index.
    serving: Vec<Serving>,
    /// Path template → the indexes of its routes.
    paths: matchit::Router<Vec<usize>>,
}

/// The result of looking a request up in the table.
pub(crate) enum Lookup<'t> {
    /// A route, what runs it, its own body limit, and the path's parameters by name.
    Found(Found<'t>),
    /// The path exists with other methods: the `Allow` list, and the format to say so in.
    MethodNotAllowed(Vec<Method>, super::error::ErrorFormat),
    /// No route has this path.
    NotFound,
}

/// A route a request was matched to.
pub(crate) struct Found<'t> {
    /// Its description.
    pub(crate) route: &'t Route,
    /// Its guard and handler.
    pub(crate) run: &'t Run,
    /// Its own body limit, if it has one.
    pub(crate) body_limit: Option<usize>,
    /// The path's parameters by name.
    pub(crate) params: Vec<(String, String)>,
}

impl Table {
    /// Indexes `rows`. Panics on a duplicate method and path or on templates that conflict:
    /// the table is fixed at compile time, and a unit test builds it.
    pub(crate) fn build(rows: Vec<Row>) -> Self {
        let (routes, serving): (Vec<Route>, Vec<Serving>) =
            rows.into_iter().map(|row| (row.route, row.serving)).unzip();
        let mut templates: Vec<(&'static str, Vec<usize>)> = Vec::new();
        for (i, route) in routes.iter().enumerate() {
            match templates.iter_mut().find(|(p, _)| *p == route.path()) {
                Some((_, rows)) => {
                    assert!(
                        rows.iter().all(|&r| routes[r].method() != route.method()),
                        "the route table has {} {} twice",
                        route.method(),
                        route.path()
                    );
                    rows.push(i);
                }
                None => templates.push((route.path(), vec![i])),
            }
        }
        let mut paths = matchit::Router::new();
        for (path, rows) in templates {
            if let Err(e) = paths.insert(path, rows) {
                panic!("the route table's path {path} conflicts with another: {e}");
            }
        }
        Self {
            routes,
            serving,
            paths,
        }
    }

    /// Every route, in table order.
    pub(crate) fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Whether `core` serves the route at `i`.
    fn serves(&self, core: &Core, i: usize) -> bool {
        (self.serving[i].enabled)(core)
    }

    /// The routes `core` serves, in table order: every route but those of capabilities it was
    /// built without.
    pub(crate) fn served<'t, 'c>(
        &'t self,
        core: &'c Core,
    ) -> impl Iterator<Item = &'t Route> + Clone + use<'t, 'c> {
        self.routes
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.serves(core, *i))
            .map(|(_, route)| route)
    }

    /// Finds the route `core` serves for `method` and `path`. `HEAD` finds the `GET` route
    /// (RFC 9110 §9.3.2).
    pub(crate) fn find(&self, core: &Core, method: &Method, path: &str) -> Lookup<'_> {
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
            .copied()
            .filter(|&i| self.serves(core, i));
        if let Some(i) = rows.clone().find(|&i| self.routes[i].method() == wanted) {
            let params = matched
                .params
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            return Lookup::Found(Found {
                route: &self.routes[i],
                run: &self.serving[i].run,
                body_limit: self.serving[i].body_limit,
                params,
            });
        }
        if rows.clone().next().is_none() || rows.clone().any(|i| self.serving[i].hide_other_methods)
        {
            return Lookup::NotFound;
        }
        let mut allow = Vec::new();
        for i in rows.clone() {
            let method = self.routes[i].method();
            allow.push(method.clone());
            if method == Method::GET {
                allow.push(Method::HEAD);
            }
        }
        let format = rows
            .map(|i| self.routes[i].errors())
            .next()
            .unwrap_or(super::error::ErrorFormat::Problem);
        Lookup::MethodNotAllowed(allow, format)
    }

    /// Whether any route `core` serves has this path, whatever the method.
    pub(crate) fn serves_path(&self, core: &Core, path: &str, surfaces: Surfaces) -> bool {
        self.paths.at(path).is_ok_and(|matched| {
            matched
                .value
                .iter()
                .any(|&i| surfaces.contains(self.routes[i].surface()) && self.serves(core, i))
        })
    }
}
