//! The binaries and machines a node holds, and the compiled code of its binaries.
//!
//! Everything is kept in an embedded transactional database (redb) in the node's data
//! directory, and mirrored in memory for serving. A write is committed, and synced to disk,
//! before the node answers for it, so what a client was told is stored survives a crash; a
//! write that did not commit leaves nothing behind. Without a data directory the database lives
//! in memory and ends with the node.

use crate::ids::{BinaryId, MachineId};
use crate::runtime::{Binary, Machine};
use redb::backends::InMemoryBackend;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// Component bytes by binary id.
const BINARIES: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("binaries");
/// Binary id (32 bytes) followed by the params, by machine id.
const MACHINES: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("machines");
/// SHA-256 of the code (32 bytes) followed by wasmtime's serialized component, by cache key.
const COMPILED: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("compiled");

/// The database's file name in the data directory.
pub const DATABASE_FILE: &str = "carol.redb";

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or created.
    #[error(
        "cannot open the node's database {path}: {source} (is another node using this data directory?)"
    )]
    Open {
        /// The database file.
        path: PathBuf,
        /// What went wrong.
        source: redb::DatabaseError,
    },
    /// The data directory could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// Reading or writing failed.
    #[error("the node's database failed: {0}")]
    Database(#[from] redb::Error),
    /// A stored record is not what this node writes.
    #[error("the node's database holds a malformed {0} record")]
    Malformed(&'static str),
}

impl From<redb::TransactionError> for StoreError {
    fn from(e: redb::TransactionError) -> Self {
        Self::Database(e.into())
    }
}
impl From<redb::TableError> for StoreError {
    fn from(e: redb::TableError) -> Self {
        Self::Database(e.into())
    }
}
impl From<redb::StorageError> for StoreError {
    fn from(e: redb::StorageError) -> Self {
        Self::Database(e.into())
    }
}
impl From<redb::CommitError> for StoreError {
    fn from(e: redb::CommitError) -> Self {
        Self::Database(e.into())
    }
}

/// A machine as stored: its binary and params.
pub struct StoredMachine {
    /// The machine's binary.
    pub binary: BinaryId,
    /// Its params.
    pub params: Vec<u8>,
}

/// Binaries by id, machines by id. Entries are never replaced: an id names its content.
pub struct Store {
    db: Database,
    binaries: RwLock<BTreeMap<BinaryId, Arc<Binary>>>,
    machines: RwLock<BTreeMap<MachineId, Machine>>,
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
        txn.commit()?;
        Ok(Self {
            db,
            binaries: RwLock::default(),
            machines: RwLock::default(),
        })
    }

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

    /// The compiled code stored under `key`, if it is there and intact.
    pub fn compiled(&self, key: &[u8; 32]) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(COMPILED)?;
        let Some(record) = table.get(key)? else {
            return Ok(None);
        };
        let record = record.value();
        // Compiled code is run as is: a damaged entry must never reach the engine.
        Ok(record
            .split_first_chunk::<32>()
            .filter(|(sum, code)| Sha256::digest(code).as_slice() == sum.as_slice())
            .map(|(_, code)| code.to_vec()))
    }

    /// Stores compiled code under `key`, replacing what was there.
    pub fn put_compiled(&self, key: &[u8; 32], code: &[u8]) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        txn.open_table(COMPILED)?
            .insert(key, compiled_record(code).as_slice())?;
        txn.commit()?;
        Ok(())
    }

    /// Stores a component's bytes, with its compiled code when given, in one transaction.
    pub fn put_binary(
        &self,
        id: &BinaryId,
        bytes: &[u8],
        compiled: Option<(&[u8; 32], &[u8])>,
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        txn.open_table(BINARIES)?.insert(id.as_bytes(), bytes)?;
        if let Some((key, code)) = compiled {
            txn.open_table(COMPILED)?
                .insert(key, compiled_record(code).as_slice())?;
        }
        txn.commit()?;
        Ok(())
    }

    /// Stores a machine.
    pub fn put_machine(&self, machine: &Machine) -> Result<(), StoreError> {
        let mut record = machine.binary_id().as_bytes().to_vec();
        record.extend_from_slice(machine.params());
        let txn = self.db.begin_write()?;
        txn.open_table(MACHINES)?
            .insert(machine.id().as_bytes(), record.as_slice())?;
        txn.commit()?;
        Ok(())
    }

    /// The binary with this id.
    pub fn binary(&self, id: &BinaryId) -> Option<Arc<Binary>> {
        self.binaries.read().expect("store lock").get(id).cloned()
    }

    /// Serves a binary unless one with its id is served; returns the served one.
    pub fn insert_binary(&self, binary: Binary) -> Arc<Binary> {
        self.binaries
            .write()
            .expect("store lock")
            .entry(binary.id())
            .or_insert_with(|| Arc::new(binary))
            .clone()
    }

    /// The machine with this id.
    pub fn machine(&self, id: &MachineId) -> Option<Machine> {
        self.machines.read().expect("store lock").get(id).cloned()
    }

    /// Serves a machine unless one with its id is served; returns the served one.
    pub fn insert_machine(&self, machine: Machine) -> Machine {
        self.machines
            .write()
            .expect("store lock")
            .entry(machine.id())
            .or_insert(machine)
            .clone()
    }

    /// Ids of the binaries held, at most `limit` of them.
    pub fn binary_ids(&self, limit: usize) -> Vec<BinaryId> {
        self.binaries
            .read()
            .expect("store lock")
            .keys()
            .take(limit)
            .copied()
            .collect()
    }

    /// Ids of the machines held, at most `limit` of them.
    pub fn machine_ids(&self, limit: usize) -> Vec<MachineId> {
        self.machines
            .read()
            .expect("store lock")
            .keys()
            .take(limit)
            .copied()
            .collect()
    }

    /// How many binaries and machines are held.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.binaries.read().expect("store lock").len(),
            self.machines.read().expect("store lock").len(),
        )
    }
}

fn compiled_record(code: &[u8]) -> Vec<u8> {
    let mut record = Sha256::digest(code).to_vec();
    record.extend_from_slice(code);
    record
}
