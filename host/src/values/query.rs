//! The text form of query parameters: raw text for plain values, JSON text for the rest.

use super::class::Class;
use super::error::{ValueError, expectation};
use super::json::{
    enum_case, float_from_text, float_val, from_json, hex_bytes, int_from_json, single_char,
};
use super::types::TypeDesc;
use serde_json::Value;
use wasmtime::component::Val;

/// Converts a query parameter's text to a value of type `ty`: bool, numbers, char, string and
/// enum take the raw text; `list<u8>` takes raw hex or JSON text; every other type takes JSON text.
pub fn from_query_text(ty: &TypeDesc, text: &str) -> Result<Val, ValueError> {
    let raw = || Value::String(text.to_owned());
    match ty.class() {
        Class::Bool => match text {
            "true" => Ok(Val::Bool(true)),
            "false" => Ok(Val::Bool(false)),
            _ => Err(ValueError::mismatch(ty, &raw())),
        },
        Class::Integer(range) => int_from_json(ty, range, &raw(), true),
        Class::Float { single } => float_from_text(text)
            .or_else(|| text.parse::<f64>().ok().filter(|v| v.is_finite()))
            .and_then(|v| float_val(single, v))
            .ok_or_else(|| ValueError::mismatch(ty, &raw())),
        Class::Char => single_char(text)
            .map(Val::Char)
            .ok_or_else(|| ValueError::mismatch(ty, &raw())),
        Class::Text => Ok(Val::String(text.to_owned())),
        Class::Enum(cases) => enum_case(ty, cases, text),
        class @ (Class::Bytes | Class::Flags(_) | Class::Compound) => {
            // Raw hex is the natural query spelling of bytes; JSON text is accepted too.
            if class == Class::Bytes
                && let Some(bytes) = hex_bytes(text)
            {
                return Ok(bytes);
            }
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
