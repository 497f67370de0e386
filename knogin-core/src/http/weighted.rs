//! Lists with quality values (RFC 9110 §12.4.2): `Accept`, `Accept-Language`.

use http::{HeaderMap, HeaderName};

/// Each item of every `name` header with its weight (`q`, default 1): `text/html;q=0.5` is
/// `("text/html", 0.5)`. Items keep their case; a header that is not text is skipped.
pub(crate) fn weighted<'h>(
    headers: &'h HeaderMap,
    name: &HeaderName,
) -> impl Iterator<Item = (&'h str, f32)> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|item| {
            let mut parts = item.split(';');
            let value = parts.next().unwrap_or("").trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (value, q)
        })
}
