//! Running one activation: a fresh store and instance, the call, and what became of it.

use super::binary::Binary;
use super::{EPOCH_TICK, Runtime};
use crate::ids::{BinaryId, MachineId};
use crate::imports::MachineContext;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::{ResourceTable, Val};
use wasmtime::{Store, StoreLimits, StoreLimitsBuilder, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// The data of one activation's store.
pub(crate) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) machine: MachineContext,
    limits: StoreLimits,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A binary with its parameters: what an activation runs.
#[derive(Clone)]
pub struct Machine {
    id: MachineId,
    binary: Arc<Binary>,
    params: Arc<[u8]>,
}

impl Machine {
    /// The machine made of `binary` and `params`.
    pub fn new(binary: Arc<Binary>, params: impl Into<Arc<[u8]>>) -> Self {
        let params = params.into();
        Self {
            id: MachineId::of(&binary.id(), &params),
            binary,
            params,
        }
    }

    /// The machine's id.
    pub fn id(&self) -> MachineId {
        self.id
    }

    /// The binary it runs.
    pub fn binary(&self) -> &Arc<Binary> {
        &self.binary
    }

    /// Its binary's id.
    pub fn binary_id(&self) -> BinaryId {
        self.binary.id()
    }

    /// Its parameters.
    pub fn params(&self) -> &[u8] {
        &self.params
    }
}

/// How an activation failed.
#[derive(Debug, thiserror::Error)]
pub enum ActivationError {
    /// The guest trapped, usually by panicking.
    #[error("machine {machine} trapped in activation `{activation}`: {message}")]
    Trap {
        /// The machine that trapped.
        machine: MachineId,
        /// The activation that was running.
        activation: String,
        /// The panic message the guest wrote to stderr, or the trap itself.
        message: String,
        /// The trap as wasmtime reports it.
        trap: String,
        /// Everything the guest wrote to stderr.
        stderr: String,
    },
    /// The activation ran past its time limit.
    #[error(
        "machine {machine} did not finish activation `{activation}` within the {limit:?} limit"
    )]
    Timeout {
        /// The machine that ran too long.
        machine: MachineId,
        /// The activation that was running.
        activation: String,
        /// The limit it exceeded.
        limit: Duration,
    },
}

impl Runtime {
    /// Runs activation `index` of `machine` with `args` in a fresh instance and returns its
    /// result, `None` for a function without one.
    pub async fn activate(
        &self,
        machine: &Machine,
        index: usize,
        args: &[Val],
    ) -> Result<Option<Val>, ActivationError> {
        let activation = &machine.binary.activations()[index];
        let stdout = MemoryOutputPipe::new(self.limits.output_bytes);
        let stderr = MemoryOutputPipe::new(self.limits.output_bytes);
        let state = HostState {
            wasi: WasiCtx::builder()
                .stdout(stdout.clone())
                .stderr(stderr.clone())
                .build(),
            table: ResourceTable::new(),
            machine: MachineContext {
                machine: machine.id,
                binary: machine.binary.id(),
                params: machine.params.clone(),
                services: self.services.clone(),
                fetches: 0,
            },
            limits: StoreLimitsBuilder::new()
                .memory_size(self.limits.memory_bytes)
                .trap_on_grow_failure(true)
                .build(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        let ticks = self
            .limits
            .activation_timeout
            .as_millis()
            .div_ceil(EPOCH_TICK.as_millis())
            .max(1);
        store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
        store.epoch_deadline_trap();

        let binary = &machine.binary;
        let call = async {
            let instance = binary.pre().instantiate_async(&mut store).await?;
            let func = instance
                .get_func(&mut store, binary.export(index))
                .expect("export indices come from this component");
            let mut results = vec![Val::Bool(false); usize::from(activation.result.is_some())];
            func.call_async(&mut store, args, &mut results).await?;
            wasmtime::Result::<Option<Val>>::Ok(results.pop())
        };
        // Epoch interruption stops guest code; the timeout also covers time spent in host calls.
        let outcome = tokio::time::timeout(self.limits.activation_timeout, call).await;
        log_output(machine.id, &activation.name, "stdout", &stdout.contents());
        log_output(machine.id, &activation.name, "stderr", &stderr.contents());
        let timeout = || ActivationError::Timeout {
            machine: machine.id,
            activation: activation.name.clone(),
            limit: self.limits.activation_timeout,
        };
        match outcome {
            Err(_elapsed) => Err(timeout()),
            Ok(Ok(result)) => Ok(result),
            Ok(Err(error)) if error.downcast_ref::<Trap>() == Some(&Trap::Interrupt) => {
                Err(timeout())
            }
            Ok(Err(error)) => {
                let stderr = String::from_utf8_lossy(&stderr.contents()).into_owned();
                let trap = format!("{error:#}");
                Err(ActivationError::Trap {
                    machine: machine.id,
                    activation: activation.name.clone(),
                    message: panic_message(&stderr).unwrap_or_else(|| trap.clone()),
                    trap,
                    stderr,
                })
            }
        }
    }
}

/// Sends what a guest printed to the node's log, a line at a time, tagged with the machine.
fn log_output(machine: MachineId, activation: &str, stream: &str, bytes: &[u8]) {
    for line in String::from_utf8_lossy(bytes)
        .lines()
        .filter(|line| !line.is_empty())
    {
        tracing::info!(target: "carol::guest", %machine, activation, stream, "{line}");
    }
}

/// The message of the last Rust panic in `stderr`: the lines after `panicked at ...:`, without
/// the note about backtraces.
fn panic_message(stderr: &str) -> Option<String> {
    let start = stderr.rfind("panicked at ")?;
    let rest = &stderr[start..];
    let body = rest.split_once('\n').map_or("", |(_, body)| body);
    let message: Vec<&str> = body
        .lines()
        .take_while(|line| !line.starts_with("note: run with `RUST_BACKTRACE"))
        .collect();
    let message = message.join("\n").trim().to_owned();
    (!message.is_empty()).then_some(message)
}

#[cfg(test)]
mod tests {
    use super::panic_message;

    #[test]
    fn extracts_panic_messages() {
        let stderr = "\nthread '<unnamed>' panicked at src/lib.rs:12:9:\nthe answer is 42\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        assert_eq!(panic_message(stderr).as_deref(), Some("the answer is 42"));
        assert_eq!(panic_message("some log line\n"), None);
        let two_lines = "thread 'main' panicked at src/lib.rs:1:1:\nline one\nline two\n";
        assert_eq!(
            panic_message(two_lines).as_deref(),
            Some("line one\nline two")
        );
    }
}
