//! Every record of the database, for a migration (`crate::store::migrate`).

use super::Redb;
use super::tables::{AGREEMENTS, BINARIES, MACHINES, NONCES, REMOVED, STATE, USED_KEYS};
use crate::store::StoreError;
use crate::store::migrate::Row;
use redb::{ReadableDatabase, ReadableTable};

impl Redb {
    /// Gives `sink` each record, from one read transaction.
    pub(in crate::store) fn export(
        &self,
        sink: &mut dyn FnMut(Row<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_read()?;
        for entry in txn.open_table(BINARIES)?.iter()? {
            let (id, bytes) = entry?;
            sink(Row::Binary {
                id: id.value(),
                bytes: bytes.value(),
            })?;
        }
        for entry in txn.open_table(MACHINES)?.iter()? {
            let (id, record) = entry?;
            let (binary, params) = record
                .value()
                .split_first_chunk::<32>()
                .ok_or(StoreError::Malformed("machine"))?;
            sink(Row::Machine {
                id: id.value(),
                binary,
                params,
            })?;
        }
        for entry in txn.open_table(STATE)?.iter()? {
            let (key, value) = entry?;
            let (machine, key) = key
                .value()
                .split_at_checked(32)
                .ok_or(StoreError::Malformed("state"))?;
            sink(Row::State {
                machine,
                key,
                value: value.value(),
            })?;
        }
        for entry in txn.open_table(NONCES)?.iter()? {
            let (key, message) = entry?;
            let (machine, name) = key
                .value()
                .split_at_checked(32)
                .ok_or(StoreError::Malformed("nonce"))?;
            sink(Row::Nonce {
                machine,
                name,
                message: message.value(),
            })?;
        }
        for entry in txn.open_table(USED_KEYS)?.iter()? {
            let (machine, bits) = entry?;
            sink(Row::UsedKeys {
                machine: machine.value(),
                bits: bits.value(),
            })?;
        }
        for entry in txn.open_table(REMOVED)?.iter()? {
            let (id, record) = entry?;
            sink(Row::Removed {
                id: id.value(),
                record: record.value(),
            })?;
        }
        for entry in txn.open_table(AGREEMENTS)?.iter()? {
            let (decree, record) = entry?;
            sink(Row::Agreement {
                decree: decree.value(),
                record: record.value(),
            })?;
        }
        Ok(())
    }
}
