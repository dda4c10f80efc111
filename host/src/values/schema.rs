//! JSON Schemas (draft 2020-12, the dialect of OpenAPI 3.1) of WIT types, describing exactly the
//! JSON mapping the node speaks (`super::json`): what a value of each type looks like in a
//! request body and in an answer.
//!
//! A named type is either spelled out where it is used, so that each schema stands alone (the
//! binary and machine descriptions), or referred to with `$ref` (the OpenAPI document, which
//! defines each named type once under `components/schemas`). Named types carry their name as
//! `title`. WIT types cannot recurse, so spelling out always ends.

use super::class::Class;
use super::types::{Activation, NamedType, TypeDesc};
use serde_json::{Map, Value, json};

/// Where the schemas of named types are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named<'a> {
    /// Spelled out wherever they are used.
    Inline,
    /// Referred to as `{"$ref": "<prefix><name>"}`, e.g. with prefix `#/components/schemas/`.
    Ref(&'a str),
}

/// The self-contained schema of values of `ty`.
pub fn schema(ty: &TypeDesc) -> Value {
    schema_with(ty, Named::Inline)
}

/// The schema of values of `ty`, with named types as `named` says.
pub fn schema_with(ty: &TypeDesc, named: Named<'_>) -> Value {
    match (ty.name(), named) {
        (Some(name), Named::Ref(prefix)) => json!({"$ref": format!("{prefix}{name}")}),
        _ => structure(ty, named),
    }
}

/// The schema of a named type's definition, with its doc comments as descriptions: what
/// `components/schemas` holds under its name.
pub fn definition_schema(named_type: &NamedType, named: Named<'_>) -> Value {
    let mut schema = structure(&named_type.ty, named);
    let Some(object) = schema.as_object_mut() else {
        return schema;
    };
    if let Some(docs) = &named_type.docs {
        object.insert("description".into(), docs.as_str().into());
    }
    if let Some(properties) = object.get_mut("properties").and_then(Value::as_object_mut) {
        for (field, property) in properties.iter_mut() {
            if let (Some(docs), Some(property)) =
                (named_type.member_docs.get(field), property.as_object_mut())
            {
                // A `$ref` with siblings is allowed in 2020-12 schemas.
                property.insert("description".into(), docs.as_str().into());
            }
        }
    }
    schema
}

/// The schema of `ty` itself, spelled out at the top even when named.
fn structure(ty: &TypeDesc, named: Named<'_>) -> Value {
    let inner = |ty: &TypeDesc| schema_with(ty, named);
    let mut schema = match ty.class() {
        Class::Bool => json!({"type": "boolean"}),
        // 64-bit bounds are written as exact JSON integers, never through f64.
        Class::Integer(range) => {
            json!({"type": "integer", "minimum": range.min, "maximum": range.max})
        }
        Class::Float { single } => float(single.then_some(F32_ROUNDS_TO_INFINITY)),
        Class::Char => json!({"type": "string", "minLength": 1, "maxLength": 1}),
        Class::Text => json!({"type": "string"}),
        Class::Bytes => json!({
            "anyOf": [
                {"type": "string", "pattern": "^([0-9a-fA-F]{2})*$", "description": "bytes as hex"},
                {"type": "array", "items": inner(&TypeDesc::U8)},
            ]
        }),
        Class::Enum(cases) => json!({"type": "string", "enum": cases}),
        // A flag named twice is set, as once.
        Class::Flags(flags) => json!({
            "type": "array",
            "items": {"type": "string", "enum": flags},
        }),
        Class::Compound => compound(ty, named),
    };
    if let (Some(name), Some(object)) = (ty.name(), schema.as_object_mut()) {
        object.insert("title".into(), name.into());
    }
    schema
}

fn compound(ty: &TypeDesc, named: Named<'_>) -> Value {
    let inner = |ty: &TypeDesc| schema_with(ty, named);
    match ty {
        TypeDesc::List(item) => json!({"type": "array", "items": inner(item)}),
        TypeDesc::Tuple(items) => json!({
            "type": "array",
            "prefixItems": items.iter().map(inner).collect::<Vec<_>>(),
            "items": false,
            "minItems": items.len(),
            "maxItems": items.len(),
        }),
        TypeDesc::Record { fields, .. } => {
            object(fields.iter().map(|(name, ty)| (name.as_str(), inner(ty))))
        }
        TypeDesc::Variant { cases, .. } => json!({
            "oneOf": cases
                .iter()
                .map(|(case, payload)| match payload {
                    Some(payload) => object([(case.as_str(), inner(payload))]),
                    None => json!({"const": case}),
                })
                .collect::<Vec<_>>()
        }),
        TypeDesc::Option(some) => json!({"anyOf": [{"type": "null"}, inner(some)]}),
        TypeDesc::Result { ok, err } => json!({
            "oneOf": [
                result_case("ok", ok.as_deref(), named),
                result_case("err", err.as_deref(), named),
            ]
        }),
        // Every other type has a class of its own.
        _ => json!({}),
    }
}

/// The schema of the JSON object a POST sends: one member per parameter, all required.
pub fn params_schema(activation: &Activation, named: Named<'_>) -> Value {
    object(
        activation
            .params
            .iter()
            .map(|p| (p.name.as_str(), schema_with(&p.ty, named))),
    )
}

/// The schema of a 200 answer: the result (its `ok` case for a `result`), or `null`.
pub fn ok_schema(activation: &Activation, named: Named<'_>) -> Value {
    match &activation.result {
        Some(TypeDesc::Result { ok, .. }) => result_case("ok", ok.as_deref(), named),
        Some(ty) => schema_with(ty, named),
        None => json!({"type": "null"}),
    }
}

/// The schema of a 422 answer (`{"err": ..}`), for an activation returning a `result`.
pub fn err_schema(activation: &Activation, named: Named<'_>) -> Option<Value> {
    match &activation.result {
        Some(TypeDesc::Result { err, .. }) => Some(result_case("err", err.as_deref(), named)),
        _ => None,
    }
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

fn result_case(case: &str, payload: Option<&TypeDesc>, named: Named<'_>) -> Value {
    let payload = payload.map_or_else(|| json!({"type": "null"}), |ty| schema_with(ty, named));
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

    fn shape() -> TypeDesc {
        TypeDesc::Variant {
            name: Some("shape".into()),
            cases: vec![
                ("circle".into(), Some(TypeDesc::F64)),
                ("none".into(), None),
            ],
        }
    }

    #[test]
    fn composite_types() {
        let variant = schema(&shape());
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

    #[test]
    fn named_types_are_references_where_asked_and_defined_once() {
        let refs = Named::Ref("#/components/schemas/");
        let list = TypeDesc::List(Box::new(shape()));
        assert_eq!(
            schema_with(&list, refs),
            json!({"type": "array", "items": {"$ref": "#/components/schemas/shape"}})
        );
        assert_eq!(schema_with(&list, Named::Inline)["items"], schema(&shape()));
        let point = NamedType {
            ty: TypeDesc::Record {
                name: Some("point".into()),
                fields: vec![("at".into(), shape()), ("x".into(), TypeDesc::S32)],
            },
            docs: Some("A point.".into()),
            member_docs: [("at".to_owned(), "Where.".to_owned())].into(),
        };
        let definition = definition_schema(&point, refs);
        assert_eq!(definition["title"], "point");
        assert_eq!(definition["description"], "A point.");
        assert_eq!(
            definition["properties"]["at"],
            json!({"$ref": "#/components/schemas/shape", "description": "Where."})
        );
        assert_eq!(definition["properties"]["x"], schema(&TypeDesc::S32));
    }
}
