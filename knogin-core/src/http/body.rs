//! Reading request bodies: size limits, media types, JSON that refuses duplicate members, and
//! form encoding that refuses repeated parameters.

use std::fmt;

use bytes::{Buf as _, Bytes, BytesMut};
use futures_util::future::BoxFuture;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::request::Parts;
use http_body::Body;
use http_body_util::BodyExt as _;
use http_body_util::combinators::UnsyncBoxBody;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::error::{ApiError, BodyKind};

pub use crate::error::BoxError;

/// A request body of any type, boxed so handlers are not generic over it.
pub(crate) type AnyBody = UnsyncBoxBody<Bytes, BoxError>;

/// Boxes a request body.
pub(crate) fn boxed<B>(body: B) -> AnyBody
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    body.map_frame(|frame| frame.map_data(|mut data| data.copy_to_bytes(data.remaining())))
        .map_err(Into::into)
        .boxed_unsync()
}

/// The essence of the request's `Content-Type` (`type/subtype`, lowercase, no parameters).
fn media_type(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(CONTENT_TYPE)?.to_str().ok()?;
    Some(
        value
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    )
}

/// Whether the request says its body is `kind`: for JSON, `application/json` or
/// `application/*+json`; parameters such as `charset` allowed.
pub(crate) fn is(parts: &Parts, kind: BodyKind) -> bool {
    let Some(essence) = media_type(parts) else {
        return false;
    };
    match kind {
        BodyKind::Json => {
            essence == "application/json"
                || essence
                    .strip_prefix("application/")
                    .is_some_and(|sub| sub.ends_with("+json"))
        }
        BodyKind::Form => essence == "application/x-www-form-urlencoded",
    }
}

/// The request's declared `Content-Length`, if it has a valid one.
pub(crate) fn declared_length(parts: &Parts) -> Option<u64> {
    parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// The whole body, at most `limit` bytes (checked from the declared `Content-Length` first, then
/// while reading, so a body without one is stopped too).
///
/// Boxed, so the future is `Send` for every caller without the compiler having to prove it
/// through each handler's future (rust-lang/rust#102211).
pub(crate) fn read(
    declared: Option<u64>,
    body: AnyBody,
    limit: usize,
) -> BoxFuture<'static, Result<Bytes, ApiError>> {
    Box::pin(async move {
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        let mut body = body;
        let mut bytes = BytesMut::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| ApiError::UnreadableBody)?;
            if let Ok(data) = frame.into_data() {
                if bytes.len() + data.len() > limit {
                    return Err(ApiError::PayloadTooLarge(limit));
                }
                bytes.extend_from_slice(&data);
            }
        }
        Ok(bytes.freeze())
    })
}

/// Whether a body holds nothing but whitespace.
pub(crate) fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// A JSON document, and the object members that appeared more than once in it (the first value
/// is kept, but the request is refused: a proxy or audit log may have read the other one).
pub(crate) fn parse_json(bytes: &[u8]) -> Result<(Value, Vec<String>), ApiError> {
    let mut repeated = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Strict(&mut repeated)
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    Ok((value, repeated))
}

/// Deserializes a [`Value`], recording repeated object members instead of overwriting them.
struct Strict<'r>(&'r mut Vec<String>);

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Strict(&mut *self.0))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Strict(&mut *self.0))?;
            if members.contains_key(&key) {
                self.0.push(key);
            } else {
                members.insert(key, value);
            }
        }
        Ok(Value::Object(members))
    }
}

/// The most parameters a form or query string may have: far above any route's, and a bound on
/// the work a request can cause before it is checked.
pub(crate) const MAX_PARAMETERS: usize = 64;

/// A parameter name as an error message may quote it: visible ASCII, at most 40 characters.
fn printable_name(name: &str) -> String {
    name.chars()
        .take(40)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}

/// Form-encoded parameters (a body or a query string), each name at most once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Form(std::sync::Arc<[(String, String)]>);

impl Form {
    /// Parses `application/x-www-form-urlencoded` bytes. A repeated parameter is refused
    /// (RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once"),
    /// and so are more than [`MAX_PARAMETERS`] parameters and a NUL anywhere (no name or value
    /// of the contract holds one, and a database would refuse it).
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in form_urlencoded::parse(bytes) {
            if pairs.len() == MAX_PARAMETERS {
                return Err(ApiError::BadRequest(
                    format!("The request has more than {MAX_PARAMETERS} parameters.").into(),
                ));
            }
            if name.contains('\0') || value.contains('\0') {
                return Err(ApiError::BadRequest(
                    format!(
                        "The parameter {} holds a NUL character.",
                        printable_name(&name)
                    )
                    .into(),
                ));
            }
            // At most 64 names: a scan costs less than hashing each one.
            if pairs.iter().any(|(seen, _)| *seen == name) {
                return Err(ApiError::RepeatedParameter(name.into_owned()));
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        Ok(Self(pairs.into()))
    }

    /// The value of parameter `name`. An empty value counts as absent (RFC 6749 §3.1).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// Every parameter, in the order sent.
    pub(crate) fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_json_members_are_recorded_at_any_depth() {
        let (value, repeated) = parse_json(br#"{"a":false,"a":true,"b":[{"c":1,"c":2}]}"#).unwrap();
        assert_eq!(value["a"], false, "the first value is kept");
        assert_eq!(repeated, ["a", "c"]);
        assert!(matches!(
            parse_json(b"{} {}"),
            Err(ApiError::MalformedJson(_))
        ));
    }

    #[test]
    fn forms_refuse_repeated_parameters_and_treat_empty_as_absent() {
        let form = Form::parse(b"grant_type=client_credentials&scope=&x=a%20b+c").unwrap();
        assert_eq!(form.get("grant_type"), Some("client_credentials"));
        assert_eq!(form.get("scope"), None);
        assert_eq!(form.get("x"), Some("a b c"));
        assert!(matches!(
            Form::parse(b"scope=a&scope=b"),
            Err(ApiError::RepeatedParameter(name)) if name == "scope"
        ));
    }

    #[test]
    fn forms_refuse_nul_and_too_many_parameters() {
        for bad in [&b"client_id=%00"[..], b"a%00=1", b"x=1&user\0name=2"] {
            assert!(
                matches!(Form::parse(bad), Err(ApiError::BadRequest(_))),
                "{bad:?}"
            );
        }
        let many: Vec<String> = (0..=MAX_PARAMETERS).map(|i| format!("p{i}=")).collect();
        assert!(Form::parse(many[..MAX_PARAMETERS].join("&").as_bytes()).is_ok());
        assert!(matches!(
            Form::parse(many.join("&").as_bytes()),
            Err(ApiError::BadRequest(_))
        ));
    }
}
