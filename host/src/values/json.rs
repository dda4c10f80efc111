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
//!
//! Reading is directed by the type and streams: JSON text, or a parsed `serde_json::Value`, goes
//! into the value an item at a time, so that an argument costs the node the value it becomes
//! and no tree of JSON besides, and what the value takes is counted as it is built
//! ([`Reading`]).

use super::class::Class;
use super::error::{ValueError, expectation};
use super::scalar::single_char;
use super::scalar::{enum_case, float_from_text, float_val, hex_items, int_from_text, int_val};
use super::sketch::{Describe, describe_float, describe_map, describe_number, describe_seq};
use super::sketch::{describe, describe_str};
use super::types::TypeDesc;
use carol_core::names::names_match;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::fmt;
use wasmtime::component::Val;

/// What one value costs a reading's budget: the `Val` that holds it (strings add their
/// bytes), as wasmtime counts the values it copies out of an instance.
pub const VALUE_BYTES: usize = size_of::<Val>();

/// Why JSON could not be read as a value.
#[derive(Debug)]
pub(super) enum ReadError {
    /// It does not fit the type.
    Value(ValueError),
    /// Its value would take more than the budget.
    TooLarge,
    /// It is not JSON.
    Syntax(serde_json::Error),
}

/// One reading of JSON into values: what stopped it, and the budget left.
pub(super) struct Reading {
    failure: RefCell<Option<ReadError>>,
    left: Cell<usize>,
}

impl Reading {
    /// A reading whose values may take `budget` bytes in all.
    pub(super) fn new(budget: usize) -> Self {
        Self {
            failure: RefCell::new(None),
            left: Cell::new(budget),
        }
    }

    /// Records why the reading stops, and the error that stops it.
    fn fail<E: de::Error>(&self, error: ReadError) -> E {
        *self.failure.borrow_mut() = Some(error);
        E::custom("the value does not fit its type")
    }

    fn charge<E: de::Error>(&self, bytes: usize) -> Result<(), E> {
        match self.left.get().checked_sub(bytes) {
            Some(left) => {
                self.left.set(left);
                Ok(())
            }
            None => Err(self.fail(ReadError::TooLarge)),
        }
    }

    /// Puts `segment` in front of the path of a failure from within.
    fn within<T, E>(&self, result: Result<T, E>, segment: impl FnOnce() -> String) -> Result<T, E> {
        if result.is_err()
            && let Some(ReadError::Value(error)) = self.failure.borrow_mut().as_mut()
        {
            error.path = format!("{}{}", segment(), error.path);
        }
        result
    }

    /// Why the reading stopped, if a value (not the JSON) was wrong.
    pub(super) fn take_failure(&self) -> Option<ReadError> {
        self.failure.borrow_mut().take()
    }

    /// What ended a reading that failed with `error`.
    fn failure(&self, error: serde_json::Error) -> ReadError {
        self.take_failure().unwrap_or(ReadError::Syntax(error))
    }
}

/// Converts JSON to a value of type `ty`.
pub fn from_json(ty: &TypeDesc, json: &Value) -> Result<Val, ValueError> {
    let reading = Reading::new(usize::MAX);
    Typed::new(ty, &reading)
        .deserialize(json)
        .map_err(|error| match reading.failure(error) {
            ReadError::Value(error) => error,
            // Neither happens to a parsed value with no budget; say what serde said if it does.
            ReadError::TooLarge | ReadError::Syntax(_) => {
                ValueError::new(expectation(ty), describe(json))
            }
        })
}

/// Reads JSON text as a value of type `ty`, within `reading`'s budget.
pub(super) fn from_json_text(
    ty: &TypeDesc,
    text: &[u8],
    reading: &Reading,
) -> Result<Val, ReadError> {
    let mut deserializer = serde_json::Deserializer::from_slice(text);
    let value = Typed::new(ty, reading)
        .deserialize(&mut deserializer)
        .map_err(|error| reading.failure(error))?;
    deserializer.end().map_err(ReadError::Syntax)?;
    Ok(value)
}

/// Reads one value of a type.
#[derive(Clone, Copy)]
pub(super) struct Typed<'a> {
    ty: &'a TypeDesc,
    reading: &'a Reading,
}

impl<'a> Typed<'a> {
    pub(super) fn new(ty: &'a TypeDesc, reading: &'a Reading) -> Self {
        Self { ty, reading }
    }

    fn of(self, ty: &'a TypeDesc) -> Self {
        Self { ty, ..self }
    }

    fn mismatch<E: de::Error>(self, found: String) -> E {
        self.refuse(ValueError::new(expectation(self.ty), found))
    }

    fn refuse<E: de::Error>(self, error: ValueError) -> E {
        self.reading.fail(ReadError::Value(error))
    }

    /// A number, as an integer where it is one.
    fn number<E: de::Error>(
        self,
        int: Option<i128>,
        float: f64,
        found: impl FnOnce() -> String,
    ) -> Result<Val, E> {
        let value = match self.ty.class() {
            Class::Integer(range) => int
                .filter(|v| range.contains(*v))
                .map(|v| int_val(self.ty, v)),
            Class::Float { single } => float_val(single, float),
            _ => None,
        };
        value.ok_or_else(|| self.mismatch(found()))
    }
}

impl<'de> DeserializeSeed<'de> for Typed<'_> {
    type Value = Val;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Val, D::Error> {
        self.reading.charge(VALUE_BYTES)?;
        match self.ty {
            TypeDesc::Option(_) => deserializer.deserialize_option(self),
            _ => deserializer.deserialize_any(self),
        }
    }
}

impl<'de> Visitor<'de> for Typed<'_> {
    type Value = Val;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&expectation(self.ty))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Val, E> {
        match self.ty.class() {
            Class::Bool => Ok(Val::Bool(v)),
            _ => Err(self.mismatch(format!("bool {v}"))),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Val, E> {
        self.number(Some(v.into()), v as f64, || describe_number(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Val, E> {
        self.number(Some(v.into()), v as f64, || describe_number(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Val, E> {
        // `695.0` is an integer to JSON Schema too; beyond 2^53 a double is not exact, so there
        // only plain digits are taken.
        let int = (v.fract() == 0.0 && v.abs() <= 2f64.powi(53)).then_some(v as i128);
        self.number(int, v, || describe_float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Val, E> {
        let value = match self.ty.class() {
            Class::Integer(range) if range.is_wide() => int_from_text(v)
                .filter(|n| range.contains(*n))
                .map(|n| int_val(self.ty, n)),
            Class::Float { single } => float_from_text(v).and_then(|f| float_val(single, f)),
            Class::Char => single_char(v).map(Val::Char),
            Class::Text => {
                self.reading.charge(v.len())?;
                Some(Val::String(v.to_owned()))
            }
            Class::Bytes => {
                self.reading.charge(v.len() / 2 * VALUE_BYTES)?;
                hex_items(v).map(Val::List)
            }
            Class::Enum(cases) => {
                return enum_case(self.ty, cases, v).map_err(|error| self.refuse(error));
            }
            Class::Compound => match self.ty {
                TypeDesc::Variant { cases, .. } => return variant_case(self, cases, v),
                _ => None,
            },
            _ => None,
        };
        value.ok_or_else(|| self.mismatch(describe_str(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Val, E> {
        Err(self.mismatch("null".into()))
    }

    fn visit_none<E: de::Error>(self) -> Result<Val, E> {
        match self.ty {
            TypeDesc::Option(_) => Ok(Val::Option(None)),
            _ => Err(self.mismatch("null".into())),
        }
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Val, D::Error> {
        match self.ty {
            TypeDesc::Option(inner) => Ok(Val::Option(Some(Box::new(
                self.of(inner).deserialize(deserializer)?,
            )))),
            _ => self.deserialize(deserializer),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Val, A::Error> {
        match self.ty {
            TypeDesc::List(inner) => read_list(self, inner, seq),
            TypeDesc::Tuple(types) => read_tuple(self, types, seq),
            TypeDesc::Flags { flags, .. } => read_flags(self, flags, seq),
            _ => Err(self.mismatch(describe_seq(seq)?)),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Val, A::Error> {
        match self.ty {
            TypeDesc::Record { fields, .. } => read_record(self, fields, map),
            TypeDesc::Variant { cases, .. } => read_variant(self, cases, map),
            TypeDesc::Result { ok, err } => read_result(self, ok.as_deref(), err.as_deref(), map),
            _ => Err(self.mismatch(describe_map(map)?)),
        }
    }
}

fn read_list<'de, A: SeqAccess<'de>>(
    typed: Typed<'_>,
    inner: &TypeDesc,
    mut seq: A,
) -> Result<Val, A::Error> {
    let mut items = Vec::new();
    loop {
        let next = seq.next_element_seed(typed.of(inner));
        match typed
            .reading
            .within(next, || format!("[{}]", items.len()))?
        {
            Some(item) => items.push(item),
            None => break,
        }
    }
    items.shrink_to_fit();
    Ok(Val::List(items))
}

fn read_tuple<'de, A: SeqAccess<'de>>(
    typed: Typed<'_>,
    types: &[TypeDesc],
    mut seq: A,
) -> Result<Val, A::Error> {
    let mut items = Vec::with_capacity(types.len());
    for (i, ty) in types.iter().enumerate() {
        let next = seq.next_element_seed(typed.of(ty));
        match typed.reading.within(next, || format!("[{i}]"))? {
            Some(item) => items.push(item),
            None => return Err(typed.mismatch(format!("an array of {i} items"))),
        }
    }
    if seq.next_element::<IgnoredAny>()?.is_some() {
        return Err(typed.mismatch(format!("an array of more than {} items", types.len())));
    }
    Ok(Val::Tuple(items))
}

fn read_flags<'de, A: SeqAccess<'de>>(
    typed: Typed<'_>,
    flags: &[String],
    mut seq: A,
) -> Result<Val, A::Error> {
    let mut set = Vec::new();
    loop {
        let segment = || format!("[{}]", set.len());
        let next = match seq.next_element_seed(typed.of(&TypeDesc::String)) {
            Ok(next) => next,
            Err(error) => {
                // Say what the flags type wants, not that a string was wanted.
                let mut failure = typed.reading.failure.borrow_mut();
                if let Some(ReadError::Value(value)) = failure.as_mut() {
                    value.expected = expectation(typed.ty);
                }
                drop(failure);
                return typed.reading.within(Err(error), segment);
            }
        };
        let Some(Val::String(text)) = next else {
            break;
        };
        let Some(flag) = flags.iter().find(|flag| names_match(flag, &text)) else {
            let error = ValueError::new(expectation(typed.ty), format!("unknown flag `{text}`"));
            return Err(typed.refuse(error.at(segment())));
        };
        set.push(flag.clone());
    }
    Ok(Val::Flags(set))
}

fn read_record<'de, A: MapAccess<'de>>(
    typed: Typed<'_>,
    fields: &[(String, TypeDesc)],
    mut map: A,
) -> Result<Val, A::Error> {
    let mut slots: Vec<Option<Val>> = fields.iter().map(|_| None).collect();
    while let Some(key) = map.next_key::<String>()? {
        let Some(index) = fields.iter().position(|(name, _)| names_match(name, &key)) else {
            let known: Vec<&str> = fields.iter().map(|(name, _)| name.as_str()).collect();
            return Err(typed.refuse(ValueError::new(
                format!("{} (fields: {})", typed.ty.definition(), known.join(", ")),
                format!("unknown field `{key}`"),
            )));
        };
        let (name, field_ty) = &fields[index];
        if slots[index].is_some() {
            return Err(typed.refuse(ValueError::new(
                format!("field `{name}` once"),
                "it twice (as given, or in kebab-case and snake_case)",
            )));
        }
        let value = map.next_value_seed(typed.of(field_ty));
        let value = typed.reading.within(value, || format!(".{name}"))?;
        typed.reading.charge(name.len() + size_of::<String>())?;
        slots[index] = Some(value);
    }
    let mut values = Vec::with_capacity(fields.len());
    for ((name, field_ty), slot) in fields.iter().zip(slots) {
        let Some(value) = slot else {
            return Err(typed.refuse(ValueError::new(
                format!("field `{name}` of type {field_ty}"),
                "nothing",
            )));
        };
        values.push((name.clone(), value));
    }
    Ok(Val::Record(values))
}

/// A variant's case given as its name alone.
fn variant_case<E: de::Error>(
    typed: Typed<'_>,
    cases: &[(String, Option<TypeDesc>)],
    case: &str,
) -> Result<Val, E> {
    let (name, case_ty) = find_case(typed, cases, case)?;
    match case_ty {
        None => Ok(Val::Variant(name.clone(), None)),
        Some(case_ty) => Err(typed.refuse(
            ValueError::new(
                format!("case `{name}` with a payload of type {case_ty}"),
                "no payload",
            )
            .at(format_args!(".{name}")),
        )),
    }
}

fn find_case<'t, E: de::Error>(
    typed: Typed<'_>,
    cases: &'t [(String, Option<TypeDesc>)],
    case: &str,
) -> Result<&'t (String, Option<TypeDesc>), E> {
    cases
        .iter()
        .find(|(name, _)| names_match(name, case))
        .ok_or_else(|| {
            typed.refuse(ValueError::new(
                expectation(typed.ty),
                format!("unknown case `{case}`"),
            ))
        })
}

fn read_variant<'de, A: MapAccess<'de>>(
    typed: Typed<'_>,
    cases: &[(String, Option<TypeDesc>)],
    mut map: A,
) -> Result<Val, A::Error> {
    let Some(case) = map.next_key::<String>()? else {
        return Err(typed.mismatch("object {}".into()));
    };
    let (name, case_ty) = find_case(typed, cases, &case)?;
    let payload = match case_ty {
        Some(case_ty) => {
            let value = map.next_value_seed(typed.of(case_ty));
            Some(Box::new(
                typed.reading.within(value, || format!(".{name}"))?,
            ))
        }
        None => {
            let expected = format!("case `{name}` without payload (null)");
            let value = map.next_value_seed(Null {
                typed,
                expected: &expected,
            });
            typed.reading.within(value, || format!(".{name}"))?;
            None
        }
    };
    if map.next_key::<IgnoredAny>()?.is_some() {
        return Err(typed.mismatch("an object of more than one key".into()));
    }
    Ok(Val::Variant(name.clone(), payload))
}

fn read_result<'de, A: MapAccess<'de>>(
    typed: Typed<'_>,
    ok: Option<&TypeDesc>,
    err: Option<&TypeDesc>,
    mut map: A,
) -> Result<Val, A::Error> {
    let Some(case) = map.next_key::<String>()? else {
        return Err(typed.mismatch("object {}".into()));
    };
    let side = match case.as_str() {
        "ok" => ok,
        "err" => err,
        _ => return Err(typed.mismatch(format!("an object with the key `{case}`"))),
    };
    let payload = match side {
        Some(side) => {
            let value = map.next_value_seed(typed.of(side));
            Some(Box::new(
                typed.reading.within(value, || format!(".{case}"))?,
            ))
        }
        None => {
            let expected = "null (this side has no payload)";
            let value = map.next_value_seed(Null { typed, expected });
            typed.reading.within(value, || format!(".{case}"))?;
            None
        }
    };
    if map.next_key::<IgnoredAny>()?.is_some() {
        return Err(typed.mismatch("an object of more than one key".into()));
    }
    Ok(Val::Result(if case == "ok" {
        Ok(payload)
    } else {
        Err(payload)
    }))
}

/// Reads `null`, the payload of a case or side that has none.
struct Null<'a> {
    typed: Typed<'a>,
    expected: &'a str,
}

impl<'de> DeserializeSeed<'de> for Null<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        match Describe.deserialize(deserializer)? {
            found if found == "null" => Ok(()),
            found => Err(self.typed.refuse(ValueError::new(self.expected, found))),
        }
    }
}

#[cfg(test)]
mod tests;
