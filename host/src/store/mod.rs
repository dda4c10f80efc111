//! The node's database: binaries and machines by id, compiled code, machines' state, the
//! records of committed nonces and of the keys machines used, and a federation member's records
//! of its agreements with the others.
//!
//! Everything is kept in an embedded transactional database (redb) in the node's
//! data directory, or, for a group of nodes that serve as one, in a PostgreSQL database they
//! share (`[store] postgres`), each node keeping its compiled code in its own data directory.
//! A write is committed, and synced to disk, before the node answers for it, so what a client
//! was told is stored survives a crash; a write that did not commit leaves nothing behind.
//! Without a data directory the database lives in memory and ends with the node.
//!
//! [`Store`] is the one interface the rest of the node uses, whichever database holds the data.
//!
//! The store holds ids and bytes only: the live, compiled binaries and machines a node serves
//! are its registry's (`crate::registry`).

mod error;
mod migrate;
mod postgres;
mod records;
mod redb;

pub use error::StoreError;
pub use migrate::Migrated;
pub use records::{Freed, NonceBinding, Removal, StoredMachine, UsedKeys};
pub use redb::{CompiledCode, DATABASE_FILE, Restored};

use self::postgres::{Held, Postgres};
use self::redb::Redb;
use carol_core::ids::{BinaryId, MachineId};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A machine's state held by one activation ([`Store::hold_state`]): on a node sharing a
/// database, a transaction of it that locked the machine's row, rolled back if dropped.
pub struct StateHold(Option<Held>);

/// A record of an agreement, with its key.
pub type Agreement = (Vec<u8>, Vec<u8>);

/// The node's database.
pub struct Store {
    /// The database in the data directory (or in memory): everything, or with `shared` the
    /// compiled-code cache alone.
    local: Redb,
    /// The database the node shares with the other nodes of its group.
    shared: Option<Postgres>,
}

/// `self.shared.METHOD(ARGS)` when the node shares a database, else `self.local.METHOD(ARGS)`.
macro_rules! shared_or_local {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match &$self.shared {
            Some(shared) => shared.$method($($arg),*),
            None => $self.local.$method($($arg),*),
        }
    };
}

impl Store {
    /// Opens (creating it if needed) the store in `data_dir`, or one in memory.
    pub fn open(data_dir: Option<&Path>) -> Result<Self, StoreError> {
        Ok(Self {
            local: Redb::open(data_dir)?,
            shared: None,
        })
    }

    /// Opens the store of a node of a group whose public key is `node_key`: the PostgreSQL
    /// database of the connection string `url`, its schema brought up to date, with the
    /// compiled-code cache in `data_dir`. Refused if the database is another group's.
    pub fn open_shared(
        data_dir: Option<&Path>,
        url: &str,
        node_key: &[u8],
    ) -> Result<Self, StoreError> {
        let local = Redb::open(data_dir)?;
        // What a single node kept there would be ignored, and might sign again elsewhere.
        if let Some(dir) = data_dir
            && local.holds_records()?
        {
            return Err(StoreError::SingleNodeData(dir.to_owned()));
        }
        Ok(Self {
            local,
            shared: Some(Postgres::open(url, node_key)?),
        })
    }

    /// Copies the database in `data_dir` to `to`, readable by its owner alone. The node must be
    /// stopped.
    pub fn backup(data_dir: &Path, to: &Path) -> Result<(), StoreError> {
        Redb::backup(data_dir, to)
    }

    /// Puts the copy `from` in place of the database in `data_dir`, after giving it a fresh
    /// nonce secret unless `latest`.
    pub fn restore(
        data_dir: &Path,
        from: &Path,
        latest: bool,
        replace: bool,
    ) -> Result<Restored, StoreError> {
        Redb::restore(data_dir, from, latest, replace)
    }

    /// The secret this database's committed nonces derive from.
    pub fn nonce_secret(&self) -> Option<[u8; 32]> {
        match &self.shared {
            Some(shared) => Some(shared.nonce_secret()),
            None => self.local.nonce_secret(),
        }
    }

    /// Whether the database outlives the node.
    pub fn is_durable(&self) -> bool {
        self.shared.is_some() || self.local.is_durable()
    }

    /// Every stored binary's bytes, by id.
    pub fn stored_binaries(&self) -> Result<Vec<(BinaryId, Vec<u8>)>, StoreError> {
        shared_or_local!(self.stored_binaries())
    }

    /// Bytes the stored binaries and their compiled code take together (on a node of a group,
    /// the group's binaries and this node's compiled code).
    pub fn binaries_bytes(&self) -> Result<u64, StoreError> {
        let local = self.local.binaries_bytes()?;
        match &self.shared {
            Some(shared) => Ok(shared.binaries_bytes()?.saturating_add(local)),
            None => Ok(local),
        }
    }

    /// The stored binary `id`'s bytes, if it is stored.
    pub fn binary(&self, id: &BinaryId) -> Result<Option<Vec<u8>>, StoreError> {
        shared_or_local!(self.binary(id))
    }

    /// Every stored machine, by id.
    pub fn stored_machines(&self) -> Result<Vec<(MachineId, StoredMachine)>, StoreError> {
        shared_or_local!(self.stored_machines())
    }

    /// Whether the node shares its database with the other nodes of a group.
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// On a node of a group, the machine `id` as the shared database holds it, whichever node
    /// created it; `None` on a single node.
    pub fn group_machine(&self, id: &MachineId) -> Result<Option<StoredMachine>, StoreError> {
        match &self.shared {
            Some(shared) => shared.machine(id),
            None => Ok(None),
        }
    }

    /// On a node of a group, the ids of binaries and machines removed (by any node) after the
    /// removal numbered `after`, with their numbers, in order; nothing on a single node.
    pub fn group_removals_after(&self, after: i64) -> Result<Vec<(i64, [u8; 32])>, StoreError> {
        match &self.shared {
            Some(shared) => shared.removals_after(after),
            None => Ok(Vec::new()),
        }
    }

    /// On a node of a group, the number of the latest removal (0 for none, or on a single node).
    pub fn group_latest_removal(&self) -> Result<i64, StoreError> {
        match &self.shared {
            Some(shared) => shared.latest_removal(),
            None => Ok(0),
        }
    }

    /// Stores a component's bytes, with its compiled code (by cache key) when given.
    pub fn put_binary(
        &self,
        id: &BinaryId,
        bytes: &[u8],
        compiled: Option<(&[u8; 32], &[u8])>,
    ) -> Result<(), StoreError> {
        let Some(shared) = &self.shared else {
            return self.local.put_binary(id, bytes, compiled);
        };
        // The code first: were the binary's write to fail, the entry is dropped at the next
        // start as one no binary needs.
        if let Some((key, code)) = compiled {
            self.local.put_compiled(key, code)?;
        }
        shared.put_binary(id, bytes)
    }

    /// Stores the machine `id` of `binary` with `params`.
    pub fn put_machine(
        &self,
        id: &MachineId,
        binary: &BinaryId,
        params: &[u8],
    ) -> Result<(), StoreError> {
        shared_or_local!(self.put_machine(id, binary, params))
    }

    /// The file of the compiled code cached under `key`, in a data directory.
    pub fn compiled_file(&self, key: &[u8; 32]) -> Option<PathBuf> {
        self.local.compiled_file(key)
    }

    /// The compiled code cached under `key`, if it is cached and intact.
    pub fn compiled(&self, key: &[u8; 32]) -> Result<Option<CompiledCode>, StoreError> {
        self.local.compiled(key)
    }

    /// Caches compiled code under `key`.
    pub fn put_compiled(&self, key: &[u8; 32], code: &[u8]) -> Result<(), StoreError> {
        self.local.put_compiled(key, code)
    }

    /// Drops the cached code of every key but `keys`.
    pub fn retain_compiled(&self, keys: &[[u8; 32]]) -> Result<(), StoreError> {
        self.local.retain_compiled(keys)
    }

    /// The committed value of `key` in `machine`'s state.
    pub fn state_get(
        &self,
        machine: &MachineId,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, StoreError> {
        shared_or_local!(self.state_get(machine, key))
    }

    /// The length of the committed value of `key` in `machine`'s state, if it has one.
    pub fn state_len(&self, machine: &MachineId, key: &[u8]) -> Result<Option<usize>, StoreError> {
        shared_or_local!(self.state_len(machine, key))
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
        shared_or_local!(self.state_keys(machine, prefix, start_after, limit))
    }

    /// Bytes of keys and values `machine`'s committed state holds.
    pub fn state_bytes(&self, machine: &MachineId) -> Result<u64, StoreError> {
        shared_or_local!(self.state_bytes(machine))
    }

    /// Bytes of keys and values all machines' committed state holds together.
    pub fn state_total_bytes(&self) -> Result<u64, StoreError> {
        shared_or_local!(self.state_total_bytes())
    }

    /// Holds `machine`'s state for one activation, so that no other activation, on any node of
    /// the group, commits to it until the hold is committed or dropped; returns the hold and
    /// the bytes the state holds. On a single node the node's own lock of the machine's state
    /// is what serializes (`crate::imports`), and the hold is empty. Blocks on the shared
    /// database when there is one.
    pub fn hold_state(&self, machine: &MachineId) -> Result<(StateHold, u64), StoreError> {
        match &self.shared {
            Some(shared) => {
                let (held, bytes) = shared.hold_state(machine)?;
                Ok((StateHold(Some(held)), bytes))
            }
            None => Ok((StateHold(None), self.local.state_bytes(machine)?)),
        }
    }

    /// Applies an activation's writes to `machine`'s state (`None` deletes) in one transaction,
    /// under its hold. Syncs to disk: call it off the async executor.
    pub fn commit_state(
        &self,
        machine: &MachineId,
        writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
        hold: StateHold,
    ) -> Result<(), StoreError> {
        match (&self.shared, hold.0) {
            (Some(shared), Some(held)) => shared.commit_state(machine, writes, held),
            (None, _) => self.local.commit_state(machine, writes),
            (Some(_), None) => Err(StoreError::Malformed("state hold")),
        }
    }

    /// Binds `machine`'s nonce `name` to the message whose SHA-256 is `message`, unless it is
    /// bound already or the machine has `limit` records, and commits that before returning.
    /// Syncs to disk: call it off the async executor.
    pub fn bind_nonce(
        &self,
        machine: &MachineId,
        name: &[u8],
        message: &[u8; 32],
        limit: u64,
    ) -> Result<NonceBinding, StoreError> {
        shared_or_local!(self.bind_nonce(machine, name, message, limit))
    }

    /// Whether `machine`'s nonce `name` could still be bound.
    pub fn nonce_available(
        &self,
        machine: &MachineId,
        name: &[u8],
        limit: u64,
    ) -> Result<bool, StoreError> {
        shared_or_local!(self.nonce_available(machine, name, limit))
    }

    /// How many nonce records `machine` has.
    pub fn nonce_records(&self, machine: &MachineId) -> Result<u64, StoreError> {
        shared_or_local!(self.nonce_records(machine))
    }

    /// Which of its keys `machine` has used.
    pub fn used_keys(&self, machine: &MachineId) -> UsedKeys {
        shared_or_local!(self.used_keys(machine))
    }

    /// Records that `machine` used `keys`. May sync to disk: call it off the async executor.
    pub fn record_used_keys(&self, machine: &MachineId, keys: UsedKeys) -> Result<(), StoreError> {
        shared_or_local!(self.record_used_keys(machine, keys))
    }

    /// The removal of the binary or machine whose id is `id`, if it was removed.
    pub fn removed(&self, id: &[u8; 32]) -> Result<Option<Removal>, StoreError> {
        shared_or_local!(self.removed(id))
    }

    /// Removes the binary `id`, its compiled code under `code_key`, and its machines with their
    /// state, recording each removal, however full the disk is. Syncs to disk.
    pub fn remove_binary(
        &self,
        id: &BinaryId,
        code_key: &[u8; 32],
        removal: &Removal,
    ) -> Result<Freed, StoreError> {
        let Some(shared) = &self.shared else {
            return self.local.remove_binary(id, code_key, removal);
        };
        let mut freed = shared.remove_binary(id, removal)?;
        freed.binaries += self.local.remove_binary(id, code_key, removal)?.binaries;
        Ok(freed)
    }

    /// Removes the machine `id` with its state, recording the removal. Syncs to disk.
    pub fn remove_machine(&self, id: &MachineId, removal: &Removal) -> Result<Freed, StoreError> {
        shared_or_local!(self.remove_machine(id, removal))
    }

    /// The record of the agreement on `decree`, if there is one.
    pub fn agreement(&self, decree: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        shared_or_local!(self.agreement(decree))
    }

    /// Every agreement record whose key starts with `prefix`, with its key, in order of key.
    pub fn agreements_under(&self, prefix: &[u8]) -> Result<Vec<Agreement>, StoreError> {
        shared_or_local!(self.agreements_under(prefix))
    }

    /// Deletes every agreement record whose key starts with `prefix`.
    pub fn delete_agreements_under(&self, prefix: &[u8]) -> Result<(), StoreError> {
        shared_or_local!(self.delete_agreements_under(prefix))
    }

    /// Keeps the record of the agreement on `decree`.
    pub fn put_agreement(&self, decree: &[u8], record: &[u8]) -> Result<(), StoreError> {
        shared_or_local!(self.put_agreement(decree, record))
    }
}
