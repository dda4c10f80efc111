//! The JSON form of WIT values, both directions, and the raw text form of query parameters.
//!
//! | WIT | JSON |
//! | --- | --- |
//! | bool | `true` / `false` |
//! | s8 … u32 | number |
//! | s64, u64 | number, exact (never through f64); a string of digits is accepted on input |
//! | f32, f64 | number; NaN and infinities as `"NaN"`, `"Infinity"`, `"-Infinity"` |
//! | char, string | string |
//! | list<u8> | lowercase hex string (an array of numbers is accepted on input) |
//! | list, tuple | array |
//! | record | object keyed by field name |
//! | enum | case name |
//! | flags | array of the names of the set flags |
//! | option | `null` or the value |
//! | variant | `{"case": payload}`, or `"case"` without payload |
//! | result | `{"ok": ..}` or `{"err": ..}` (`null` without payload) |

use super::types::{TypeDesc, names_match};
use serde_json::{Map, Number, Value};
use std::fmt;
use wasmtime::component::Val;

/// A JSON or query value that does not fit the type it was given for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    /// Where in the value the problem is, e.g. `.price[2]`; empty at the top.
    pub path: String,
    /// What the type wanted.
    pub expected: String,
    /// What was found instead.
    pub found: String,
}

impl ValueError {
    fn new(expected: impl Into<String>, found: impl Into<String>) -> Self {
        Self {
            path: String::new(),
            expected: expected.into(),
            found: found.into(),
        }
    }

    fn mismatch(ty: &TypeDesc, json: &Value) -> Self {
        Self::new(expectation(ty), describe(json))
    }

    fn at(mut self, segment: impl fmt::Display) -> Self {
        self.path = format!("{segment}{}", self.path);
        self
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.path.is_empty() {
            write!(f, "at `{}`: ", self.path)?;
        }
        write!(f, "expected {}, found {}", self.expected, self.found)
    }
}

impl std::error::Error for ValueError {}

/// The pattern of the integer types, `s8` to `u64`.
macro_rules! integer {
    () => {
        TypeDesc::S8
            | TypeDesc::U8
            | TypeDesc::S16
            | TypeDesc::U16
            | TypeDesc::S32
            | TypeDesc::U32
            | TypeDesc::S64
            | TypeDesc::U64
    };
}
pub(super) use integer;

/// What a user must send for `ty`, in words.
fn expectation(ty: &TypeDesc) -> String {
    match ty {
        TypeDesc::Bool => "bool (true or false)".into(),
        integer!() => {
            let (min, max) = int_range(ty);
            format!("{ty} (an integer from {min} to {max})")
        }
        TypeDesc::F32 | TypeDesc::F64 => {
            format!("{ty} (a number, or \"NaN\", \"Infinity\", \"-Infinity\")")
        }
        TypeDesc::Char => "char (a string of exactly one Unicode character)".into(),
        TypeDesc::String => "string".into(),
        TypeDesc::List(inner) if **inner == TypeDesc::U8 => {
            "list<u8> (a hex string or an array of bytes)".into()
        }
        TypeDesc::List(_) | TypeDesc::Tuple(_) => format!("{ty} (an array)"),
        TypeDesc::Record { .. } => format!("{} (an object)", ty.definition()),
        TypeDesc::Variant { .. } => format!(
            "{} (`{{\"case\": payload}}`, or `\"case\"` without payload)",
            ty.definition()
        ),
        TypeDesc::Enum { .. } => format!("{} (one of the case names)", ty.definition()),
        TypeDesc::Flags { .. } => format!("{} (an array of flag names)", ty.definition()),
        TypeDesc::Option(_) => format!("{ty} (null or the value)"),
        TypeDesc::Result { .. } => format!("{ty} (`{{\"ok\": ..}}` or `{{\"err\": ..}}`)"),
    }
}

/// A short description of a JSON value for error messages.
fn describe(json: &Value) -> String {
    let text = json.to_string();
    let kind = match json {
        Value::Null => return "null".into(),
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(57).collect();
        format!("{kind} {cut}...")
    } else {
        format!("{kind} {text}")
    }
}

fn int_range(ty: &TypeDesc) -> (i128, i128) {
    ty.int_range().expect("called for integer types only")
}

/// Parses an integer of type `ty` from a JSON number, or from a string of digits where
/// `digits_ok` (64-bit integers in JSON, every integer in query text).
fn int_from_json(ty: &TypeDesc, json: &Value, digits_ok: bool) -> Result<i128, ValueError> {
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
    let (min, max) = int_range(ty);
    value
        .filter(|v| (min..=max).contains(v))
        .ok_or_else(|| ValueError::mismatch(ty, json))
}

fn int_from_text(text: &str) -> Option<i128> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn int_val(ty: &TypeDesc, v: i128) -> Val {
    // Callers checked `v` against `int_range(ty)`.
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

fn float_from_text(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

fn float_val(ty: &TypeDesc, v: f64) -> Option<Val> {
    match ty {
        // Finite doubles that round to infinity as f32 do not fit.
        TypeDesc::F32 if v.is_finite() && (v as f32).is_infinite() => None,
        TypeDesc::F32 => Some(Val::Float32(v as f32)),
        _ => Some(Val::Float64(v)),
    }
}

fn hex_bytes(text: &str) -> Option<Vec<Val>> {
    hex::decode(text)
        .ok()
        .map(|bytes| bytes.into_iter().map(Val::U8).collect())
}

/// Converts JSON to a value of type `ty`.
pub fn from_json(ty: &TypeDesc, json: &Value) -> Result<Val, ValueError> {
    let mismatch = || ValueError::mismatch(ty, json);
    match ty {
        TypeDesc::Bool => json.as_bool().map(Val::Bool).ok_or_else(mismatch),
        integer!() => int_from_json(ty, json, matches!(ty, TypeDesc::S64 | TypeDesc::U64))
            .map(|v| int_val(ty, v)),
        TypeDesc::F32 | TypeDesc::F64 => {
            let v = match json {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => float_from_text(s),
                _ => None,
            };
            v.and_then(|v| float_val(ty, v)).ok_or_else(mismatch)
        }
        TypeDesc::Char => json
            .as_str()
            .and_then(single_char)
            .map(Val::Char)
            .ok_or_else(mismatch),
        TypeDesc::String => json
            .as_str()
            .map(|s| Val::String(s.to_owned()))
            .ok_or_else(mismatch),
        TypeDesc::List(inner) => match json {
            Value::String(text) if **inner == TypeDesc::U8 => {
                hex_bytes(text).map(Val::List).ok_or_else(mismatch)
            }
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| from_json(inner, item).map_err(|e| e.at(format_args!("[{i}]"))))
                .collect::<Result<_, _>>()
                .map(Val::List),
            _ => Err(mismatch()),
        },
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
        TypeDesc::Variant { cases, .. } => {
            let (case, payload) = single_case(json).ok_or_else(mismatch)?;
            let (name, case_ty) = cases
                .iter()
                .find(|(name, _)| names_match(name, case))
                .ok_or_else(|| {
                    ValueError::new(expectation(ty), format!("unknown case `{case}`"))
                })?;
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
        TypeDesc::Enum { cases, .. } => {
            let text = json.as_str().ok_or_else(mismatch)?;
            enum_case(ty, cases, text)
        }
        TypeDesc::Flags { flags, .. } => {
            let items = json.as_array().ok_or_else(mismatch)?;
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
    }
}

fn single_char(text: &str) -> Option<char> {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
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

fn enum_case(ty: &TypeDesc, cases: &[String], text: &str) -> Result<Val, ValueError> {
    cases
        .iter()
        .find(|case| names_match(case, text))
        .map(|case| Val::Enum(case.clone()))
        .ok_or_else(|| ValueError::new(expectation(ty), format!("unknown case `{text}`")))
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

/// Converts a query parameter's text to a value of type `ty`: bool, numbers, char, string and
/// enum take the raw text; `list<u8>` takes raw hex or JSON text; every other type takes JSON text.
pub fn from_query_text(ty: &TypeDesc, text: &str) -> Result<Val, ValueError> {
    let raw = || Value::String(text.to_owned());
    match ty {
        TypeDesc::Bool => match text {
            "true" => Ok(Val::Bool(true)),
            "false" => Ok(Val::Bool(false)),
            _ => Err(ValueError::mismatch(ty, &raw())),
        },
        integer!() => int_from_json(ty, &raw(), true).map(|v| int_val(ty, v)),
        TypeDesc::F32 | TypeDesc::F64 => float_from_text(text)
            .or_else(|| text.parse::<f64>().ok().filter(|v| v.is_finite()))
            .and_then(|v| float_val(ty, v))
            .ok_or_else(|| ValueError::mismatch(ty, &raw())),
        TypeDesc::Char => single_char(text)
            .map(Val::Char)
            .ok_or_else(|| ValueError::mismatch(ty, &raw())),
        TypeDesc::String => Ok(Val::String(text.to_owned())),
        TypeDesc::Enum { cases, .. } => enum_case(ty, cases, text),
        // Raw hex is the natural query spelling of bytes; JSON text is accepted too.
        TypeDesc::List(inner) if **inner == TypeDesc::U8 && hex::decode(text).is_ok() => {
            Ok(Val::List(hex_bytes(text).unwrap_or_default()))
        }
        _ => {
            let json: Value = serde_json::from_str(text).map_err(|e| {
                ValueError::new(
                    format!("JSON text for {}", expectation(ty)),
                    format!("text that is not JSON ({e})"),
                )
            })?;
            from_json(ty, &json)
        }
    }
}

/// Converts a value of type `ty` to JSON.
///
/// The value comes from wasmtime, which has checked it against the function's type, so the
/// type only decides representation (hex for `list<u8>`).
pub fn to_json(ty: &TypeDesc, val: &Val) -> Value {
    match (ty, val) {
        (TypeDesc::List(inner), Val::List(items)) if **inner == TypeDesc::U8 => {
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
