//! A federation member's records of the agreements among the members, by decree.

use super::Redb;
use super::tables::AGREEMENTS;
use crate::store::{Agreement, StoreError};
use redb::ReadableDatabase;

impl Redb {
    /// The record of the agreement on `decree`, if there is one.
    pub fn agreement(&self, decree: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(AGREEMENTS)?;
        Ok(table.get(decree)?.map(|record| record.value().to_vec()))
    }

    /// Every record whose key starts with `prefix`, with its key, in order of key.
    pub fn agreements_under(&self, prefix: &[u8]) -> Result<Vec<Agreement>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(AGREEMENTS)?;
        let mut found = Vec::new();
        for entry in table.range(prefix..)? {
            let (key, value) = entry?;
            if !key.value().starts_with(prefix) {
                break;
            }
            found.push((key.value().to_vec(), value.value().to_vec()));
        }
        Ok(found)
    }

    /// Deletes every record whose key starts with `prefix`, committed (and synced) before it
    /// returns.
    pub fn delete_agreements_under(&self, prefix: &[u8]) -> Result<(), StoreError> {
        let found = self.agreements_under(prefix)?;
        let txn = self.begin_write(0)?;
        {
            let mut table = txn.open_table(AGREEMENTS)?;
            for (key, _) in &found {
                table.remove(key.as_slice())?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Replaces the record of the agreement on `decree`, committed (and synced) before it
    /// returns.
    pub fn put_agreement(&self, decree: &[u8], record: &[u8]) -> Result<(), StoreError> {
        let txn = self.begin_write(record.len() as u64)?;
        txn.open_table(AGREEMENTS)?.insert(decree, record)?;
        txn.commit()?;
        Ok(())
    }
}
