//! The per-machine state lock, and an activation's session with its machine's state.

use carol_core::ids::MachineId;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::OwnedMutexGuard;

/// One lock per machine, held by the activation that uses its state.
#[derive(Default)]
pub(super) struct StateLocks(Mutex<HashMap<MachineId, Arc<tokio::sync::Mutex<()>>>>);

impl StateLocks {
    /// Waits for `machine`'s lock.
    pub(super) async fn lock(&self, machine: &MachineId) -> OwnedMutexGuard<()> {
        let lock = self
            .0
            .lock()
            .expect("state locks")
            .entry(*machine)
            .or_default()
            .clone();
        lock.lock_owned().await
    }
}

/// An activation's use of its machine's state, from its first state call on.
pub(super) struct StateSession {
    /// The machine's state lock, released when the writes are committed or dropped.
    pub(super) lock: OwnedMutexGuard<()>,
    /// Its hold in the store, which serializes the machine's activations across the nodes of
    /// a group; committed with the writes, or released with the session.
    pub(super) hold: crate::store::StateHold,
    /// Bytes of keys and values the machine holds, as this activation sees it.
    pub(super) bytes: u64,
    /// Bytes of keys and values the machine held when the session opened, committed.
    pub(super) committed: u64,
    /// Writes not yet committed; `None` deletes.
    pub(super) writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}
