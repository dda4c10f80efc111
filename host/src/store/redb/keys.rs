//! The records of machines' keys: which nonce signed which message, and which keys each
//! machine has used.

use super::Redb;
use super::tables::{NONCE_COUNTS, NONCES, USED_KEYS, machine_key};
use crate::store::StoreError;
use crate::store::records::{NonceBinding, UsedKeys};
use carol_core::ids::MachineId;
use redb::{ReadableDatabase, ReadableTable};

impl Redb {
    /// Binds `machine`'s nonce `name` to the message whose SHA-256 is `message`, unless it is
    /// bound already or the machine has `limit` records, and commits that before returning.
    /// Concurrent calls are serialized by the write transaction. Syncs to disk: call it off the
    /// async executor.
    pub fn bind_nonce(
        &self,
        machine: &MachineId,
        name: &[u8],
        message: &[u8; 32],
        limit: u64,
    ) -> Result<NonceBinding, StoreError> {
        let key = machine_key(machine, name);
        // Signing again with a bound nonce needs no write.
        let bound = |first: &[u8; 32]| {
            if first == message {
                NonceBinding::Bound
            } else {
                NonceBinding::Used
            }
        };
        {
            let txn = self.db.begin_read()?;
            if let Some(first) = txn.open_table(NONCES)?.get(key.as_slice())? {
                return Ok(bound(first.value()));
            }
        }
        let txn = self.begin_write(0)?;
        let binding = {
            let mut table = txn.open_table(NONCES)?;
            let first = table.get(key.as_slice())?.map(|first| *first.value());
            match first {
                Some(first) => bound(&first),
                None => {
                    let mut counts = txn.open_table(NONCE_COUNTS)?;
                    let count = match counts.get(machine.as_bytes())? {
                        Some(count) => count.value(),
                        None => count_records(&table, machine)?,
                    };
                    if count >= limit {
                        NonceBinding::LimitReached
                    } else {
                        table.insert(key.as_slice(), message)?;
                        counts.insert(machine.as_bytes(), count + 1)?;
                        NonceBinding::Bound
                    }
                }
            }
        };
        txn.commit()?;
        Ok(binding)
    }

    /// Whether `machine`'s nonce `name` could still be bound: it is bound already, or the
    /// machine has fewer than `limit` records. What `keys.nonce` asks before it announces a
    /// nonce the machine could never sign with.
    pub fn nonce_available(
        &self,
        machine: &MachineId,
        name: &[u8],
        limit: u64,
    ) -> Result<bool, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(NONCES)?;
        if table.get(machine_key(machine, name).as_slice())?.is_some() {
            return Ok(true);
        }
        let count = match txn.open_table(NONCE_COUNTS)?.get(machine.as_bytes())? {
            Some(count) => count.value(),
            None => count_records(&table, machine)?,
        };
        Ok(count < limit)
    }

    /// How many nonce records `machine` has.
    pub fn nonce_records(&self, machine: &MachineId) -> Result<u64, StoreError> {
        let txn = self.db.begin_read()?;
        if let Some(count) = txn.open_table(NONCE_COUNTS)?.get(machine.as_bytes())? {
            return Ok(count.value());
        }
        count_records(&txn.open_table(NONCES)?, machine)
    }

    /// Which of its keys `machine` has used.
    pub fn used_keys(&self, machine: &MachineId) -> UsedKeys {
        self.used_keys
            .read()
            .expect("store lock")
            .get(machine)
            .copied()
            .unwrap_or_default()
    }

    /// Records that `machine` used `keys`; writes only the first time. May sync to disk: call
    /// it off the async executor.
    pub fn record_used_keys(&self, machine: &MachineId, keys: UsedKeys) -> Result<(), StoreError> {
        if self.used_keys(machine).contains(keys) {
            return Ok(());
        }
        let txn = self.begin_write(0)?;
        let bits = {
            let mut table = txn.open_table(USED_KEYS)?;
            let bits = table.get(machine.as_bytes())?.map_or(0, |b| b.value()) | keys.0;
            table.insert(machine.as_bytes(), bits)?;
            bits
        };
        txn.commit()?;
        // Or'ed in: a concurrent record of another key may have been mirrored first.
        self.used_keys
            .write()
            .expect("store lock")
            .entry(*machine)
            .or_default()
            .0 |= bits;
        Ok(())
    }
}

/// Counts `machine`'s records in `NONCES` one by one, for a machine whose records were made
/// before they were counted.
fn count_records(
    table: &impl ReadableTable<&'static [u8], &'static [u8; 32]>,
    machine: &MachineId,
) -> Result<u64, StoreError> {
    let mut count = 0;
    for entry in table.range(machine.as_bytes().as_slice()..)? {
        let (key, _) = entry?;
        if !key.value().starts_with(machine.as_bytes()) {
            break;
        }
        count += 1;
    }
    Ok(count)
}
