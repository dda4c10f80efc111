//! The JSON form of WIT values, read from JSON (`super::to_json` writes it).
//!
//! | WIT | JSON |
//! | --- | --- |
//! | bool | `true` / `false` |
//! | s8 … u32 | number |
//! | s64, u64 | number, exact (never through f64); a string of digits is accepted on input |
//! | f32, f64 | number; NaN and infinities as `"NaN"`, `"Infinity"`, `"-Infinity"` |
//! | char, string | string |
//! | `list<u8>` | lowercase hex string (an array of numbers is accepted on input) |
//! | list, tuple | array |
//! | record | object keyed by field name |
//! | enum | case name |
//! | flags | array of the names of the set flags |
//! | option | `null` or the value |
//! | variant | `{"case": payload}`, or `"case"` without payload |
//! | result | `{"ok": ..}` or `{"err": ..}` (`null` without payload) |

use super::class::{Class, IntRange};
use super::error::{ValueError, describe, expectation};
use super::types::TypeDesc;
use carol_core::names::names_match;
use serde_json::{Map, Value};
use wasmtime::component::Val;

/// Parses an integer in `range` from a JSON number, or from a string of digits where
/// `digits_ok` (wide integers in JSON, every integer in query text).
pub(super) fn int_from_json(
    ty: &TypeDesc,
    range: IntRange,
    json: &Value,
    digits_ok: bool,
) -> Result<Val, ValueError> {
    let value = match json {
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            // `695.0` is an integer to JSON Schema too. Plain digits are read exactly; a number
            // with a fraction or exponent is read as a double, exact only up to 2^53, so
            // beyond that only plain digits are taken.
            .or_else(|| {
                n.as_f64()
                    .filter(|v| v.fract() == 0.0 && v.abs() <= 2f64.powi(53))
                    .map(|v| v as i128)
            }),
        Value::String(s) if digits_ok => int_from_text(s),
        _ => None,
    };
    value
        .filter(|v| range.contains(*v))
        .map(|v| int_val(ty, v))
        .ok_or_else(|| ValueError::mismatch(ty, json))
}

fn int_from_text(text: &str) -> Option<i128> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The value of integer type `ty`; callers checked `v` against its range.
fn int_val(ty: &TypeDesc, v: i128) -> Val {
    match ty {
        TypeDesc::S8 => Val::S8(v as i8),
        TypeDesc::U8 => Val::U8(v as u8),
        TypeDesc::S16 => Val::S16(v as i16),
        TypeDesc::U16 => Val::U16(v as u16),
        TypeDesc::S32 => Val::S32(v as i32),
        TypeDesc::U32 => Val::U32(v as u32),
        TypeDesc::S64 => Val::S64(v as i64),
        _ => Val::U64(v as u64),
    }
}

/// `NaN` and the infinities, which JSON numbers cannot spell.
pub(super) fn float_from_text(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// The value of a float type, `None` where a finite double rounds to infinity as `f32`.
pub(super) fn float_val(single: bool, v: f64) -> Option<Val> {
    if !single {
        return Some(Val::Float64(v));
    }
    let narrow = v as f32;
    (!(v.is_finite() && narrow.is_infinite())).then_some(Val::Float32(narrow))
}

pub(super) fn hex_bytes(text: &str) -> Option<Val> {
    hex::decode(text)
        .ok()
        .map(|bytes| Val::List(bytes.into_iter().map(Val::U8).collect()))
}

pub(super) fn single_char(text: &str) -> Option<char> {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

pub(super) fn enum_case(ty: &TypeDesc, cases: &[String], text: &str) -> Result<Val, ValueError> {
    cases
        .iter()
        .find(|case| names_match(case, text))
        .map(|case| Val::Enum(case.clone()))
        .ok_or_else(|| ValueError::new(expectation(ty), format!("unknown case `{text}`")))
}

/// Converts JSON to a value of type `ty`.
pub fn from_json(ty: &TypeDesc, json: &Value) -> Result<Val, ValueError> {
    let mismatch = || ValueError::mismatch(ty, json);
    match ty.class() {
        Class::Bool => json.as_bool().map(Val::Bool).ok_or_else(mismatch),
        Class::Integer(range) => int_from_json(ty, range, json, range.is_wide()),
        Class::Float { single } => {
            let v = match json {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => float_from_text(s),
                _ => None,
            };
            v.and_then(|v| float_val(single, v)).ok_or_else(mismatch)
        }
        Class::Char => json
            .as_str()
            .and_then(single_char)
            .map(Val::Char)
            .ok_or_else(mismatch),
        Class::Text => json
            .as_str()
            .map(|s| Val::String(s.to_owned()))
            .ok_or_else(mismatch),
        Class::Bytes => match json {
            Value::String(text) => hex_bytes(text).ok_or_else(mismatch),
            _ => list_from_json(ty, &TypeDesc::U8, json),
        },
        Class::Enum(cases) => enum_case(ty, cases, json.as_str().ok_or_else(mismatch)?),
        Class::Flags(flags) => flags_from_json(ty, flags, json),
        Class::Compound => compound_from_json(ty, json),
    }
}

fn list_from_json(ty: &TypeDesc, inner: &TypeDesc, json: &Value) -> Result<Val, ValueError> {
    let items = json
        .as_array()
        .ok_or_else(|| ValueError::mismatch(ty, json))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| from_json(inner, item).map_err(|e| e.at(format_args!("[{i}]"))))
        .collect::<Result<_, _>>()
        .map(Val::List)
}

fn flags_from_json(ty: &TypeDesc, flags: &[String], json: &Value) -> Result<Val, ValueError> {
    let items = json
        .as_array()
        .ok_or_else(|| ValueError::mismatch(ty, json))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let text = item
                .as_str()
                .ok_or_else(|| ValueError::mismatch(ty, item).at(format_args!("[{i}]")))?;
            flags
                .iter()
                .find(|flag| names_match(flag, text))
                .cloned()
                .ok_or_else(|| {
                    ValueError::new(expectation(ty), format!("unknown flag `{text}`"))
                        .at(format_args!("[{i}]"))
                })
        })
        .collect::<Result<_, _>>()
        .map(Val::Flags)
}

fn compound_from_json(ty: &TypeDesc, json: &Value) -> Result<Val, ValueError> {
    let mismatch = || ValueError::mismatch(ty, json);
    match ty {
        TypeDesc::List(inner) => list_from_json(ty, inner, json),
        TypeDesc::Tuple(types) => match json {
            Value::Array(items) if items.len() == types.len() => types
                .iter()
                .zip(items)
                .enumerate()
                .map(|(i, (ty, item))| from_json(ty, item).map_err(|e| e.at(format_args!("[{i}]"))))
                .collect::<Result<_, _>>()
                .map(Val::Tuple),
            _ => Err(mismatch()),
        },
        TypeDesc::Record { fields, .. } => {
            let object = json.as_object().ok_or_else(mismatch)?;
            record_from_object(ty, fields, object)
        }
        TypeDesc::Variant { cases, .. } => variant_from_json(ty, cases, json),
        TypeDesc::Option(inner) => match json {
            Value::Null => Ok(Val::Option(None)),
            some => Ok(Val::Option(Some(Box::new(from_json(inner, some)?)))),
        },
        TypeDesc::Result { ok, err } => {
            let (case, payload) = match json {
                Value::Object(object) if object.len() == 1 => object
                    .iter()
                    .next()
                    .map(|(k, v)| (k.as_str(), v))
                    .ok_or_else(mismatch)?,
                _ => return Err(mismatch()),
            };
            let side = match case {
                "ok" => ok,
                "err" => err,
                _ => return Err(mismatch()),
            };
            let payload = match (side, payload) {
                (Some(side), payload) => Some(Box::new(
                    from_json(side, payload).map_err(|e| e.at(format_args!(".{case}")))?,
                )),
                (None, Value::Null) => None,
                (None, other) => {
                    return Err(ValueError::new(
                        "null (this side has no payload)",
                        describe(other),
                    )
                    .at(format_args!(".{case}")));
                }
            };
            Ok(Val::Result(if case == "ok" {
                Ok(payload)
            } else {
                Err(payload)
            }))
        }
        // Every other type has a class of its own.
        _ => Err(mismatch()),
    }
}

fn variant_from_json(
    ty: &TypeDesc,
    cases: &[(String, Option<TypeDesc>)],
    json: &Value,
) -> Result<Val, ValueError> {
    let (case, payload) = single_case(json).ok_or_else(|| ValueError::mismatch(ty, json))?;
    let (name, case_ty) = cases
        .iter()
        .find(|(name, _)| names_match(name, case))
        .ok_or_else(|| ValueError::new(expectation(ty), format!("unknown case `{case}`")))?;
    let payload = match (case_ty, payload) {
        (Some(case_ty), Some(payload)) => Some(Box::new(
            from_json(case_ty, payload).map_err(|e| e.at(format_args!(".{name}")))?,
        )),
        (Some(case_ty), None) => {
            return Err(ValueError::new(
                format!("case `{name}` with a payload of type {case_ty}"),
                "no payload",
            )
            .at(format_args!(".{name}")));
        }
        (None, None | Some(Value::Null)) => None,
        (None, Some(other)) => {
            return Err(ValueError::new(
                format!("case `{name}` without payload (null)"),
                describe(other),
            )
            .at(format_args!(".{name}")));
        }
    };
    Ok(Val::Variant(name.clone(), payload))
}

/// A variant given as `"case"` or `{"case": payload}`.
fn single_case(json: &Value) -> Option<(&str, Option<&Value>)> {
    match json {
        Value::String(case) => Some((case, None)),
        Value::Object(object) if object.len() == 1 => {
            object.iter().next().map(|(k, v)| (k.as_str(), Some(v)))
        }
        _ => None,
    }
}

fn record_from_object(
    ty: &TypeDesc,
    fields: &[(String, TypeDesc)],
    object: &Map<String, Value>,
) -> Result<Val, ValueError> {
    if let Some(unknown) = object
        .keys()
        .find(|key| !fields.iter().any(|(name, _)| names_match(name, key)))
    {
        let known: Vec<&str> = fields.iter().map(|(name, _)| name.as_str()).collect();
        return Err(ValueError::new(
            format!("{} (fields: {})", ty.definition(), known.join(", ")),
            format!("unknown field `{unknown}`"),
        ));
    }
    fields
        .iter()
        .map(|(name, field_ty)| {
            let mut given = object.iter().filter(|(key, _)| names_match(name, key));
            match (given.next(), given.next()) {
                (Some((_, value)), None) => from_json(field_ty, value)
                    .map(|v| (name.clone(), v))
                    .map_err(|e| e.at(format_args!(".{name}"))),
                (None, _) => Err(ValueError::new(
                    format!("field `{name}` of type {field_ty}"),
                    "nothing",
                )),
                (Some(_), Some(_)) => Err(ValueError::new(
                    format!("field `{name}` once"),
                    "it twice (kebab-case and snake_case)",
                )),
            }
        })
        .collect::<Result<_, _>>()
        .map(Val::Record)
}
