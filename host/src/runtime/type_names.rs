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
//! names scoped to the interface. Types a shim imports from other interfaces are named
//! `import-type-NAME` there; they are named `NAME`.
//!
//! Reading is best effort: what is not understood names nothing, and the node then names types
//! by their structure, as it can from wasmtime's types.

use crate::values::{NameTree, TypeName};
use carol_core::names::interface_short_name;
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
        let Some(space) = Space::read(component) else {
            return Self::default();
        };
        let mut names = Self::default();
        for export in &space.exports {
            match export.kind {
                ComponentExternalKind::Func => {
                    if let Some(func) = space.func_type(export.func_type) {
                        names
                            .functions
                            .insert(export.name.clone(), space.function(func, None));
                    }
                }
                ComponentExternalKind::Instance => {
                    let scope = interface_short_name(&export.name);
                    if let Some(functions) = space.instance_functions(export.index, scope) {
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
    /// A type imported, exported or aliased under `name`: the type at `target`, where known.
    Named {
        name: &'a str,
        target: Option<u32>,
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

/// The index spaces of one component that the names are found in.
#[derive(Default)]
struct Space<'a> {
    types: Vec<TypeEntry<'a>>,
    /// The type index of each function, where known.
    funcs: Vec<Option<u32>>,
    /// The bytes of each nested component, where it is defined here.
    components: Vec<Option<&'a [u8]>>,
    /// The component each instance instantiates, where it is one of those.
    instances: Vec<Option<u32>>,
    exports: Vec<Export>,
}

impl<'a> Space<'a> {
    fn read(bytes: &'a [u8]) -> Option<Self> {
        let mut space = Self::default();
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
                        space.add(import.name.name, import.ty);
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
                        space.instances.push(match instance.ok()? {
                            ComponentInstance::Instantiate {
                                component_index, ..
                            } => Some(component_index),
                            ComponentInstance::FromExports(_) => None,
                        });
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

    /// An import (or a type ascription) of `name`, adding to its index space.
    fn add(&mut self, name: &'a str, ty: ComponentTypeRef) {
        match ty {
            ComponentTypeRef::Type(TypeBounds::Eq(target)) => self.types.push(TypeEntry::Named {
                name,
                target: Some(target),
            }),
            ComponentTypeRef::Type(_) => self.types.push(TypeEntry::Other),
            ComponentTypeRef::Func(ty) => self.funcs.push(Some(ty)),
            ComponentTypeRef::Instance(_) => self.instances.push(None),
            ComponentTypeRef::Component(_) => self.components.push(None),
            ComponentTypeRef::Module(_) | ComponentTypeRef::Value(_) => {}
        }
    }

    fn alias(&mut self, alias: ComponentAlias<'a>) {
        match alias {
            ComponentAlias::InstanceExport { kind, name, .. } => match kind {
                ComponentExternalKind::Type => {
                    self.types.push(TypeEntry::Named { name, target: None })
                }
                ComponentExternalKind::Func => self.funcs.push(None),
                ComponentExternalKind::Instance => self.instances.push(None),
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
            ComponentExternalKind::Type => self.types.push(TypeEntry::Named {
                name,
                target: Some(export.index),
            }),
            ComponentExternalKind::Func => {
                // An ascribed type is the one the export is seen with.
                func_type = match export.ty {
                    Some(ComponentTypeRef::Func(ty)) => Some(ty),
                    _ => self.funcs.get(export.index as usize).copied().flatten(),
                };
                self.funcs.push(func_type);
            }
            ComponentExternalKind::Instance => {
                let instantiates = self.instances.get(export.index as usize).copied().flatten();
                self.instances.push(instantiates);
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

    fn function(&self, func: &ComponentFuncType<'_>, scope: Option<&str>) -> FunctionNames {
        FunctionNames {
            params: func
                .params
                .iter()
                .map(|(_, ty)| self.tree(*ty, scope))
                .collect(),
            result: func
                .result
                .map(|ty| self.tree(ty, scope))
                .unwrap_or_default(),
        }
    }

    /// The functions of the nested component that instance `index` instantiates.
    fn instance_functions(
        &self,
        index: u32,
        scope: &str,
    ) -> Option<HashMap<String, FunctionNames>> {
        let component = (*self.instances.get(index as usize)?)?;
        let nested = Space::read((*self.components.get(component as usize)?)?)?;
        Some(
            nested
                .exports
                .iter()
                .filter(|export| export.kind == ComponentExternalKind::Func)
                .filter_map(|export| {
                    let func = nested.func_type(export.func_type)?;
                    Some((export.name.clone(), nested.function(func, Some(scope))))
                })
                .collect(),
        )
    }

    /// Whether the type at `index` is one that WIT spells by its name: a record, variant, enum
    /// or flags type (or one that cannot be seen here).
    fn nameable(&self, index: u32) -> bool {
        match self.types.get(index as usize) {
            Some(TypeEntry::Named {
                target: Some(target),
                ..
            }) => self.nameable(*target),
            Some(TypeEntry::Defined(defined)) => matches!(
                defined,
                ComponentDefinedType::Record(_)
                    | ComponentDefinedType::Variant(_)
                    | ComponentDefinedType::Enum(_)
                    | ComponentDefinedType::Flags(_)
            ),
            _ => true,
        }
    }

    fn tree(&self, ty: ComponentValType, scope: Option<&str>) -> NameTree {
        match ty {
            ComponentValType::Primitive(_) => NameTree::default(),
            ComponentValType::Type(index) => self.type_tree(index, scope),
        }
    }

    fn type_tree(&self, index: u32, scope: Option<&str>) -> NameTree {
        let tree = |ty: &ComponentValType| self.tree(*ty, scope);
        let maybe = |ty: &Option<ComponentValType>| ty.as_ref().map(tree).unwrap_or_default();
        let children = match self.types.get(index as usize) {
            Some(TypeEntry::Named { name, target }) => {
                let mut named = target.map(|t| self.type_tree(t, scope)).unwrap_or_default();
                // The nearest name is the one the function's type uses; an alias of a list or
                // an option (`type bytes = list<u8>`) names nothing WIT spells by name.
                if self.nameable(index) {
                    named.name = Some(TypeName {
                        interface: scope.map(str::to_owned),
                        name: name.strip_prefix("import-type-").unwrap_or(name).to_owned(),
                    });
                }
                return named;
            }
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
        NameTree {
            name: None,
            children,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_not_a_component_names_nothing() {
        let names = ExportNames::read(b"not wasm");
        assert!(names.functions.is_empty() && names.interfaces.is_empty());
    }
}
