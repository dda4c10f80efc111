//! What the imports of every machine share, and what those of one activation work with.

use super::session::{StateLocks, StateSession};
use crate::fetch::HttpClient;
use crate::machine_keys::MachineKeys;
use crate::store::Store;
use carol_core::bls::{PublicKey, SecretKey};
use carol_core::ids::{BinaryId, MachineId};
use std::sync::Arc;

/// What every machine on a node shares: the node's key, its outbound HTTP client, and the store
/// that holds machines' state.
pub struct Services {
    pub(super) key: SecretKey,
    pub(super) public_key: PublicKey,
    pub(super) http: HttpClient,
    pub(super) store: Arc<Store>,
    pub(super) state_quota: u64,
    pub(super) state_locks: StateLocks,
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
    pub(super) machine: MachineId,
    pub(super) binary: BinaryId,
    pub(super) params: Arc<[u8]>,
    pub(super) services: Arc<Services>,
    /// Outbound requests made so far in this activation.
    pub(super) fetches: u32,
    /// The activation's use of its machine's state, from its first state call on.
    pub(super) state: Option<StateSession>,
}

impl MachineContext {
    /// The context of an activation of `machine` (of `binary`, with `params`).
    pub(crate) fn new(
        machine: MachineId,
        binary: BinaryId,
        params: Arc<[u8]>,
        services: Arc<Services>,
    ) -> Self {
        Self {
            machine,
            binary,
            params,
            services,
            fetches: 0,
            state: None,
        }
    }
}
