//! Machines' state: each machine's keys and values, and their size.

use super::pool::Held;
use super::{Postgres, prefix_end};
use crate::store::StoreError;
use carol_core::ids::MachineId;
use std::collections::BTreeMap;

impl Postgres {
    /// The committed value of `key` in `machine`'s state.
    pub(in crate::store) fn state_get(
        &self,
        machine: &MachineId,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let row = self.pool.with(|c| {
            c.query_opt(
                "SELECT value FROM state WHERE machine = $1 AND key = $2",
                &[&machine.as_bytes().as_slice(), &key],
            )
        })?;
        Ok(row.map(|row| row.get(0)))
    }

    /// The length of the committed value of `key` in `machine`'s state, if it has one.
    pub(in crate::store) fn state_len(
        &self,
        machine: &MachineId,
        key: &[u8],
    ) -> Result<Option<usize>, StoreError> {
        let row = self.pool.with(|c| {
            c.query_opt(
                "SELECT length(value)::BIGINT FROM state WHERE machine = $1 AND key = $2",
                &[&machine.as_bytes().as_slice(), &key],
            )
        })?;
        Ok(row.map(|row| row.get::<_, i64>(0) as usize))
    }

    /// Up to `limit` committed keys of `machine`'s state that start with `prefix`, in byte order,
    /// after `start_after` when given.
    pub(in crate::store) fn state_keys(
        &self,
        machine: &MachineId,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let after = start_after.filter(|after| *after >= prefix);
        let end = prefix_end(prefix);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.pool.with(|c| {
            c.query(
                "SELECT key FROM state WHERE machine = $1 \
                 AND key >= $2 AND ($3::BYTEA IS NULL OR key > $3) \
                 AND ($4::BYTEA IS NULL OR key < $4) ORDER BY key LIMIT $5",
                &[
                    &machine.as_bytes().as_slice(),
                    &prefix,
                    &after,
                    &end,
                    &limit,
                ],
            )
        })?;
        Ok(rows.into_iter().map(|row| row.get(0)).collect())
    }

    /// Bytes of keys and values `machine`'s committed state holds.
    pub(in crate::store) fn state_bytes(&self, machine: &MachineId) -> Result<u64, StoreError> {
        let row = self.pool.with(|c| {
            c.query_opt(
                "SELECT bytes FROM state_bytes WHERE machine = $1",
                &[&machine.as_bytes().as_slice()],
            )
        })?;
        Ok(row.map_or(0, |row| row.get::<_, i64>(0) as u64))
    }

    /// Bytes of keys and values all machines' committed state holds together.
    pub(in crate::store) fn state_total_bytes(&self) -> Result<u64, StoreError> {
        let row = self.pool.with(|c| {
            c.query_one(
                "SELECT COALESCE(SUM(bytes), 0)::BIGINT FROM state_bytes",
                &[],
            )
        })?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    /// Holds `machine`'s state for one activation, on every node of the group: a transaction
    /// that locked the machine's byte count, which no other node's hold or commit gets past
    /// until it ends. Returns the hold and the bytes the state holds.
    pub(in crate::store) fn hold_state(
        &self,
        machine: &MachineId,
    ) -> Result<(Held, u64), StoreError> {
        let id = machine.as_bytes().as_slice();
        self.pool.hold(|c| {
            c.batch_execute("BEGIN")?;
            c.execute(
                "INSERT INTO state_bytes (machine, bytes) VALUES ($1, 0) \
                 ON CONFLICT (machine) DO NOTHING",
                &[&id],
            )?;
            let row = c.query_one(
                "SELECT bytes FROM state_bytes WHERE machine = $1 FOR UPDATE",
                &[&id],
            )?;
            Ok(row.get::<_, i64>(0) as u64)
        })
    }

    /// Applies an activation's writes to `machine`'s state (`None` deletes), with the machine's
    /// byte count, in the transaction of its hold, and commits it.
    pub(in crate::store) fn commit_state(
        &self,
        machine: &MachineId,
        writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
        held: Held,
    ) -> Result<(), StoreError> {
        let id = machine.as_bytes().as_slice();
        let removed = self.pool.finish(held, |c| {
            let removed = c
                .query_opt("SELECT 1 FROM removed WHERE id = $1", &[&id])?
                .is_some();
            if removed {
                c.batch_execute("ROLLBACK")?;
                return Ok(true);
            }
            let row = c.query_one("SELECT bytes FROM state_bytes WHERE machine = $1", &[&id])?;
            let mut bytes = row.get::<_, i64>(0) as u64;
            for (key, value) in writes {
                let old = c.query_opt(
                    "DELETE FROM state WHERE machine = $1 AND key = $2 \
                     RETURNING length(value)::BIGINT",
                    &[&id, key],
                )?;
                if let Some(old) = old {
                    bytes = bytes.saturating_sub((key.len() as u64) + old.get::<_, i64>(0) as u64);
                }
                if let Some(value) = value {
                    c.execute(
                        "INSERT INTO state (machine, key, value) VALUES ($1, $2, $3)",
                        &[&id, key, value],
                    )?;
                    bytes += (key.len() + value.len()) as u64;
                }
            }
            let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
            c.execute(
                "UPDATE state_bytes SET bytes = $2 WHERE machine = $1",
                &[&id, &bytes],
            )?;
            // Acknowledged writes survive a crash of the server, whatever its default.
            c.batch_execute("SET LOCAL synchronous_commit = on; COMMIT")?;
            Ok(false)
        })?;
        match removed {
            true => Err(StoreError::Removed(format!("machine {machine}"))),
            false => Ok(()),
        }
    }
}
