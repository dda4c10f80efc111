//! The JSON form of WIT values, written (the table of the mapping is in `super::json`).

use super::class::Class;
use super::types::TypeDesc;
use serde_json::{Map, Number, Value};
use wasmtime::component::Val;

/// Converts a value of type `ty` to JSON.
///
/// The value comes from wasmtime, which has checked it against the function's type, so the
/// type only decides representation (hex for `list<u8>`).
pub fn to_json(ty: &TypeDesc, val: &Val) -> Value {
    match (ty, val) {
        (_, Val::List(items)) if ty.class() == Class::Bytes => {
            let bytes: Vec<u8> = items
                .iter()
                .filter_map(|v| if let Val::U8(b) = v { Some(*b) } else { None })
                .collect();
            Value::String(hex::encode(bytes))
        }
        (TypeDesc::List(inner), Val::List(items)) => {
            Value::Array(items.iter().map(|v| to_json(inner, v)).collect())
        }
        (TypeDesc::Tuple(types), Val::Tuple(items)) => Value::Array(
            types
                .iter()
                .zip(items)
                .map(|(t, v)| to_json(t, v))
                .collect(),
        ),
        (TypeDesc::Record { fields, .. }, Val::Record(values)) => Value::Object(
            fields
                .iter()
                .zip(values)
                .map(|((name, t), (_, v))| (name.clone(), to_json(t, v)))
                .collect(),
        ),
        (TypeDesc::Variant { cases, .. }, Val::Variant(case, payload)) => {
            let case_ty = cases
                .iter()
                .find(|(name, _)| name == case)
                .and_then(|(_, t)| t.as_ref());
            match (case_ty, payload) {
                (Some(t), Some(v)) => {
                    Value::Object(Map::from_iter([(case.clone(), to_json(t, v))]))
                }
                _ => Value::String(case.clone()),
            }
        }
        (TypeDesc::Option(inner), Val::Option(value)) => {
            value.as_ref().map_or(Value::Null, |v| to_json(inner, v))
        }
        (TypeDesc::Result { ok, err }, Val::Result(result)) => {
            let (case, side, payload) = match result {
                Ok(payload) => ("ok", ok, payload),
                Err(payload) => ("err", err, payload),
            };
            let payload = match (side, payload) {
                (Some(t), Some(v)) => to_json(t, v),
                _ => Value::Null,
            };
            Value::Object(Map::from_iter([(case.to_owned(), payload)]))
        }
        (_, val) => scalar_to_json(val),
    }
}

fn scalar_to_json(val: &Val) -> Value {
    match val {
        Val::Bool(b) => Value::Bool(*b),
        Val::S8(v) => (*v).into(),
        Val::U8(v) => (*v).into(),
        Val::S16(v) => (*v).into(),
        Val::U16(v) => (*v).into(),
        Val::S32(v) => (*v).into(),
        Val::U32(v) => (*v).into(),
        Val::S64(v) => (*v).into(),
        Val::U64(v) => (*v).into(),
        // Through the shortest decimal that round-trips, so 0.1f32 reads as 0.1, not 0.10000000149011612.
        Val::Float32(v) => float_to_json(v.to_string().parse().unwrap_or(f64::from(*v))),
        Val::Float64(v) => float_to_json(*v),
        Val::Char(c) => Value::String(c.to_string()),
        Val::String(s) => Value::String(s.clone()),
        Val::Enum(case) => Value::String(case.clone()),
        Val::Flags(flags) => Value::Array(flags.iter().cloned().map(Value::String).collect()),
        // Compound values are converted with their type above; these arms are never reached for
        // values wasmtime checked, and resources or streams never pass the upload checks.
        _ => Value::Null,
    }
}

fn float_to_json(v: f64) -> Value {
    match Number::from_f64(v) {
        Some(n) => Value::Number(n),
        None if v.is_nan() => Value::String("NaN".into()),
        None if v > 0.0 => Value::String("Infinity".into()),
        None => Value::String("-Infinity".into()),
    }
}
