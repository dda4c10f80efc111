//! `carol store migrate --from-redb`: a single node's database moved into the PostgreSQL
//! database of a group, in one transaction.

use super::postgres::Postgres;
use super::redb::Redb;
use super::{Store, StoreError};
use std::path::Path;

/// One record of a node's database, as it moves.
pub(super) enum Row<'a> {
    Binary {
        id: &'a [u8],
        bytes: &'a [u8],
    },
    Machine {
        id: &'a [u8],
        binary: &'a [u8],
        params: &'a [u8],
    },
    State {
        machine: &'a [u8],
        key: &'a [u8],
        value: &'a [u8],
    },
    Nonce {
        machine: &'a [u8],
        name: &'a [u8],
        message: &'a [u8],
    },
    UsedKeys {
        machine: &'a [u8],
        bits: u8,
    },
    Removed {
        id: &'a [u8],
        record: &'a [u8],
    },
    Agreement {
        decree: &'a [u8],
        record: &'a [u8],
    },
}

/// What a migration moved.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Migrated {
    /// Binaries.
    pub binaries: u64,
    /// Machines.
    pub machines: u64,
    /// Keys of machines' state.
    pub state_keys: u64,
    /// Records of committed nonces.
    pub nonces: u64,
}

impl Store {
    /// Moves everything the database in `data_dir` holds (binaries, machines, their state, the
    /// records of committed nonces and used keys, removals, agreements, and the nonce secret, so
    /// that committed nonces derive as before) into the empty PostgreSQL database of `url`,
    /// for the group whose node key is `node_key`, in one transaction. The node of `data_dir`
    /// must be stopped. Its database is then given a fresh nonce secret (its nonce records go
    /// with the old one): started again, or migrated again, it can never sign a second
    /// message with a nonce the group now holds.
    pub fn migrate_from_redb(
        data_dir: &Path,
        url: &str,
        node_key: &[u8],
    ) -> Result<Migrated, StoreError> {
        if !data_dir.join(super::DATABASE_FILE).exists() {
            return Err(StoreError::NothingToMigrate(data_dir.to_owned()));
        }
        let from = Redb::open(Some(data_dir))?;
        let nonce_secret = from.nonce_secret().ok_or(StoreError::NoNonceSecret)?;
        let to = Postgres::open(url, node_key)?;
        let mut migrated = Migrated::default();
        to.import(&nonce_secret, |sink| {
            from.export(&mut |row| {
                match &row {
                    Row::Binary { .. } => migrated.binaries += 1,
                    Row::Machine { .. } => migrated.machines += 1,
                    Row::State { .. } => migrated.state_keys += 1,
                    Row::Nonce { .. } => migrated.nonces += 1,
                    _ => {}
                }
                sink(row)
            })
        })?;
        from.rotate_nonce_secret()?;
        Ok(migrated)
    }
}
