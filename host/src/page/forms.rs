//! The forms that run activations: a control per parameter fitted to its type, and what the
//! page's script needs to turn the controls into the JSON the node takes.

use super::html::Escaped;
use super::wit::linked;
use crate::values::{Activation, Class, Param, TypeDesc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::fmt::{self, Write};

/// How the form edits one parameter, and how the script turns the control into JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    /// A checkbox: `true` or `false`.
    Bool,
    /// A number input with the type's range: a JSON number.
    Int,
    /// `s64` and `u64`: a text input of digits, sent as a digit string to keep every digit.
    Int64,
    /// A number input with any step: a JSON number.
    Float,
    /// A text input for one character: a JSON string.
    Char,
    /// A text input: a JSON string.
    String,
    /// `list<u8>`: a text input of hex, sent as a hex string.
    Hex,
    /// A select of the cases: the case name.
    Enum,
    /// A checkbox per flag: the array of the checked ones.
    Flags,
    /// A textarea of JSON, sent as written.
    Json,
}

impl Kind {
    fn of(ty: &TypeDesc) -> Self {
        match ty.class() {
            Class::Bool => Self::Bool,
            Class::Integer(range) if range.is_wide() => Self::Int64,
            Class::Integer(_) => Self::Int,
            Class::Float { .. } => Self::Float,
            Class::Char => Self::Char,
            Class::Text => Self::String,
            Class::Bytes => Self::Hex,
            Class::Enum(_) => Self::Enum,
            Class::Flags(_) => Self::Flags,
            Class::Compound => Self::Json,
        }
    }
}

/// A parameter as the form shows it: whether it is an `option` with a "set" toggle, and the
/// type of the control. `option<option<T>>` is edited as JSON as a whole, since one toggle
/// cannot tell its two kinds of none apart.
fn form_type(ty: &TypeDesc) -> (bool, &TypeDesc) {
    match ty {
        TypeDesc::Option(inner) if !matches!(**inner, TypeDesc::Option(_)) => (true, inner),
        ty => (false, ty),
    }
}

/// What the script needs of an activation: its name and how to encode each parameter.
pub(super) fn script_spec(activation: &Activation) -> Value {
    let params: Vec<Value> = activation
        .params
        .iter()
        .map(|param| {
            let (optional, ty) = form_type(&param.ty);
            json!({ "name": param.name, "kind": Kind::of(ty), "optional": optional })
        })
        .collect();
    json!({ "name": activation.name, "params": params })
}

/// One parameter's label and control; `id` is unique in the page.
pub(super) fn write_param(out: &mut String, id: &str, param: &Param) -> fmt::Result {
    let (optional, ty) = form_type(&param.ty);
    let kind = Kind::of(ty);
    let name = Escaped(&param.name);
    let type_text = linked(|out| param.ty.spell(out));
    if kind == Kind::Flags {
        write!(
            out,
            "<fieldset class=\"param\"><legend>{name} <code class=\"type\">{type_text}</code></legend>"
        )?;
    } else {
        write!(
            out,
            "<div class=\"param\"><label for=\"{id}\">{name} <code class=\"type\">{type_text}</code></label>"
        )?;
    }
    if optional {
        write!(
            out,
            "<label class=\"set\"><input type=\"checkbox\" name=\"{name}.set\"> set \
             <span class=\"muted\">(else <code>null</code>)</span></label>"
        )?;
    }
    // An unset option's control starts disabled; the script enables it with the toggle.
    let disabled = if optional { " disabled" } else { "" };
    let common = format!("id=\"{id}\" name=\"{name}\"{disabled}");
    match kind {
        Kind::Bool => write!(out, "<input type=\"checkbox\" {common}>")?,
        Kind::Int => {
            let (min, max) = int_range(ty);
            write!(
                out,
                "<input type=\"number\" {common} min=\"{min}\" max=\"{max}\" step=\"1\" \
                 placeholder=\"{min} to {max}\">"
            )?;
        }
        Kind::Int64 => {
            let (min, max) = int_range(ty);
            let (pattern, mode) = if min < 0 {
                ("-?[0-9]{1,19}", "text")
            } else {
                ("[0-9]{1,20}", "numeric")
            };
            write!(
                out,
                "<input type=\"text\" {common} pattern=\"{pattern}\" inputmode=\"{mode}\" \
                 autocomplete=\"off\" spellcheck=\"false\" placeholder=\"{min} to {max}\">"
            )?;
        }
        Kind::Float => {
            let range = if ty.class() == (Class::Float { single: true }) {
                " min=\"-3.4028234663852886e38\" max=\"3.4028234663852886e38\""
            } else {
                ""
            };
            write!(
                out,
                "<input type=\"number\" {common} step=\"any\"{range} placeholder=\"0.5\">"
            )?;
        }
        Kind::Char => write!(
            out,
            "<input type=\"text\" {common} maxlength=\"2\" pattern=\".\" autocomplete=\"off\" \
             placeholder=\"one character\">"
        )?,
        Kind::String => write!(out, "<input type=\"text\" {common} autocomplete=\"off\">")?,
        Kind::Hex => write!(
            out,
            "<input type=\"text\" {common} pattern=\"[0-9a-fA-F\\s]*\" autocomplete=\"off\" \
             spellcheck=\"false\" placeholder=\"hex bytes, e.g. 68656c6c6f\">"
        )?,
        Kind::Enum => {
            write!(out, "<select {common}>")?;
            if let Class::Enum(cases) = ty.class() {
                for case in cases {
                    let case = Escaped(case);
                    write!(out, "<option value=\"{case}\">{case}</option>")?;
                }
            }
            out.push_str("</select>");
        }
        Kind::Flags => {
            if let Class::Flags(flags) = ty.class() {
                for flag in flags {
                    let flag = Escaped(flag);
                    write!(
                        out,
                        "<label class=\"flag\"><input type=\"checkbox\" name=\"{name}\" \
                         value=\"{flag}\"{disabled}> {flag}</label>"
                    )?;
                }
            }
        }
        Kind::Json => {
            let example = serde_json::to_string_pretty(&example(ty)).unwrap_or_default();
            let rows = example.lines().count().clamp(2, 12);
            write!(
                out,
                "<textarea {common} rows=\"{rows}\" spellcheck=\"false\" autocomplete=\"off\" \
                 autocapitalize=\"off\">{}</textarea><p class=\"hint\">JSON: {}</p>",
                Escaped(&example),
                json_hint(ty)
            )?;
        }
    }
    out.push_str(if kind == Kind::Flags {
        "</fieldset>"
    } else {
        "</div>"
    });
    Ok(())
}

/// How a type edited as JSON is written, in a few words (fixed text, nothing from the
/// component).
fn json_hint(ty: &TypeDesc) -> &'static str {
    match ty {
        TypeDesc::Record { .. } => "an object keyed by field name",
        TypeDesc::Variant { .. } => {
            "<code>{\"case\": payload}</code>, or <code>\"case\"</code> without payload"
        }
        TypeDesc::Result { .. } => "<code>{\"ok\": …}</code> or <code>{\"err\": …}</code>",
        TypeDesc::Option(_) => "<code>null</code> or the value",
        TypeDesc::List(_) | TypeDesc::Tuple(_) => "an array",
        _ => "the value",
    }
}

/// A value of the right shape to start editing from: zeros, empty strings, the first case.
fn example(ty: &TypeDesc) -> Value {
    match ty {
        TypeDesc::Bool => Value::Bool(false),
        TypeDesc::F32 | TypeDesc::F64 => json!(0.0),
        TypeDesc::Char => json!("a"),
        TypeDesc::String => json!(""),
        TypeDesc::List(_) if ty.class() == Class::Bytes => json!(""),
        TypeDesc::List(inner) => json!([example(inner)]),
        TypeDesc::Tuple(items) => items.iter().map(example).collect(),
        TypeDesc::Record { fields, .. } => Value::Object(
            fields
                .iter()
                .map(|(name, ty)| (name.clone(), example(ty)))
                .collect::<Map<_, _>>(),
        ),
        TypeDesc::Variant { cases, .. } => match cases.first() {
            Some((case, Some(payload))) => json!({ case: example(payload) }),
            Some((case, None)) => json!(case),
            None => Value::Null,
        },
        TypeDesc::Enum { cases, .. } => cases.first().map_or(Value::Null, |case| json!(case)),
        TypeDesc::Flags { flags, .. } => flags.iter().take(1).map(|flag| json!(flag)).collect(),
        TypeDesc::Option(inner) => example(inner),
        TypeDesc::Result { ok, .. } => json!({ "ok": ok.as_deref().map_or(Value::Null, example) }),
        _ => json!(0),
    }
}

/// The smallest and largest value of an integer type, which `Kind::Int` and `Kind::Int64` are.
fn int_range(ty: &TypeDesc) -> (i128, i128) {
    match ty.class() {
        Class::Integer(range) => (range.min, range.max),
        _ => unreachable!("only integer types are edited as integers"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_have_the_shape_of_their_type() {
        let shape = TypeDesc::Variant {
            name: None,
            cases: vec![
                ("circle".into(), Some(TypeDesc::F64)),
                ("empty".into(), None),
            ],
        };
        assert_eq!(example(&shape), json!({"circle": 0.0}));
        let list = TypeDesc::List(Box::new(TypeDesc::Tuple(vec![
            TypeDesc::U32,
            TypeDesc::Char,
        ])));
        assert_eq!(example(&list), json!([[0, "a"]]));
        let result = TypeDesc::Result {
            ok: None,
            err: Some(Box::new(TypeDesc::String)),
        };
        assert_eq!(example(&result), json!({"ok": null}));
    }
}
