//! Loading a component: compiling it, checking its imports against what the node provides, and
//! reading its exports into activation descriptions.

use super::Runtime;
use super::activation::HostState;
use crate::doc_section::Docs;
use crate::ids::BinaryId;
use crate::values::{Activation, NamedTypes, Param, TypeDesc, UnsupportedType};
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use wasmtime::Engine;
use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{Component, ComponentExportIndex, InstancePre};

/// Why bytes cannot be a machine's binary.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Not WebAssembly at all.
    #[error(
        "not a WebAssembly component: the bytes do not start with the WebAssembly magic number"
    )]
    NotWasm,
    /// A core module rather than a component.
    #[error(
        "this is a core WebAssembly module, not a component: build machines for wasm32-wasip2 (`cargo carol build`)"
    )]
    CoreModule,
    /// wasmtime could not compile or validate it.
    #[error("invalid component: {0}")]
    Invalid(String),
    /// It imports something the node does not provide.
    #[error(
        "the component imports something this node does not provide: {0}. A machine may import carol:machine@0.1.1 (or @0.1.0) and WASI 0.2"
    )]
    Imports(String),
    /// An export whose types have no HTTP form.
    #[error("activation `{activation}` cannot be served over HTTP: {reason}")]
    Unsupported {
        /// The activation's name.
        activation: String,
        /// Which type is the problem.
        reason: String,
    },
    /// Two exported interfaces give the same activation name.
    #[error(
        "two exports both give the activation name `{0}`: export interfaces with distinct names"
    )]
    Ambiguous(String),
}

/// A compiled, checked component, ready to be instantiated for any machine made from it.
pub struct Binary {
    id: BinaryId,
    pre: InstancePre<HostState>,
    activations: Vec<Activation>,
    exports: Vec<ComponentExportIndex>,
}

impl Binary {
    /// The binary's id.
    pub fn id(&self) -> BinaryId {
        self.id
    }

    /// Its activations, in export order.
    pub fn activations(&self) -> &[Activation] {
        &self.activations
    }

    /// Finds an activation by kebab-case or snake_case name; returns its index.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.activations.iter().position(|a| a.answers_to(name))
    }

    pub(super) fn pre(&self) -> &InstancePre<HostState> {
        &self.pre
    }

    pub(super) fn export(&self, index: usize) -> &ComponentExportIndex {
        &self.exports[index]
    }
}

/// SHA-256 fed with the engine's compatibility hash: the prefix of every cache key, computed
/// once per engine.
pub(super) fn compatibility_digest(engine: &Engine) -> Sha256 {
    let mut hasher = Sha256Hasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.0
}

/// Feeds what `Hash` writes into SHA-256, which, unlike std's hashers, is stable across
/// processes and Rust versions, as a key stored on disk must be.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_be_bytes(digest[..8].try_into().expect("a digest has 8 bytes"))
    }
}

/// The JSON description of a binary: `{"id": .., "activations": [..]}`.
impl serde::Serialize for Binary {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Binary", 2)?;
        s.serialize_field("id", &self.id)?;
        s.serialize_field("activations", &self.activations)?;
        s.end()
    }
}

impl Runtime {
    /// Compiles `bytes` and checks that it can run on this node and be served over HTTP.
    pub fn load(&self, bytes: &[u8]) -> Result<Binary, LoadError> {
        let component = self.compile(bytes)?;
        self.prepare(bytes, &component)
    }

    /// Compiles a component to machine code.
    pub fn compile(&self, bytes: &[u8]) -> Result<Component, LoadError> {
        match bytes.get(..8) {
            Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => return Err(LoadError::CoreModule),
            Some([0, b'a', b's', b'm', ..]) => {}
            _ => return Err(LoadError::NotWasm),
        }
        Component::new(&self.engine, bytes).map_err(|e| LoadError::Invalid(format!("{e:#}")))
    }

    /// Links a compiled component against the node's imports and reads its activations;
    /// `bytes` are the component's own bytes, for its id and docs.
    pub fn prepare(&self, bytes: &[u8], component: &Component) -> Result<Binary, LoadError> {
        let pre = self
            .linker
            .instantiate_pre(component)
            .map_err(|e| LoadError::Imports(format!("{e:#}")))?;
        let (mut activations, exports) = self.describe(component)?;
        if let Some(mut docs) = Docs::read(bytes) {
            for activation in &mut activations {
                activation.docs = docs.activations.remove(&activation.name);
            }
        }
        Ok(Binary {
            id: BinaryId::of(bytes),
            pre,
            activations,
            exports,
        })
    }

    /// The key of a binary's compiled code in the cache: another wasmtime version or engine
    /// configuration gives another key, so it recompiles instead of loading foreign code.
    pub fn cache_key(&self, binary: &BinaryId) -> [u8; 32] {
        let mut digest = self.compatibility.clone();
        digest.update(binary.as_bytes());
        digest.finalize().into()
    }

    /// wasmtime's serialized form of a compiled component, for the cache.
    pub fn serialize(&self, component: &Component) -> Option<Vec<u8>> {
        component.serialize().ok()
    }

    /// A component from its serialized form, or `None` if this engine cannot use it.
    pub fn deserialize(&self, code: &[u8]) -> Option<Component> {
        // SAFETY: the code comes from this node's own cache, written by `serialize` and checked
        // against its SHA-256 when read back (`Store::compiled`); wasmtime itself refuses code
        // from another version or configuration.
        unsafe { Component::deserialize(&self.engine, code) }.ok()
    }

    /// Reads every exported function, at the top level or in an exported interface.
    fn describe(
        &self,
        component: &Component,
    ) -> Result<(Vec<Activation>, Vec<ComponentExportIndex>), LoadError> {
        let ty = component.component_type();
        let top_names = NamedTypes::collect(ty.exports(&self.engine).map(|(name, e)| (name, e.ty)));
        let mut found = Vec::new();
        for (export, item) in ty.exports(&self.engine) {
            match item.ty {
                ComponentItem::ComponentFunc(func) => {
                    let index = component
                        .get_export_index(None, export)
                        .expect("listed export exists");
                    found.push((activation(export, None, export, &func, &top_names)?, index));
                }
                ComponentItem::ComponentInstance(instance) => {
                    let instance_index = component
                        .get_export_index(None, export)
                        .expect("listed export exists");
                    let names = NamedTypes::collect(
                        instance.exports(&self.engine).map(|(name, e)| (name, e.ty)),
                    );
                    let short = interface_short_name(export);
                    for (function, item) in instance.exports(&self.engine) {
                        let ComponentItem::ComponentFunc(func) = item.ty else {
                            continue;
                        };
                        let name = format!("{short}/{function}");
                        let index = component
                            .get_export_index(Some(&instance_index), function)
                            .expect("listed export exists");
                        found.push((
                            activation(&name, Some(export), function, &func, &names)?,
                            index,
                        ));
                    }
                }
                _ => {}
            }
        }
        for (i, (a, _)) in found.iter().enumerate() {
            if found[..i].iter().any(|(b, _)| b.name == a.name) {
                return Err(LoadError::Ambiguous(a.name.clone()));
            }
        }
        Ok(found.into_iter().unzip())
    }
}

/// `calc` for `example:calc/calc@0.1.0` or a plain `calc`.
fn interface_short_name(export: &str) -> &str {
    let path = export.rsplit('/').next().unwrap_or(export);
    path.split('@').next().unwrap_or(path)
}

fn activation(
    name: &str,
    interface: Option<&str>,
    function: &str,
    func: &ComponentFunc,
    names: &NamedTypes,
) -> Result<Activation, LoadError> {
    let unsupported = |what: &str, e: UnsupportedType| LoadError::Unsupported {
        activation: name.to_owned(),
        reason: format!("{what}: {e}"),
    };
    let params = func
        .params()
        .map(|(param, ty)| {
            TypeDesc::from_wasmtime(&ty, names)
                .map(|ty| Param {
                    name: param.to_owned(),
                    ty,
                })
                .map_err(|e| unsupported(&format!("parameter `{param}`"), e))
        })
        .collect::<Result<_, _>>()?;
    let result = func
        .results()
        .next()
        .map(|ty| TypeDesc::from_wasmtime(&ty, names))
        .transpose()
        .map_err(|e| unsupported("the result", e))?;
    Ok(Activation {
        name: name.to_owned(),
        interface: interface.map(str::to_owned),
        function: function.to_owned(),
        params,
        result,
        docs: None,
    })
}

#[cfg(test)]
mod tests {
    use super::interface_short_name;

    #[test]
    fn interface_short_names() {
        assert_eq!(interface_short_name("example:calc/calc@0.1.0"), "calc");
        assert_eq!(interface_short_name("example:calc/calc"), "calc");
        assert_eq!(interface_short_name("calc"), "calc");
    }
}
