//! Scalars from text: what the JSON reader and the query reader read the same way.

use super::class::IntRange;
use super::error::{ValueError, expectation};
use super::sketch::describe_str;
use super::types::TypeDesc;
use carol_core::names::names_match;
use wasmtime::component::Val;

/// A digit string as an integer, if it is one.
pub(super) fn int_from_text(text: &str) -> Option<i128> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// An integer of type `ty` from query text.
pub(super) fn int_from_query(
    ty: &TypeDesc,
    range: IntRange,
    text: &str,
) -> Result<Val, ValueError> {
    int_from_text(text)
        .filter(|v| range.contains(*v))
        .map(|v| int_val(ty, v))
        .ok_or_else(|| ValueError::new(expectation(ty), describe_str(text)))
}

/// The value of integer type `ty`; callers checked `v` against its range.
pub(super) fn int_val(ty: &TypeDesc, v: i128) -> Val {
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

/// Hex text as the items of a `list<u8>`, made in one allocation of the exact size.
pub(super) fn hex_items(text: &str) -> Option<Vec<Val>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some(Val::U8(nibble(pair[0])? << 4 | nibble(pair[1])?)))
        .collect()
}

/// The one character `text` holds, if it holds one.
pub(super) fn single_char(text: &str) -> Option<char> {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// The case of enum `ty` that `text` names.
pub(super) fn enum_case(ty: &TypeDesc, cases: &[String], text: &str) -> Result<Val, ValueError> {
    cases
        .iter()
        .find(|case| names_match(case, text))
        .map(|case| Val::Enum(case.clone()))
        .ok_or_else(|| ValueError::new(expectation(ty), format!("unknown case `{text}`")))
}
