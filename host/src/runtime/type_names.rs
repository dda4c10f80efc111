//! The names a component gives the types of its exported functions, read from its binary.
//!
//! wasmtime's component types are structural: a function of `record price { value: u64 }`
//! and one of `record amount { value: u64 }` have the same parameter type, and a world's
//! types are not among the component's exports (wit-component imports them by name). The
//! names are in the binary, though: a function's type refers to types by index, and an index
//! made by importing, exporting or aliasing a type carries the name it was given. So this reads
//! the component's index spaces with wasmparser (the parser wasmtime itself uses) and follows
//! each exported function's type to the names of the types in it.
//!
//! An exported interface is an instance of a nested component whose own exports are the
//! interface's functions and types (wit-component's "shim"); it is read the same way, its
//! types scoped to the interface. A type the shim imports (one an interface uses from another)
//! is named as the outer component names what it was instantiated with.
//!
//! Reading is best effort and bounded: it runs on bytes wasmtime has validated (type nesting at
//! most 100 deep), follows chains of aliases in one step each, reads each nested component
//! once, and stops naming past as many parts as the node describes
//! ([`MAX_TYPE_PARTS`](crate::values::MAX_TYPE_PARTS)); what is not understood names nothing,
//! and the node then names types by their structure, as it can from wasmtime's types.

use crate::values::{MAX_TYPE_PARTS, NameTree, TypeName};
use carol_core::names::interface_short_name;
use std::cell::Cell;
use std::collections::HashMap;
use wasmparser::{
    CanonicalFunction, Chunk, ComponentAlias, ComponentDefinedType, ComponentExternalKind,
    ComponentFuncType, ComponentInstance, ComponentOuterAliasKind, ComponentType, ComponentTypeRef,
    ComponentValType, Parser, Payload, TypeBounds,
};

/// The names in one exported function's type: one tree per parameter, and the result's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct FunctionNames {
    pub(super) params: Vec<NameTree>,
    pub(super) result: NameTree,
}

/// The names in the types of a component's exported functions.
#[derive(Debug, Default)]
pub(super) struct ExportNames {
    /// Functions exported at the top level, by export name.
    pub(super) functions: HashMap<String, FunctionNames>,
    /// Functions of exported interfaces, by the interface's export name, then function name.
    pub(super) interfaces: HashMap<String, HashMap<String, FunctionNames>>,
}

impl ExportNames {
    /// Reads the names from a component's bytes; a binary it cannot read gives no names.
    pub(super) fn read(component: &[u8]) -> Self {
        let budget = Cell::new(MAX_TYPE_PARTS);
        let Some(space) = Space::read(component, None, HashMap::new(), &budget) else {
            return Self::default();
        };
        let mut names = Self::default();
        let mut nested = HashMap::new();
        for export in &space.exports {
            match export.kind {
                ComponentExternalKind::Func => {
                    if let Some(func) = space.func_type(export.func_type) {
                        names
                            .functions
                            .insert(export.name.clone(), space.function(func));
                    }
                }
                ComponentExternalKind::Instance => {
                    if let Some(functions) = space.instance_functions(export, &mut nested, &budget)
                    {
                        names.interfaces.insert(export.name.clone(), functions);
                    }
                }
                _ => {}
            }
        }
        names
    }
}

/// An entry of a component's type index space.
enum TypeEntry<'a> {
    Defined(ComponentDefinedType<'a>),
    Func(ComponentFuncType<'a>),
    /// A type imported, exported or aliased under a name: the entry it is (never itself a
    /// `Named`) where known, and whether WIT spells it by name.
    Named {
        name: TypeName,
        resolved: Option<u32>,
        nameable: bool,
    },
    Other,
}

/// An export of the component, as read.
struct Export {
    name: String,
    kind: ComponentExternalKind,
    index: u32,
    /// For a function, the index of its type, where known.
    func_type: Option<u32>,
}

/// An instance made by instantiating one of this component's nested components.
struct Instantiation {
    component: u32,
    /// The types it was instantiated with, by the nested component's import names.
    types: Vec<(String, u32)>,
}

/// The index spaces of one component that the names are found in.
struct Space<'a, 'b> {
    /// The interface this component is the shim of; `None` at the top level.
    scope: Option<String>,
    /// The names of the types this component imports, as its parent names them.
    imported: HashMap<String, TypeName>,
    types: Vec<TypeEntry<'a>>,
    /// The type index of each function, where known.
    funcs: Vec<Option<u32>>,
    /// The bytes of each nested component, where it is defined here.
    components: Vec<Option<&'a [u8]>>,
    /// Each instance: the short name of the interface it is (imported or exported), or the
    /// instantiation that made it.
    instances: Vec<(Option<String>, Option<u32>)>,
    instantiations: Vec<Instantiation>,
    exports: Vec<Export>,
    budget: &'b Cell<usize>,
}

impl<'a, 'b> Space<'a, 'b> {
    fn read(
        bytes: &'a [u8],
        scope: Option<String>,
        imported: HashMap<String, TypeName>,
        budget: &'b Cell<usize>,
    ) -> Option<Self> {
        let mut space = Self {
            scope,
            imported,
            types: Vec::new(),
            funcs: Vec::new(),
            components: Vec::new(),
            instances: Vec::new(),
            instantiations: Vec::new(),
            exports: Vec::new(),
            budget,
        };
        let mut parser = Parser::new(0);
        let mut offset = 0;
        loop {
            let Chunk::Parsed { consumed, payload } = parser.parse(&bytes[offset..], true).ok()?
            else {
                return None;
            };
            offset += consumed;
            match payload {
                // The parser has stepped over a nested component or module: so do the bytes.
                Payload::ComponentSection {
                    unchecked_range, ..
                } => {
                    space.components.push(bytes.get(unchecked_range.clone()));
                    offset += unchecked_range.len();
                }
                Payload::ModuleSection {
                    unchecked_range, ..
                } => offset += unchecked_range.len(),
                Payload::ComponentTypeSection(reader) => {
                    for ty in reader {
                        space.types.push(match ty.ok()? {
                            ComponentType::Defined(defined) => TypeEntry::Defined(defined),
                            ComponentType::Func(func) => TypeEntry::Func(func),
                            _ => TypeEntry::Other,
                        });
                    }
                }
                Payload::ComponentImportSection(reader) => {
                    for import in reader {
                        let import = import.ok()?;
                        space.import(import.name.name, import.ty);
                    }
                }
                Payload::ComponentAliasSection(reader) => {
                    for alias in reader {
                        space.alias(alias.ok()?);
                    }
                }
                Payload::ComponentCanonicalSection(reader) => {
                    for function in reader {
                        // Only lifting makes a component function; the rest make core ones.
                        if let CanonicalFunction::Lift { type_index, .. } = function.ok()? {
                            space.funcs.push(Some(type_index));
                        }
                    }
                }
                Payload::ComponentInstanceSection(reader) => {
                    for instance in reader {
                        let made = match instance.ok()? {
                            ComponentInstance::Instantiate {
                                component_index,
                                args,
                            } => {
                                space.instantiations.push(Instantiation {
                                    component: component_index,
                                    types: args
                                        .iter()
                                        .filter(|arg| arg.kind == ComponentExternalKind::Type)
                                        .map(|arg| (arg.name.to_owned(), arg.index))
                                        .collect(),
                                });
                                Some(space.instantiations.len() as u32 - 1)
                            }
                            ComponentInstance::FromExports(_) => None,
                        };
                        space.instances.push((None, made));
                    }
                }
                Payload::ComponentExportSection(reader) => {
                    for export in reader {
                        space.export(export.ok()?);
                    }
                }
                Payload::End(_) => return Some(space),
                _ => {}
            }
        }
    }

    /// A type named `name` that is the type at `target`, where known. A name of a type that
    /// already has one (`use geometry.{point}` in another interface makes it that interface's
    /// too) keeps the first: the one the type was defined with.
    fn push_named(&mut self, name: TypeName, target: Option<u32>) {
        let target_entry = target.and_then(|t| Some((t, self.types.get(t as usize)?)));
        let (name, resolved, nameable) = match target_entry {
            // A chain of names resolves in one step: each link was resolved when it was made.
            Some((
                _,
                TypeEntry::Named {
                    name,
                    resolved,
                    nameable,
                },
            )) => (name.clone(), *resolved, *nameable),
            Some((t, TypeEntry::Defined(defined))) => (
                name,
                Some(t),
                // An alias of a list or an option (`type bytes = list<u8>`) names nothing WIT
                // spells by name.
                matches!(
                    defined,
                    ComponentDefinedType::Record(_)
                        | ComponentDefinedType::Variant(_)
                        | ComponentDefinedType::Enum(_)
                        | ComponentDefinedType::Flags(_)
                ),
            ),
            Some((t, _)) => (name, Some(t), false),
            None => (name, None, true),
        };
        self.types.push(TypeEntry::Named {
            name,
            resolved,
            nameable,
        });
    }

    /// A name of this component's scope.
    fn own(&self, name: &str) -> TypeName {
        TypeName {
            interface: self.scope.clone(),
            name: name.to_owned(),
        }
    }

    fn import(&mut self, name: &'a str, ty: ComponentTypeRef) {
        match ty {
            ComponentTypeRef::Type(TypeBounds::Eq(target)) => {
                // A shim's imported types are named by what its parent gave it; a top-level
                // import of a type is a world's type.
                let named = match &self.scope {
                    Some(_) => self.imported.get(name).cloned(),
                    None => Some(self.own(name)),
                };
                match named {
                    Some(named) => self.push_named(named, Some(target)),
                    None => self.types.push(TypeEntry::Other),
                }
            }
            ComponentTypeRef::Type(_) => self.types.push(TypeEntry::Other),
            ComponentTypeRef::Func(ty) => self.funcs.push(Some(ty)),
            ComponentTypeRef::Instance(_) => self
                .instances
                .push((Some(interface_short_name(name).to_owned()), None)),
            ComponentTypeRef::Component(_) => self.components.push(None),
            ComponentTypeRef::Module(_) | ComponentTypeRef::Value(_) => {}
        }
    }

    fn alias(&mut self, alias: ComponentAlias<'a>) {
        match alias {
            ComponentAlias::InstanceExport {
                kind,
                instance_index,
                name,
            } => match kind {
                ComponentExternalKind::Type => {
                    // A type of an interface, imported or exported: named in that interface.
                    let interface = self
                        .instances
                        .get(instance_index as usize)
                        .and_then(|(interface, _)| interface.clone());
                    let named = TypeName {
                        interface,
                        name: name.to_owned(),
                    };
                    self.push_named(named, None);
                }
                ComponentExternalKind::Func => self.funcs.push(None),
                ComponentExternalKind::Instance => self.instances.push((None, None)),
                ComponentExternalKind::Component => self.components.push(None),
                ComponentExternalKind::Module | ComponentExternalKind::Value => {}
            },
            ComponentAlias::Outer { kind, .. } => match kind {
                ComponentOuterAliasKind::Type => self.types.push(TypeEntry::Other),
                ComponentOuterAliasKind::Component => self.components.push(None),
                ComponentOuterAliasKind::CoreModule | ComponentOuterAliasKind::CoreType => {}
            },
            ComponentAlias::CoreInstanceExport { .. } => {}
        }
    }

    fn export(&mut self, export: wasmparser::ComponentExport<'a>) {
        let name = export.name.name;
        let mut func_type = None;
        match export.kind {
            ComponentExternalKind::Type => self.push_named(self.own(name), Some(export.index)),
            ComponentExternalKind::Func => {
                // An ascribed type is the one the export is seen with.
                func_type = match export.ty {
                    Some(ComponentTypeRef::Func(ty)) => Some(ty),
                    _ => self.funcs.get(export.index as usize).copied().flatten(),
                };
                self.funcs.push(func_type);
            }
            ComponentExternalKind::Instance => {
                let made = self
                    .instances
                    .get(export.index as usize)
                    .and_then(|(_, made)| *made);
                self.instances
                    .push((Some(interface_short_name(name).to_owned()), made));
            }
            ComponentExternalKind::Component => {
                let component = self
                    .components
                    .get(export.index as usize)
                    .copied()
                    .flatten();
                self.components.push(component);
            }
            ComponentExternalKind::Module | ComponentExternalKind::Value => {}
        }
        self.exports.push(Export {
            name: name.to_owned(),
            kind: export.kind,
            index: export.index,
            func_type,
        });
    }

    fn func_type(&self, index: Option<u32>) -> Option<&ComponentFuncType<'a>> {
        match self.types.get(index? as usize)? {
            TypeEntry::Func(func) => Some(func),
            _ => None,
        }
    }

    fn function(&self, func: &ComponentFuncType<'_>) -> FunctionNames {
        FunctionNames {
            params: func.params.iter().map(|(_, ty)| self.tree(*ty)).collect(),
            result: func.result.map(|ty| self.tree(ty)).unwrap_or_default(),
        }
    }

    /// The functions of the exported instance `export`, made by instantiating a nested
    /// component; each nested component is read once (`nested` holds what was read).
    fn instance_functions(
        &self,
        export: &Export,
        nested: &mut HashMap<u32, Option<HashMap<String, FunctionNames>>>,
        budget: &Cell<usize>,
    ) -> Option<HashMap<String, FunctionNames>> {
        let (_, made) = self.instances.get(export.index as usize)?;
        let instantiation = self.instantiations.get((*made)? as usize)?;
        nested
            .entry(instantiation.component)
            .or_insert_with(|| {
                let bytes = (*self.components.get(instantiation.component as usize)?)?;
                let imported = instantiation
                    .types
                    .iter()
                    .filter_map(|(name, index)| match self.types.get(*index as usize)? {
                        TypeEntry::Named { name: named, .. } => Some((name.clone(), named.clone())),
                        _ => None,
                    })
                    .collect();
                let scope = interface_short_name(&export.name).to_owned();
                let shim = Space::read(bytes, Some(scope), imported, budget)?;
                Some(
                    shim.exports
                        .iter()
                        .filter(|export| export.kind == ComponentExternalKind::Func)
                        .filter_map(|export| {
                            let func = shim.func_type(export.func_type)?;
                            Some((export.name.clone(), shim.function(func)))
                        })
                        .collect(),
                )
            })
            .clone()
    }

    fn tree(&self, ty: ComponentValType) -> NameTree {
        let Some(left) = self.budget.get().checked_sub(1) else {
            return NameTree::default();
        };
        self.budget.set(left);
        match ty {
            ComponentValType::Primitive(_) => NameTree::default(),
            ComponentValType::Type(index) => self.type_tree(index),
        }
    }

    /// The names of the type at `index` and inside it. Recursion follows the type's structure
    /// only, at most 100 deep in a validated component; names resolve in one step.
    fn type_tree(&self, index: u32) -> NameTree {
        let (name, index) = match self.types.get(index as usize) {
            Some(TypeEntry::Named {
                name,
                resolved,
                nameable,
            }) => (nameable.then(|| name.clone()), *resolved),
            _ => (None, Some(index)),
        };
        let tree = |ty: &ComponentValType| self.tree(*ty);
        let maybe = |ty: &Option<ComponentValType>| ty.as_ref().map(tree).unwrap_or_default();
        let children = match index.and_then(|index| self.types.get(index as usize)) {
            Some(TypeEntry::Defined(defined)) => match defined {
                ComponentDefinedType::Record(fields) => {
                    fields.iter().map(|(_, ty)| tree(ty)).collect()
                }
                ComponentDefinedType::Variant(cases) => {
                    cases.iter().map(|case| maybe(&case.ty)).collect()
                }
                ComponentDefinedType::List(item) | ComponentDefinedType::Option(item) => {
                    vec![tree(item)]
                }
                ComponentDefinedType::Tuple(items) => items.iter().map(tree).collect(),
                ComponentDefinedType::Result { ok, err } => vec![maybe(ok), maybe(err)],
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        NameTree { name, children }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{
        Component, ComponentExportKind, ComponentExportSection, ComponentImportSection,
        ComponentTypeRef as Ref, ComponentTypeSection, ComponentValType as Val, PrimitiveValType,
        TypeBounds as Bounds,
    };

    /// A component (read here, never validated) that imports type `t0`, a record, then
    /// `links` more names of it, each of the one before, and exports a function `f` taking the
    /// last, after `types` made its other types (their indices start at 1).
    fn component(types: impl FnOnce(&mut ComponentTypeSection) -> u32, links: u32) -> Vec<u8> {
        let mut component = Component::new();
        let mut section = ComponentTypeSection::new();
        section.defined_type().record([("a", PrimitiveValType::U8)]);
        let last = types(&mut section);
        component.section(&section);
        let mut imports = ComponentImportSection::new();
        for link in 0..links {
            imports.import(format!("t{link}"), Ref::Type(Bounds::Eq(last + link)));
        }
        component.section(&imports);
        let named = last + links;
        let mut section = ComponentTypeSection::new();
        section
            .function()
            .params([("x", Val::Type(named))])
            .result(None);
        component.section(&section);
        let mut imports = ComponentImportSection::new();
        imports.import("g", Ref::Func(named + 1));
        component.section(&imports);
        let mut exports = ComponentExportSection::new();
        exports.export("f", ComponentExportKind::Func, 0, None);
        component.section(&exports);
        component.finish()
    }

    fn nodes(tree: &NameTree) -> usize {
        1 + tree.children.iter().map(nodes).sum::<usize>()
    }

    #[test]
    fn what_is_not_a_component_names_nothing() {
        let names = ExportNames::read(b"not wasm");
        assert!(names.functions.is_empty() && names.interfaces.is_empty());
    }

    /// A chain of type names as long as an upload may hold resolves in one step per link, on
    /// any thread's stack, to the first name: the one the type was given where it was made.
    #[test]
    fn long_chains_of_names_resolve_without_recursion() {
        let names = ExportNames::read(&component(|_| 0, 200_000));
        let param = &names.functions["f"].params[0];
        assert_eq!(
            param.name,
            Some(TypeName {
                interface: None,
                name: "t0".into()
            })
        );
        assert_eq!(param.children.len(), 1, "the record's field");
    }

    /// A type that doubles at each level would have 2^40 parts spelled out: naming stops at
    /// the node's budget.
    #[test]
    fn naming_stops_at_the_budget() {
        let doubling = |section: &mut ComponentTypeSection| {
            for level in 1..=40 {
                let below = Val::Type(level - 1);
                section.defined_type().record([("a", below), ("b", below)]);
            }
            40
        };
        let names = ExportNames::read(&component(doubling, 1));
        let parts = nodes(&names.functions["f"].params[0]);
        // Past the budget, each type being read still ends its fields, as leaves.
        assert!(parts <= MAX_TYPE_PARTS + 2 * 40, "{parts}");
    }
}
