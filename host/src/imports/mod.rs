//! The node's services, as a machine imports them: one module per WIT interface of
//! `carol:machine`, each implementing the generated `Host` trait for `MachineContext`.

mod bls_sign;
mod context;
mod http_fetch;
mod identity;
mod keys;
mod session;
mod state;

pub(crate) use context::MachineContext;
pub use context::{Quotas, Services};
pub use keys::{DEFAULT_NONCE_RECORDS, MAX_NONCE_NAME_BYTES};
pub use state::{
    DEFAULT_QUOTA_BYTES, MAX_KEY_BYTES, MAX_LIST_KEYS, MAX_PENDING_WRITES, MAX_VALUE_BYTES,
};

/// Adds the `carol:machine` imports to a linker whose store data projects to a [`MachineContext`].
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    project: fn(&mut T) -> &mut MachineContext,
) -> wasmtime::Result<()> {
    crate::bindings::Machine::add_to_linker::<T, wasmtime::component::HasSelf<MachineContext>>(
        linker, project,
    )
}
