//! What the operator removed: binaries and machines taken off every node of the group.

use super::{Postgres, id32};
use crate::store::StoreError;
use crate::store::records::{Freed, Removal};
use carol_core::ids::{BinaryId, MachineId};
use postgres::Transaction;

impl Postgres {
    /// The removal of the binary or machine whose id is `id`, if it was removed.
    pub(in crate::store) fn removed(&self, id: &[u8; 32]) -> Result<Option<Removal>, StoreError> {
        let row = self.pool.with(|c| {
            c.query_opt(
                "SELECT record FROM removed WHERE id = $1",
                &[&id.as_slice()],
            )
        })?;
        row.map(|row| {
            serde_json::from_slice(&row.get::<_, Vec<u8>>(0))
                .map_err(|_| StoreError::Malformed("removal"))
        })
        .transpose()
    }

    /// The ids removed after the removal numbered `after` (0 for all), with their numbers, in
    /// order.
    pub(in crate::store) fn removals_after(
        &self,
        after: i64,
    ) -> Result<Vec<(i64, [u8; 32])>, StoreError> {
        let rows = self.pool.with(|c| {
            c.query(
                "SELECT seq, id FROM removed WHERE seq > $1 ORDER BY seq",
                &[&after],
            )
        })?;
        rows.into_iter()
            .map(|row| Ok((row.get(0), id32(row.get(1), "removal")?)))
            .collect()
    }

    /// The number of the latest removal, 0 if there was none.
    pub(in crate::store) fn latest_removal(&self) -> Result<i64, StoreError> {
        let row = self
            .pool
            .with(|c| c.query_one("SELECT COALESCE(MAX(seq), 0)::BIGINT FROM removed", &[]))?;
        Ok(row.get(0))
    }

    /// Removes the binary `id` and its machines with their state, recording each removal, in
    /// one transaction. Returns the bytes of the binary, and of state, that went (compiled code
    /// is each node's own).
    pub(in crate::store) fn remove_binary(
        &self,
        id: &BinaryId,
        removal: &Removal,
    ) -> Result<Freed, StoreError> {
        let record = serde_json::to_vec(removal).expect("JSON");
        let binary = id.as_bytes().as_slice();
        let (binaries, state, machines) = self.pool.with(|c| {
            let mut txn = c.transaction()?;
            serialize_removals(&mut txn)?;
            lock_id(&mut txn, binary)?;
            let gone = txn.query_opt(
                "DELETE FROM binaries WHERE id = $1 RETURNING length(bytes)::BIGINT",
                &[&binary],
            )?;
            record_removal(&mut txn, binary, &record)?;
            let machines: Vec<Vec<u8>> = txn
                .query("SELECT id FROM machines WHERE binary_id = $1", &[&binary])?
                .into_iter()
                .map(|row| row.get(0))
                .collect();
            let mut state = 0;
            for machine in &machines {
                lock_id(&mut txn, machine)?;
                state += remove_machine(&mut txn, machine)?;
                record_removal(&mut txn, machine, &record)?;
            }
            txn.commit()?;
            Ok((
                gone.map_or(0, |row| row.get::<_, i64>(0) as u64),
                state,
                machines,
            ))
        })?;
        let machines = machines
            .into_iter()
            .map(|machine| Ok(MachineId::from_bytes(id32(machine, "machine")?)))
            .collect::<Result<_, StoreError>>()?;
        Ok(Freed {
            binaries,
            state,
            machines,
        })
    }

    /// Removes the machine `id` with its state, recording the removal. Returns the bytes of
    /// state that went.
    pub(in crate::store) fn remove_machine(
        &self,
        id: &MachineId,
        removal: &Removal,
    ) -> Result<Freed, StoreError> {
        let record = serde_json::to_vec(removal).expect("JSON");
        let machine = id.as_bytes().as_slice();
        let state = self.pool.with(|c| {
            let mut txn = c.transaction()?;
            serialize_removals(&mut txn)?;
            lock_id(&mut txn, machine)?;
            let state = remove_machine(&mut txn, machine)?;
            record_removal(&mut txn, machine, &record)?;
            txn.commit()?;
            Ok(state)
        })?;
        Ok(Freed {
            state,
            machines: vec![*id],
            ..Freed::default()
        })
    }
}

/// Held by each removal until it commits, so that removals commit in the order of their `seq`:
/// a node that has followed them up to one has seen every one before it.
const REMOVALS_LOCK: i64 = 0x6361_726f_6c00_0002;

fn serialize_removals(txn: &mut Transaction<'_>) -> Result<(), postgres::Error> {
    txn.execute("SELECT pg_advisory_xact_lock($1)", &[&REMOVALS_LOCK])?;
    Ok(())
}

/// Locks the binary or machine `id` until the transaction ends: a removal and a write that
/// would store it (an upload, a creation) take it, so that one of them sees the other whole.
pub(super) fn lock_id(txn: &mut Transaction<'_>, id: &[u8]) -> Result<(), postgres::Error> {
    let (high, low) = id_lock(id);
    txn.execute("SELECT pg_advisory_xact_lock($1, $2)", &[&high, &low])?;
    Ok(())
}

/// The two 32-bit keys of `id`'s advisory lock (a key space apart from the one-key locks').
fn id_lock(id: &[u8]) -> (i32, i32) {
    let word = |at: usize| {
        let mut bytes = [0; 4];
        for (i, byte) in id.iter().skip(at).take(4).enumerate() {
            bytes[i] = *byte;
        }
        i32::from_be_bytes(bytes)
    };
    (word(0), word(4))
}

/// Deletes the machine `id` and its state; returns the bytes of state that went. It takes the
/// machine's byte count row first, as a hold does (making it if it is missing, as a first hold
/// would), so that it waits for an activation holding the machine's state, and one that holds
/// it next finds the removal.
fn remove_machine(txn: &mut Transaction<'_>, id: &[u8]) -> Result<u64, postgres::Error> {
    txn.execute(
        "INSERT INTO state_bytes (machine, bytes) VALUES ($1, 0) ON CONFLICT (machine) DO NOTHING",
        &[&id],
    )?;
    txn.execute(
        "SELECT bytes FROM state_bytes WHERE machine = $1 FOR UPDATE",
        &[&id],
    )?;
    let bytes = txn
        .query_opt(
            "DELETE FROM state_bytes WHERE machine = $1 RETURNING bytes",
            &[&id],
        )?
        .map_or(0, |row| row.get::<_, i64>(0) as u64);
    txn.execute("DELETE FROM state WHERE machine = $1", &[&id])?;
    txn.execute("DELETE FROM machines WHERE id = $1", &[&id])?;
    Ok(bytes)
}

fn record_removal(
    txn: &mut Transaction<'_>,
    id: &[u8],
    record: &[u8],
) -> Result<(), postgres::Error> {
    txn.execute(
        "INSERT INTO removed (id, record) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
        &[&id, &record],
    )?;
    Ok(())
}
