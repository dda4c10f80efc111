//! The node's services, as a machine imports them: one module per WIT interface.

pub mod bindings;
mod bls_sign;
pub mod http_fetch;
mod identity;

use crate::bls::{PublicKey, SecretKey};
use crate::ids::{BinaryId, MachineId};
use http_fetch::HttpClient;
use std::sync::Arc;

/// What every machine on a node shares: the node's key and its outbound HTTP client.
pub struct Services {
    key: SecretKey,
    public_key: PublicKey,
    http: HttpClient,
}

impl Services {
    /// Services signing with `key` and fetching through `http`.
    pub fn new(key: SecretKey, http: HttpClient) -> Self {
        Self {
            public_key: key.public_key(),
            key,
            http,
        }
    }

    /// The node's public key.
    pub fn public_key(&self) -> PublicKey {
        self.public_key
    }
}

/// The state the imports of one activation work with.
pub(crate) struct MachineContext {
    pub(crate) machine: MachineId,
    pub(crate) binary: BinaryId,
    pub(crate) params: Arc<[u8]>,
    pub(crate) services: Arc<Services>,
    /// Outbound requests made so far in this activation.
    pub(crate) fetches: u32,
}

/// Adds the `carol:machine` imports to a linker whose store data projects to a [`MachineContext`].
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    project: fn(&mut T) -> &mut MachineContext,
) -> wasmtime::Result<()> {
    bindings::Machine::add_to_linker::<T, wasmtime::component::HasSelf<MachineContext>>(
        linker, project,
    )
}
