//! A federation member's records of the agreements among the members, by decree.

use super::database::Store;
use super::error::StoreError;
use super::tables::AGREEMENTS;
use redb::ReadableDatabase;

impl Store {
    /// The record of the agreement on `decree`, if there is one.
    pub fn agreement(&self, decree: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(AGREEMENTS)?;
        Ok(table.get(decree)?.map(|record| record.value().to_vec()))
    }

    /// Replaces the record of the agreement on `decree`, committed (and synced) before it
    /// returns.
    pub fn put_agreement(&self, decree: &[u8], record: &[u8]) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        txn.open_table(AGREEMENTS)?.insert(decree, record)?;
        txn.commit()?;
        Ok(())
    }
}
