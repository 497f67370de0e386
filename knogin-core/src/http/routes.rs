//! The route table: every route of the contract, one row each, and the matcher over it.

use http::Method;

use crate::scope::ADMIN_SCOPE;

/// What a route does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Endpoint {
    /// `GET /v1/platform/scopes`.
    ListScopes,
    /// `GET /v1/platform/apps`.
    ListApps,
    /// `POST /v1/platform/apps`.
    CreateApp,
    /// `GET /v1/platform/apps/{client_id}`.
    GetApp,
    /// `PATCH /v1/platform/apps/{client_id}/governance`.
    UpdateGovernance,
    /// `POST /v1/platform/apps/{client_id}/rotate-secret`.
    RotateSecret,
    /// `GET /.well-known/jwks.json` and `GET /v1/auth/jwks.json`.
    Jwks,
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Access {
    /// Anyone.
    Public,
    /// A bearer token of this issuer that carries the scope.
    Bearer(&'static str),
}

/// One row of the route table.
#[derive(Debug, Clone)]
pub struct Route {
    /// The HTTP method.
    pub method: Method,
    /// The path, with `{name}` for a parameter (axum's syntax).
    pub path: &'static str,
    /// What it does.
    pub endpoint: Endpoint,
    /// Who may call it.
    pub access: Access,
    /// One line for docs.
    pub summary: &'static str,
}

const ADMIN: Access = Access::Bearer(ADMIN_SCOPE);

/// Every route the core serves.
pub static ROUTES: &[Route] = &[
    Route {
        method: Method::GET,
        path: "/v1/platform/scopes",
        endpoint: Endpoint::ListScopes,
        access: ADMIN,
        summary: "List available scopes",
    },
    Route {
        method: Method::GET,
        path: "/v1/platform/apps",
        endpoint: Endpoint::ListApps,
        access: ADMIN,
        summary: "List platform apps",
    },
    Route {
        method: Method::POST,
        path: "/v1/platform/apps",
        endpoint: Endpoint::CreateApp,
        access: ADMIN,
        summary: "Create a platform app",
    },
    Route {
        method: Method::GET,
        path: "/v1/platform/apps/{client_id}",
        endpoint: Endpoint::GetApp,
        access: ADMIN,
        summary: "Inspect an integration app",
    },
    Route {
        method: Method::PATCH,
        path: "/v1/platform/apps/{client_id}/governance",
        endpoint: Endpoint::UpdateGovernance,
        access: ADMIN,
        summary: "Update app governance",
    },
    Route {
        method: Method::POST,
        path: "/v1/platform/apps/{client_id}/rotate-secret",
        endpoint: Endpoint::RotateSecret,
        access: ADMIN,
        summary: "Rotate an app secret",
    },
    Route {
        method: Method::GET,
        path: "/.well-known/jwks.json",
        endpoint: Endpoint::Jwks,
        access: Access::Public,
        summary: "OpenID-compatible JWKS discovery",
    },
    Route {
        method: Method::GET,
        path: "/v1/auth/jwks.json",
        endpoint: Endpoint::Jwks,
        access: Access::Public,
        summary: "Versioned JWKS endpoint",
    },
];

/// The result of looking a request up in the table.
#[derive(Debug)]
pub(crate) enum Lookup<'p> {
    /// A route, and the path's one parameter if it has one.
    Found(&'static Route, Option<&'p str>),
    /// The path exists with other methods (the `Allow` list).
    MethodNotAllowed(Vec<&'static Method>),
    /// No route has this path.
    NotFound,
}

/// Finds the route for `method` and `path`. `HEAD` finds the `GET` route (RFC 9110 §9.3.2).
pub(crate) fn find<'p>(method: &Method, path: &'p str) -> Lookup<'p> {
    let wanted = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    let mut allow = Vec::new();
    for route in ROUTES {
        if let Some(Matched(param)) = match_path(route.path, path) {
            if route.method == *wanted {
                return Lookup::Found(route, param);
            }
            allow.push(&route.method);
            if route.method == Method::GET {
                allow.push(&Method::HEAD);
            }
        }
    }
    if allow.is_empty() {
        Lookup::NotFound
    } else {
        Lookup::MethodNotAllowed(allow)
    }
}

/// Whether any route has this path, whatever the method: the hyper adapter uses it to decide
/// between the contract and the embedder's own service.
pub fn serves_path(path: &str) -> bool {
    ROUTES.iter().any(|r| match_path(r.path, path).is_some())
}

/// A path that matched a template, with the value of its one `{…}` segment if it has one.
#[derive(Debug, PartialEq, Eq)]
struct Matched<'p>(Option<&'p str>);

/// Matches `path` against `template`. A parameter never matches an empty segment.
fn match_path<'p>(template: &str, path: &'p str) -> Option<Matched<'p>> {
    let mut param = None;
    let mut t = template.split('/');
    let mut p = path.split('/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return Some(Matched(param)),
            (Some(ts), Some(ps)) if ts.starts_with('{') => {
                if ps.is_empty() {
                    return None;
                }
                param = Some(ps);
            }
            (Some(ts), Some(ps)) if ts == ps => {}
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_literal_and_parameter_paths() {
        assert_eq!(
            match_path("/v1/platform/apps", "/v1/platform/apps"),
            Some(Matched(None))
        );
        assert_eq!(
            match_path(
                "/v1/platform/apps/{client_id}/governance",
                "/v1/platform/apps/app_1/governance"
            ),
            Some(Matched(Some("app_1")))
        );
        assert_eq!(
            match_path("/v1/platform/apps/{client_id}", "/v1/platform/apps/"),
            None
        );
        assert_eq!(match_path("/v1/platform/apps", "/v1/platform/apps/"), None);
        assert_eq!(
            match_path("/v1/platform/apps/{client_id}", "/v1/platform/apps/a/b"),
            None
        );
    }

    #[test]
    fn only_the_jwks_routes_are_public() {
        // The dispatcher relies on this: every other endpoint gets a verified caller.
        for route in ROUTES {
            let public = route.endpoint == Endpoint::Jwks;
            assert_eq!(route.access == Access::Public, public, "{}", route.path);
        }
    }

    #[test]
    fn lookup_tells_missing_paths_from_wrong_methods() {
        assert!(
            matches!(find(&Method::GET, "/v1/platform/apps"), Lookup::Found(r, None) if r.endpoint == Endpoint::ListApps)
        );
        match find(&Method::DELETE, "/v1/platform/apps") {
            Lookup::MethodNotAllowed(allow) => {
                assert_eq!(allow, [&Method::GET, &Method::HEAD, &Method::POST]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            find(&Method::GET, "/api/v1/platform/apps"),
            Lookup::NotFound
        ));
        assert!(matches!(
            find(&Method::GET, "/v1/saml/metadata"),
            Lookup::NotFound
        ));
        assert!(
            matches!(find(&Method::HEAD, "/v1/auth/jwks.json"), Lookup::Found(r, None) if r.method == Method::GET)
        );
        assert!(serves_path("/.well-known/jwks.json"));
        assert!(!serves_path("/"));
    }
}
