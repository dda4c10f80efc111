//! Loading a component: compiling it, checking its imports against what the node provides,
//! and reading its exports; and the compiled-code cache's keys.

use super::binary::{Binary, LoadError};
use super::engine;
use super::exports;
use super::host_state::HostState;
use super::limits::Limits;
use crate::imports;
use crate::store::CompiledCode;
use carol_core::doc_section::Docs;
use carol_core::ids::BinaryId;
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::Path;
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

/// Compiles components and checks them against the node's imports.
pub struct Loader {
    engine: Engine,
    /// The engine's part of every compiled-code cache key (`Loader::cache_key`).
    compatibility: Sha256,
    linker: Linker<HostState>,
}

impl Loader {
    /// The loader of a node: its engine runs at most `concurrent` instances within `limits`,
    /// from a pool, with a thread that advances its epoch.
    pub(super) fn running(limits: &Limits, concurrent: usize) -> anyhow::Result<Self> {
        Self::with_engine(engine::running(limits, concurrent)?)
    }

    /// A loader that only compiles and checks components, as a node with the default limits
    /// would: nothing running in the background, no database, an instance pool of one slot.
    /// What `cargo carol build` and `api` use.
    pub fn checking() -> anyhow::Result<Self> {
        Self::with_engine(engine::checking()?)
    }

    /// A loader that compiles components for a node whose instances may grow to
    /// `memory_bytes`, as that node's engine does, and runs nothing: what a compile worker uses.
    pub fn compiling(memory_bytes: usize) -> anyhow::Result<Self> {
        Self::with_engine(engine::compiling_for(memory_bytes)?)
    }

    fn with_engine(engine: Engine) -> anyhow::Result<Self> {
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        imports::add_to_linker(&mut linker, |state: &mut HostState| &mut state.machine)?;
        Ok(Self {
            compatibility: compatibility_digest(&engine),
            engine,
            linker,
        })
    }

    pub(super) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Compiles `bytes` and checks that it can run on a node and be served over HTTP.
    pub fn load(&self, bytes: &[u8]) -> Result<Binary, LoadError> {
        let component = self.compile(bytes)?;
        self.prepare(bytes, &component)
    }

    /// Compiles a component to machine code.
    pub fn compile(&self, bytes: &[u8]) -> Result<Component, LoadError> {
        Self::check_magic(bytes)?;
        Component::new(&self.engine, bytes).map_err(|e| LoadError::Invalid(format!("{e:#}")))
    }

    /// Whether `bytes` start as a component does, not as a core module or anything else.
    pub fn check_magic(bytes: &[u8]) -> Result<(), LoadError> {
        match bytes.get(..8) {
            Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => Err(LoadError::CoreModule),
            Some([0, b'a', b's', b'm', ..]) => Ok(()),
            _ => Err(LoadError::NotWasm),
        }
    }

    /// Links a compiled component against the node's imports and reads its activations and
    /// types; `bytes` are the component's own bytes, for its id and docs.
    pub fn prepare(&self, bytes: &[u8], component: &Component) -> Result<Binary, LoadError> {
        let pre = self.linker.instantiate_pre(component).map_err(|e| {
            let message = format!("{e:#}");
            if message.contains("wasi:http/") {
                LoadError::WasiHttp(message)
            } else {
                LoadError::Imports(message)
            }
        })?;
        let exports = exports::read(&self.engine, component, bytes, &Docs::read(bytes))?;
        Ok(Binary {
            id: BinaryId::of(bytes),
            pre,
            activations: exports.activations,
            types: exports.types,
            exports: exports.indices,
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
        // against its SHA-256 when read back (`Store::compiled`), or from the node's compile
        // worker, the node's own program compiling with the same engine settings; wasmtime
        // itself refuses code from another version or configuration. A worker that a malicious
        // component subverted (through a compiler bug) could hand over any code: no worse than
        // compiling that component in this process.
        unsafe { Component::deserialize(&self.engine, code) }.ok()
    }

    /// A component from its serialized form in the file at `path`, mapped rather than copied,
    /// or `None` if this engine cannot use it.
    fn deserialize_file(&self, path: &Path) -> Option<Component> {
        // SAFETY: as for `deserialize`. The file is the node's own cache entry, in a data
        // directory only the node's owner may write, checked against its SHA-256 just before
        // (`Store::compiled`) or written and synced by this node just before, from the code it
        // compiled (an upload). Cache files are only ever replaced by renaming a whole file into
        // place, never changed in place, so the mapping is of one whole file; the store does
        // not rewrite an entry that is already intact, and the only other rewrite of a key
        // (an entry that failed its check) writes this engine's compile of the same binary.
        unsafe { Component::deserialize_file(&self.engine, path) }.ok()
    }

    /// A component from cached code, or `None` if this engine cannot use it.
    pub fn cached(&self, code: &CompiledCode) -> Option<Component> {
        match code {
            CompiledCode::File(path) => self.deserialize_file(path),
            CompiledCode::Bytes(bytes) => self.deserialize(bytes),
        }
    }
}

/// SHA-256 fed with the engine's compatibility hash: the prefix of every cache key, computed
/// once per engine.
fn compatibility_digest(engine: &Engine) -> Sha256 {
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
