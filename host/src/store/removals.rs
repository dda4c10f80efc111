//! What the operator removed: binaries and machines taken off the node, each with the reason
//! its routes answer afterwards (410 Gone). An id is a hash of its content, so a removed one
//! can never come back as something else; the record keeps it from coming back at all.

use super::database::Store;
use super::error::StoreError;
use super::tables::{BINARIES, COMPILED, MACHINES, REMOVED, STATE, STATE_BYTES};
use carol_core::ids::{BinaryId, MachineId};
use redb::ReadableDatabase;
use serde::{Deserialize, Serialize};

/// The record of a removal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removal {
    /// Why, as the operator said.
    pub reason: String,
    /// When, in seconds since the Unix epoch.
    pub at: u64,
}

impl Store {
    /// The removal of the binary or machine whose id is `id`, if it was removed.
    pub fn removed(&self, id: &[u8; 32]) -> Result<Option<Removal>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(REMOVED)?;
        let Some(record) = table.get(id)? else {
            return Ok(None);
        };
        serde_json::from_slice(record.value())
            .map(Some)
            .map_err(|_| StoreError::Malformed("removal"))
    }

    /// Removes the binary `id`, its compiled code under `code_key`, and its `machines` with
    /// their state, recording each removal with `removal`, in one transaction. Syncs to disk.
    pub fn remove_binary(
        &self,
        id: &BinaryId,
        code_key: &[u8; 32],
        machines: &[MachineId],
        removal: &Removal,
    ) -> Result<(), StoreError> {
        let record = serde_json::to_vec(removal).expect("JSON");
        let txn = self.begin_write(record.len() as u64 * (machines.len() as u64 + 1))?;
        {
            let mut removed = txn.open_table(REMOVED)?;
            txn.open_table(BINARIES)?.remove(id.as_bytes())?;
            txn.open_table(COMPILED)?.remove(code_key)?;
            removed.insert(id.as_bytes(), record.as_slice())?;
            for machine in machines {
                remove_machine(&txn, machine)?;
                removed.insert(machine.as_bytes(), record.as_slice())?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Removes the machine `id` with its state, recording the removal. Syncs to disk.
    pub fn remove_machine(&self, id: &MachineId, removal: &Removal) -> Result<(), StoreError> {
        let record = serde_json::to_vec(removal).expect("JSON");
        let txn = self.begin_write(record.len() as u64)?;
        remove_machine(&txn, id)?;
        txn.open_table(REMOVED)?
            .insert(id.as_bytes(), record.as_slice())?;
        txn.commit()?;
        Ok(())
    }
}

/// Deletes machine `id`'s record and state in `txn`. Its nonce records stay: they cost little,
/// and a nonce that signed must never sign anything else.
fn remove_machine(txn: &redb::WriteTransaction, id: &MachineId) -> Result<(), StoreError> {
    txn.open_table(MACHINES)?.remove(id.as_bytes())?;
    txn.open_table(STATE_BYTES)?.remove(id.as_bytes())?;
    let mut state = txn.open_table(STATE)?;
    let start = id.as_bytes().as_slice();
    // Every key of the machine's state starts with its id, and sorts before the next id's.
    let mut next = *id.as_bytes();
    let bounded = next.iter_mut().rev().any(|byte| {
        *byte = byte.wrapping_add(1);
        *byte != 0
    });
    match bounded {
        true => state.retain_in::<&[u8], _>(start..next.as_slice(), |_, _| false)?,
        false => state.retain_in::<&[u8], _>(start.., |_, _| false)?,
    }
    Ok(())
}
