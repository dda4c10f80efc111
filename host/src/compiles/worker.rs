//! A compile in a process of its own (`carol compile-worker`): the component's bytes on its
//! stdin, wasmtime's serialized code on its stdout, an error's text on its stderr. The process's
//! data segment is limited to the memory budget, and it is killed at the time budget, so that a
//! compile past either costs the node's own memory and threads nothing. It is no security
//! boundary: the node runs the code the worker hands back, as it would run code it compiled
//! itself.

use super::CompileLimits;
use crate::runtime::{LoadError, Loader};
use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The worker's exit code for a component wasmtime refuses; its stderr says why.
const REFUSED: i32 = 2;
/// Bytes of the worker's stderr kept.
const STDERR_BYTES: u64 = 64 * 1024;

/// Has the worker `program` compile `bytes`, within `limits`' budgets, for an engine whose
/// instance slots hold `slot_memory_bytes`: the serialized code.
pub(super) async fn compile(
    program: &Path,
    limits: &CompileLimits,
    slot_memory_bytes: usize,
    bytes: &[u8],
) -> Result<Vec<u8>, LoadError> {
    let mut child = tokio::process::Command::new(program)
        .arg("compile-worker")
        .arg("--memory-bytes")
        .arg(limits.memory_bytes.to_string())
        .arg("--slot-memory-bytes")
        .arg(slot_memory_bytes.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| {
            LoadError::Invalid(format!(
                "cannot start the compile worker {}: {error}",
                program.display()
            ))
        })?;
    let (mut stdin, stdout, stderr) = (
        child.stdin.take().expect("piped"),
        child.stdout.take().expect("piped"),
        child.stderr.take().expect("piped"),
    );
    let run = async {
        // A worker that died early closes its stdin; its exit status says why.
        let _ = stdin.write_all(bytes).await;
        drop(stdin);
        let (mut code, mut told) = (Vec::new(), Vec::new());
        let mut stdout = stdout.take(limits.memory_bytes);
        let mut stderr = stderr.take(STDERR_BYTES);
        let (read, _) = tokio::join!(stdout.read_to_end(&mut code), stderr.read_to_end(&mut told));
        let status = child.wait().await;
        (read.and(status), code, told)
    };
    let (status, code, told) = match tokio::time::timeout(limits.timeout, run).await {
        Ok(done) => done,
        // Dropping the child kills it.
        Err(_) => {
            return Err(LoadError::CompileTime {
                limit_ms: limits.timeout.as_millis(),
            });
        }
    };
    let told = String::from_utf8_lossy(&told).trim().to_owned();
    let status = status.map_err(|error| {
        LoadError::Invalid(format!("the compile worker could not be read: {error}"))
    })?;
    match status.code() {
        Some(0) => Ok(code),
        Some(REFUSED) => Err(LoadError::Invalid(told)),
        // An allocation past the limit aborts the worker, saying so.
        _ if [
            "memory allocation of",
            "out of memory",
            "Cannot allocate memory",
        ]
        .iter()
        .any(|said| told.contains(said)) =>
        {
            Err(LoadError::CompileMemory {
                limit_bytes: limits.memory_bytes,
            })
        }
        _ => Err(LoadError::Invalid(format!(
            "the compile worker failed ({status}): {told}"
        ))),
    }
}

/// `carol compile-worker`: compiles the component on stdin for an engine whose instance slots
/// hold `slot_memory_bytes`, with at most `memory_bytes` of data, and writes its code to
/// stdout. Returns the process's exit code.
pub fn serve(memory_bytes: u64, slot_memory_bytes: usize) -> i32 {
    if let Err(error) = limit_data(memory_bytes) {
        eprintln!("cannot limit the compile's memory: {error}");
        return 1;
    }
    let mut bytes = Vec::new();
    if let Err(error) = std::io::stdin().read_to_end(&mut bytes) {
        eprintln!("cannot read the component: {error}");
        return 1;
    }
    let loader = match Loader::compiling(slot_memory_bytes) {
        Ok(loader) => loader,
        Err(error) => {
            eprintln!("cannot make the engine: {error:#}");
            return 1;
        }
    };
    let component = match loader.compile(&bytes) {
        Ok(component) => component,
        Err(LoadError::Invalid(why)) => {
            eprint!("{why}");
            return REFUSED;
        }
        Err(error) => {
            eprint!("{error}");
            return 1;
        }
    };
    let Some(code) = loader.serialize(&component) else {
        eprintln!("cannot serialize the compiled component");
        return 1;
    };
    match std::io::stdout().lock().write_all(&code) {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("cannot write the compiled code: {error}");
            1
        }
    }
}

/// Limits this process's data (heap and private writable mappings) to `bytes`: an allocation
/// past it fails, and aborts the process.
#[cfg(unix)]
fn limit_data(bytes: u64) -> std::io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: bytes as libc::rlim_t,
        rlim_max: bytes as libc::rlim_t,
    };
    // SAFETY: setrlimit reads the struct it is given and changes nothing else.
    match unsafe { libc::setrlimit(libc::RLIMIT_DATA, &limit) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

/// Elsewhere the memory budget is not enforced; the time budget is.
#[cfg(not(unix))]
fn limit_data(_bytes: u64) -> std::io::Result<()> {
    Ok(())
}
