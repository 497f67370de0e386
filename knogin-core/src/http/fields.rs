//! Taking typed fields out of a JSON object, naming every field that is missing, mistyped or
//! unknown.

use serde_json::{Map, Value};

use super::error::ApiError;
use crate::validation::ValidationErrors;

/// The members of a JSON object body, taken one by one.
pub(crate) struct Fields {
    map: Map<String, Value>,
    errors: ValidationErrors,
}

impl Fields {
    /// The members of `value`, which must be an object.
    pub(crate) fn new(value: Value) -> Result<Self, ApiError> {
        match value {
            Value::Object(map) => Ok(Self {
                map,
                errors: ValidationErrors::default(),
            }),
            _ => {
                let mut errors = ValidationErrors::default();
                errors.push("body", "must be a JSON object");
                Err(ApiError::Invalid(errors))
            }
        }
    }

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

    /// Every problem found, including a member nobody asked for; `Ok` when there is none.
    pub(crate) fn finish(self) -> Result<(), ApiError> {
        self.finish_with(Ok(()))
    }

    /// Like [`Fields::finish`], but also reports what the policy found wrong (`checked`) in the
    /// fields that were well-typed, so the caller learns about every bad field at once.
    pub(crate) fn finish_with<T>(
        mut self,
        checked: Result<T, ValidationErrors>,
    ) -> Result<T, ApiError> {
        let mut unknown: Vec<String> = self.map.keys().cloned().collect();
        unknown.sort();
        for name in unknown {
            self.errors.push(name, "is not a known field");
        }
        match checked {
            Ok(value) if self.errors.is_empty() => Ok(value),
            Ok(_) => Err(ApiError::Invalid(self.errors)),
            Err(policy) => {
                let mistyped = |field: &str| {
                    let base = field.split('[').next().unwrap_or(field);
                    self.errors
                        .0
                        .iter()
                        .any(|e| e.field.split('[').next() == Some(base))
                };
                let extra: Vec<_> = policy
                    .0
                    .into_iter()
                    .filter(|e| !mistyped(&e.field))
                    .collect();
                self.errors.0.extend(extra);
                Err(ApiError::Invalid(self.errors))
            }
        }
    }
}
