//! Typed request bodies from a JSON object, naming every field that is missing, mistyped,
//! unknown or repeated, together with what the policy finds wrong with the rest.

use serde_json::{Map, Value};

use super::error::ApiError;
use crate::apps::{Override, SecurityProfile};
use crate::validation::ValidationErrors;

/// A request body type read from a JSON object, field by field.
pub(crate) trait FromFields: Sized {
    /// Takes the type's fields out of `fields`; problems are recorded there, not returned.
    fn from_fields(fields: &mut Fields) -> Self;
}

/// A typed body and the problems found while reading it.
pub(crate) struct Parsed<T> {
    value: T,
    fields: Fields,
}

impl<T: FromFields> Parsed<T> {
    /// Reads `T` out of a JSON document.
    pub(crate) fn from_json(bytes: &[u8]) -> Result<Self, ApiError> {
        let (value, repeated) = super::body::parse_json(bytes)?;
        Self::new(value, repeated)
    }

    /// Reads `T` out of `value`, which must be an object; `repeated` are members given twice.
    fn new(value: Value, repeated: Vec<String>) -> Result<Self, ApiError> {
        let Value::Object(map) = value else {
            let mut errors = ValidationErrors::default();
            errors.push("body", "must be a JSON object");
            return Err(ApiError::Invalid(errors));
        };
        let mut fields = Fields {
            map,
            errors: ValidationErrors::default(),
        };
        for name in repeated {
            fields.errors.push(name, "is given more than once");
        }
        Ok(Self {
            value: T::from_fields(&mut fields),
            fields,
        })
    }

    /// The value of an absent optional body.
    pub(crate) fn empty() -> Self
    where
        T: Default,
    {
        Self {
            value: T::default(),
            fields: Fields {
                map: Map::new(),
                errors: ValidationErrors::default(),
            },
        }
    }

    /// The value, or every problem found reading it.
    pub(crate) fn into_inner(self) -> Result<T, ApiError> {
        self.check(Ok)
    }

    /// Runs `policy` on the value and reports its findings together with the reading problems,
    /// so the caller learns about every bad field at once. A field that was mistyped is reported
    /// once, for its type.
    pub(crate) fn check<U>(
        self,
        policy: impl FnOnce(T) -> Result<U, ValidationErrors>,
    ) -> Result<U, ApiError> {
        let mut errors = self.fields.finish();
        match policy(self.value) {
            Ok(value) if errors.is_empty() => Ok(value),
            Ok(_) => Err(ApiError::Invalid(errors)),
            Err(policy) => {
                let base = |field: &str| field.split('[').next().unwrap_or(field).to_owned();
                let reported: Vec<String> = errors.0.iter().map(|e| base(&e.field)).collect();
                errors.0.extend(
                    policy
                        .0
                        .into_iter()
                        .filter(|e| !reported.contains(&base(&e.field))),
                );
                Err(ApiError::Invalid(errors))
            }
        }
    }
}

/// The members of a JSON object body, taken one by one.
pub(crate) struct Fields {
    map: Map<String, Value>,
    errors: ValidationErrors,
}

impl Fields {
    /// A required string member.
    pub(crate) fn string(&mut self, name: &str) -> String {
        match self.map.remove(name) {
            Some(Value::String(s)) => s,
            None => {
                self.errors.push(name, "is required");
                String::new()
            }
            Some(_) => {
                self.errors.push(name, "must be a string");
                String::new()
            }
        }
    }

    /// An array of strings; empty when absent unless `required`.
    pub(crate) fn strings(&mut self, name: &str, required: bool) -> Vec<String> {
        match self.map.remove(name) {
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .filter_map(|(i, item)| match item {
                    Value::String(s) => Some(s),
                    _ => {
                        self.errors.push(format!("{name}[{i}]"), "must be a string");
                        None
                    }
                })
                .collect(),
            None if required => {
                self.errors.push(name, "is required");
                Vec::new()
            }
            None => Vec::new(),
            Some(_) => {
                self.errors.push(name, "must be an array of strings");
                Vec::new()
            }
        }
    }

    /// An optional string member.
    pub(crate) fn optional_string(&mut self, name: &str) -> Option<String> {
        match self.map.remove(name) {
            Some(Value::String(s)) => Some(s),
            None => None,
            Some(_) => {
                self.errors.push(name, "must be a string");
                None
            }
        }
    }

    /// An optional JSON object member, as it is.
    pub(crate) fn optional_object(&mut self, name: &str) -> Option<Value> {
        match self.map.remove(name) {
            Some(object @ Value::Object(_)) => Some(object),
            None => None,
            Some(_) => {
                self.errors.push(name, "must be a JSON object");
                None
            }
        }
    }

    /// An optional array of strings: `None` when absent.
    pub(crate) fn optional_strings(&mut self, name: &str) -> Option<Vec<String>> {
        self.map
            .contains_key(name)
            .then(|| self.strings(name, false))
    }

    /// An optional whole number from 0 to `u32::MAX`.
    pub(crate) fn count(&mut self, name: &str) -> Option<u32> {
        self.whole_seconds(name, "must be a whole number")
    }

    /// An optional boolean member.
    pub(crate) fn bool(&mut self, name: &str) -> Option<bool> {
        match self.map.remove(name) {
            Some(Value::Bool(b)) => Some(b),
            None => None,
            Some(_) => {
                self.errors.push(name, "must be true or false");
                None
            }
        }
    }

    /// An optional whole number of seconds (at most `u32::MAX`).
    pub(crate) fn seconds(&mut self, name: &str) -> Option<u32> {
        self.whole_seconds(name, "must be a whole number of seconds")
    }

    /// Like [`Fields::seconds`], where `null` means "back to the default".
    pub(crate) fn seconds_or_default(&mut self, name: &str) -> Option<Override<u32>> {
        if self.map.get(name) == Some(&Value::Null) {
            self.map.remove(name);
            return Some(Override::Default);
        }
        self.whole_seconds(
            name,
            "must be a whole number of seconds, or null for the default",
        )
        .map(Override::Value)
    }

    /// An optional security profile (`"fapi2"`), where `null` drops it.
    pub(crate) fn profile_or_default(&mut self, name: &str) -> Option<Override<SecurityProfile>> {
        match self.map.remove(name)? {
            Value::Null => Some(Override::Default),
            Value::String(s) if SecurityProfile::parse(&s).is_some() => {
                SecurityProfile::parse(&s).map(Override::Value)
            }
            _ => {
                self.errors
                    .push(name, "must be \"fapi2\", or null for none");
                None
            }
        }
    }

    /// The member `name` as seconds; anything else is recorded with `expected`.
    fn whole_seconds(&mut self, name: &str, expected: &str) -> Option<u32> {
        let seconds = match self.map.remove(name)? {
            Value::Number(n) => n.as_u64().and_then(|v| u32::try_from(v).ok()),
            _ => None,
        };
        if seconds.is_none() {
            self.errors.push(name, expected);
        }
        seconds
    }

    /// Every problem found, unknown members last (sorted).
    fn finish(mut self) -> ValidationErrors {
        let mut unknown: Vec<String> = self.map.keys().cloned().collect();
        unknown.sort();
        for name in unknown {
            self.errors.push(name, "is not a known field");
        }
        self.errors
    }
}
