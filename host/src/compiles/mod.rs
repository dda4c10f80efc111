//! Compiling uploaded components within bounds (`[compiles]`): a bounded number at a time, a
//! bounded queue behind them, a bound on the bytes of uploads in flight, and a time and memory
//! budget for each compile. Compiling a large component takes seconds of every core and
//! hundreds of megabytes, so without these a few concurrent uploads would take the node from
//! its activations.
//!
//! With a worker program ([`CompileLimits::worker`], the `carol` binary itself), each compile
//! runs in a process of its own, whose data segment is limited to the memory budget
//! (`RLIMIT_DATA`) and which is killed at the time budget; without one (a node embedded in
//! another program), compiles run on a blocking thread and only the time budget holds: past it
//! the upload is refused while the compile finishes in the background, still holding its turn.

mod worker;

pub use worker::serve as serve_worker;

use crate::admission::InQueue;
use crate::runtime::{LoadError, Loader};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use std::time::Instant;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::component::Component;

/// Bounds on compiling uploads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileLimits {
    /// Compiles running at once.
    pub concurrent: usize,
    /// Uploads waiting for a compile's turn; more are refused at once.
    pub queue: usize,
    /// Time one compile may take.
    pub timeout: Duration,
    /// Memory one compile may take, in bytes (enforced with a worker program).
    pub memory_bytes: u64,
    /// Bytes of uploads being received, waiting or compiling, together.
    pub upload_bytes_in_flight: u64,
    /// The program to compile in (`carol compile-worker`), if any.
    pub worker: Option<PathBuf>,
}

impl Default for CompileLimits {
    fn default() -> Self {
        Self {
            concurrent: 1,
            queue: 64,
            timeout: Duration::from_secs(120),
            memory_bytes: 4 << 30,
            upload_bytes_in_flight: 256 << 20,
            worker: None,
        }
    }
}

/// Why an upload was not compiled now: the node is at its bounds. Answered 503 with
/// `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Busy {
    /// Every compile turn is taken and the queue is full.
    #[error(
        "the node is busy compiling: {concurrent} compiles are running and {queue} uploads \
         waiting, its limits (`[compiles] concurrent`, `queue`); retry shortly"
    )]
    Compiling {
        /// The limit of compiles at once.
        concurrent: usize,
        /// The limit of uploads waiting.
        queue: usize,
    },
    /// The uploads in flight already hold the bytes allowed.
    #[error(
        "the node is receiving as many upload bytes as it allows ({limit} bytes, `[compiles] \
         upload_bytes_in_flight`); retry shortly"
    )]
    UploadBytes {
        /// The limit.
        limit: u64,
    },
}

/// Bytes per permit of the in-flight semaphore: tokio's semaphores count in `u32`s at most.
const UPLOAD_UNIT: u64 = 1024;

/// The node's bounds on compiles, shared by every upload.
pub struct Compiles {
    turns: Arc<Semaphore>,
    waiting: AtomicUsize,
    upload_units: Arc<Semaphore>,
    limits: CompileLimits,
}

/// An upload's share of the bytes in flight, held until it is stored or refused.
pub struct InFlight {
    _bytes: OwnedSemaphorePermit,
}

impl Compiles {
    /// The bounds of `limits`.
    pub fn new(limits: CompileLimits) -> Self {
        let units = (limits.upload_bytes_in_flight / UPLOAD_UNIT).min(u64::from(u32::MAX >> 3));
        Self {
            turns: Arc::new(Semaphore::new(limits.concurrent.max(1))),
            waiting: AtomicUsize::new(0),
            upload_units: Arc::new(Semaphore::new(units as usize)),
            limits,
        }
    }

    /// The bounds.
    pub fn limits(&self) -> &CompileLimits {
        &self.limits
    }

    /// Holds `bytes` of the uploads in flight (an upload of unknown length holds the most one
    /// may have), or refuses at once.
    pub fn receive(&self, bytes: u64) -> Result<InFlight, Busy> {
        let units = bytes.div_ceil(UPLOAD_UNIT).max(1);
        let refused = Busy::UploadBytes {
            limit: self.limits.upload_bytes_in_flight,
        };
        let units = u32::try_from(units).map_err(|_| refused.clone())?;
        self.upload_units
            .clone()
            .try_acquire_many_owned(units)
            .map(|bytes| InFlight { _bytes: bytes })
            .map_err(|_| refused)
    }

    /// Compiles `bytes` once a turn is free, within the time and memory budgets, and says how
    /// long the compile itself took; refuses at once when the queue is full. With a worker
    /// program the worker compiles for an engine whose instance slots hold `slot_memory_bytes`,
    /// and `load` reads its code; without one, `compile_here` compiles on a blocking thread.
    pub async fn compile(
        &self,
        bytes: Arc<Vec<u8>>,
        slot_memory_bytes: usize,
        load: impl FnOnce(&[u8]) -> Option<Component>,
        compile_here: impl FnOnce(&[u8]) -> Result<Component, LoadError> + Send + 'static,
    ) -> Result<(Result<Component, LoadError>, Duration), Busy> {
        let turn = self.turn().await?;
        let started = Instant::now();
        if let Err(error) = Loader::check_magic(&bytes) {
            return Ok((Err(error), started.elapsed()));
        }
        let compiled = match &self.limits.worker {
            Some(program) => {
                let code = worker::compile(program, &self.limits, slot_memory_bytes, &bytes).await;
                drop(turn);
                code.and_then(|code| {
                    load(&code).ok_or_else(|| {
                        LoadError::Invalid(
                            "the compile worker's code does not load in this node's engine: is \
                             the worker the same `carol` as the node?"
                                .into(),
                        )
                    })
                })
            }
            None => {
                let timeout = self.limits.timeout;
                // The turn goes with the compile: past the budget it still runs, and holds it.
                let compiling = tokio::task::spawn_blocking(move || {
                    let _turn = turn;
                    compile_here(&bytes)
                });
                match tokio::time::timeout(timeout, compiling).await {
                    Ok(Ok(compiled)) => compiled,
                    Ok(Err(panicked)) => Err(LoadError::Invalid(format!(
                        "compiling the component failed: {panicked}"
                    ))),
                    Err(_) => Err(LoadError::CompileTime {
                        limit_ms: timeout.as_millis(),
                    }),
                }
            }
        };
        Ok((compiled, started.elapsed()))
    }

    /// Waits for a compile's turn, or refuses at once when the queue is full.
    async fn turn(&self) -> Result<OwnedSemaphorePermit, Busy> {
        if let Ok(turn) = self.turns.clone().try_acquire_owned() {
            return Ok(turn);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.limits.queue {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(Busy::Compiling {
                concurrent: self.limits.concurrent,
                queue: self.limits.queue,
            });
        }
        let _queued = InQueue(&self.waiting);
        let turn = self.turns.clone().acquire_owned().await;
        Ok(turn.expect("the compile semaphore is never closed"))
    }
}
