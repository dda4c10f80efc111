//! The wasmtime side of the node: one engine and linker, components loaded and checked into
//! [`Binary`]s, and activations run each in a fresh instance.

mod activation;
mod binary;
mod output;

pub use activation::{ActivationError, Machine};
pub use binary::{Binary, LoadError};

use crate::imports::{self, Services};
use activation::HostState;
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::Linker;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the engine's epoch advances: guest code yields to the executor, and is checked
/// against its deadline, this often.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Bounds on what one activation may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time for one activation, host calls included.
    pub activation_timeout: Duration,
    /// Linear memory one instance may grow to, in bytes.
    pub memory_bytes: usize,
    /// Bytes of stdout and of stderr kept from one activation.
    pub output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            activation_timeout: Duration::from_secs(30),
            memory_bytes: 256 * 1024 * 1024,
            output_bytes: 1024 * 1024,
        }
    }
}

/// Compiles, checks and runs machines.
pub struct Runtime {
    engine: Engine,
    /// The engine's part of every compiled-code cache key (`Runtime::cache_key`).
    compatibility: Sha256,
    linker: Linker<HostState>,
    services: Arc<Services>,
    limits: Limits,
}

impl Runtime {
    /// A runtime whose machines use `services` within `limits`, at most `concurrent` instances
    /// at a time.
    pub fn new(services: Services, limits: Limits, concurrent: usize) -> anyhow::Result<Self> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool(
            &limits, concurrent,
        )));
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        imports::add_to_linker(&mut linker, |state: &mut HostState| &mut state.machine)?;
        spawn_epoch_ticker(&engine);
        Ok(Self {
            compatibility: binary::compatibility_digest(&engine),
            engine,
            linker,
            services: Arc::new(services),
            limits,
        })
    }

    /// The services machines on this runtime use.
    pub fn services(&self) -> &Services {
        &self.services
    }

    /// The limits every activation runs within.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}

/// Slots for `concurrent` instances, reused from one activation to the next instead of mapped
/// and unmapped each time; a component of a Rust guest has a few core instances, memories and
/// tables (its own, and WASI's adapter).
fn pool(limits: &Limits, concurrent: usize) -> PoolingAllocationConfig {
    let instances = u32::try_from(concurrent).unwrap_or(u32::MAX).max(1);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(instances)
        .total_core_instances(instances.saturating_mul(8))
        .total_memories(instances.saturating_mul(2))
        .total_tables(instances.saturating_mul(8))
        .max_memory_size(limits.memory_bytes)
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(KEEP_RESIDENT)
        .pagemap_scan(Enabled::Auto);
    pool
}

/// Bytes of each pooled memory and table reset in place rather than decommitted: giving the
/// pages back to the kernel after every activation cost a TLB shootdown on every core and page
/// faults in the next instance, a quarter of the CPU under load (docs/performance.md). With
/// `PAGEMAP_SCAN` only the pages the instance wrote are reset.
const KEEP_RESIDENT: usize = 1 << 20;

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
