//! The node's services, as a machine imports them: one module per WIT interface.

pub mod bindings;
mod bls_sign;
pub mod http_fetch;
mod identity;
mod keys;
pub mod state;

use crate::bls::{PublicKey, SecretKey};
use crate::ids::{BinaryId, MachineId};
use crate::machine_keys::MachineKeys;
use crate::store::Store;
use http_fetch::HttpClient;
use state::{StateLocks, StateSession};
use std::sync::Arc;

/// What every machine on a node shares: the node's key, its outbound HTTP client, and the store
/// that holds machines' state.
pub struct Services {
    key: SecretKey,
    public_key: PublicKey,
    http: HttpClient,
    store: Arc<Store>,
    state_quota: u64,
    state_locks: StateLocks,
}

impl Services {
    /// Services signing with `key`, fetching through `http`, and keeping machines' state in
    /// `store`, at most `state_quota` bytes of keys and values per machine.
    pub fn new(key: SecretKey, http: HttpClient, store: Arc<Store>, state_quota: u64) -> Self {
        Self {
            public_key: key.public_key(),
            key,
            http,
            store,
            state_quota,
            state_locks: StateLocks::default(),
        }
    }

    /// The node's public key.
    pub fn public_key(&self) -> PublicKey {
        self.public_key
    }

    /// The keys of `machine` alone, derived from the node's key.
    pub fn machine_keys(&self, machine: &MachineId) -> MachineKeys {
        MachineKeys::new(&self.key, machine)
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
    /// The activation's use of its machine's state, from its first state call on.
    pub(crate) state: Option<StateSession>,
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
