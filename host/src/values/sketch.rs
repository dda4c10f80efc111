//! Short descriptions of JSON values for error messages, taken as the value streams by: a
//! mismatched argument of megabytes is described by its first characters, and never held.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};
use std::fmt;

/// Characters of a value's JSON text a description shows whole; a longer one is cut.
const SHOWN: usize = 60;

/// The compact JSON text of a value, kept up to one character past `SHOWN`.
#[derive(Default)]
struct Text {
    text: String,
    chars: usize,
}

impl Text {
    fn full(&self) -> bool {
        self.chars > SHOWN
    }

    fn push(&mut self, piece: &str) {
        for c in piece.chars() {
            if self.full() {
                return;
            }
            self.text.push(c);
            self.chars += 1;
        }
    }

    /// A JSON string, escaped as JSON writes it; only its start, when it is long.
    fn push_string(&mut self, s: &str) {
        let start: String = s.chars().take(SHOWN + 1).collect();
        self.push(&serde_json::to_string(&start).expect("strings serialize"));
    }

    /// `kind` and the text, cut with `...` past `SHOWN` characters.
    fn describe(self, kind: &str) -> String {
        if self.full() {
            let cut: String = self.text.chars().take(SHOWN - 3).collect();
            format!("{kind} {cut}...")
        } else {
            format!("{kind} {}", self.text)
        }
    }
}

/// A short description of a JSON value: its kind and the start of its text.
pub(super) fn describe(json: &Value) -> String {
    let kind = match json {
        Value::Null => return "null".into(),
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let mut text = Text::default();
    Walk(&mut text)
        .deserialize(json)
        .expect("a parsed value reads");
    text.describe(kind)
}

/// The description of a string.
pub(super) fn describe_str(s: &str) -> String {
    let mut text = Text::default();
    text.push_string(s);
    text.describe("string")
}

/// The description of a number.
pub(super) fn describe_number(n: impl fmt::Display) -> String {
    format!("number {n}")
}

/// The description of a float, as JSON writes it.
pub(super) fn describe_float(v: f64) -> String {
    Number::from_f64(v).map_or_else(|| "number".into(), describe_number)
}

/// The description of the array `seq` streams, read to its end.
pub(super) fn describe_seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<String, A::Error> {
    let mut text = Text::default();
    Walk(&mut text).visit_seq(seq)?;
    Ok(text.describe("array"))
}

/// The description of the object `map` streams, read to its end.
pub(super) fn describe_map<'de, A: MapAccess<'de>>(map: A) -> Result<String, A::Error> {
    let mut text = Text::default();
    Walk(&mut text).visit_map(map)?;
    Ok(text.describe("object"))
}

/// Reads any value into its description, `null` for null: what a reader that wants one kind of
/// value says about any other.
pub(super) struct Describe;

impl<'de> DeserializeSeed<'de> for Describe {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Describe {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<String, E> {
        Ok(format!("bool {v}"))
    }

    fn visit_i64<E>(self, v: i64) -> Result<String, E> {
        Ok(describe_number(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<String, E> {
        Ok(describe_number(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<String, E> {
        Ok(describe_float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<String, E> {
        Ok(describe_str(v))
    }

    fn visit_unit<E>(self) -> Result<String, E> {
        Ok("null".into())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<String, A::Error> {
        describe_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<String, A::Error> {
        describe_map(map)
    }
}

/// Reads a value, writing its text until the text is full and skipping the rest.
struct Walk<'a>(&'a mut Text);

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        if self.0.full() {
            deserializer.deserialize_ignored_any(IgnoredAny)?;
            return Ok(());
        }
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.0.push(if v { "true" } else { "false" });
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.0.push(&v.to_string());
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.0.push(&v.to_string());
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.0
            .push(&Number::from_f64(v).map_or_else(|| "null".into(), |n| n.to_string()));
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.0.push_string(v);
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.0.push("null");
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.0.push("[");
        let mut first = true;
        loop {
            // The separator goes in before the item is known to exist, and out if it does not.
            let mark = (self.0.text.len(), self.0.chars);
            if !first {
                self.0.push(",");
            }
            if seq.next_element_seed(Walk(&mut *self.0))?.is_none() {
                self.0.text.truncate(mark.0);
                self.0.chars = mark.1;
                break;
            }
            first = false;
        }
        self.0.push("]");
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.0.push("{");
        let mut first = true;
        loop {
            let mark = (self.0.text.len(), self.0.chars);
            if !first {
                self.0.push(",");
            }
            if map.next_key_seed(Walk(&mut *self.0))?.is_none() {
                self.0.text.truncate(mark.0);
                self.0.chars = mark.1;
                break;
            }
            self.0.push(":");
            map.next_value_seed(Walk(&mut *self.0))?;
            first = false;
        }
        self.0.push("}");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn descriptions_show_the_start_of_the_text() {
        assert_eq!(describe(&json!(null)), "null");
        assert_eq!(describe(&json!(5)), "number 5");
        assert_eq!(describe(&json!(-1.5)), "number -1.5");
        assert_eq!(describe(&json!("a\"b")), r#"string "a\"b""#);
        assert_eq!(
            describe(&json!([1, [2, {"k": true}], []])),
            r#"array [1,[2,{"k":true}],[]]"#
        );
        assert_eq!(describe(&json!({})), "object {}");
        let long = json!((0..100).collect::<Vec<u32>>());
        let text = describe(&long);
        assert!(
            text.starts_with("array [0,1,2,") && text.ends_with("..."),
            "{text}"
        );
        assert_eq!(text.chars().count(), "array ".len() + 57 + 3);
        assert_eq!(
            describe(&json!("x".repeat(1000))).chars().count(),
            "string ".len() + 60
        );
    }

    #[test]
    fn streamed_values_read_as_parsed_ones() {
        let text = r#"[1,"two",{"three":[3.5,null]},[]]"#;
        let mut deserializer = serde_json::Deserializer::from_str(text);
        struct Seq;
        impl<'de> Visitor<'de> for Seq {
            type Value = String;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<String, A::Error> {
                describe_seq(seq)
            }
        }
        let streamed = deserializer.deserialize_any(Seq).unwrap();
        assert_eq!(streamed, describe(&serde_json::from_str(text).unwrap()));
    }
}
