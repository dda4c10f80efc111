//! The text form of query parameters: raw text for plain values, JSON text for the rest.
//!
//! No budget is kept here: a request's target is at most 64 KiB (the `http` crate refuses
//! longer ones), so no query holds much.

use super::class::Class;
use super::error::{ValueError, expectation};
use super::json::{ReadError, Reading, from_json_text};
use super::scalar::{
    enum_case, float_from_text, float_val, hex_items, int_from_query, single_char,
};
use super::sketch::describe_str;
use super::types::TypeDesc;
use wasmtime::component::Val;

/// Converts a query parameter's text to a value of type `ty`: bool, numbers, char, string and
/// enum take the raw text; `list<u8>` takes raw hex or JSON text; every other type takes JSON text.
pub fn from_query_text(ty: &TypeDesc, text: &str) -> Result<Val, ValueError> {
    let mismatch = || ValueError::new(expectation(ty), describe_str(text));
    let plain = |value: Option<Val>| value.ok_or_else(mismatch);
    match ty.class() {
        Class::Bool => plain(match text {
            "true" => Some(Val::Bool(true)),
            "false" => Some(Val::Bool(false)),
            _ => None,
        }),
        Class::Integer(range) => int_from_query(ty, range, text),
        Class::Float { single } => plain(
            float_from_text(text)
                .or_else(|| text.parse::<f64>().ok().filter(|v| v.is_finite()))
                .and_then(|v| float_val(single, v)),
        ),
        Class::Char => plain(single_char(text).map(Val::Char)),
        Class::Text => Ok(Val::String(text.to_owned())),
        Class::Enum(cases) => enum_case(ty, cases, text),
        class @ (Class::Bytes | Class::Flags(_) | Class::Compound) => {
            // Raw hex is the natural query spelling of bytes; JSON text is accepted too.
            if class == Class::Bytes
                && let Some(items) = hex_items(text)
            {
                return Ok(Val::List(items));
            }
            match from_json_text(ty, text.as_bytes(), &Reading::new(usize::MAX)) {
                Ok(value) => Ok(value),
                Err(ReadError::Value(error)) => Err(error),
                Err(ReadError::Syntax(e)) => Err(ValueError::new(
                    format!("JSON text for {}", expectation(ty)),
                    format!("text that is not JSON ({e})"),
                )),
                // A reading without a budget is never too large.
                Err(ReadError::TooLarge) => Err(mismatch()),
            }
        }
    }
}
