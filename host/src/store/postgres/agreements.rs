//! A federation member's records of the agreements among the members, by decree.

use super::{Postgres, prefix_end};
use crate::store::{Agreement, StoreError};

impl Postgres {
    /// The record of the agreement on `decree`, if there is one.
    pub(in crate::store) fn agreement(&self, decree: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let row = self.pool.with(|c| {
            c.query_opt(
                "SELECT record FROM agreements WHERE decree = $1",
                &[&decree],
            )
        })?;
        Ok(row.map(|row| row.get(0)))
    }

    /// Every record whose key starts with `prefix`, with its key, in order of key.
    pub(in crate::store) fn agreements_under(
        &self,
        prefix: &[u8],
    ) -> Result<Vec<Agreement>, StoreError> {
        let end = prefix_end(prefix);
        let rows = self.pool.with(|c| {
            c.query(
                "SELECT decree, record FROM agreements WHERE decree >= $1 \
                 AND ($2::BYTEA IS NULL OR decree < $2) ORDER BY decree",
                &[&prefix, &end],
            )
        })?;
        Ok(rows
            .into_iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect())
    }

    /// Deletes every record whose key starts with `prefix`.
    pub(in crate::store) fn delete_agreements_under(
        &self,
        prefix: &[u8],
    ) -> Result<(), StoreError> {
        let end = prefix_end(prefix);
        self.pool.with(|c| {
            c.execute(
                "DELETE FROM agreements WHERE decree >= $1 AND ($2::BYTEA IS NULL OR decree < $2)",
                &[&prefix, &end],
            )
        })?;
        Ok(())
    }

    /// Replaces the record of the agreement on `decree`.
    pub(in crate::store) fn put_agreement(
        &self,
        decree: &[u8],
        record: &[u8],
    ) -> Result<(), StoreError> {
        self.pool.with(|c| {
            c.execute(
                "INSERT INTO agreements (decree, record) VALUES ($1, $2) \
                 ON CONFLICT (decree) DO UPDATE SET record = EXCLUDED.record",
                &[&decree, &record],
            )
        })?;
        Ok(())
    }
}
