//! `error_description` values as RFC 6749 allows them: `%x20-21 / %x23-5B / %x5D-7E` only
//! (§5.2, §4.1.2.1), so strict clients accept every error this server answers.

/// `text` as an `error_description`: a double quote becomes `'`, a backslash `/`, `§` the word
/// "section", and any other character outside printable ASCII `?`.
pub(crate) fn error_description(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push('\''),
            '\\' => out.push('/'),
            '§' => out.push_str("section "),
            ' '..='~' => out.push(c),
            _ => out.push('?'),
        }
    }
    out
}

/// Whether `text` is a valid `error_description` (RFC 6749 §5.2).
#[cfg(test)]
pub(crate) fn is_valid(text: &str) -> bool {
    text.bytes()
        .all(|b| matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_characters_rfc_6749_allows_remain() {
        let made = error_description("the scope \"a\\b\" breaks §3.3 — é\n\u{0}");
        assert_eq!(made, "the scope 'a/b' breaks section 3.3 ? ???");
        assert!(is_valid(&made));
        assert!(!is_valid("\"quoted\""));
    }
}
