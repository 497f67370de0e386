//! Lowercase hexadecimal, written without the formatting machinery.

/// The digits, indexed by a nibble's value.
pub(crate) const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// `bytes` as `2 × bytes.len()` lowercase hex digits.
pub(crate) fn lower(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(2 * bytes.len());
    for &b in bytes {
        out.extend_from_slice(&[DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0xf)]]);
    }
    String::from_utf8(out).expect("hex digits are ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_two_lowercase_digits_each() {
        assert_eq!(lower(&[]), "");
        assert_eq!(lower(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        let every: Vec<u8> = (0..=255).collect();
        let expected: Vec<String> = every.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(lower(&every), expected.concat());
    }
}
