//! Identifier newtypes, parsed once at the edge.

use std::fmt;

use crate::random;

/// `as_str`, `Debug` (quoted) and `Display` (bare) for a newtype over `String`.
macro_rules! text_id {
    ($name:ident) => {
        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// Length of the random part of a generated id, in hex digits (128 bits).
const RANDOM_HEX_LEN: usize = 32;

/// Defines an id newtype generated here: a prefix followed by 32 lowercase hex digits of
/// randomness (128 bits), with `generate`, `parse`, `as_str`, `Debug` and `Display`.
macro_rules! random_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The prefix every id of this kind carries.
            pub const PREFIX: &'static str = $prefix;

            /// A new random id.
            pub fn generate() -> Self {
                Self(format!(
                    "{}{}",
                    Self::PREFIX,
                    random::hex(RANDOM_HEX_LEN / 2)
                ))
            }

            /// Parses an id, or `None` when `s` does not have the shape of one.
            pub fn parse(s: &str) -> Option<Self> {
                Self::is_well_formed(s).then(|| Self(s.to_owned()))
            }

            /// Whether `s` has the shape of an id of this kind (checked without allocating).
            pub fn is_well_formed(s: &str) -> bool {
                s.strip_prefix(Self::PREFIX).is_some_and(|rest| {
                    rest.len() == RANDOM_HEX_LEN
                        && rest.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                })
            }
        }

        text_id!($name);
    };
}

random_id!(
    /// The client id of a registered app: `app_` followed by 32 lowercase hex digits.
    ///
    /// ```
    /// use knogin_core::AppId;
    ///
    /// let id = AppId::generate();
    /// assert!(id.as_str().starts_with("app_"));
    /// assert_eq!(AppId::parse(id.as_str()), Some(id));
    /// assert_eq!(AppId::parse("wh_123"), None);
    /// ```
    AppId,
    "app_"
);

random_id!(
    /// A webhook subscription: `wh_` followed by 32 lowercase hex digits.
    ///
    /// ```
    /// use knogin_core::WebhookId;
    ///
    /// let id = WebhookId::generate();
    /// assert!(id.as_str().starts_with("wh_"));
    /// assert_eq!(WebhookId::parse(id.as_str()), Some(id));
    /// ```
    WebhookId,
    "wh_"
);

random_id!(
    /// A published event: `evt_` followed by 32 lowercase hex digits.
    EventId,
    "evt_"
);

random_id!(
    /// One event's delivery to one subscription, the same across its retries (its
    /// `webhook-id` header): `dlv_` followed by 32 lowercase hex digits.
    DeliveryId,
    "dlv_"
);

/// A tenant: the unit every app, token and webhook belongs to.
///
/// Tenant ids are chosen by the operator: 1 to 64 characters from `A-Z a-z 0-9 . _ -`.
///
/// ```
/// use knogin_core::TenantId;
///
/// assert!(TenantId::parse("acme-prod").is_some());
/// assert!(TenantId::parse("").is_none());
/// assert!(TenantId::parse("a b").is_none());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);

impl TenantId {
    /// The longest tenant id accepted.
    pub const MAX_LEN: usize = 64;

    /// Parses a tenant id, or `None` when `s` is empty, too long, or has other characters.
    pub fn parse(s: &str) -> Option<Self> {
        let ok = !s.is_empty()
            && s.len() <= Self::MAX_LEN
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        ok.then(|| Self(s.to_owned()))
    }
}

text_id!(TenantId);

/// The `kid` of a signing key, e.g. `2026-03-signing-key`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

impl KeyId {
    /// Wraps a key id read back from the store or a token header.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
}

text_id!(KeyId);

/// Lets a ring look a token's `kid` up without allocating one (`Hash` and `Eq` agree with `str`'s).
impl std::borrow::Borrow<str> for KeyId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_ids_are_prefixed_random_and_parse_back() {
        let a = AppId::generate();
        let b = AppId::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 4 + 32);
        assert_eq!(AppId::parse(a.as_str()), Some(a));
    }

    #[test]
    fn app_id_rejects_other_shapes() {
        for bad in [
            "",
            "app_",
            "app_123",
            "APP_0123456789abcdef0123456789abcdef",
            "app_0123456789ABCDEF0123456789abcdef",
        ] {
            assert_eq!(AppId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn tenant_id_bounds() {
        assert!(TenantId::parse(&"a".repeat(64)).is_some());
        assert!(TenantId::parse(&"a".repeat(65)).is_none());
        assert!(TenantId::parse("t/1").is_none());
    }
}
