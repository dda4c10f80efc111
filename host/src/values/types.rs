//! Type descriptions of a component's activations, read from wasmtime's component types.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use wasmtime::component::types::{self, ComponentItem};

/// A WIT value type that can be carried over HTTP as JSON.
///
/// Records, variants, enums and flags keep the name the component exports them under, where it
/// does, so listings read like the guest's WIT.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeDesc {
    /// `bool`
    Bool,
    /// `s8`
    S8,
    /// `u8`
    U8,
    /// `s16`
    S16,
    /// `u16`
    U16,
    /// `s32`
    S32,
    /// `u32`
    U32,
    /// `s64`
    S64,
    /// `u64`
    U64,
    /// `f32`
    F32,
    /// `f64`
    F64,
    /// `char`
    Char,
    /// `string`
    String,
    /// `list<T>`
    List(Box<TypeDesc>),
    /// `record { .. }`
    Record {
        /// The exported name, if any.
        name: Option<String>,
        /// Field names and types, in declaration order.
        fields: Vec<(String, TypeDesc)>,
    },
    /// `tuple<..>`
    Tuple(Vec<TypeDesc>),
    /// `variant { .. }`
    Variant {
        /// The exported name, if any.
        name: Option<String>,
        /// Case names and payload types, in declaration order.
        cases: Vec<(String, Option<TypeDesc>)>,
    },
    /// `enum { .. }`
    Enum {
        /// The exported name, if any.
        name: Option<String>,
        /// Case names, in declaration order.
        cases: Vec<String>,
    },
    /// `option<T>`
    Option(Box<TypeDesc>),
    /// `result<T, E>`, either side possibly without payload.
    Result {
        /// The `ok` payload type.
        ok: Option<Box<TypeDesc>>,
        /// The `err` payload type.
        err: Option<Box<TypeDesc>>,
    },
    /// `flags { .. }`
    Flags {
        /// The exported name, if any.
        name: Option<String>,
        /// Flag names, in declaration order.
        flags: Vec<String>,
    },
}

/// A type that exists in the component model but has no JSON form over HTTP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} cannot be carried over HTTP")]
pub struct UnsupportedType(pub &'static str);

/// Names under which a component (or one of its exported interfaces) exports types.
#[derive(Default)]
pub(crate) struct NamedTypes(Vec<(String, types::Type)>);

impl NamedTypes {
    /// Collects the type exports among `exports`.
    pub(crate) fn collect<'a>(exports: impl Iterator<Item = (&'a str, ComponentItem)>) -> Self {
        Self(
            exports
                .filter_map(|(name, item)| match item {
                    ComponentItem::Type(ty) => Some((name.to_owned(), ty)),
                    _ => None,
                })
                .collect(),
        )
    }

    fn name_of(&self, ty: &types::Type) -> Option<String> {
        self.0
            .iter()
            .find(|(_, named)| named == ty)
            .map(|(name, _)| name.clone())
    }
}

impl TypeDesc {
    /// Describes a wasmtime component type, naming the types found in `names`.
    pub(crate) fn from_wasmtime(
        ty: &types::Type,
        names: &NamedTypes,
    ) -> Result<Self, UnsupportedType> {
        use types::Type as T;
        let boxed = |ty: &types::Type| Self::from_wasmtime(ty, names).map(Box::new);
        Ok(match ty {
            T::Bool => Self::Bool,
            T::S8 => Self::S8,
            T::U8 => Self::U8,
            T::S16 => Self::S16,
            T::U16 => Self::U16,
            T::S32 => Self::S32,
            T::U32 => Self::U32,
            T::S64 => Self::S64,
            T::U64 => Self::U64,
            T::Float32 => Self::F32,
            T::Float64 => Self::F64,
            T::Char => Self::Char,
            T::String => Self::String,
            T::List(list) => Self::List(boxed(&list.ty())?),
            T::Record(record) => Self::Record {
                name: names.name_of(ty),
                fields: record
                    .fields()
                    .map(|field| {
                        Ok((
                            field.name.to_owned(),
                            Self::from_wasmtime(&field.ty, names)?,
                        ))
                    })
                    .collect::<Result<_, _>>()?,
            },
            T::Tuple(tuple) => Self::Tuple(
                tuple
                    .types()
                    .map(|ty| Self::from_wasmtime(&ty, names))
                    .collect::<Result<_, _>>()?,
            ),
            T::Variant(variant) => Self::Variant {
                name: names.name_of(ty),
                cases: variant
                    .cases()
                    .map(|case| {
                        Ok((
                            case.name.to_owned(),
                            case.ty
                                .as_ref()
                                .map(|ty| Self::from_wasmtime(ty, names))
                                .transpose()?,
                        ))
                    })
                    .collect::<Result<_, _>>()?,
            },
            T::Enum(cases) => Self::Enum {
                name: names.name_of(ty),
                cases: cases.names().map(str::to_owned).collect(),
            },
            T::Option(option) => Self::Option(boxed(&option.ty())?),
            T::Result(result) => Self::Result {
                ok: result.ok().as_ref().map(boxed).transpose()?,
                err: result.err().as_ref().map(boxed).transpose()?,
            },
            T::Flags(flags) => Self::Flags {
                name: names.name_of(ty),
                flags: flags.names().map(str::to_owned).collect(),
            },
            T::Own(_) | T::Borrow(_) => return Err(UnsupportedType("a resource handle")),
            T::Future(_) => return Err(UnsupportedType("a future")),
            T::Stream(_) => return Err(UnsupportedType("a stream")),
            T::ErrorContext => return Err(UnsupportedType("an error-context")),
            T::Map(_) => return Err(UnsupportedType("a map")),
            T::FixedLengthList(_) => return Err(UnsupportedType("a fixed-length list")),
        })
    }

    /// The smallest and largest value of an integer type; `None` for every other type.
    pub fn int_range(&self) -> Option<(i128, i128)> {
        Some(match self {
            Self::S8 => (i8::MIN.into(), i8::MAX.into()),
            Self::U8 => (0, u8::MAX.into()),
            Self::S16 => (i16::MIN.into(), i16::MAX.into()),
            Self::U16 => (0, u16::MAX.into()),
            Self::S32 => (i32::MIN.into(), i32::MAX.into()),
            Self::U32 => (0, u32::MAX.into()),
            Self::S64 => (i64::MIN.into(), i64::MAX.into()),
            Self::U64 => (0, u64::MAX.into()),
            _ => return None,
        })
    }

    /// The name this type is exported under, for records, variants, enums and flags that have one.
    pub fn name(&self) -> Option<&str> {
        match self {
            Self::Record { name, .. }
            | Self::Variant { name, .. }
            | Self::Enum { name, .. }
            | Self::Flags { name, .. } => name.as_deref(),
            _ => None,
        }
    }

    /// The WIT definition of a type, spelled out even when it has a name:
    /// `record price { value: u64 }` for a named record, the same as `Display` otherwise.
    pub fn definition(&self) -> String {
        let body = match self {
            Self::Record { fields, .. } => {
                join_braced(fields.iter().map(|(name, ty)| format!("{name}: {ty}")))
            }
            Self::Variant { cases, .. } => join_braced(cases.iter().map(|(name, ty)| match ty {
                Some(ty) => format!("{name}({ty})"),
                None => name.clone(),
            })),
            Self::Enum { cases, .. } => join_braced(cases.iter().cloned()),
            Self::Flags { flags, .. } => join_braced(flags.iter().cloned()),
            _ => return self.to_string(),
        };
        let keyword = self.keyword();
        match self.name() {
            Some(name) => format!("{keyword} {name} {body}"),
            None => format!("{keyword} {body}"),
        }
    }

    fn keyword(&self) -> &'static str {
        match self {
            Self::Record { .. } => "record",
            Self::Variant { .. } => "variant",
            Self::Enum { .. } => "enum",
            Self::Flags { .. } => "flags",
            _ => "",
        }
    }

    /// Adds the definitions of every named type reachable from this one to `out`.
    pub fn collect_named(&self, out: &mut BTreeMap<String, String>) {
        if let Some(name) = self.name() {
            if out.contains_key(name) {
                return;
            }
            out.insert(name.to_owned(), self.definition());
        }
        match self {
            Self::List(inner) | Self::Option(inner) => inner.collect_named(out),
            Self::Record { fields, .. } => fields.iter().for_each(|(_, ty)| ty.collect_named(out)),
            Self::Tuple(items) => items.iter().for_each(|ty| ty.collect_named(out)),
            Self::Variant { cases, .. } => cases
                .iter()
                .flat_map(|(_, ty)| ty)
                .for_each(|ty| ty.collect_named(out)),
            Self::Result { ok, err } => ok.iter().chain(err).for_each(|ty| ty.collect_named(out)),
            _ => {}
        }
    }
}

fn join_braced(items: impl Iterator<Item = String>) -> String {
    format!("{{ {} }}", items.collect::<Vec<_>>().join(", "))
}

/// WIT syntax: the name of a named type, the structure of an anonymous one.
impl fmt::Display for TypeDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = self.name() {
            return f.write_str(name);
        }
        match self {
            Self::Bool => f.write_str("bool"),
            Self::S8 => f.write_str("s8"),
            Self::U8 => f.write_str("u8"),
            Self::S16 => f.write_str("s16"),
            Self::U16 => f.write_str("u16"),
            Self::S32 => f.write_str("s32"),
            Self::U32 => f.write_str("u32"),
            Self::S64 => f.write_str("s64"),
            Self::U64 => f.write_str("u64"),
            Self::F32 => f.write_str("f32"),
            Self::F64 => f.write_str("f64"),
            Self::Char => f.write_str("char"),
            Self::String => f.write_str("string"),
            Self::List(inner) => write!(f, "list<{inner}>"),
            Self::Tuple(items) => {
                let items: Vec<String> = items.iter().map(ToString::to_string).collect();
                write!(f, "tuple<{}>", items.join(", "))
            }
            Self::Option(inner) => write!(f, "option<{inner}>"),
            Self::Result { ok, err } => match (ok, err) {
                (None, None) => f.write_str("result"),
                (Some(ok), None) => write!(f, "result<{ok}>"),
                (None, Some(err)) => write!(f, "result<_, {err}>"),
                (Some(ok), Some(err)) => write!(f, "result<{ok}, {err}>"),
            },
            Self::Record { .. } | Self::Variant { .. } | Self::Enum { .. } | Self::Flags { .. } => {
                f.write_str(&self.definition())
            }
        }
    }
}

impl Serialize for TypeDesc {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One parameter of an activation.
#[derive(Debug, Clone)]
pub struct Param {
    /// The WIT (kebab-case) name.
    pub name: String,
    /// Its type.
    pub ty: TypeDesc,
}

/// `{"name", "type", "schema"}`: the WIT type and the JSON Schema of its JSON form.
impl Serialize for Param {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Param", 3)?;
        s.serialize_field("name", &self.name)?;
        s.serialize_field("type", &self.ty)?;
        s.serialize_field("schema", &super::schema::schema(&self.ty))?;
        s.end()
    }
}

/// One exported function of a machine, callable over HTTP.
#[derive(Debug, Clone)]
pub struct Activation {
    /// `say` for a top-level export, `calc/mul` for `mul` in an exported interface `calc`.
    pub name: String,
    /// The full export name of the interface the function belongs to, if any.
    pub interface: Option<String>,
    /// The function's own name.
    pub function: String,
    /// Parameters in order.
    pub params: Vec<Param>,
    /// The result type, if the function returns one.
    pub result: Option<TypeDesc>,
    /// The WIT doc comment, where the component carries it.
    pub docs: Option<String>,
}

impl Activation {
    /// The typed signature, as in WIT: `say(message: string) -> string`.
    pub fn signature(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| format!("{}: {}", p.name, p.ty))
            .collect();
        match &self.result {
            Some(result) => format!("{}({}) -> {result}", self.name, params.join(", ")),
            None => format!("{}({})", self.name, params.join(", ")),
        }
    }

    /// Whether the function returns `result<_, _>`, so that `err` answers 422.
    pub fn returns_result(&self) -> bool {
        matches!(self.result, Some(TypeDesc::Result { .. }))
    }

    /// Whether `requested` names this activation, in kebab-case or snake_case.
    pub fn answers_to(&self, requested: &str) -> bool {
        names_match(&self.name, requested)
    }

    /// The definitions of the named types this activation uses, by name.
    pub fn named_types(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        self.params
            .iter()
            .map(|p| &p.ty)
            .chain(&self.result)
            .for_each(|ty| ty.collect_named(&mut out));
        out
    }
}

/// Compares a WIT kebab-case name with a requested spelling that may use snake_case.
pub(crate) fn names_match(wit: &str, requested: &str) -> bool {
    wit.len() == requested.len()
        && wit
            .bytes()
            .zip(requested.bytes())
            .all(|(w, r)| w == r || (w == b'-' && r == b'_'))
}

impl Serialize for Activation {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Activation", 9)?;
        s.serialize_field("name", &self.name)?;
        s.serialize_field("interface", &self.interface)?;
        s.serialize_field("function", &self.function)?;
        s.serialize_field("signature", &self.signature())?;
        s.serialize_field("params", &self.params)?;
        s.serialize_field("result", &self.result)?;
        s.serialize_field(
            "result_schema",
            &self.result.as_ref().map(super::schema::schema),
        )?;
        s.serialize_field("types", &self.named_types())?;
        s.serialize_field("docs", &self.docs)?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wit_spelling() {
        let ty = TypeDesc::Result {
            ok: Some(Box::new(TypeDesc::Record {
                name: Some("price".into()),
                fields: vec![
                    ("value".into(), TypeDesc::U64),
                    ("sig".into(), TypeDesc::List(Box::new(TypeDesc::U8))),
                ],
            })),
            err: Some(Box::new(TypeDesc::Enum {
                name: None,
                cases: vec!["a".into(), "b".into()],
            })),
        };
        assert_eq!(ty.to_string(), "result<price, enum { a, b }>");
        let mut named = BTreeMap::new();
        ty.collect_named(&mut named);
        assert_eq!(named["price"], "record price { value: u64, sig: list<u8> }");
        assert_eq!(
            TypeDesc::Result {
                ok: None,
                err: None
            }
            .to_string(),
            "result"
        );
        assert_eq!(
            TypeDesc::Result {
                ok: None,
                err: Some(Box::new(TypeDesc::String))
            }
            .to_string(),
            "result<_, string>"
        );
    }

    #[test]
    fn snake_case_spellings_match() {
        assert!(names_match("attest-to-price", "attest_to_price"));
        assert!(names_match("calc/mul", "calc/mul"));
        assert!(!names_match("attest_to", "attest-to"));
        assert!(!names_match("say", "sa"));
    }
}
