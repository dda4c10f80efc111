//! Why a JSON or query value does not fit its type, and what each type wants, in words.

use super::class::Class;
use super::types::TypeDesc;
use std::fmt;

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
    pub(super) fn new(expected: impl Into<String>, found: impl Into<String>) -> Self {
        Self {
            path: String::new(),
            expected: expected.into(),
            found: found.into(),
        }
    }

    pub(super) fn at(mut self, segment: impl fmt::Display) -> Self {
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

/// What a user must send for `ty`, in words.
pub(super) fn expectation(ty: &TypeDesc) -> String {
    match ty.class() {
        Class::Bool => "bool (true or false)".into(),
        Class::Integer(range) => format!("{ty} (an integer from {} to {})", range.min, range.max),
        Class::Float { .. } => format!("{ty} (a number, or \"NaN\", \"Infinity\", \"-Infinity\")"),
        Class::Char => "char (a string of exactly one Unicode character)".into(),
        Class::Text => "string".into(),
        Class::Bytes => "list<u8> (a hex string or an array of bytes)".into(),
        Class::Enum(_) => format!("{} (one of the case names)", ty.definition()),
        Class::Flags(_) => format!("{} (an array of flag names)", ty.definition()),
        Class::Compound => match ty {
            TypeDesc::Record { .. } => format!("{} (an object)", ty.definition()),
            TypeDesc::Variant { .. } => format!(
                "{} (`{{\"case\": payload}}`, or `\"case\"` without payload)",
                ty.definition()
            ),
            TypeDesc::Option(_) => format!("{ty} (null or the value)"),
            TypeDesc::Result { .. } => format!("{ty} (`{{\"ok\": ..}}` or `{{\"err\": ..}}`)"),
            _ => format!("{ty} (an array)"),
        },
    }
}
