//! Bounds on what one activation may use.

use std::time::Duration;

/// Bounds on what one activation may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time for one activation, host calls included.
    pub activation_timeout: Duration,
    /// Linear memory one instance may grow to, in bytes.
    pub memory_bytes: usize,
    /// Bytes of stdout and of stderr kept from one activation.
    pub output_bytes: usize,
    /// Bytes of the node's memory one activation's arguments, its result, and the arguments of
    /// each of its calls to the node may take as values, as wasmtime counts them
    /// ([`crate::values::VALUE_BYTES`] for each value, besides the bytes of strings).
    pub value_bytes: usize,
    /// Bytes of each pooled memory and table reset in place after an activation rather than
    /// given back to the kernel (docs/performance.md).
    pub keep_resident_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            activation_timeout: Duration::from_secs(30),
            memory_bytes: 256 * 1024 * 1024,
            output_bytes: 1024 * 1024,
            // wasmtime's own default for what a guest may hand the host in one call.
            value_bytes: 128 * 1024 * 1024,
            keep_resident_bytes: 1024 * 1024,
        }
    }
}
