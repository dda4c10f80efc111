//! Machines' state: each machine's keys and values, and their size.

use super::Redb;
use super::tables::{REMOVED, STATE, STATE_BYTES, machine_key};
use crate::store::StoreError;
use carol_core::ids::MachineId;
use redb::{ReadableDatabase, ReadableTable};
use std::collections::BTreeMap;
use std::ops::Bound;

impl Redb {
    /// The committed value of `key` in `machine`'s state.
    pub fn state_get(
        &self,
        machine: &MachineId,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(STATE)?;
        Ok(table
            .get(machine_key(machine, key).as_slice())?
            .map(|value| value.value().to_vec()))
    }

    /// The length of the committed value of `key` in `machine`'s state, if it has one.
    pub fn state_len(&self, machine: &MachineId, key: &[u8]) -> Result<Option<usize>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(STATE)?;
        Ok(table
            .get(machine_key(machine, key).as_slice())?
            .map(|value| value.value().len()))
    }

    /// Up to `limit` committed keys of `machine`'s state that start with `prefix`, in byte order,
    /// after `start_after` when given.
    pub fn state_keys(
        &self,
        machine: &MachineId,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(STATE)?;
        let prefix = machine_key(machine, prefix);
        let start = match start_after {
            Some(after) if after >= &prefix[32..] => Bound::Excluded(machine_key(machine, after)),
            _ => Bound::Included(prefix.clone()),
        };
        let mut keys = Vec::new();
        let range = (start.as_ref().map(Vec::as_slice), Bound::<&[u8]>::Unbounded);
        for entry in table.range::<&[u8]>(range)? {
            if keys.len() >= limit {
                break;
            }
            let (key, _) = entry?;
            let key = key.value();
            if !key.starts_with(&prefix) {
                break;
            }
            keys.push(key[32..].to_vec());
        }
        Ok(keys)
    }

    /// Bytes of keys and values `machine`'s committed state holds.
    pub fn state_bytes(&self, machine: &MachineId) -> Result<u64, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(STATE_BYTES)?;
        Ok(table
            .get(machine.as_bytes())?
            .map_or(0, |bytes| bytes.value()))
    }

    /// Bytes of keys and values all machines' committed state holds together.
    pub fn state_total_bytes(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(STATE_BYTES)?;
        let mut total = 0u64;
        for entry in table.iter()? {
            total = total.saturating_add(entry?.1.value());
        }
        Ok(total)
    }

    /// Applies an activation's writes to `machine`'s state (`None` deletes) in one transaction,
    /// with the machine's byte count. Syncs to disk: call it off the async executor.
    pub fn commit_state(
        &self,
        machine: &MachineId,
        writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    ) -> Result<(), StoreError> {
        let size: usize = writes
            .iter()
            .map(|(key, value)| key.len() + value.as_ref().map_or(0, Vec::len))
            .sum();
        let txn = match writes.values().all(Option::is_none) {
            true => self.begin_freeing()?,
            false => self.begin_write(size as u64)?,
        };
        if txn.open_table(REMOVED)?.get(machine.as_bytes())?.is_some() {
            return Err(StoreError::Removed(format!("machine {machine}")));
        }
        {
            let mut table = txn.open_table(STATE)?;
            let mut sizes = txn.open_table(STATE_BYTES)?;
            let mut bytes = sizes.get(machine.as_bytes())?.map_or(0, |b| b.value());
            for (key, value) in writes {
                let full = machine_key(machine, key);
                let old = match value {
                    Some(value) => table.insert(full.as_slice(), value.as_slice())?,
                    None => table.remove(full.as_slice())?,
                };
                if let Some(old) = old {
                    bytes = bytes.saturating_sub((key.len() + old.value().len()) as u64);
                }
                if let Some(value) = value {
                    bytes += (key.len() + value.len()) as u64;
                }
            }
            sizes.insert(machine.as_bytes(), bytes)?;
        }
        txn.commit()?;
        Ok(())
    }
}
