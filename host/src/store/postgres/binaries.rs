//! Binaries and machines.

use super::removals::lock_id;
use super::{Postgres, id32};
use crate::store::StoreError;
use crate::store::records::StoredMachine;
use carol_core::ids::{BinaryId, MachineId};
use postgres::Transaction;

impl Postgres {
    /// Every stored binary's bytes, by id.
    pub(in crate::store) fn stored_binaries(&self) -> Result<Vec<(BinaryId, Vec<u8>)>, StoreError> {
        let rows = self.pool.with(|c| {
            c.query(
                "SELECT id, bytes FROM binaries WHERE id NOT IN (SELECT id FROM removed) \
                 ORDER BY id",
                &[],
            )
        })?;
        rows.into_iter()
            .map(|row| {
                Ok((
                    BinaryId::from_bytes(id32(row.get(0), "binary")?),
                    row.get(1),
                ))
            })
            .collect()
    }

    /// Bytes the stored binaries take together.
    pub(in crate::store) fn binaries_bytes(&self) -> Result<u64, StoreError> {
        let row = self.pool.with(|c| {
            c.query_one(
                "SELECT COALESCE(SUM(length(bytes)), 0)::BIGINT FROM binaries",
                &[],
            )
        })?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    /// The stored binary `id`'s bytes, if it is stored.
    pub(in crate::store) fn binary(&self, id: &BinaryId) -> Result<Option<Vec<u8>>, StoreError> {
        let row = self.pool.with(|c| {
            c.query_opt(
                "SELECT bytes FROM binaries WHERE id = $1 \
                 AND NOT EXISTS (SELECT 1 FROM removed WHERE removed.id = $1)",
                &[&id.as_bytes().as_slice()],
            )
        })?;
        Ok(row.map(|row| row.get(0)))
    }

    /// Every stored machine, by id.
    pub(in crate::store) fn stored_machines(
        &self,
    ) -> Result<Vec<(MachineId, StoredMachine)>, StoreError> {
        let rows = self.pool.with(|c| {
            c.query(
                "SELECT id, binary_id, params FROM machines \
                 WHERE id NOT IN (SELECT id FROM removed) ORDER BY id",
                &[],
            )
        })?;
        rows.into_iter()
            .map(|row| {
                Ok((
                    MachineId::from_bytes(id32(row.get(0), "machine")?),
                    StoredMachine {
                        binary: BinaryId::from_bytes(id32(row.get(1), "machine")?),
                        params: row.get(2),
                    },
                ))
            })
            .collect()
    }

    /// The machine `id`, if it is stored.
    pub(in crate::store) fn machine(
        &self,
        id: &MachineId,
    ) -> Result<Option<StoredMachine>, StoreError> {
        let row = self.pool.with(|c| {
            c.query_opt(
                "SELECT binary_id, params FROM machines WHERE id = $1 \
                 AND NOT EXISTS (SELECT 1 FROM removed WHERE removed.id = $1)",
                &[&id.as_bytes().as_slice()],
            )
        })?;
        row.map(|row| {
            Ok(StoredMachine {
                binary: BinaryId::from_bytes(id32(row.get(0), "machine")?),
                params: row.get(1),
            })
        })
        .transpose()
    }

    /// Stores a component's bytes, unless it was removed.
    pub(in crate::store) fn put_binary(
        &self,
        id: &BinaryId,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        let removed = self.pool.with(|c| {
            let mut txn = c.transaction()?;
            lock_id(&mut txn, id.as_bytes())?;
            if is_removed(&mut txn, id.as_bytes())? {
                return Ok(true);
            }
            txn.execute(
                "INSERT INTO binaries (id, bytes) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
                &[&id.as_bytes().as_slice(), &bytes],
            )?;
            txn.commit()?;
            Ok(false)
        })?;
        match removed {
            true => Err(StoreError::Removed(format!("binary {id}"))),
            false => Ok(()),
        }
    }

    /// Stores the machine `id` of `binary` with `params`, unless either was removed or the
    /// binary is not stored.
    pub(in crate::store) fn put_machine(
        &self,
        id: &MachineId,
        binary: &BinaryId,
        params: &[u8],
    ) -> Result<(), StoreError> {
        let refused = self.pool.with(|c| {
            let mut txn = c.transaction()?;
            // The binary's lock first, then the machine's, as a removal of the binary takes them.
            lock_id(&mut txn, binary.as_bytes())?;
            lock_id(&mut txn, id.as_bytes())?;
            if is_removed(&mut txn, id.as_bytes())? {
                return Ok(Some(format!("machine {id}")));
            }
            // Locks the binary's row: a removal of it cannot commit between this check and
            // the machine's insert.
            let stored = txn.query_opt(
                "SELECT 1 FROM binaries WHERE id = $1 FOR SHARE",
                &[&binary.as_bytes().as_slice()],
            )?;
            if stored.is_none() || is_removed(&mut txn, binary.as_bytes())? {
                return Ok(Some(format!("binary {binary}")));
            }
            txn.execute(
                "INSERT INTO machines (id, binary_id, params) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO NOTHING",
                &[
                    &id.as_bytes().as_slice(),
                    &binary.as_bytes().as_slice(),
                    &params,
                ],
            )?;
            txn.commit()?;
            Ok(None)
        })?;
        match refused {
            Some(what) => Err(StoreError::Removed(what)),
            None => Ok(()),
        }
    }
}

/// Whether the binary or machine `id` was removed.
pub(super) fn is_removed(
    txn: &mut Transaction<'_>,
    id: &[u8; 32],
) -> Result<bool, postgres::Error> {
    Ok(txn
        .query_opt("SELECT 1 FROM removed WHERE id = $1", &[&id.as_slice()])?
        .is_some())
}
