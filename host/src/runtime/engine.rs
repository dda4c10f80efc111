//! The wasmtime engines: one that runs activations, with pooled instances and epoch
//! interruption, and one that only compiles and checks components.

use super::limits::Limits;
use std::time::Duration;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the engine's epoch advances: guest code yields to the executor, and is checked
/// against its deadline, this often.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The engine of a node: at most `concurrent` instances within `limits`, from a pool, and an
/// epoch that advances every [`EPOCH_TICK`] while the engine lives.
pub(super) fn running(limits: &Limits, concurrent: usize) -> anyhow::Result<Engine> {
    let mut config = compiling();
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool(
        limits, concurrent,
    )));
    let engine = Engine::new(&config)?;
    spawn_epoch_ticker(&engine);
    Ok(engine)
}

/// An engine that compiles and checks components as a node does, and runs nothing: no epoch
/// thread, and a pool of a single slot. The pool is kept because it refuses, when compiling,
/// what does not fit a node's slots (a module with two memories, a memory whose minimum is past
/// the memory limit, an instance too large), and a check must refuse what a node refuses; those
/// checks depend on the size of a slot, not on how many there are.
pub(super) fn checking() -> anyhow::Result<Engine> {
    compiling_for(Limits::default().memory_bytes)
}

/// An engine that compiles as a node's whose instances may grow to `memory_bytes` (the same
/// code, and the same refusals of what does not fit its slots), and runs nothing.
pub(super) fn compiling_for(memory_bytes: usize) -> anyhow::Result<Engine> {
    let limits = Limits {
        memory_bytes,
        ..Limits::default()
    };
    let mut config = compiling();
    let mut pool = pool(&limits, 1);
    // It runs nothing, so it needs no stacks for async calls (by default a pool of a thousand).
    pool.total_stacks(1);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Ok(Engine::new(&config)?)
}

/// What both engines share, so that they compile the same code.
fn compiling() -> Config {
    let mut config = Config::new();
    config.epoch_interruption(true);
    config
}

/// Slots for `concurrent` instances, reused from one activation to the next instead of mapped
/// and unmapped each time; a component of a Rust guest has a few core instances, memories and
/// tables (its own, and WASI's adapter).
///
/// `keep_resident_bytes` of each memory and table are reset in place rather than decommitted:
/// giving the pages back to the kernel after every activation costs a TLB shootdown on every
/// core and page faults in the next instance (docs/performance.md). With `PAGEMAP_SCAN` only
/// the pages the instance wrote are reset.
fn pool(limits: &Limits, concurrent: usize) -> PoolingAllocationConfig {
    let instances = u32::try_from(concurrent).unwrap_or(u32::MAX).max(1);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(instances)
        .total_core_instances(instances.saturating_mul(8))
        .total_memories(instances.saturating_mul(2))
        .total_tables(instances.saturating_mul(8))
        .max_memory_size(limits.memory_bytes)
        .linear_memory_keep_resident(limits.keep_resident_bytes)
        .table_keep_resident(limits.keep_resident_bytes)
        .pagemap_scan(Enabled::Auto);
    pool
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until the engine is dropped.
fn spawn_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("carol-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawning the epoch thread");
}
