//! What a request's answer tells the server around the routes: the route it matched, and the
//! correlation id its log lines share.

use std::fmt;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::random;

/// The template of the route that answered a request, e.g. `/v1/webhooks/{webhook_id}`: a
/// response extension of every answer that matched a route (none on a 404 for an unknown
/// path). A request log or a metric labels by it, never by the raw path, so ids in paths do not
/// make a label per object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchedRoute(pub(crate) &'static str);

impl MatchedRoute {
    /// The template, as the route table and the OpenAPI document write it.
    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for MatchedRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A request's correlation id, as a request extension: the request log line, and an internal
/// error's log line and answer (`correlation_id`), carry the same one. A server sets it before
/// the request reaches the routes (the reference server makes one per request with
/// [`CorrelationId::generate`]); without one, an internal error gets its own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CorrelationId(String);

/// This process's prefix of generated ids: random, so ids of several instances do not collide.
static PREFIX: LazyLock<String> = LazyLock::new(|| random::hex(4));
/// Generated ids so far.
static NEXT: AtomicU64 = AtomicU64::new(0);

impl CorrelationId {
    /// A new id, unique across processes: this process's random prefix and a counter, so making
    /// one costs no system call.
    pub fn generate() -> Self {
        Self(numbered(&PREFIX, NEXT.fetch_add(1, Ordering::Relaxed)))
    }

    /// `id` as a correlation id, if it is 1 to 64 characters from A-Z a-z 0-9 `.` `_` `-` (an
    /// id a proxy or the client sent, say); anything else could forge log lines.
    pub fn parse(id: &str) -> Option<Self> {
        let valid = (1..=64).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        valid.then(|| Self(id.to_owned()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `prefix` and `n` in lowercase hex, at least 8 digits: what `format!("{prefix}{n:08x}")`
/// writes, without the formatting machinery (one id per request).
fn numbered(prefix: &str, n: u64) -> String {
    let digits = (16 - n.leading_zeros() as usize / 4).max(8);
    let mut id = String::with_capacity(prefix.len() + digits);
    id.push_str(prefix);
    let nibbles = n.to_be_bytes().into_iter().flat_map(|b| [b >> 4, b & 0xf]);
    for nibble in nibbles.skip(16 - digits) {
        id.push(char::from(crate::hex::DIGITS[usize::from(nibble)]));
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_differ_and_parse_back() {
        let (a, b) = (CorrelationId::generate(), CorrelationId::generate());
        assert_ne!(a, b);
        assert_eq!(CorrelationId::parse(a.as_str()), Some(a));
    }

    #[test]
    fn generated_ids_are_the_prefix_and_the_counter_in_hex() {
        for n in [
            0,
            0xf,
            0xa5a5,
            0xffff_ffff,
            0x1_0000_0000,
            0xdead_beef_cafe,
            u64::MAX,
        ] {
            assert_eq!(
                numbered("3fa9c2e1", n),
                format!("3fa9c2e1{n:08x}"),
                "{n:#x}"
            );
        }
        let id = CorrelationId::generate();
        assert!(id.as_str().starts_with(PREFIX.as_str()));
        assert_eq!(id.as_str().len(), PREFIX.len() + 8);
    }

    #[test]
    fn ids_that_could_forge_log_lines_are_refused() {
        for bad in ["", "a b", "a\nb", "é", &"x".repeat(65)] {
            assert_eq!(CorrelationId::parse(bad), None, "{bad:?}");
        }
    }
}
