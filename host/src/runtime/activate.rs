//! The runtime of a node: running one activation in a fresh instance, within its limits, and
//! what became of it.

use super::host_state::{HostState, MemoryLimit};
use super::limits::Limits;
use super::loader::Loader;
use super::machine::Machine;
use super::output::OutputBuffer;
use crate::federation::exchange::TooFewAgreed;
use crate::federation::machine_keys::MachineKeyError;
use crate::imports::{MachineContext, Services};
use carol_core::ids::MachineId;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::{ResourceTable, Val};
use wasmtime::{Store, Trap, UpdateDeadline};
use wasmtime_wasi::WasiCtx;

/// Compiles, checks and runs machines.
pub struct Runtime {
    loader: Loader,
    services: Arc<Services>,
    limits: Limits,
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
    /// The instance tried to grow its memory past the node's limit.
    #[error(
        "machine {machine} hit the memory limit of {limit} bytes per instance in activation `{activation}`"
    )]
    MemoryLimit {
        /// The machine.
        machine: MachineId,
        /// The activation.
        activation: String,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The activation returned, but its state writes could not be committed.
    #[error(
        "machine {machine} finished activation `{activation}` but the node could not store its state ({error}); its writes were discarded: try again later"
    )]
    State {
        /// The machine.
        machine: MachineId,
        /// The activation.
        activation: String,
        /// What went wrong.
        error: crate::store::StoreError,
    },
    /// The activation needed the node's database, which could not be reached.
    #[error(
        "machine {machine} needed the node's database in activation `{activation}` ({error}); \
         nothing it wrote was kept"
    )]
    StoreUnavailable {
        /// The machine.
        machine: MachineId,
        /// The activation.
        activation: String,
        /// What went wrong.
        error: crate::store::StoreError,
    },
    /// More data left the instance at once than the node holds as values: the result, or what
    /// the machine handed one call to the node.
    #[error(
        "machine {machine} handed the node more than {limit} bytes of values at once in activation \
         `{activation}` (its result, or the arguments of one call to the node; [limits] \
         max_value_bytes): return or send less at a time"
    )]
    TooMuchData {
        /// The machine.
        machine: MachineId,
        /// The activation.
        activation: String,
        /// The limit, in bytes.
        limit: usize,
    },
    /// On a federation member: fewer members than the threshold signed what the machine asked
    /// to sign, in time.
    #[error(
        "machine {machine} asked to sign in activation `{activation}`, but only {agreed} of the \
         {threshold} federation members needed signed the same message in time (members down, \
         unreachable, or whose runs signed something else do not count){}: nothing was signed",
        match others.is_empty() {
            true => String::new(),
            false => format!("; the runs of other members asked to sign other messages with the \
                              same committed nonce, {others:?} members each, so no message can \
                              ever be signed with it"),
        }
    )]
    Unsigned {
        /// The machine.
        machine: MachineId,
        /// The activation.
        activation: String,
        /// Members that signed the message, this one among them.
        agreed: usize,
        /// The threshold.
        threshold: usize,
        /// For a committed nonce, how many members' runs asked it to sign each other message.
        others: Vec<usize>,
    },
    /// On a federation member: the machine's own key could not be had, for another reason than
    /// too few members taking part.
    #[error(
        "machine {machine} asked for its own key in activation `{activation}`, but this member \
         cannot use it: {why}; another member may"
    )]
    NoOwnKey {
        /// The machine.
        machine: MachineId,
        /// The activation.
        activation: String,
        /// Why.
        why: String,
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
    /// A runtime whose machines use `services` within `limits`, at most `concurrent` instances
    /// at a time.
    pub fn new(services: Services, limits: Limits, concurrent: usize) -> anyhow::Result<Self> {
        Ok(Self {
            loader: Loader::running(&limits, concurrent)?,
            services: Arc::new(services),
            limits,
        })
    }

    /// What compiles and checks this runtime's components.
    pub fn loader(&self) -> &Loader {
        &self.loader
    }

    /// The services machines on this runtime use.
    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Runs activation `index` of `machine` with `args` in a fresh instance and returns its
    /// result, `None` for a function without one.
    pub async fn activate(
        &self,
        machine: &Machine,
        index: usize,
        args: &[Val],
    ) -> Result<Option<Val>, ActivationError> {
        self.run(machine, index, args).await.result
    }

    /// Like [`Runtime::activate`], with what the node learnt of the run beside its result.
    pub async fn run(&self, machine: &Machine, index: usize, args: &[Val]) -> Ran {
        let binary = machine.binary();
        let activation = &binary.activations()[index];
        let stdout = OutputBuffer::new(self.limits.output_bytes);
        let stderr = OutputBuffer::new(self.limits.output_bytes);
        let deadline = Instant::now() + self.limits.activation_timeout;
        let state = HostState {
            wasi: WasiCtx::builder()
                .stdout(stdout.clone())
                .stderr(stderr.clone())
                .build(),
            table: ResourceTable::new(),
            machine: MachineContext::new(
                machine.id(),
                binary.id(),
                machine.shared_params(),
                self.services.clone(),
                tokio::time::Instant::from_std(deadline),
            ),
            limits: MemoryLimit {
                bytes: self.limits.memory_bytes,
                hit: false,
            },
        };
        let mut store = Store::new(self.loader.engine(), state);
        store.limiter(|state| &mut state.limits);
        // What wasmtime may allocate for values leaving the instance: the result, and the
        // arguments of each import call.
        store.set_hostcall_fuel(self.limits.value_bytes);
        // At every epoch tick, guest code either yields to the executor, so that a busy
        // machine never holds a worker thread away from other requests, or, past its time, stops.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            Ok(if Instant::now() >= deadline {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::Yield(1)
            })
        });

        let call = async {
            let instance = binary.pre.instantiate_async(&mut store).await?;
            let func = instance
                .get_func(&mut store, binary.exports[index])
                .expect("export indices come from this component");
            let mut results = vec![Val::Bool(false); usize::from(activation.result.is_some())];
            func.call_async(&mut store, args, &mut results).await?;
            wasmtime::Result::<Option<Val>>::Ok(results.pop())
        };
        // Epoch interruption stops guest code; the timeout also covers time spent in host calls,
        // waiting for the machine's state lock among them.
        let outcome = tokio::time::timeout(self.limits.activation_timeout, call).await;
        log_output(machine.id(), &activation.name, "stdout", &stdout);
        log_output(machine.id(), &activation.name, "stderr", &stderr);
        let stderr_tail = stderr.tail();
        let timeout = || ActivationError::Timeout {
            machine: machine.id(),
            activation: activation.name.clone(),
            limit: self.limits.activation_timeout,
        };
        let result = match outcome {
            Err(_elapsed) => Err(timeout()),
            // State writes are committed only when the activation returned, and before it is
            // answered; otherwise they are dropped with the store, and the state lock released.
            // An outvoted run's are dropped too: its member answers what the agreeing members'
            // runs answered, if they did, and keeps nothing of a view the federation did not
            // sign.
            Ok(Ok(result)) if store.data().machine.outvoted() => Ok(result),
            Ok(Ok(result)) => match store.data_mut().machine.commit_state().await {
                Ok(()) => Ok(result),
                Err(error) => {
                    tracing::error!(machine = %machine.id(), activation = activation.name, %error, "committing state failed");
                    Err(ActivationError::State {
                        machine: machine.id(),
                        activation: activation.name.clone(),
                        error,
                    })
                }
            },
            Ok(Err(error)) if error.downcast_ref::<Trap>() == Some(&Trap::Interrupt) => {
                Err(timeout())
            }
            Ok(Err(_)) if store.data().limits.hit => Err(ActivationError::MemoryLimit {
                machine: machine.id(),
                activation: activation.name.clone(),
                limit: self.limits.memory_bytes,
            }),
            Ok(Err(error)) if unreachable_store(&error) => Err(ActivationError::StoreUnavailable {
                machine: machine.id(),
                activation: activation.name.clone(),
                error: error.downcast().expect("checked"),
            }),
            Ok(Err(error)) if error.downcast_ref::<TooFewAgreed>().is_some() => {
                let agreed = error.downcast_ref::<TooFewAgreed>().expect("checked");
                Err(ActivationError::Unsigned {
                    machine: machine.id(),
                    activation: activation.name.clone(),
                    agreed: agreed.agreed,
                    threshold: agreed.threshold,
                    others: agreed.others.clone(),
                })
            }
            Ok(Err(error)) if error.downcast_ref::<MachineKeyError>().is_some() => {
                Err(ActivationError::NoOwnKey {
                    machine: machine.id(),
                    activation: activation.name.clone(),
                    why: error.to_string(),
                })
            }
            Ok(Err(error)) if out_of_hostcall_fuel(&error) => Err(ActivationError::TooMuchData {
                machine: machine.id(),
                activation: activation.name.clone(),
                limit: self.limits.value_bytes,
            }),
            Ok(Err(error)) => {
                let stderr = String::from_utf8_lossy(&stderr.contents().0).into_owned();
                let tail = String::from_utf8_lossy(&stderr_tail).into_owned();
                let trap = format!("{error:#}");
                Err(ActivationError::Trap {
                    machine: machine.id(),
                    activation: activation.name.clone(),
                    message: failure_message(&tail).unwrap_or_else(|| trap.clone()),
                    trap,
                    stderr,
                })
            }
        };
        Ran {
            result,
            outvoted: store.data().machine.outvoted(),
        }
    }
}

/// An activation's run: its result, and what the node learnt of it.
pub struct Ran {
    /// Its result, `None` for a function without one.
    pub result: Result<Option<Val>, ActivationError>,
    /// Whether, on a federation member, a signature with a committed nonce was refused to it
    /// because the nonce signs another message, one that other members' runs asked for.
    pub outvoted: bool,
}

/// Whether the activation trapped because the node's database could not be reached.
fn unreachable_store(error: &wasmtime::Error) -> bool {
    matches!(
        error.downcast_ref::<crate::store::StoreError>(),
        Some(crate::store::StoreError::Unavailable { .. })
    )
}

/// Whether wasmtime stopped copying values out of the instance at the store's hostcall fuel.
/// Its error type is private, so it is known by its message; a test fails should that change.
fn out_of_hostcall_fuel(error: &wasmtime::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .to_string()
            .contains("fuel allocated for hostcalls has been exhausted")
    })
}

/// Sends what a guest printed to the node's log, a line at a time, tagged with the machine.
fn log_output(machine: MachineId, activation: &str, stream: &str, output: &OutputBuffer) {
    let (bytes, dropped) = output.contents();
    if dropped > 0 {
        tracing::warn!(target: "carol::guest", %machine, activation, stream, dropped, "output past the node's limit was dropped");
    }
    for line in String::from_utf8_lossy(&bytes)
        .lines()
        .filter(|line| !line.is_empty())
    {
        tracing::info!(target: "carol::guest", %machine, activation, stream, "{line}");
    }
}

/// What a guest said as it failed, in its language runtime's words: a Python exception
/// (componentize-py prints the traceback, then panics with [`PYTHON_PANIC`]), a Rust panic's
/// message, or a JavaScript error (StarlingMonkey prints it, then `Stack:` and the frames).
fn failure_message(stderr: &str) -> Option<String> {
    match panic_message(stderr) {
        Some(panic) if panic == PYTHON_PANIC => python_exception(stderr).or(Some(panic)),
        Some(panic) => Some(panic),
        None => javascript_error(stderr),
    }
}

/// The panic with which componentize-py ends an export that raised.
const PYTHON_PANIC: &str = "Python function threw an unexpected exception";

/// The exception of the last Python traceback in `stderr`: the lines after its frames (which
/// are indented), up to the blank line that ends it.
fn python_exception(stderr: &str) -> Option<String> {
    let start = stderr.rfind("Traceback (most recent call last):\n")?;
    let exception: Vec<&str> = stderr[start..]
        .lines()
        .skip(1)
        .skip_while(|line| line.starts_with(' '))
        .take_while(|line| !line.is_empty())
        .collect();
    let exception = exception.join("\n");
    (!exception.is_empty()).then_some(exception)
}

/// The last JavaScript error in `stderr`, as StarlingMonkey prints one: its message, then
/// `Stack:`, then frames (`function@file:line:column`, indented).
fn javascript_error(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr.lines().collect();
    let stack = lines.iter().enumerate().rposition(|(i, line)| {
        *line == "Stack:"
            && lines
                .get(i + 1)
                .is_some_and(|frame| frame.starts_with("  ") && frame.contains('@'))
    })?;
    let error = lines[..stack].last()?.trim();
    (!error.is_empty()).then(|| error.to_owned())
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
    use super::{failure_message, panic_message};

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

    /// As componentize-py 0.25 and componentize-js 0.23 print an uncaught exception.
    #[test]
    fn extracts_python_and_javascript_errors() {
        let python = "Traceback (most recent call last):\n  File \"/0/app.py\", line 57, in fail\n    raise RuntimeError(message)\nRuntimeError: final words 7\n\nthread '<unnamed>' (1) panicked at runtime/src/lib.rs:1280:25:\nPython function threw an unexpected exception\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        assert_eq!(
            failure_message(python).as_deref(),
            Some("RuntimeError: final words 7")
        );
        let javascript = "a log line\n\nfinal words 7\nStack:\n  fail@app.js:66:9\n  export_fail@initializer.js:1461:15\n\nRedirecting call to abort() to mozalloc_abort\n\n";
        assert_eq!(
            failure_message(javascript).as_deref(),
            Some("final words 7")
        );
        let rust = "thread 'main' panicked at src/lib.rs:1:1:\nthe answer\n";
        assert_eq!(failure_message(rust).as_deref(), Some("the answer"));
        assert_eq!(failure_message("nothing said\n"), None);
    }
}
