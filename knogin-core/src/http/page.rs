//! Paging a listing: `limit` and an opaque `cursor` from the query string.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::body::Form;
use super::error::ApiError;
use crate::id::TenantId;
use crate::keys::{MasterKey, Purpose};
use crate::store::Cursor;
use crate::validation::ValidationErrors;

/// The query parameters of a paged list: `limit` and `cursor`.
pub(crate) const PAGED: &[(&str, &[&str])] = &[("limit", &[]), ("cursor", &[])];

/// The default and largest page sizes.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

/// Where a page starts and how long it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Page {
    pub(crate) limit: u32,
    pub(crate) after: Option<Cursor>,
}

/// Seals and opens the cursors of one collection for one tenant. A cursor is the store's position
/// sealed under the master key with the tenant and collection as context: opaque (it does not
/// reveal how many objects the platform holds), unforgeable, and refused in another tenant or
/// listing.
pub(crate) struct Cursors<'a> {
    pub(crate) key: &'a MasterKey,
    pub(crate) tenant: &'a TenantId,
    pub(crate) collection: &'static str,
}

impl Cursors<'_> {
    fn context(&self) -> Vec<u8> {
        [
            self.tenant.as_str().as_bytes(),
            b"\0",
            self.collection.as_bytes(),
        ]
        .concat()
    }

    /// The opaque cursor for `position`.
    pub(crate) fn seal(&self, position: Cursor) -> String {
        let sealed = self.key.seal(
            Purpose::PageCursor,
            &self.context(),
            &position.0.to_be_bytes(),
        );
        URL_SAFE_NO_PAD.encode(sealed)
    }

    /// The position a cursor of this tenant's collection names.
    pub(crate) fn open(&self, text: &str) -> Option<Cursor> {
        let sealed = URL_SAFE_NO_PAD.decode(text).ok()?;
        let plain = self
            .key
            .open(Purpose::PageCursor, &self.context(), &sealed)?;
        Some(Cursor(i64::from_be_bytes(
            plain.as_slice().try_into().ok()?,
        )))
    }
}

impl Page {
    /// `limit` (1 to 200, default 50) and `cursor` (from a previous page of the same listing);
    /// other parameters are ignored.
    pub(crate) fn from_query(query: &Form, cursors: &Cursors<'_>) -> Result<Self, ApiError> {
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
        let after = match query.get("cursor").map(|c| cursors.open(c)) {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursors<'a>(key: &'a MasterKey, tenant: &'a TenantId) -> Cursors<'a> {
        Cursors {
            key,
            tenant,
            collection: "apps",
        }
    }

    #[test]
    fn cursors_are_opaque_and_bound_to_their_tenant_and_listing() {
        let key = MasterKey::generate();
        let (t1, t2) = (
            TenantId::parse("t1").unwrap(),
            TenantId::parse("t2").unwrap(),
        );
        // A position long enough that its digits cannot turn up in the ciphertext by chance
        // (a two-digit one does in about one cursor in a hundred).
        let position = 918_273_645_546_372_819;
        let c = cursors(&key, &t1).seal(Cursor(position));
        assert!(!c.contains(&position.to_string()));
        assert_eq!(cursors(&key, &t1).open(&c), Some(Cursor(position)));
        assert_eq!(cursors(&key, &t2).open(&c), None);
        let webhooks = Cursors {
            collection: "webhooks",
            ..cursors(&key, &t1)
        };
        assert_eq!(webhooks.open(&c), None);
        assert_eq!(cursors(&key, &t1).open("nope"), None);
        assert_ne!(
            cursors(&key, &t1).seal(Cursor(position)),
            c,
            "each cursor is sealed afresh"
        );
    }

    #[test]
    fn defaults_and_bounds() {
        let key = MasterKey::generate();
        let tenant = TenantId::parse("t1").unwrap();
        let page = |query: &str| {
            Page::from_query(&Form::parse(query.as_bytes())?, &cursors(&key, &tenant))
        };
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
