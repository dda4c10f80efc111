//! Reading a component's types into the value model: the structure from wasmtime's component
//! types, the names from what the component itself names (`crate::runtime` reads those from
//! the binary into [`NameTree`]s).

use super::types::TypeDesc;
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use wasmtime::component::types;

/// The most parts (each type, however nested) that the activations of one binary may have in
/// all: their descriptions are spelled out wherever a type is used, so this bounds what a
/// component can make the node hold.
pub const MAX_TYPE_PARTS: usize = 100_000;

/// A type's name as a component gives it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TypeName {
    /// The short name of the exported interface it belongs to; `None` for a world's type.
    pub interface: Option<String>,
    /// Its WIT name.
    pub name: String,
}

impl TypeName {
    /// The key of its docs in the `carol:docs` section, which names types as activations are
    /// named: `name`, or `interface/name`.
    pub fn docs_key(&self) -> String {
        carol_core::names::activation_name(self.interface.as_deref(), &self.name)
    }
}

/// The names a component gives a value type and the types inside it, in the type's shape:
/// one child for a list's or an option's element, one per tuple item, record field or variant
/// case (its payload), two for a result (ok, err).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameTree {
    /// This type's name, if the component names it.
    pub name: Option<TypeName>,
    /// The names inside it.
    pub children: Vec<NameTree>,
}

impl NameTree {
    fn child(&self, index: usize) -> &NameTree {
        static NONE: NameTree = NameTree {
            name: None,
            children: Vec::new(),
        };
        self.children.get(index).unwrap_or(&NONE)
    }

    fn names<'a>(&'a self, out: &mut BTreeSet<&'a TypeName>) {
        out.extend(&self.name);
        self.children.iter().for_each(|child| child.names(out));
    }
}

/// A type that exists in the component model but has no JSON form over HTTP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} cannot be carried over HTTP")]
pub struct UnsupportedType(pub &'static str);

/// How a binary's types are named: each [`TypeName`] as served (its WIT name, or
/// `interface.name` when types of several scopes share the WIT name), and the types the
/// component exports or imports by name, for types no [`NameTree`] names.
pub struct TypeNames {
    served: BTreeMap<TypeName, String>,
    by_structure: Vec<(TypeName, types::Type)>,
    /// Parts left to read of [`MAX_TYPE_PARTS`].
    parts: Cell<usize>,
}

impl TypeNames {
    /// The names of `trees`, and `by_structure` for what they leave unnamed. Whether a name
    /// is shared by several scopes is decided by the trees' names alone: the names a
    /// component's types are exported under include other interfaces' aliases of one type.
    pub fn new<'a>(
        trees: impl IntoIterator<Item = &'a NameTree>,
        by_structure: Vec<(TypeName, types::Type)>,
    ) -> Self {
        let mut named = BTreeSet::new();
        trees.into_iter().for_each(|tree| tree.names(&mut named));
        let mut scopes: BTreeMap<&str, usize> = BTreeMap::new();
        for name in &named {
            *scopes.entry(name.name.as_str()).or_default() += 1;
        }
        let served = named
            .iter()
            .copied()
            .chain(by_structure.iter().map(|(name, _)| name))
            .map(|name| {
                let shared = scopes.get(name.name.as_str()).is_some_and(|&n| n > 1);
                let served = match (&name.interface, shared) {
                    (Some(interface), true) => format!("{interface}.{}", name.name),
                    _ => name.name.clone(),
                };
                (name.clone(), served)
            })
            .collect();
        Self {
            served,
            by_structure,
            parts: Cell::new(MAX_TYPE_PARTS),
        }
    }

    /// The served name of `ty`, from `tree`, else by its structure.
    fn name_of(&self, tree: &NameTree, ty: &types::Type) -> Option<String> {
        let name = tree.name.as_ref().or_else(|| {
            self.by_structure
                .iter()
                .find(|(_, named)| named == ty)
                .map(|(name, _)| name)
        })?;
        self.served.get(name).cloned()
    }

    /// The `carol:docs` key of the type served as `served`.
    pub fn docs_key(&self, served: &str) -> Option<String> {
        self.served
            .iter()
            .find(|(_, name)| *name == served)
            .map(|(name, _)| name.docs_key())
    }
}

impl TypeDesc {
    /// Describes a wasmtime component type, with the names `tree` gives it and what is inside.
    pub fn read(
        ty: &types::Type,
        tree: &NameTree,
        names: &TypeNames,
    ) -> Result<Self, UnsupportedType> {
        use types::Type as T;
        let parts = names
            .parts
            .get()
            .checked_sub(1)
            .ok_or(UnsupportedType("types of more than 100000 parts in all"))?;
        names.parts.set(parts);
        let child = |index: usize, ty: &types::Type| Self::read(ty, tree.child(index), names);
        let boxed = |index: usize, ty: &types::Type| child(index, ty).map(Box::new);
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
            T::List(list) => Self::List(boxed(0, &list.ty())?),
            T::Record(record) => Self::Record {
                name: names.name_of(tree, ty),
                fields: record
                    .fields()
                    .enumerate()
                    .map(|(i, field)| Ok((field.name.to_owned(), child(i, &field.ty)?)))
                    .collect::<Result<_, _>>()?,
            },
            T::Tuple(tuple) => Self::Tuple(
                tuple
                    .types()
                    .enumerate()
                    .map(|(i, ty)| child(i, &ty))
                    .collect::<Result<_, _>>()?,
            ),
            T::Variant(variant) => Self::Variant {
                name: names.name_of(tree, ty),
                cases: variant
                    .cases()
                    .enumerate()
                    .map(|(i, case)| {
                        Ok((
                            case.name.to_owned(),
                            case.ty.as_ref().map(|ty| child(i, ty)).transpose()?,
                        ))
                    })
                    .collect::<Result<_, _>>()?,
            },
            T::Enum(cases) => Self::Enum {
                name: names.name_of(tree, ty),
                cases: cases.names().map(str::to_owned).collect(),
            },
            T::Option(option) => Self::Option(boxed(0, &option.ty())?),
            T::Result(result) => Self::Result {
                ok: result.ok().as_ref().map(|ty| boxed(0, ty)).transpose()?,
                err: result.err().as_ref().map(|ty| boxed(1, ty)).transpose()?,
            },
            T::Flags(flags) => Self::Flags {
                name: names.name_of(tree, ty),
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(interface: Option<&str>, name: &str) -> TypeName {
        TypeName {
            interface: interface.map(str::to_owned),
            name: name.to_owned(),
        }
    }

    #[test]
    fn names_are_qualified_only_where_scopes_share_them() {
        let tree = NameTree {
            name: Some(name(None, "point")),
            children: vec![
                NameTree {
                    name: Some(name(Some("calc"), "point")),
                    children: Vec::new(),
                },
                NameTree {
                    name: Some(name(Some("calc"), "shape")),
                    children: Vec::new(),
                },
            ],
        };
        let names = TypeNames::new([&tree], Vec::new());
        let served = |name: &TypeName| names.served.get(name).map(String::as_str);
        assert_eq!(served(&name(None, "point")), Some("point"));
        assert_eq!(served(&name(Some("calc"), "point")), Some("calc.point"));
        assert_eq!(served(&name(Some("calc"), "shape")), Some("shape"));
        assert_eq!(names.docs_key("calc.point").as_deref(), Some("calc/point"));
        assert_eq!(name(Some("calc"), "shape").docs_key(), "calc/shape");
    }

    /// The type of the parameter of a function `g` that a component imports: records named
    /// `l0` to `l{levels}`, each of two fields of the one before, so `2^levels` in all.
    fn doubling(levels: u32) -> types::Type {
        use wasm_encoder::{
            Component, ComponentImportSection, ComponentTypeRef, ComponentTypeSection,
            ComponentValType, PrimitiveValType, TypeBounds,
        };
        let mut component = Component::new();
        let mut index = 0;
        // An import's types must be named: each record is imported under a name, and the next
        // one refers to that name.
        for level in 0..=levels {
            let mut types = ComponentTypeSection::new();
            if level == 0 {
                types.defined_type().record([("a", PrimitiveValType::U8)]);
            } else {
                let below = ComponentValType::Type(index - 1);
                types.defined_type().record([("a", below), ("b", below)]);
            }
            let mut imports = ComponentImportSection::new();
            imports.import(
                format!("l{level}"),
                ComponentTypeRef::Type(TypeBounds::Eq(index)),
            );
            component.section(&types).section(&imports);
            index += 2;
        }
        let mut types = ComponentTypeSection::new();
        types
            .function()
            .params([("x", ComponentValType::Type(index - 1))])
            .result(None);
        let mut imports = ComponentImportSection::new();
        imports.import("g", ComponentTypeRef::Func(index));
        component.section(&types).section(&imports);
        let engine = wasmtime::Engine::default();
        let component = wasmtime::component::Component::new(&engine, component.finish()).unwrap();
        let ty = component.component_type();
        let func = ty
            .imports(&engine)
            .find_map(|(_, import)| match import.ty {
                types::ComponentItem::ComponentFunc(func) => Some(func),
                _ => None,
            })
            .expect("g is a function");
        func.params().next().unwrap().1
    }

    /// Descriptions spell every part out: a type of more parts than the budget is refused,
    /// rather than expanded.
    #[test]
    fn a_type_past_the_budget_is_refused() {
        let names = || TypeNames::new([], Vec::new());
        let small = TypeDesc::read(&doubling(3), &NameTree::default(), &names()).unwrap();
        assert_eq!(small.children().len(), 2);
        // 2^17 - 1 records and 2^16 bytes: over 100,000 parts (and within what wasmtime takes).
        let error = TypeDesc::read(&doubling(16), &NameTree::default(), &names()).unwrap_err();
        assert!(error.to_string().contains("100000 parts"), "{error}");
    }
}
