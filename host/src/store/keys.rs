//! The records of machines' keys: which nonce signed which message, and which keys each
//! machine has used.

use super::database::Store;
use super::error::StoreError;
use super::records::{NonceBinding, UsedKeys};
use super::tables::{NONCES, USED_KEYS, machine_key};
use carol_core::ids::MachineId;
use redb::{ReadableDatabase, ReadableTable};

impl Store {
    /// Binds `machine`'s nonce `name` to the message whose SHA-256 is `message`, unless it is
    /// bound already, and commits that before returning. Concurrent calls are serialized by the
    /// write transaction. Syncs to disk: call it off the async executor.
    pub fn bind_nonce(
        &self,
        machine: &MachineId,
        name: &[u8],
        message: &[u8; 32],
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
        let txn = self.db.begin_write()?;
        let binding = {
            let mut table = txn.open_table(NONCES)?;
            let first = table.get(key.as_slice())?.map(|first| *first.value());
            match first {
                Some(first) => bound(&first),
                None => {
                    table.insert(key.as_slice(), message)?;
                    NonceBinding::Bound
                }
            }
        };
        txn.commit()?;
        Ok(binding)
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
        let txn = self.db.begin_write()?;
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
