//! The one classification of WIT types by how their values travel: what the JSON mapping, the
//! JSON Schemas, the query-string rules and the page's forms each decide from.

use super::types::TypeDesc;

/// How values of a type travel, for every type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class<'a> {
    /// `bool`: `true` or `false`.
    Bool,
    /// `s8` to `u64`: an integer within the range.
    Integer(IntRange),
    /// `f32` or `f64`: a number, or `"NaN"`, `"Infinity"`, `"-Infinity"`.
    Float {
        /// Whether it is `f32`, whose range is narrower.
        single: bool,
    },
    /// `char`: a string of one Unicode character.
    Char,
    /// `string`.
    Text,
    /// `list<u8>`: bytes, as hex.
    Bytes,
    /// `enum`: one of the case names.
    Enum(&'a [String]),
    /// `flags`: an array of flag names.
    Flags(&'a [String]),
    /// Lists, tuples, records, variants, options and results: JSON structure (JSON text in a
    /// query string).
    Compound,
}

/// The values of an integer type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntRange {
    /// The smallest.
    pub min: i128,
    /// The largest.
    pub max: i128,
}

impl IntRange {
    /// Whether some of its values are beyond what a JSON number read as a double (as browsers
    /// and most JSON libraries read them) holds exactly: the 64-bit types, which JSON also
    /// accepts as strings of digits.
    pub fn is_wide(&self) -> bool {
        self.max > 1 << 53
    }

    /// Whether `value` is in the range.
    pub fn contains(&self, value: i128) -> bool {
        (self.min..=self.max).contains(&value)
    }
}

impl TypeDesc {
    /// How values of this type travel.
    pub fn class(&self) -> Class<'_> {
        let int = |min: i128, max: i128| Class::Integer(IntRange { min, max });
        match self {
            Self::Bool => Class::Bool,
            Self::S8 => int(i8::MIN.into(), i8::MAX.into()),
            Self::U8 => int(0, u8::MAX.into()),
            Self::S16 => int(i16::MIN.into(), i16::MAX.into()),
            Self::U16 => int(0, u16::MAX.into()),
            Self::S32 => int(i32::MIN.into(), i32::MAX.into()),
            Self::U32 => int(0, u32::MAX.into()),
            Self::S64 => int(i64::MIN.into(), i64::MAX.into()),
            Self::U64 => int(0, u64::MAX.into()),
            Self::F32 => Class::Float { single: true },
            Self::F64 => Class::Float { single: false },
            Self::Char => Class::Char,
            Self::String => Class::Text,
            Self::List(inner) if **inner == Self::U8 => Class::Bytes,
            Self::Enum { cases, .. } => Class::Enum(cases),
            Self::Flags { flags, .. } => Class::Flags(flags),
            Self::List(_)
            | Self::Tuple(_)
            | Self::Record { .. }
            | Self::Variant { .. }
            | Self::Option(_)
            | Self::Result { .. } => Class::Compound,
        }
    }
}

impl Class<'_> {
    /// Whether a query parameter of this class is its value's plain text (else JSON text, or
    /// for bytes also raw hex).
    pub fn is_plain_text(&self) -> bool {
        matches!(
            self,
            Self::Bool
                | Self::Integer(_)
                | Self::Float { .. }
                | Self::Char
                | Self::Text
                | Self::Enum(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_know_their_range_and_width() {
        let Class::Integer(u64s) = TypeDesc::U64.class() else {
            panic!("u64 is an integer")
        };
        assert_eq!((u64s.min, u64s.max), (0, u64::MAX.into()));
        assert!(u64s.is_wide());
        let Class::Integer(u32s) = TypeDesc::U32.class() else {
            panic!("u32 is an integer")
        };
        assert!(!u32s.is_wide() && u32s.contains(4_294_967_295) && !u32s.contains(-1));
        assert_eq!(TypeDesc::List(Box::new(TypeDesc::U8)).class(), Class::Bytes);
        assert_eq!(
            TypeDesc::List(Box::new(TypeDesc::U16)).class(),
            Class::Compound
        );
        assert!(TypeDesc::F32.class().is_plain_text());
        assert!(!Class::Bytes.is_plain_text() && !Class::Compound.is_plain_text());
    }
}
