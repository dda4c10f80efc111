//! The node's database: binaries and machines by id, compiled code, machines' state, the
//! records of committed nonces and of the keys machines used, and a federation member's records
//! of its agreements with the others.
//!
//! Everything is kept in an embedded transactional database (redb) in the node's data
//! directory. A write is committed, and synced to disk, before the node answers for it, so what
//! a client was told is stored survives a crash; a write that did not commit leaves nothing
//! behind. Without a data directory the database lives in memory and ends with the node.
//!
//! The store holds ids and bytes only: the live, compiled binaries and machines a node serves
//! are its registry's (`crate::registry`).

mod agreements;
mod backup;
mod binaries;
mod compiled;
mod database;
mod error;
mod keys;
mod records;
mod removals;
mod state;
mod tables;

pub use backup::Restored;
pub use compiled::CompiledCode;
pub use database::{DATABASE_FILE, Store};
pub use error::StoreError;
pub use records::{NonceBinding, StoredMachine, UsedKeys};
pub use removals::{Freed, Removal};
