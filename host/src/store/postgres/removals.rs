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

/// Deletes the machine `id` and its state (locking its byte count, as a commit does); returns
/// the bytes of state that went.
fn remove_machine(txn: &mut Transaction<'_>, id: &[u8]) -> Result<u64, postgres::Error> {
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
