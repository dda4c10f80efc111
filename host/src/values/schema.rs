//! JSON Schemas (draft 2020-12, the dialect of OpenAPI 3.1) of WIT types, describing exactly the
//! JSON mapping the node speaks (`super::json`): what a value of each type looks like in a
//! request body and in an answer.
//!
//! Schemas are inline, with no `$ref`: WIT types cannot be recursive, and a self-contained schema
//! per parameter is what clients and form builders want. Named types carry their name as `title`.

use super::json::integer;
use super::types::{Activation, TypeDesc};
use serde_json::{Map, Value, json};

/// The schema of values of `ty`.
pub fn schema(ty: &TypeDesc) -> Value {
    let mut schema = match ty {
        TypeDesc::Bool => json!({"type": "boolean"}),
        integer!() => {
            let (min, max) = ty.int_range().expect("an integer type");
            integer(min, max)
        }
        TypeDesc::F32 => float(Some(F32_ROUNDS_TO_INFINITY)),
        TypeDesc::F64 => float(None),
        TypeDesc::Char => json!({"type": "string", "minLength": 1, "maxLength": 1}),
        TypeDesc::String => json!({"type": "string"}),
        TypeDesc::List(inner) if **inner == TypeDesc::U8 => json!({
            "anyOf": [
                {"type": "string", "pattern": "^([0-9a-fA-F]{2})*$", "description": "bytes as hex"},
                {"type": "array", "items": schema(&TypeDesc::U8)},
            ]
        }),
        TypeDesc::List(inner) => json!({"type": "array", "items": schema(inner)}),
        TypeDesc::Tuple(items) => json!({
            "type": "array",
            "prefixItems": items.iter().map(schema).collect::<Vec<_>>(),
            "items": false,
            "minItems": items.len(),
            "maxItems": items.len(),
        }),
        TypeDesc::Record { fields, .. } => {
            object(fields.iter().map(|(name, ty)| (name.as_str(), schema(ty))))
        }
        TypeDesc::Variant { cases, .. } => json!({
            "oneOf": cases
                .iter()
                .map(|(case, payload)| match payload {
                    Some(payload) => object([(case.as_str(), schema(payload))]),
                    None => json!({"const": case}),
                })
                .collect::<Vec<_>>()
        }),
        TypeDesc::Enum { cases, .. } => json!({"type": "string", "enum": cases}),
        // A flag named twice is set, as once.
        TypeDesc::Flags { flags, .. } => json!({
            "type": "array",
            "items": {"type": "string", "enum": flags},
        }),
        TypeDesc::Option(inner) => json!({"anyOf": [{"type": "null"}, schema(inner)]}),
        TypeDesc::Result { ok, err } => json!({
            "oneOf": [
                result_case("ok", ok.as_deref()),
                result_case("err", err.as_deref()),
            ]
        }),
    };
    if let (Some(name), Some(object)) = (ty.name(), schema.as_object_mut()) {
        object.insert("title".into(), name.into());
    }
    schema
}

/// The schema of the JSON object a POST sends: one member per parameter, all required.
pub fn params_schema(activation: &Activation) -> Value {
    object(
        activation
            .params
            .iter()
            .map(|p| (p.name.as_str(), schema(&p.ty))),
    )
}

/// The schema of a 200 answer: the result (its `ok` case for a `result`), or `null`.
pub fn ok_schema(activation: &Activation) -> Value {
    match &activation.result {
        Some(TypeDesc::Result { ok, .. }) => result_case("ok", ok.as_deref()),
        Some(ty) => schema(ty),
        None => json!({"type": "null"}),
    }
}

/// The schema of a 422 answer (`{"err": ..}`), for an activation returning a `result`.
pub fn err_schema(activation: &Activation) -> Option<Value> {
    match &activation.result {
        Some(TypeDesc::Result { err, .. }) => Some(result_case("err", err.as_deref())),
        _ => None,
    }
}

/// Whether a query parameter of this type is plain text (else it is JSON text).
pub fn is_plain_text(ty: &TypeDesc) -> bool {
    matches!(
        ty,
        TypeDesc::Bool
            | integer!()
            | TypeDesc::F32
            | TypeDesc::F64
            | TypeDesc::Char
            | TypeDesc::String
            | TypeDesc::Enum { .. }
    )
}

fn integer(minimum: i128, maximum: i128) -> Value {
    // 64-bit bounds are written as exact JSON integers, never through f64.
    json!({"type": "integer", "minimum": minimum, "maximum": maximum})
}

/// 2^128 − 2^103: the f32 rounding of this and anything larger is infinity; anything smaller
/// rounds to at most f32::MAX (whose shortest spelling, `3.4028235e38`, is above f32::MAX).
const F32_ROUNDS_TO_INFINITY: f64 = 3.402_823_567_797_336_6e38;

fn float(limit: Option<f64>) -> Value {
    let mut number = json!({"type": "number"});
    if let Some(limit) = limit {
        number["exclusiveMinimum"] = json!(-limit);
        number["exclusiveMaximum"] = json!(limit);
    }
    json!({"anyOf": [number, {"type": "string", "enum": ["NaN", "Infinity", "-Infinity"]}]})
}

fn result_case(case: &str, payload: Option<&TypeDesc>) -> Value {
    let payload = payload.map_or_else(|| json!({"type": "null"}), schema);
    object([(case, payload)])
}

/// A closed object whose members are all required.
fn object<'a>(members: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for (name, schema) in members {
        required.push(Value::String(name.to_owned()));
        properties.insert(name.to_owned(), schema);
    }
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixty_four_bit_bounds_are_exact() {
        assert_eq!(
            schema(&TypeDesc::U64).to_string(),
            r#"{"type":"integer","minimum":0,"maximum":18446744073709551615}"#
        );
        assert_eq!(schema(&TypeDesc::S64)["minimum"], json!(i64::MIN));
    }

    #[test]
    fn f32_bound_is_where_rounding_reaches_infinity() {
        assert_eq!(F32_ROUNDS_TO_INFINITY, 2f64.powi(128) - 2f64.powi(103));
        assert!((F32_ROUNDS_TO_INFINITY as f32).is_infinite());
        let below = f64::from_bits(F32_ROUNDS_TO_INFINITY.to_bits() - 1);
        assert_eq!(below as f32, f32::MAX);
        let shortest: f64 = f32::MAX.to_string().parse().unwrap();
        assert!(shortest < F32_ROUNDS_TO_INFINITY);
    }

    #[test]
    fn composite_types() {
        let variant = TypeDesc::Variant {
            name: Some("shape".into()),
            cases: vec![
                ("circle".into(), Some(TypeDesc::F64)),
                ("none".into(), None),
            ],
        };
        let variant = schema(&variant);
        assert_eq!(variant["title"], "shape");
        assert_eq!(variant["oneOf"][1], json!({"const": "none"}));
        assert_eq!(variant["oneOf"][0]["required"], json!(["circle"]));
        let result = schema(&TypeDesc::Result {
            ok: None,
            err: Some(Box::new(TypeDesc::String)),
        });
        assert_eq!(
            result["oneOf"][0]["properties"]["ok"],
            json!({"type": "null"})
        );
        let tuple = schema(&TypeDesc::Tuple(vec![TypeDesc::U8, TypeDesc::Bool]));
        assert_eq!(tuple["minItems"], 2);
        assert_eq!(tuple["items"], false);
    }
}
