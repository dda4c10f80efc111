//! A compiled, checked component, and why bytes cannot be one.

use super::host_state::HostState;
use crate::values::{Activation, NamedType, describe_activation, describe_types};
use carol_core::api::BinaryDescription;
use carol_core::ids::BinaryId;
use carol_core::names::names_match;
use wasmtime::component::{ComponentExportIndex, InstancePre};

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
    /// Its compile took longer than the node allows.
    #[error(
        "compiling the component took longer than this node allows ({limit_ms} ms, `[compiles] \
         timeout_ms`): nothing was stored; make it smaller, or ask the operator"
    )]
    CompileTime {
        /// The budget, in milliseconds.
        limit_ms: u128,
    },
    /// Its compile needed more memory than the node allows.
    #[error(
        "compiling the component needed more memory than this node allows ({limit_bytes} bytes, \
         `[compiles] memory_bytes`): nothing was stored; make it smaller, or ask the operator"
    )]
    CompileMemory {
        /// The budget, in bytes.
        limit_bytes: u64,
    },
    /// It imports something the node does not provide.
    #[error(
        "the component imports something this node does not provide: {0}. A machine may import {accepted} and WASI 0.2",
        accepted = carol_core::wit::ACCEPTED
    )]
    Imports(String),
    /// It imports `wasi:http`, which no node provides: outbound HTTP goes through the node's
    /// policy, and activations are the component's typed exports, not an incoming handler.
    #[error(
        "the component imports wasi:http ({0}), which a Carol node does not provide: a machine \
         fetches through carol:machine/http-fetch, and its activations are its typed exports, \
         so import neither wasi:http nor a wasi:http handler's world. (componentize-js adds \
         wasi:http unless told not to; `cargo carol build` builds JavaScript machines without \
         it)"
    )]
    WasiHttp(String),
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
    /// Two different types are served under one name.
    #[error(
        "two different types are both named `{0}` (types of interfaces with the same short name?): export interfaces with distinct names"
    )]
    AmbiguousType(String),
}

/// A compiled, checked component, ready to be instantiated for any machine made from it.
pub struct Binary {
    pub(super) id: BinaryId,
    pub(super) pre: InstancePre<HostState>,
    pub(super) activations: Vec<Activation>,
    pub(super) types: Vec<NamedType>,
    pub(super) exports: Vec<ComponentExportIndex>,
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

    /// The named types its activations use, each once, in the order they are first used.
    pub fn types(&self) -> &[NamedType] {
        &self.types
    }

    /// Its description, as `GET /binaries/{id}` answers it.
    pub fn description(&self) -> BinaryDescription {
        BinaryDescription {
            id: self.id,
            activations: self.activations.iter().map(describe_activation).collect(),
            types: describe_types(&self.types),
        }
    }

    /// Finds an activation by kebab-case or snake_case name; returns its index.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.activations
            .iter()
            .position(|a| names_match(&a.name, name))
    }
}
