//! Paging a listing: `limit` and an opaque `cursor` from the query string.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::body::Form;
use super::error::ApiError;
use crate::store::Cursor;
use crate::validation::ValidationErrors;

/// The default and largest page sizes.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

/// Where a page starts and how long it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Page {
    pub(crate) limit: u32,
    pub(crate) after: Option<Cursor>,
}

impl Page {
    /// `limit` (1 to 200, default 50) and `cursor` (from a previous page of the collection whose
    /// cursors carry `prefix`); other parameters are ignored.
    pub(crate) fn from_query(query: &Form, prefix: &str) -> Result<Self, ApiError> {
        let mut errors = ValidationErrors::default();
        let limit = match query.get("limit").map(str::parse::<u32>) {
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
        let after = match query.get("cursor").map(|c| decode(c, prefix)) {
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
            .into_result(Self { limit, after })
            .map_err(ApiError::Invalid)
    }

    /// The opaque cursor for `position` in the collection of `prefix`.
    pub(crate) fn cursor(position: Cursor, prefix: &str) -> String {
        URL_SAFE_NO_PAD.encode(format!("{prefix}{}", position.0))
    }
}

fn decode(text: &str, prefix: &str) -> Option<Cursor> {
    let raw = URL_SAFE_NO_PAD.decode(text).ok()?;
    let raw = std::str::from_utf8(&raw).ok()?;
    raw.strip_prefix(prefix)?.parse().ok().map(Cursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(query: &str) -> Result<Page, ApiError> {
        Page::from_query(&Form::parse(query.as_bytes())?, "apps:")
    }

    #[test]
    fn cursors_round_trip_and_refuse_junk() {
        let c = Cursor(42);
        assert_eq!(decode(&Page::cursor(c, "apps:"), "apps:"), Some(c));
        assert_eq!(decode("nope", "apps:"), None);
        assert_eq!(decode(&Page::cursor(c, "webhooks:"), "apps:"), None);
    }

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(
            page("").unwrap(),
            Page {
                limit: 50,
                after: None
            }
        );
        assert_eq!(page("limit=200&other=1").unwrap().limit, 200);
        for bad in ["limit=0", "limit=201", "limit=x", "cursor=zz"] {
            assert!(matches!(page(bad), Err(ApiError::Invalid(_))), "{bad}");
        }
        assert!(matches!(
            page("limit=1&limit=2"),
            Err(ApiError::RepeatedParameter(_))
        ));
    }
}
