//! The data of one activation's store: WASI's context, the machine's imports, and its memory
//! bound.

use crate::imports::MachineContext;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// The data of one activation's store.
pub(crate) struct HostState {
    pub(super) wasi: WasiCtx,
    pub(super) table: ResourceTable,
    pub(crate) machine: MachineContext,
    pub(super) limits: MemoryLimit,
}

/// Bounds an instance's linear memory, and remembers whether the guest ran into the bound, so
/// that the error can say so.
pub(super) struct MemoryLimit {
    pub(super) bytes: usize,
    pub(super) hit: bool,
}

/// Table elements one instance may grow to; far beyond what compiled Rust needs.
const TABLE_ELEMENTS: usize = 1_000_000;

impl ResourceLimiter for MemoryLimit {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.bytes {
            self.hit = true;
            // Trap rather than fail the growth: a guest's allocator would abort with a message
            // that does not name the node's limit.
            wasmtime::bail!("memory limit of {} bytes reached", self.bytes);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= TABLE_ELEMENTS)
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
