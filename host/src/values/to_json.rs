//! The JSON form of WIT values, written (the table of the mapping is in `super::json`).
//!
//! A value is written straight from wasmtime's `Val`, with no tree of JSON in between: an
//! activation's answer costs the node its text, besides the value.

use super::class::Class;
use super::types::TypeDesc;
use serde::ser::{Serialize, Serializer};
use serde_json::Value;
use std::fmt;
use wasmtime::component::Val;

/// A value of a type, serialized in its JSON form.
///
/// The value comes from wasmtime, which has checked it against the function's type, so the
/// type only decides representation (hex for `list<u8>`).
pub struct Json<'a> {
    ty: &'a TypeDesc,
    val: &'a Val,
}

impl<'a> Json<'a> {
    /// `val`, of type `ty`, to serialize.
    pub fn new(ty: &'a TypeDesc, val: &'a Val) -> Self {
        Self { ty, val }
    }
}

/// Converts a value of type `ty` to JSON.
pub fn to_json(ty: &TypeDesc, val: &Val) -> Value {
    serde_json::to_value(Json::new(ty, val)).expect("values serialize")
}

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match (self.ty, self.val) {
            (ty, Val::List(items)) if ty.class() == Class::Bytes => s.collect_str(&Hex(items)),
            (TypeDesc::List(inner), Val::List(items)) => {
                s.collect_seq(items.iter().map(|v| Json::new(inner, v)))
            }
            (TypeDesc::Tuple(types), Val::Tuple(items)) => {
                s.collect_seq(types.iter().zip(items).map(|(t, v)| Json::new(t, v)))
            }
            (TypeDesc::Record { fields, .. }, Val::Record(values)) => s.collect_map(
                fields
                    .iter()
                    .zip(values)
                    .map(|((name, t), (_, v))| (name, Json::new(t, v))),
            ),
            (TypeDesc::Variant { cases, .. }, Val::Variant(case, payload)) => {
                let case_ty = cases
                    .iter()
                    .find(|(name, _)| name == case)
                    .and_then(|(_, t)| t.as_ref());
                match (case_ty, payload) {
                    (Some(t), Some(v)) => s.collect_map([(case, Json::new(t, v))]),
                    _ => s.serialize_str(case),
                }
            }
            (TypeDesc::Option(inner), Val::Option(value)) => match value {
                Some(v) => Json::new(inner, v).serialize(s),
                None => s.serialize_unit(),
            },
            (TypeDesc::Result { ok, err }, Val::Result(result)) => {
                let (case, side, payload) = match result {
                    Ok(payload) => ("ok", ok, payload),
                    Err(payload) => ("err", err, payload),
                };
                let payload = side.as_deref().zip(payload.as_deref());
                s.collect_map([(case, payload.map(|(t, v)| Json::new(t, v)))])
            }
            (_, val) => scalar(val, s),
        }
    }
}

fn scalar<S: Serializer>(val: &Val, s: S) -> Result<S::Ok, S::Error> {
    match val {
        Val::Bool(b) => s.serialize_bool(*b),
        Val::S8(v) => s.serialize_i8(*v),
        Val::U8(v) => s.serialize_u8(*v),
        Val::S16(v) => s.serialize_i16(*v),
        Val::U16(v) => s.serialize_u16(*v),
        Val::S32(v) => s.serialize_i32(*v),
        Val::U32(v) => s.serialize_u32(*v),
        Val::S64(v) => s.serialize_i64(*v),
        Val::U64(v) => s.serialize_u64(*v),
        // Through the shortest decimal that round-trips, so 0.1f32 reads as 0.1, not 0.10000000149011612.
        Val::Float32(v) => float(v.to_string().parse().unwrap_or(f64::from(*v)), s),
        Val::Float64(v) => float(*v, s),
        Val::Char(c) => s.serialize_char(*c),
        Val::String(text) | Val::Enum(text) => s.serialize_str(text),
        Val::Flags(flags) => s.collect_seq(flags),
        // Compound values are written with their type above; these arms are never reached for
        // values wasmtime checked, and resources or streams never pass the upload checks.
        _ => s.serialize_unit(),
    }
}

fn float<S: Serializer>(v: f64, s: S) -> Result<S::Ok, S::Error> {
    if v.is_finite() {
        s.serialize_f64(v)
    } else if v.is_nan() {
        s.serialize_str("NaN")
    } else if v > 0.0 {
        s.serialize_str("Infinity")
    } else {
        s.serialize_str("-Infinity")
    }
}

/// The items of a `list<u8>` as lowercase hex, written a block at a time.
struct Hex<'a>(&'a [Val]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        const BLOCK: usize = 512;
        let mut bytes = [0u8; BLOCK];
        let mut text = [0u8; 2 * BLOCK];
        for block in self.0.chunks(BLOCK) {
            for (byte, item) in bytes.iter_mut().zip(block) {
                *byte = if let Val::U8(b) = item { *b } else { 0 };
            }
            let text = &mut text[..2 * block.len()];
            hex::encode_to_slice(&bytes[..block.len()], text).map_err(|_| fmt::Error)?;
            f.write_str(std::str::from_utf8(text).map_err(|_| fmt::Error)?)?;
        }
        Ok(())
    }
}
