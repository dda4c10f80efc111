//! Binaries, machines and the compiled-code cache.

use super::Redb;
use super::compiled::code_length;
use super::tables::{BINARIES, COMPILED, MACHINES, REMOVED};
use crate::store::StoreError;
use crate::store::records::StoredMachine;
use carol_core::ids::{BinaryId, MachineId};
use redb::{ReadableDatabase, ReadableTable};

impl Redb {
    /// Every stored binary's bytes, by id.
    pub fn stored_binaries(&self) -> Result<Vec<(BinaryId, Vec<u8>)>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(BINARIES)?;
        let mut all = Vec::new();
        for entry in table.iter()? {
            let (id, bytes) = entry?;
            all.push((BinaryId::from_bytes(*id.value()), bytes.value().to_vec()));
        }
        Ok(all)
    }

    /// Bytes the stored binaries and their compiled code take together.
    pub fn binaries_bytes(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_read()?;
        let mut total = 0u64;
        for entry in txn.open_table(BINARIES)?.iter()? {
            total = total.saturating_add(entry?.1.value().len() as u64);
        }
        for entry in txn.open_table(COMPILED)?.iter()? {
            total = total.saturating_add(code_length(entry?.1.value()));
        }
        Ok(total)
    }

    /// The stored binary `id`'s bytes, if it is stored.
    pub fn binary(&self, id: &BinaryId) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(BINARIES)?;
        Ok(table
            .get(id.as_bytes())?
            .map(|bytes| bytes.value().to_vec()))
    }

    /// Every stored machine, by id.
    pub fn stored_machines(&self) -> Result<Vec<(MachineId, StoredMachine)>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(MACHINES)?;
        let mut all = Vec::new();
        for entry in table.iter()? {
            let (id, record) = entry?;
            let record = record.value();
            let (binary, params) = record
                .split_first_chunk::<32>()
                .ok_or(StoreError::Malformed("machine"))?;
            all.push((
                MachineId::from_bytes(*id.value()),
                StoredMachine {
                    binary: BinaryId::from_bytes(*binary),
                    params: params.to_vec(),
                },
            ));
        }
        Ok(all)
    }

    /// Stores a component's bytes, with its compiled code when given, in one transaction.
    pub fn put_binary(
        &self,
        id: &BinaryId,
        bytes: &[u8],
        compiled: Option<(&[u8; 32], &[u8])>,
    ) -> Result<(), StoreError> {
        let code_bytes = compiled.map_or(0, |(_, code)| code.len());
        let txn = self.begin_write((bytes.len() + code_bytes) as u64)?;
        // Checked in the transaction: a removal between an upload's first check and its compile's
        // end must not be undone.
        if txn.open_table(REMOVED)?.get(id.as_bytes())?.is_some() {
            return Err(StoreError::Removed(format!("binary {id}")));
        }
        txn.open_table(BINARIES)?.insert(id.as_bytes(), bytes)?;
        if let Some((key, code)) = compiled {
            let record = self.compiled_record(key, code)?;
            txn.open_table(COMPILED)?.insert(key, record.as_slice())?;
        }
        txn.commit()?;
        Ok(())
    }

    /// Stores the machine `id` of `binary` with `params`.
    pub fn put_machine(
        &self,
        id: &MachineId,
        binary: &BinaryId,
        params: &[u8],
    ) -> Result<(), StoreError> {
        let mut record = binary.as_bytes().to_vec();
        record.extend_from_slice(params);
        let txn = self.begin_write(record.len() as u64)?;
        {
            let removed = txn.open_table(REMOVED)?;
            if removed.get(binary.as_bytes())?.is_some() {
                return Err(StoreError::Removed(format!("binary {binary}")));
            }
            if removed.get(id.as_bytes())?.is_some() {
                return Err(StoreError::Removed(format!("machine {id}")));
            }
            // A removal of its binary between the registry's answer and this write: the
            // binary is no longer stored.
            if txn.open_table(BINARIES)?.get(binary.as_bytes())?.is_none() {
                return Err(StoreError::Removed(format!("binary {binary}")));
            }
        }
        txn.open_table(MACHINES)?
            .insert(id.as_bytes(), record.as_slice())?;
        txn.commit()?;
        Ok(())
    }
}
