//! The variables an operation declares, and the GraphQL input coercion checks the gate can make
//! without the schema: required values present, built-in scalars of the right kind.

use apollo_parser::cst;
use serde_json::{Map, Number, Value};

/// A declared variable type.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Type {
    /// A named type: a built-in scalar the gate checks, or a type only the schema knows.
    Named(String),
    /// `[T]`.
    List(Box<Type>),
    /// `T!`.
    NonNull(Box<Type>),
}

/// One `$name: Type = default` of an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Declared {
    name: String,
    ty: Type,
    has_default: bool,
}

/// The variables `op` declares.
pub(crate) fn declared(op: &cst::OperationDefinition) -> Vec<Declared> {
    op.variable_definitions()
        .into_iter()
        .flat_map(|defs| defs.variable_definitions())
        .filter_map(|def| {
            Some(Declared {
                name: def.variable()?.name()?.text().to_string(),
                ty: def.ty().and_then(|t| ty(&t))?,
                has_default: def.default_value().is_some(),
            })
        })
        .collect()
}

fn ty(t: &cst::Type) -> Option<Type> {
    Some(match t {
        cst::Type::NamedType(named) => Type::Named(named.name()?.text().to_string()),
        cst::Type::ListType(list) => Type::List(Box::new(ty(&list.ty()?)?)),
        cst::Type::NonNullType(non_null) => {
            let inner = match (non_null.named_type(), non_null.list_type()) {
                (Some(named), _) => Type::Named(named.name()?.text().to_string()),
                (None, Some(list)) => Type::List(Box::new(ty(&list.ty()?)?)),
                (None, None) => return None,
            };
            Type::NonNull(Box::new(inner))
        }
    })
}

/// Checks `values` against `declared` (GraphQL spec §6.1.2, CoerceVariableValues, for what is
/// knowable without the schema). Variables the operation does not declare are ignored.
pub(crate) fn check(declared: &[Declared], values: &Map<String, Value>) -> Result<(), String> {
    for var in declared {
        match values.get(&var.name) {
            None if var.has_default => {}
            None if matches!(var.ty, Type::NonNull(_)) => {
                return Err(format!("variable ${} is required", var.name));
            }
            None => {}
            Some(value) => coerces(&var.ty, value).map_err(|expected| {
                format!("variable ${} must be {expected}, not {value}", var.name)
            })?,
        }
    }
    Ok(())
}

/// Whether `value` coerces to `ty`; if not, what was expected.
fn coerces(ty: &Type, value: &Value) -> Result<(), String> {
    match (ty, value) {
        (Type::NonNull(inner), Value::Null) => Err(format!("a non-null {}", name(inner))),
        (Type::NonNull(inner), value) => coerces(inner, value),
        (_, Value::Null) => Ok(()),
        (Type::List(inner), Value::Array(items)) => {
            items.iter().try_for_each(|i| coerces(inner, i))
        }
        // A single value where a list is expected is a list of one.
        (Type::List(inner), value) => coerces(inner, value),
        (Type::Named(named), value) => {
            let ok = match named.as_str() {
                "Int" => value.as_number().is_some_and(is_int),
                "Float" => value.is_number(),
                "String" => value.is_string(),
                "Boolean" => value.is_boolean(),
                "ID" => value.is_string() || value.as_number().is_some_and(is_int),
                // Enums, input objects and custom scalars: only the schema knows.
                _ => true,
            };
            if ok {
                Ok(())
            } else {
                Err(format!("a {named}"))
            }
        }
    }
}

fn name(ty: &Type) -> String {
    match ty {
        Type::Named(n) => n.clone(),
        Type::List(inner) => format!("[{}]", name(inner)),
        Type::NonNull(inner) => format!("{}!", name(inner)),
    }
}

/// A 32-bit integer (GraphQL `Int`), as JSON writes it (`1` or `1.0`).
fn is_int(n: &Number) -> bool {
    match n.as_i64() {
        Some(i) => i32::try_from(i).is_ok(),
        None => n.as_f64().is_some_and(|f| {
            f.fract() == 0.0 && (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&f)
        }),
    }
}

#[cfg(test)]
mod tests {
    use apollo_parser::Parser;
    use serde_json::json;

    use super::*;

    fn declared_in(text: &str) -> Vec<Declared> {
        let tree = Parser::new(text).parse();
        match tree.document().definitions().next() {
            Some(cst::Definition::OperationDefinition(op)) => declared(&op),
            _ => panic!("an operation"),
        }
    }

    fn errors(text: &str, values: Value) -> Option<String> {
        check(&declared_in(text), values.as_object().unwrap()).err()
    }

    #[test]
    fn required_variables_must_be_given_and_not_null() {
        let q = "query Q($id: ID!, $n: Int = 3, $tag: String) { a }";
        assert_eq!(errors(q, json!({ "id": "inc_1" })), None);
        assert_eq!(
            errors(q, json!({ "id": 7, "n": null, "extra": true })),
            None
        );
        assert_eq!(errors(q, json!({})).unwrap(), "variable $id is required");
        assert!(
            errors(q, json!({ "id": null }))
                .unwrap()
                .contains("non-null ID")
        );
    }

    #[test]
    fn built_in_scalars_are_checked_and_other_types_left_to_the_schema() {
        let q = "query Q($i: Int, $f: Float, $s: String, $b: Boolean, $id: ID, $e: Status, $l: [Int!]!) { a }";
        assert_eq!(
            errors(
                q,
                json!({ "i": 1, "f": 1.5, "s": "x", "b": true, "id": "x", "e": {"any": 1}, "l": [1, 2] })
            ),
            None
        );
        assert_eq!(
            errors(q, json!({ "l": 1 })),
            None,
            "a single value is a list of one"
        );
        for (values, expected) in [
            (json!({ "i": "1", "l": [] }), "$i must be a Int"),
            (
                json!({ "i": 3_000_000_000_i64, "l": [] }),
                "$i must be a Int",
            ),
            (json!({ "f": "1.5", "l": [] }), "$f must be a Float"),
            (json!({ "s": 1, "l": [] }), "$s must be a String"),
            (json!({ "b": "true", "l": [] }), "$b must be a Boolean"),
            (json!({ "id": { "a": 1 }, "l": [] }), "$id must be a ID"),
            (json!({ "l": [1, null] }), "$l must be a non-null Int"),
        ] {
            let message = errors(q, values.clone()).unwrap_or_default();
            assert!(message.contains(expected), "{values}: {message}");
        }
    }
}
