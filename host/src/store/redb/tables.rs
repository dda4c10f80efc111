//! The database's tables, and the layout of their keys and values.

use carol_core::ids::MachineId;
use redb::TableDefinition;

/// Component bytes by binary id.
pub(super) const BINARIES: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("binaries");
/// Binary id (32 bytes) followed by the params, by machine id.
pub(super) const MACHINES: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("machines");
/// SHA-256 of the code (32 bytes) followed by wasmtime's serialized component, by cache key.
pub(super) const COMPILED: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("compiled");
/// Machines' state: values by machine id (32 bytes) followed by the key.
pub(super) const STATE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("state");
/// Bytes of keys and values each machine's state holds, by machine id.
pub(super) const STATE_BYTES: TableDefinition<&[u8; 32], u64> = TableDefinition::new("state_bytes");
/// SHA-256 of the message each committed nonce signed first, by machine id followed by the
/// nonce's name. Deleted only with the nonce secret they were made under: a nonce that signed
/// once must never sign anything else.
pub(super) const NONCES: TableDefinition<&[u8], &[u8; 32]> = TableDefinition::new("nonces");
/// How many records `NONCES` holds for each machine, by machine id. Missing for a machine
/// whose records were made before they were counted: they are counted when it next binds one.
pub(super) const NONCE_COUNTS: TableDefinition<&[u8; 32], u64> =
    TableDefinition::new("nonce_counts");
/// The database's own facts, by name: [`NONCE_SECRET`].
pub(super) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// The random secret committed nonces are derived from, with the node's key: 32 bytes, made
/// with the database, so that another database (a fresh one, a restored one) derives other
/// nonces and can never sign a second message with a nonce this one signed with.
pub(super) const NONCE_SECRET: &str = "nonce-secret";
/// A federation member's record of each agreement among the members, by decree (what is
/// decided): JSON, kept before the member answers (`crate::federation`).
pub(super) const AGREEMENTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("agreements");
/// Binaries and machines the operator removed, by id: JSON of their `Removal`.
pub(super) const REMOVED: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("removed");
/// Which of its keys each machine has used (`UsedKeys` bits), by machine id.
pub(super) const USED_KEYS: TableDefinition<&[u8; 32], u8> = TableDefinition::new("used_keys");

/// The database key of `key` in `machine`'s part of a table.
pub(super) fn machine_key(machine: &MachineId, key: &[u8]) -> Vec<u8> {
    let mut full = Vec::with_capacity(32 + key.len());
    full.extend_from_slice(machine.as_bytes());
    full.extend_from_slice(key);
    full
}
