//! The value model: the WIT types of a component's activations, and how WIT spells them.

use std::collections::BTreeMap;
use std::fmt;

/// A WIT value type that can be carried over HTTP as JSON.
///
/// Records, variants, enums and flags keep the name the component gives them, where it does,
/// so that listings read like the guest's WIT.
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
        /// The type's name, if it has one.
        name: Option<String>,
        /// Field names and types, in declaration order.
        fields: Vec<(String, TypeDesc)>,
    },
    /// `tuple<..>`
    Tuple(Vec<TypeDesc>),
    /// `variant { .. }`
    Variant {
        /// The type's name, if it has one.
        name: Option<String>,
        /// Case names and payload types, in declaration order.
        cases: Vec<(String, Option<TypeDesc>)>,
    },
    /// `enum { .. }`
    Enum {
        /// The type's name, if it has one.
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
        /// The type's name, if it has one.
        name: Option<String>,
        /// Flag names, in declaration order.
        flags: Vec<String>,
    },
}

/// One piece of a type's WIT spelling: punctuation, keywords and member names, or the name of
/// a named type (which a page links to its definition).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Text as it is written.
    Text(&'a str),
    /// The name of a named type.
    Name(&'a str),
}

impl TypeDesc {
    /// The name of a record, variant, enum or flags type that has one.
    pub fn name(&self) -> Option<&str> {
        match self {
            Self::Record { name, .. }
            | Self::Variant { name, .. }
            | Self::Enum { name, .. }
            | Self::Flags { name, .. } => name.as_deref(),
            _ => None,
        }
    }

    /// Spells the type as WIT does, a named type by its name, into `out`.
    pub fn spell(&self, out: &mut dyn FnMut(Piece<'_>)) {
        if let Some(name) = self.name() {
            return out(Piece::Name(name));
        }
        let text = |out: &mut dyn FnMut(Piece<'_>), text: &str| out(Piece::Text(text));
        match self {
            Self::List(inner) => {
                text(out, "list<");
                inner.spell(out);
                text(out, ">");
            }
            Self::Tuple(items) => {
                text(out, "tuple<");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        text(out, ", ");
                    }
                    item.spell(out);
                }
                text(out, ">");
            }
            Self::Option(inner) => {
                text(out, "option<");
                inner.spell(out);
                text(out, ">");
            }
            Self::Result { ok, err } => {
                text(out, "result");
                match (ok, err) {
                    (None, None) => {}
                    (Some(ok), None) => {
                        text(out, "<");
                        ok.spell(out);
                        text(out, ">");
                    }
                    (ok, Some(err)) => {
                        text(out, "<");
                        match ok {
                            Some(ok) => ok.spell(out),
                            None => text(out, "_"),
                        }
                        text(out, ", ");
                        err.spell(out);
                        text(out, ">");
                    }
                }
            }
            Self::Record { .. } | Self::Variant { .. } | Self::Enum { .. } | Self::Flags { .. } => {
                self.spell_definition(out)
            }
            scalar => text(out, scalar.scalar_name()),
        }
    }

    /// Spells the type's definition, its members spelled out even when it has a name:
    /// `record point { x: s32, label: string }`.
    pub fn spell_definition(&self, out: &mut dyn FnMut(Piece<'_>)) {
        let keyword = match self {
            Self::Record { .. } => "record",
            Self::Variant { .. } => "variant",
            Self::Enum { .. } => "enum",
            Self::Flags { .. } => "flags",
            other => return other.spell(out),
        };
        out(Piece::Text(keyword));
        if let Some(name) = self.name() {
            out(Piece::Text(" "));
            out(Piece::Name(name));
        }
        out(Piece::Text(" { "));
        for (i, (member, ty)) in self.members().into_iter().enumerate() {
            if i > 0 {
                out(Piece::Text(", "));
            }
            out(Piece::Text(member));
            match (self, ty) {
                (Self::Record { .. }, Some(ty)) => {
                    out(Piece::Text(": "));
                    ty.spell(out);
                }
                (_, Some(payload)) => {
                    out(Piece::Text("("));
                    payload.spell(out);
                    out(Piece::Text(")"));
                }
                (_, None) => {}
            }
        }
        out(Piece::Text(" }"));
    }

    /// The WIT definition of a type, spelled out even when it has a name:
    /// `record price { value: u64 }` for a named record, the same as `Display` otherwise.
    pub fn definition(&self) -> String {
        let mut text = String::new();
        self.spell_definition(&mut |piece| text.push_str(piece.text()));
        text
    }

    /// Each member of a record, variant, enum or flags type: its name and type, if it has one.
    pub fn members(&self) -> Vec<(&str, Option<&TypeDesc>)> {
        match self {
            Self::Record { fields, .. } => {
                fields.iter().map(|(n, t)| (n.as_str(), Some(t))).collect()
            }
            Self::Variant { cases, .. } => cases
                .iter()
                .map(|(n, t)| (n.as_str(), t.as_ref()))
                .collect(),
            Self::Enum { cases: names, .. } | Self::Flags { flags: names, .. } => {
                names.iter().map(|n| (n.as_str(), None)).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The types directly inside this one, in order.
    pub fn children(&self) -> Vec<&TypeDesc> {
        match self {
            Self::List(inner) | Self::Option(inner) => vec![inner],
            Self::Tuple(items) => items.iter().collect(),
            Self::Result { ok, err } => ok.iter().chain(err).map(|ty| &**ty).collect(),
            _ => self
                .members()
                .into_iter()
                .filter_map(|(_, ty)| ty)
                .collect(),
        }
    }

    /// Every named type reachable from this one (itself included), each once, in the order it
    /// is first reached, into `out`.
    pub fn collect_named<'a>(&'a self, out: &mut Vec<&'a TypeDesc>) {
        if let Some(name) = self.name() {
            if out.iter().any(|seen| seen.name() == Some(name)) {
                return;
            }
            out.push(self);
        }
        for child in self.children() {
            child.collect_named(out);
        }
    }

    fn scalar_name(&self) -> &'static str {
        match self {
            Self::Bool => "bool",
            Self::S8 => "s8",
            Self::U8 => "u8",
            Self::S16 => "s16",
            Self::U16 => "u16",
            Self::S32 => "s32",
            Self::U32 => "u32",
            Self::S64 => "s64",
            Self::U64 => "u64",
            Self::F32 => "f32",
            Self::F64 => "f64",
            Self::Char => "char",
            Self::String => "string",
            _ => "",
        }
    }
}

impl Piece<'_> {
    /// The piece as plain text.
    pub fn text(&self) -> &str {
        match self {
            Self::Text(text) | Self::Name(text) => text,
        }
    }
}

/// WIT syntax: the name of a named type, the structure of an anonymous one.
impl fmt::Display for TypeDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut result = Ok(());
        self.spell(&mut |piece| {
            if result.is_ok() {
                result = f.write_str(piece.text());
            }
        });
        result
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
    /// Spells the typed signature as WIT does, into `out`: `say(message: string) -> string`.
    pub fn spell_signature(&self, out: &mut dyn FnMut(Piece<'_>)) {
        out(Piece::Text(&self.name));
        out(Piece::Text("("));
        for (i, param) in self.params.iter().enumerate() {
            if i > 0 {
                out(Piece::Text(", "));
            }
            out(Piece::Text(&param.name));
            out(Piece::Text(": "));
            param.ty.spell(out);
        }
        out(Piece::Text(")"));
        if let Some(result) = &self.result {
            out(Piece::Text(" -> "));
            result.spell(out);
        }
    }

    /// The typed signature, as in WIT: `say(message: string) -> string`.
    pub fn signature(&self) -> String {
        let mut text = String::new();
        self.spell_signature(&mut |piece| text.push_str(piece.text()));
        text
    }

    /// The types of its parameters and result, in order.
    pub fn types(&self) -> impl Iterator<Item = &TypeDesc> {
        self.params.iter().map(|p| &p.ty).chain(&self.result)
    }

    /// The named types it uses, each once, in the order first used.
    pub fn named_types(&self) -> Vec<&TypeDesc> {
        let mut named = Vec::new();
        self.types().for_each(|ty| ty.collect_named(&mut named));
        named
    }

    /// The parameters as `name: type`, for error messages.
    pub fn param_list(&self) -> Vec<String> {
        self.params
            .iter()
            .map(|p| format!("{}: {}", p.name, p.ty))
            .collect()
    }
}

/// A named type of a binary: a record, variant, enum or flags type the component names, with
/// the docs its `carol:docs` section gives it.
#[derive(Debug, Clone)]
pub struct NamedType {
    /// The type, whose name is [`TypeDesc::name`].
    pub ty: TypeDesc,
    /// Its doc comment.
    pub docs: Option<String>,
    /// The doc comments of its members, by name.
    pub member_docs: BTreeMap<String, String>,
}

impl NamedType {
    /// Its name.
    pub fn name(&self) -> &str {
        self.ty.name().unwrap_or_default()
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
        let named = {
            let mut named = Vec::new();
            ty.collect_named(&mut named);
            named
        };
        assert_eq!(named.len(), 1);
        assert_eq!(
            named[0].definition(),
            "record price { value: u64, sig: list<u8> }"
        );
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
        let shape = TypeDesc::Variant {
            name: Some("shape".into()),
            cases: vec![
                ("circle".into(), Some(TypeDesc::F64)),
                ("empty".into(), None),
            ],
        };
        assert_eq!(shape.definition(), "variant shape { circle(f64), empty }");
        assert_eq!(
            TypeDesc::Tuple(vec![TypeDesc::U32, shape]).to_string(),
            "tuple<u32, shape>"
        );
    }

    #[test]
    fn names_are_pieces_of_their_own() {
        let activation = Activation {
            name: "draw".into(),
            interface: None,
            function: "draw".into(),
            params: vec![Param {
                name: "at".into(),
                ty: TypeDesc::List(Box::new(TypeDesc::Flags {
                    name: Some("perms".into()),
                    flags: vec!["read".into()],
                })),
            }],
            result: None,
            docs: None,
        };
        let mut names = Vec::new();
        activation.spell_signature(&mut |piece| {
            if let Piece::Name(name) = piece {
                names.push(name.to_owned());
            }
        });
        assert_eq!(names, ["perms"]);
        assert_eq!(activation.signature(), "draw(at: list<perms>)");
    }
}
