//! The binaries and machines a node holds, and the compiled code of its binaries.
//!
//! Everything is kept in an embedded transactional database (redb) in the node's data
//! directory, and mirrored in memory for serving (machines' state and nonce records are read
//! from the database when asked for). A write is committed, and synced to disk,
//! before the node answers for it, so what a client was told is stored survives a crash; a
//! write that did not commit leaves nothing behind. Without a data directory the database lives
//! in memory and ends with the node.

use crate::ids::{BinaryId, MachineId};
use crate::runtime::{Binary, Machine};
use redb::backends::InMemoryBackend;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// Component bytes by binary id.
const BINARIES: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("binaries");
/// Binary id (32 bytes) followed by the params, by machine id.
const MACHINES: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("machines");
/// SHA-256 of the code (32 bytes) followed by wasmtime's serialized component, by cache key.
const COMPILED: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("compiled");

/// Machines' state: values by machine id (32 bytes) followed by the key.
const STATE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("state");
/// Bytes of keys and values each machine's state holds, by machine id.
const STATE_BYTES: TableDefinition<&[u8; 32], u64> = TableDefinition::new("state_bytes");
/// SHA-256 of the message each committed nonce signed first, by machine id followed by the
/// nonce's name. Never deleted: a nonce that signed once must never sign anything else.
const NONCES: TableDefinition<&[u8], &[u8; 32]> = TableDefinition::new("nonces");
/// Which of its keys each machine has used ([`UsedKeys`] bits), by machine id.
const USED_KEYS: TableDefinition<&[u8; 32], u8> = TableDefinition::new("used_keys");

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

/// Which of its own keys a machine has used, as bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsedKeys(u8);

impl UsedKeys {
    /// The machine's secp256k1 key (public key, signatures, nonces).
    pub const SECP256K1: Self = Self(1);
    /// The machine's BLS12-381 key.
    pub const BLS: Self = Self(2);

    /// Whether every key of `other` is among these.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

/// What binding a nonce to a message found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceBinding {
    /// The nonce is bound to this message (now, or since earlier).
    Bound,
    /// The nonce already signed a different message.
    Used,
}

/// Binaries by id, machines by id. Entries are never replaced: an id names its content.
pub struct Store {
    db: Database,
    binaries: RwLock<BTreeMap<BinaryId, Arc<Binary>>>,
    machines: RwLock<BTreeMap<MachineId, Machine>>,
    /// The durable [`USED_KEYS`] table, mirrored so that each bit is written once.
    used_keys: RwLock<BTreeMap<MachineId, UsedKeys>>,
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
            binaries: RwLock::default(),
            machines: RwLock::default(),
            used_keys: RwLock::new(used_keys),
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

// A machine's state and the records of its keys.
impl Store {
    /// The committed value of `key` in `machine`'s state.
    pub fn state_get(
        &self,
        machine: &MachineId,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(STATE)?;
        Ok(table
            .get(machine_key(machine, key).as_slice())?
            .map(|value| value.value().to_vec()))
    }

    /// Up to `limit` committed keys of `machine`'s state that start with `prefix`, in byte order,
    /// after `start_after` when given.
    pub fn state_keys(
        &self,
        machine: &MachineId,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(STATE)?;
        let prefix = machine_key(machine, prefix);
        let start = match start_after {
            Some(after) if after >= &prefix[32..] => Bound::Excluded(machine_key(machine, after)),
            _ => Bound::Included(prefix.clone()),
        };
        let mut keys = Vec::new();
        let range = (start.as_ref().map(Vec::as_slice), Bound::<&[u8]>::Unbounded);
        for entry in table.range::<&[u8]>(range)? {
            if keys.len() >= limit {
                break;
            }
            let (key, _) = entry?;
            let key = key.value();
            if !key.starts_with(&prefix) {
                break;
            }
            keys.push(key[32..].to_vec());
        }
        Ok(keys)
    }

    /// Bytes of keys and values `machine`'s committed state holds.
    pub fn state_bytes(&self, machine: &MachineId) -> Result<u64, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(STATE_BYTES)?;
        Ok(table
            .get(machine.as_bytes())?
            .map_or(0, |bytes| bytes.value()))
    }

    /// Applies an activation's writes to `machine`'s state (`None` deletes) in one transaction,
    /// with the machine's byte count. Syncs to disk: call it off the async executor.
    pub fn commit_state(
        &self,
        machine: &MachineId,
        writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(STATE)?;
            let mut sizes = txn.open_table(STATE_BYTES)?;
            let mut bytes = sizes.get(machine.as_bytes())?.map_or(0, |b| b.value());
            for (key, value) in writes {
                let full = machine_key(machine, key);
                let old = match value {
                    Some(value) => table.insert(full.as_slice(), value.as_slice())?,
                    None => table.remove(full.as_slice())?,
                };
                if let Some(old) = old {
                    bytes = bytes.saturating_sub((key.len() + old.value().len()) as u64);
                }
                if let Some(value) = value {
                    bytes += (key.len() + value.len()) as u64;
                }
            }
            sizes.insert(machine.as_bytes(), bytes)?;
        }
        txn.commit()?;
        Ok(())
    }

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

/// The database key of `key` in `machine`'s part of a table.
fn machine_key(machine: &MachineId, key: &[u8]) -> Vec<u8> {
    let mut full = Vec::with_capacity(32 + key.len());
    full.extend_from_slice(machine.as_bytes());
    full.extend_from_slice(key);
    full
}

fn compiled_record(code: &[u8]) -> Vec<u8> {
    let mut record = Sha256::digest(code).to_vec();
    record.extend_from_slice(code);
    record
}
