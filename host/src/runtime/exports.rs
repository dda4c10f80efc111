//! Reading a component's exports into activations and the named types they use.

use super::binary::LoadError;
use super::type_names::{ExportNames, FunctionNames};
use crate::values::{Activation, NameTree, NamedType, Param, TypeDesc, TypeName, TypeNames};
use carol_core::doc_section::Docs;
use carol_core::names::{activation_name, interface_short_name};
use wasmtime::Engine;
use wasmtime::component::types::{self, ComponentFunc, ComponentItem};
use wasmtime::component::{Component, ComponentExportIndex};

/// What a component exports that the node serves.
pub(super) struct Exports {
    pub(super) activations: Vec<Activation>,
    pub(super) indices: Vec<ComponentExportIndex>,
    pub(super) types: Vec<NamedType>,
}

/// One exported function, found.
struct Found {
    interface: Option<String>,
    function: String,
    func: ComponentFunc,
    index: ComponentExportIndex,
    names: FunctionNames,
}

/// Reads every exported function, at the top level or in an exported interface, with the names
/// of its types; `bytes` are the component's, `docs` its `carol:docs` section.
pub(super) fn read(
    engine: &Engine,
    component: &Component,
    bytes: &[u8],
    docs: &Option<Docs>,
) -> Result<Exports, LoadError> {
    let names = ExportNames::read(bytes);
    let ty = component.component_type();
    let mut by_structure = named_items(
        None,
        ty.imports(engine)
            .chain(ty.exports(engine))
            .map(|(name, e)| (name, e.ty)),
    );
    let mut found = Vec::new();
    for (export, item) in ty.exports(engine) {
        let index = || {
            component
                .get_export_index(None, export)
                .expect("listed export exists")
        };
        match item.ty {
            ComponentItem::ComponentFunc(func) => found.push(Found {
                interface: None,
                function: export.to_owned(),
                func,
                index: index(),
                names: names.functions.get(export).cloned().unwrap_or_default(),
            }),
            ComponentItem::ComponentInstance(instance)
                if is_toolchain_internal(engine, export, &instance) => {}
            ComponentItem::ComponentInstance(instance) => {
                let instance_index = index();
                let scope = interface_short_name(export);
                by_structure.extend(named_items(
                    Some(scope),
                    instance.exports(engine).map(|(name, e)| (name, e.ty)),
                ));
                let functions = names.interfaces.get(export);
                for (function, item) in instance.exports(engine) {
                    let ComponentItem::ComponentFunc(func) = item.ty else {
                        continue;
                    };
                    found.push(Found {
                        interface: Some(export.to_owned()),
                        function: function.to_owned(),
                        func,
                        index: component
                            .get_export_index(Some(&instance_index), function)
                            .expect("listed export exists"),
                        names: functions
                            .and_then(|f| f.get(function))
                            .cloned()
                            .unwrap_or_default(),
                    });
                }
            }
            _ => {}
        }
    }
    let trees = found
        .iter()
        .flat_map(|f| f.names.params.iter().chain([&f.names.result]));
    let type_names = TypeNames::new(trees, by_structure);
    let mut activations = Vec::new();
    let mut indices = Vec::new();
    for found in found {
        let mut activation = activation(&found, &type_names)?;
        if activations
            .iter()
            .any(|a: &Activation| a.name == activation.name)
        {
            return Err(LoadError::Ambiguous(activation.name));
        }
        activation.docs = docs
            .as_ref()
            .and_then(|docs| docs.activations.get(&activation.name).cloned());
        activations.push(activation);
        indices.push(found.index);
    }
    let types = named_types(&activations, &type_names, docs)?;
    Ok(Exports {
        activations,
        indices,
        types,
    })
}

/// Exports a guest toolchain adds for its own use, which are no activations: componentize-py's
/// `exports` interface, whose one function `init(app-name, symbols, stub-wasi)` the toolchain
/// calls while it builds the component, to load the app into the interpreter it snapshots.
/// Matched by name and by the function's parameter names, so a machine's own interface called
/// `exports` stays served.
fn is_toolchain_internal(
    engine: &Engine,
    export: &str,
    instance: &types::ComponentInstance,
) -> bool {
    const COMPONENTIZE_PY_INIT: [&str; 3] = ["app-name", "symbols", "stub-wasi"];
    let mut functions = instance
        .exports(engine)
        .filter_map(|(name, item)| match item.ty {
            ComponentItem::ComponentFunc(func) => Some((name, func)),
            _ => None,
        });
    export == "exports"
        && functions.next().is_some_and(|(name, func)| {
            name == "init" && func.params().map(|(name, _)| name).eq(COMPONENTIZE_PY_INIT)
        })
        && functions.next().is_none()
}

/// The types among `items`, by name, in `scope`.
fn named_items<'a>(
    scope: Option<&str>,
    items: impl Iterator<Item = (&'a str, ComponentItem)>,
) -> Vec<(TypeName, types::Type)> {
    items
        .filter_map(|(name, item)| match item {
            ComponentItem::Type(ty) => Some((
                TypeName {
                    interface: scope.map(str::to_owned),
                    name: name.to_owned(),
                },
                ty,
            )),
            _ => None,
        })
        .collect()
}

fn activation(found: &Found, names: &TypeNames) -> Result<Activation, LoadError> {
    let name = activation_name(found.interface.as_deref(), &found.function);
    let unsupported = |what: &str, e| LoadError::Unsupported {
        activation: name.clone(),
        reason: format!("{what}: {e}"),
    };
    let none = NameTree::default();
    let params = found
        .func
        .params()
        .enumerate()
        .map(|(i, (param, ty))| {
            let tree = found.names.params.get(i).unwrap_or(&none);
            TypeDesc::read(&ty, tree, names)
                .map(|ty| Param {
                    name: param.to_owned(),
                    ty,
                })
                .map_err(|e| unsupported(&format!("parameter `{param}`"), e))
        })
        .collect::<Result<_, _>>()?;
    let result = found
        .func
        .results()
        .next()
        .map(|ty| TypeDesc::read(&ty, &found.names.result, names))
        .transpose()
        .map_err(|e| unsupported("the result", e))?;
    Ok(Activation {
        name,
        interface: found.interface.clone(),
        function: found.function.clone(),
        params,
        result,
        docs: None,
    })
}

/// Every named type the activations use, once, in the order first used, with its docs; one
/// name for two different types is refused, since listings and references go by name.
fn named_types(
    activations: &[Activation],
    names: &TypeNames,
    docs: &Option<Docs>,
) -> Result<Vec<NamedType>, LoadError> {
    let mut used: Vec<&TypeDesc> = Vec::new();
    let mut stack: Vec<&TypeDesc> = activations.iter().flat_map(Activation::types).collect();
    stack.reverse();
    while let Some(ty) = stack.pop() {
        if let Some(name) = ty.name() {
            match used.iter().find(|seen| seen.name() == Some(name)) {
                Some(seen) if *seen != ty => return Err(LoadError::AmbiguousType(name.to_owned())),
                Some(_) => continue,
                None => used.push(ty),
            }
        }
        stack.extend(ty.children().into_iter().rev());
    }
    Ok(used
        .into_iter()
        .map(|ty| {
            let type_docs = names
                .docs_key(ty.name().unwrap_or_default())
                .and_then(|key| docs.as_ref()?.types.get(&key));
            NamedType {
                ty: ty.clone(),
                docs: type_docs.and_then(|d| d.docs.clone()),
                member_docs: type_docs.map(|d| d.members.clone()).unwrap_or_default(),
            }
        })
        .collect())
}
