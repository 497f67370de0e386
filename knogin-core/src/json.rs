//! JSON objects written field by field, for what every token writes: its claims, the token
//! answer and the audit event. serde_json tests each byte of a string for escaping in a loop of its own; here
//! one branch-free scan tells whether a string needs any escape (a token never does), and one
//! that needs none is copied whole. One that does is written by serde_json, so the bytes are
//! serde_json's either way.

/// A JSON object being written.
pub(crate) struct Object {
    out: Vec<u8>,
    empty: bool,
}

impl Object {
    /// An empty object, with room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        let mut out = Vec::with_capacity(capacity);
        out.push(b'{');
        Self { out, empty: true }
    }

    /// Adds `"key":` (the keys are the code's own names, which need no escape).
    fn key(&mut self, key: &'static str) {
        debug_assert!(!needs_escape(key.as_bytes()), "a key that needs escaping");
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    /// Adds a string.
    pub(crate) fn str(&mut self, key: &'static str, value: &str) -> &mut Self {
        self.key(key);
        string(&mut self.out, value);
        self
    }

    /// Adds a string, or `null`.
    pub(crate) fn str_or_null(&mut self, key: &'static str, value: Option<&str>) -> &mut Self {
        match value {
            Some(value) => self.str(key, value),
            None => {
                self.key(key);
                self.out.extend_from_slice(b"null");
                self
            }
        }
    }

    /// Adds a number.
    pub(crate) fn u64(&mut self, key: &'static str, value: u64) -> &mut Self {
        self.key(key);
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
        self
    }

    /// Adds a signed number.
    pub(crate) fn i64(&mut self, key: &'static str, value: i64) -> &mut Self {
        self.key(key);
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
        self
    }

    /// Adds any value, as serde_json writes it: for the shapes that are not a string or a
    /// number.
    pub(crate) fn value(&mut self, key: &'static str, value: &impl serde::Serialize) -> &mut Self {
        self.key(key);
        serde_json::to_writer(&mut self.out, value).expect("the value serializes");
        self
    }

    /// The object's bytes.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.out.push(b'}');
        self.out
    }
}

/// Appends `value` as a JSON string.
fn string(out: &mut Vec<u8>, value: &str) {
    if needs_escape(value.as_bytes()) {
        serde_json::to_writer(out, value).expect("a string serializes");
    } else {
        out.reserve(value.len() + 2);
        out.push(b'"');
        out.extend_from_slice(value.as_bytes());
        out.push(b'"');
    }
}

/// Whether any of `bytes` is one JSON escapes (RFC 8259 §7: the quote, the backslash and the
/// control characters), tested without a branch per byte.
#[expect(
    clippy::needless_bitwise_bool,
    reason = "no branch per byte: the compiler tests many bytes at once"
)]
fn needs_escape(bytes: &[u8]) -> bool {
    bytes.iter().fold(false, |seen, &b| {
        seen | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_serde_jsons() {
        for value in [
            "",
            "plain ascii",
            "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJodHRwIn0.c2ln",
            "quote \" and backslash \\",
            "controls \u{0}\u{1}\u{8}\t\n\u{c}\r\u{1b}\u{1f} and DEL \u{7f}",
            "non-ASCII é ☃ \u{2028} 😀 \u{85}",
            "/slashes/ <html> & 'single'",
        ] {
            let mut ours = Vec::new();
            string(&mut ours, value);
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(value).unwrap(),
                "{value:?}"
            );
        }
    }

    #[test]
    fn objects_are_json() {
        assert_eq!(Object::with_capacity(0).finish(), b"{}");
        let mut object = Object::with_capacity(64);
        object
            .str("a", "x\"y")
            .u64("n", u64::MAX)
            .str_or_null("none", None)
            .str_or_null("some", Some("z"))
            .i64("i", i64::MIN)
            .value("v", &["x", "y"]);
        let text = String::from_utf8(object.finish()).unwrap();
        assert_eq!(
            text,
            r#"{"a":"x\"y","n":18446744073709551615,"none":null,"some":"z","i":-9223372036854775808,"v":["x","y"]}"#
        );
        serde_json::from_str::<serde_json::Value>(&text).unwrap();
    }
}
