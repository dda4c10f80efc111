//! What the operator removed: binaries and machines taken off the node, each with the reason
//! its routes answer afterwards (410 Gone). An id is a hash of its content, so a removed one
//! can never come back as something else; the record keeps it from coming back at all.

use super::Redb;
use super::compiled::code_length;
use super::tables::{BINARIES, COMPILED, MACHINES, REMOVED, STATE, STATE_BYTES};
use crate::store::StoreError;
use crate::store::records::{Freed, Removal};
use carol_core::ids::{BinaryId, MachineId};
use redb::{ReadableDatabase, ReadableTable};

impl Redb {
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

    /// Removes the binary `id`, its compiled code under `code_key`, and its machines (every
    /// stored one, `machines` among them) with their state, recording each removal with
    /// `removal`, in one transaction, however full the disk is. Syncs to disk. Returns the bytes
    /// of binary and code, and of state, that went.
    pub fn remove_binary(
        &self,
        id: &BinaryId,
        code_key: &[u8; 32],
        removal: &Removal,
    ) -> Result<Freed, StoreError> {
        let record = serde_json::to_vec(removal).expect("JSON");
        let txn = self.begin_freeing()?;
        let mut freed = Freed::default();
        {
            let machines: Vec<MachineId> = txn
                .open_table(MACHINES)?
                .iter()?
                .filter_map(|entry| {
                    let (machine, stored) = entry.ok()?;
                    let of = stored.value().get(..32) == Some(id.as_bytes().as_slice());
                    of.then(|| MachineId::from_bytes(*machine.value()))
                })
                .collect();
            let mut removed = txn.open_table(REMOVED)?;
            if let Some(bytes) = txn.open_table(BINARIES)?.remove(id.as_bytes())? {
                freed.binaries += bytes.value().len() as u64;
            }
            if let Some(code) = txn.open_table(COMPILED)?.remove(code_key)? {
                freed.binaries += code_length(code.value());
            }
            removed.insert(id.as_bytes(), record.as_slice())?;
            for machine in &machines {
                freed.state += remove_machine(&txn, machine)?;
                removed.insert(machine.as_bytes(), record.as_slice())?;
            }
            freed.machines = machines;
        }
        txn.commit()?;
        self.remove_compiled_file(code_key);
        Ok(freed)
    }

    /// Removes the machine `id` with its state, recording the removal, however full the disk
    /// is. Syncs to disk. Returns the bytes of state that went.
    pub fn remove_machine(&self, id: &MachineId, removal: &Removal) -> Result<Freed, StoreError> {
        let record = serde_json::to_vec(removal).expect("JSON");
        let txn = self.begin_freeing()?;
        let state = remove_machine(&txn, id)?;
        txn.open_table(REMOVED)?
            .insert(id.as_bytes(), record.as_slice())?;
        txn.commit()?;
        Ok(Freed {
            state,
            machines: vec![*id],
            ..Freed::default()
        })
    }
}

/// Deletes machine `id`'s record and state in `txn`; returns the bytes of state it held. Its
/// nonce records stay: they cost little, and a nonce that signed must never sign anything else.
fn remove_machine(txn: &redb::WriteTransaction, id: &MachineId) -> Result<u64, StoreError> {
    txn.open_table(MACHINES)?.remove(id.as_bytes())?;
    let state_bytes = txn
        .open_table(STATE_BYTES)?
        .remove(id.as_bytes())?
        .map_or(0, |bytes| bytes.value());
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
    Ok(state_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// What a write that was under way when its content was removed tries to store afterwards
    /// is refused in its own transaction: nothing removed comes back, and what the removal
    /// freed is counted once.
    #[test]
    fn writes_begun_before_a_removal_store_nothing_after_it() {
        let store = Redb::open(None).unwrap();
        let binary = BinaryId::of(b"component");
        let (kept, doomed) = (
            MachineId::of(&binary, b"kept"),
            MachineId::of(&binary, b"doomed"),
        );
        store.put_binary(&binary, b"component", None).unwrap();
        store.put_machine(&kept, &binary, b"kept").unwrap();
        store.put_machine(&doomed, &binary, b"doomed").unwrap();
        let writes = BTreeMap::from([(b"k".to_vec(), Some(b"value".to_vec()))]);
        store.commit_state(&kept, &writes).unwrap();
        let removal = Removal {
            reason: "spam".into(),
            at: 1,
        };

        let freed = store.remove_machine(&doomed, &removal).unwrap();
        assert_eq!((freed.state, freed.machines), (0, vec![doomed]));
        assert!(matches!(
            store.commit_state(&doomed, &writes),
            Err(StoreError::Removed(_))
        ));
        assert!(matches!(
            store.put_machine(&doomed, &binary, b"doomed"),
            Err(StoreError::Removed(_))
        ));

        let freed = store.remove_binary(&binary, &[0; 32], &removal).unwrap();
        assert_eq!(freed.binaries, b"component".len() as u64);
        assert_eq!(freed.state, 6);
        assert_eq!(freed.machines, vec![kept]);
        assert_eq!(store.state_get(&kept, b"k").unwrap(), None);
        assert_eq!(store.state_bytes(&kept).unwrap(), 0);
        assert!(matches!(
            store.put_binary(&binary, b"component", None),
            Err(StoreError::Removed(_))
        ));
        let late = MachineId::of(&binary, b"late");
        assert!(matches!(
            store.put_machine(&late, &binary, b"late"),
            Err(StoreError::Removed(_))
        ));
        assert!(matches!(
            store.commit_state(&kept, &writes),
            Err(StoreError::Removed(_))
        ));
        assert_eq!(store.removed(kept.as_bytes()).unwrap(), Some(removal));
        // A second removal frees nothing more.
        let again = store.remove_binary(
            &binary,
            &[0; 32],
            &Removal {
                reason: "x".into(),
                at: 2,
            },
        );
        assert_eq!(again.unwrap().binaries, 0);
    }
}
