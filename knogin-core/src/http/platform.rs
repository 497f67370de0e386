//! The platform routes: scopes, apps, governance, secret rotation. Each handler parses, calls
//! one operation on [`Knogin`], and renders.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::request::Parts;
use http::{Response, StatusCode};
use serde::Serialize;
use serde_json::Value;

use super::bearer::Bearer;
use super::error::ApiError;
use super::fields::Fields;
use super::{ResponseBody, json, json_no_store};
use crate::apps::{AppView, GovernancePatch, Registration};
use crate::id::AppId;
use crate::knogin::Knogin;
use crate::scope::Scope;
use crate::store::Cursor;
use crate::validation::ValidationErrors;

/// The default and largest page size of `GET /v1/platform/apps`.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;
const CURSOR_PREFIX: &str = "apps:";

type Result<T = Response<ResponseBody>> = std::result::Result<T, ApiError>;

const UNKNOWN_APP: &str = "No app with this client_id exists in your tenant.";

/// The app id in the path; an id that cannot exist is as unknown as one that does not.
pub(super) fn app_id(param: Option<&str>) -> Result<AppId> {
    param
        .and_then(AppId::parse)
        .ok_or(ApiError::NotFound(UNKNOWN_APP))
}

pub(super) fn list_scopes(knogin: &Knogin) -> Response<ResponseBody> {
    #[derive(Serialize)]
    struct Body<'a> {
        scopes: &'a [Scope],
    }
    json(
        StatusCode::OK,
        &Body {
            scopes: knogin.scopes().scopes(),
        },
    )
}

pub(super) async fn create_app(knogin: &Knogin, caller: &Bearer, body: Value) -> Result {
    let mut fields = Fields::new(body)?;
    let registration = Registration {
        name: fields.string("name"),
        grant_types: fields.strings("grant_types", true),
        redirect_uris: fields.strings("redirect_uris", false),
        requested_scopes: fields.strings("requested_scopes", false),
    };
    let app = fields.finish_with(knogin.check_registration(&caller.tenant, registration))?;
    let secret = knogin.store_app(&app).await?;

    Ok(json_no_store(
        StatusCode::CREATED,
        &AppView::from(&app).with_secret(secret.expose()),
    ))
}

pub(super) async fn list_apps(knogin: &Knogin, caller: &Bearer, parts: &Parts) -> Result {
    let (limit, after) = page_query(parts.uri.query().unwrap_or(""))?;
    let page = knogin.list_apps(&caller.tenant, after, limit).await?;

    #[derive(Serialize)]
    struct Body<'a> {
        apps: Vec<AppView<'a>>,
        next_cursor: Option<String>,
    }
    Ok(json(
        StatusCode::OK,
        &Body {
            apps: page.apps.iter().map(AppView::from).collect(),
            next_cursor: page.next.map(encode_cursor),
        },
    ))
}

pub(super) async fn get_app(knogin: &Knogin, caller: &Bearer, id: &AppId) -> Result {
    let app = knogin.app(&caller.tenant, id).await?;
    Ok(json(StatusCode::OK, &AppView::from(&app)))
}

pub(super) async fn update_governance(
    knogin: &Knogin,
    caller: &Bearer,
    id: &AppId,
    body: Value,
) -> Result {
    let mut fields = Fields::new(body)?;
    let patch = GovernancePatch {
        allow_service_tokens: fields.bool("allow_service_tokens"),
        enforce_pkce: fields.bool("enforce_pkce"),
    };
    fields.finish()?;
    if patch.is_empty() {
        let mut errors = ValidationErrors::default();
        errors.push(
            "body",
            "must set allow_service_tokens, enforce_pkce, or both",
        );
        return Err(errors.into());
    }
    let governance = knogin.update_governance(&caller.tenant, id, patch).await?;

    #[derive(Serialize)]
    struct Body<'a> {
        client_id: &'a str,
        governance: crate::apps::Governance,
    }
    Ok(json(
        StatusCode::OK,
        &Body {
            client_id: id.as_str(),
            governance,
        },
    ))
}

pub(super) async fn rotate_secret(knogin: &Knogin, caller: &Bearer, id: &AppId) -> Result {
    let secret = knogin.rotate_secret(&caller.tenant, id).await?;

    #[derive(Serialize)]
    struct Body<'a> {
        client_id: &'a str,
        client_secret: &'a str,
    }
    Ok(json_no_store(
        StatusCode::OK,
        &Body {
            client_id: id.as_str(),
            client_secret: secret.expose(),
        },
    ))
}

/// `limit` (1 to 200, default 50) and `cursor` from the query string.
fn page_query(query: &str) -> Result<(u32, Option<Cursor>)> {
    let mut errors = ValidationErrors::default();
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_else(|_| {
        errors.push("query", "is not a valid form-encoded query string");
        Vec::new()
    });
    let mut limit = None;
    let mut cursor = None;
    for (name, value) in pairs {
        let slot = match name.as_str() {
            "limit" => &mut limit,
            "cursor" => &mut cursor,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            errors.push(name, "is given more than once");
        }
    }
    let limit = match limit.map(|l| l.parse::<u32>()) {
        None => DEFAULT_LIMIT,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            errors.push(
                "limit",
                format!("must be a whole number from 1 to {MAX_LIMIT}"),
            );
            DEFAULT_LIMIT
        }
    };
    let after = match cursor.as_deref().map(decode_cursor) {
        None => None,
        Some(Some(c)) => Some(c),
        Some(None) => {
            errors.push(
                "cursor",
                "is not a cursor from a previous page's next_cursor",
            );
            None
        }
    };
    errors
        .into_result((limit, after))
        .map_err(ApiError::Invalid)
}

fn encode_cursor(cursor: Cursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{}", cursor.0))
}

fn decode_cursor(text: &str) -> Option<Cursor> {
    let raw = URL_SAFE_NO_PAD.decode(text).ok()?;
    let raw = std::str::from_utf8(&raw).ok()?;
    raw.strip_prefix(CURSOR_PREFIX)?.parse().ok().map(Cursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_junk() {
        let c = Cursor(42);
        assert_eq!(decode_cursor(&encode_cursor(c)), Some(c));
        assert_eq!(decode_cursor("nope"), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("webhooks:1")), None);
    }

    #[test]
    fn page_query_defaults_and_bounds() {
        assert_eq!(page_query("").unwrap(), (50, None));
        assert_eq!(page_query("limit=200&other=1").unwrap(), (200, None));
        for bad in [
            "limit=0",
            "limit=201",
            "limit=x",
            "limit=1&limit=2",
            "cursor=zz",
        ] {
            assert!(
                matches!(page_query(bad), Err(ApiError::Invalid(_))),
                "{bad}"
            );
        }
    }
}
