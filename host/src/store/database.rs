//! Opening the database.

use super::error::StoreError;
use super::records::UsedKeys;
use super::tables::{BINARIES, COMPILED, MACHINES, NONCES, STATE, STATE_BYTES, USED_KEYS};
use carol_core::ids::MachineId;
use redb::backends::InMemoryBackend;
use redb::{Database, ReadableDatabase, ReadableTable};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::RwLock;

/// The database's file name in the data directory.
pub const DATABASE_FILE: &str = "carol.redb";

/// The node's database. Binaries and machines are never replaced: an id names its content.
pub struct Store {
    pub(super) db: Database,
    /// The durable `used_keys` table, mirrored so that each bit is written once.
    pub(super) used_keys: RwLock<BTreeMap<MachineId, UsedKeys>>,
}

impl Store {
    /// Opens (creating it if needed) the store in `data_dir`, or one in memory.
    pub fn open(data_dir: Option<&Path>) -> Result<Self, StoreError> {
        let db = match data_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::Directory {
                    path: dir.to_owned(),
                    source,
                })?;
                let path = dir.join(DATABASE_FILE);
                Database::create(&path).map_err(|source| StoreError::Open { path, source })?
            }
            None => Database::builder()
                .create_with_backend(InMemoryBackend::new())
                .map_err(|source| StoreError::Open {
                    path: "(memory)".into(),
                    source,
                })?,
        };
        // Create the tables, so that reading an empty store finds them.
        let txn = db.begin_write()?;
        txn.open_table(BINARIES)?;
        txn.open_table(MACHINES)?;
        txn.open_table(COMPILED)?;
        txn.open_table(STATE)?;
        txn.open_table(STATE_BYTES)?;
        txn.open_table(NONCES)?;
        txn.open_table(USED_KEYS)?;
        txn.commit()?;
        let mut used_keys = BTreeMap::new();
        let txn = db.begin_read()?;
        for entry in txn.open_table(USED_KEYS)?.iter()? {
            let (id, bits) = entry?;
            used_keys.insert(MachineId::from_bytes(*id.value()), UsedKeys(bits.value()));
        }
        drop(txn);
        Ok(Self {
            db,
            used_keys: RwLock::new(used_keys),
        })
    }
}
