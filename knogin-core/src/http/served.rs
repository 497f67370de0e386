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
///
/// It is held inline, not on the heap: a request makes one and passes copies to its log line
/// and its routes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CorrelationId {
    /// The id's characters (ASCII), then zeros.
    bytes: [u8; MAX_LEN],
    len: u8,
}

/// The longest correlation id, in characters.
const MAX_LEN: usize = 64;

/// This process's prefix of generated ids: random, so ids of several instances do not collide.
static PREFIX: LazyLock<String> = LazyLock::new(|| random::hex(4));
/// Generated ids so far.
static NEXT: AtomicU64 = AtomicU64::new(0);

impl CorrelationId {
    /// A new id, unique across processes: this process's random prefix and a counter, so making
    /// one costs no system call.
    pub fn generate() -> Self {
        numbered(&PREFIX, NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// `id` as a correlation id, if it is 1 to 64 characters from A-Z a-z 0-9 `.` `_` `-` (an
    /// id a proxy or the client sent, say); anything else could forge log lines.
    pub fn parse(id: &str) -> Option<Self> {
        let valid = (1..=MAX_LEN).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        valid.then(|| Self::from_ascii(id.as_bytes()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)])
            .expect("a correlation id is ASCII")
    }

    /// The id of `ascii`, which is at most [`MAX_LEN`] ASCII characters.
    fn from_ascii(ascii: &[u8]) -> Self {
        let mut bytes = [0; MAX_LEN];
        bytes[..ascii.len()].copy_from_slice(ascii);
        Self {
            bytes,
            len: u8::try_from(ascii.len()).expect("at most 64 characters"),
        }
    }
}

impl fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CorrelationId")
            .field(&self.as_str())
            .finish()
    }
}

/// `prefix` and `n` in lowercase hex, at least 8 digits: what `format!("{prefix}{n:08x}")`
/// writes, without the formatting machinery (one id per request). `prefix` is ASCII and at most
/// 48 characters.
fn numbered(prefix: &str, n: u64) -> CorrelationId {
    let digits = (16 - n.leading_zeros() as usize / 4).max(8);
    let mut id = [0; MAX_LEN];
    id[..prefix.len()].copy_from_slice(prefix.as_bytes());
    for (i, at) in id[prefix.len()..prefix.len() + digits]
        .iter_mut()
        .enumerate()
    {
        let shift = 4 * (digits - 1 - i);
        let nibble = (n >> shift).to_le_bytes()[0] & 0xf;
        *at = crate::hex::DIGITS[usize::from(nibble)];
    }
    CorrelationId::from_ascii(&id[..prefix.len() + digits])
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
                numbered("3fa9c2e1", n).as_str(),
                format!("3fa9c2e1{n:08x}"),
                "{n:#x}"
            );
        }
        let id = CorrelationId::generate();
        assert!(id.as_str().starts_with(PREFIX.as_str()));
        assert_eq!(id.as_str().len(), PREFIX.len() + 8);
    }

    #[test]
    fn ids_of_up_to_64_characters_are_kept_as_they_came() {
        for id in ["a", "req-1234", "A.b_C-9", &"x".repeat(64)] {
            let parsed = CorrelationId::parse(id).unwrap();
            assert_eq!(parsed.as_str(), id);
            assert_eq!(parsed.to_string(), id);
            assert_eq!(format!("{parsed:?}"), format!("CorrelationId({id:?})"));
        }
        assert_ne!(
            CorrelationId::parse("ab").unwrap(),
            CorrelationId::parse("abc").unwrap()
        );
    }

    #[test]
    fn ids_that_could_forge_log_lines_are_refused() {
        for bad in ["", "a b", "a\nb", "é", &"x".repeat(65)] {
            assert_eq!(CorrelationId::parse(bad), None, "{bad:?}");
        }
    }
}
