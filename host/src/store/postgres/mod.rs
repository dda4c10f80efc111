//! The database a group of nodes shares, in PostgreSQL: binaries, machines, machines' state,
//! committed-nonce records, used keys, removals and agreements. Each node keeps its compiled
//! code in its own data directory; no secret key material is ever written here.
//!
//! Every write is one transaction, committed before the node answers for it. Writes that must
//! not race between nodes (a nonce's first message, a machine's state and byte count) lock the
//! row they depend on (`SELECT … FOR UPDATE`), so that concurrent nodes serialize on it.

mod agreements;
mod binaries;
mod import;
mod keys;
mod pool;
mod removals;
mod state;

pub(super) use self::pool::Held;
use self::pool::Pool;
use crate::store::StoreError;
use crate::store::records::UsedKeys;
use carol_core::ids::MachineId;
use std::collections::BTreeMap;
use std::sync::RwLock;

refinery::embed_migrations!("src/store/postgres/migrations");

/// Held by the node that brings the schema up to date, so that nodes starting together take
/// turns (`pg_advisory_lock`).
const MIGRATION_LOCK: i64 = 0x6361_726f_6c00_0001;

/// The shared database.
pub(super) struct Postgres {
    pool: Pool,
    /// The salt committed nonces derive from, with the node key: made with the database, so
    /// that every node of the group derives the same nonces and another database other ones.
    nonce_secret: [u8; 32],
    /// The `used_keys` records, as read at start and written by this node since, mirrored so
    /// that each bit is written once by a node.
    used_keys: RwLock<BTreeMap<MachineId, UsedKeys>>,
}

impl Postgres {
    /// Connects to the database of the connection string `url`, bringing its schema up to date,
    /// for a node whose public key is `node_key`: the first node to use the database records
    /// it, and a node with another key is refused, since the group's nodes sign as one.
    pub(super) fn open(url: &str, node_key: &[u8]) -> Result<Self, StoreError> {
        let pool = Pool::new(url)?;
        let migrate = |why: String| StoreError::Migrate {
            database: pool.shown().to_owned(),
            why,
        };
        pool.with(|client| {
            client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])?;
            let report = migrations::runner().run(client);
            client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])?;
            Ok(report.map_err(|error| error.to_string()))
        })?
        .map_err(migrate)?;
        let fresh = super::redb::fresh_secret();
        let nonce_secret = pool.with(|client| {
            client.execute(
                "INSERT INTO meta (name, value) VALUES ('nonce-secret', $1) \
                 ON CONFLICT (name) DO NOTHING",
                &[&fresh.as_slice()],
            )?;
            let row =
                client.query_one("SELECT value FROM meta WHERE name = 'nonce-secret'", &[])?;
            Ok(row.get::<_, Vec<u8>>(0))
        })?;
        let nonce_secret = <[u8; 32]>::try_from(nonce_secret)
            .map_err(|_| StoreError::Malformed("nonce secret"))?;
        let group_key = pool.with(|client| {
            client.execute(
                "INSERT INTO meta (name, value) VALUES ('node-public-key', $1) \
                 ON CONFLICT (name) DO NOTHING",
                &[&node_key],
            )?;
            let row =
                client.query_one("SELECT value FROM meta WHERE name = 'node-public-key'", &[])?;
            Ok(row.get::<_, Vec<u8>>(0))
        })?;
        if group_key != node_key {
            return Err(StoreError::OtherGroup {
                database: pool.shown().to_owned(),
                group: hex::encode(group_key),
                node: hex::encode(node_key),
            });
        }
        let rows = pool.with(|client| client.query("SELECT machine, bits FROM used_keys", &[]))?;
        let mut used_keys = BTreeMap::new();
        for row in rows {
            let bits = u8::try_from(row.get::<_, i16>(1))
                .map_err(|_| StoreError::Malformed("used keys"))?;
            used_keys.insert(
                MachineId::from_bytes(id32(row.get(0), "used keys")?),
                UsedKeys(bits),
            );
        }
        let store = Self {
            pool,
            nonce_secret,
            used_keys: RwLock::new(used_keys),
        };
        Ok(store)
    }

    /// The salt this database's committed nonces derive from.
    pub(super) fn nonce_secret(&self) -> [u8; 32] {
        self.nonce_secret
    }
}

/// A 32-byte id or hash read back from a `BYTEA` column.
fn id32(bytes: Vec<u8>, what: &'static str) -> Result<[u8; 32], StoreError> {
    <[u8; 32]>::try_from(bytes).map_err(|_| StoreError::Malformed(what))
}

/// The least byte string greater than every one that starts with `prefix`, if there is one
/// (none when `prefix` is empty or all `0xff`): the end of a prefix's range.
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn a_prefix_range_ends_after_its_last_key() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xff, 0xff]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xff]), None);
        assert_eq!(prefix_end(b""), None);
    }
}
