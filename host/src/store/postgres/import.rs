//! A single node's records written into an empty database, in one transaction.

use super::Postgres;
use crate::store::StoreError;
use crate::store::migrate::Row;

/// Tables a migration needs empty.
const TABLES: [&str; 7] = [
    "binaries",
    "machines",
    "state",
    "nonces",
    "used_keys",
    "removed",
    "agreements",
];

impl Postgres {
    /// In one transaction: checks that the database holds nothing yet, writes every row
    /// `export` gives its sink, counts each machine's state bytes and nonce records, and makes
    /// `nonce_secret` the database's, so that committed nonces derive as they did.
    pub(in crate::store) fn import(
        &self,
        nonce_secret: &[u8; 32],
        export: impl FnOnce(&mut dyn FnMut(Row<'_>) -> Result<(), StoreError>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let (mut held, (holding, nodes)) = self.pool.hold(|c| {
            c.batch_execute("BEGIN")?;
            // Nodes starting meanwhile wait for this transaction (they take the same lock to
            // bring the schema up to date); nodes already running would keep another nonce
            // secret: the migration is refused while any is connected.
            c.execute(
                "SELECT pg_advisory_xact_lock($1)",
                &[&super::MIGRATION_LOCK],
            )?;
            let nodes: i64 = c
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'carol' \
                     AND pid <> pg_backend_pid()",
                    &[],
                )?
                .get(0);
            let mut holding = Vec::new();
            for table in TABLES {
                let row = c.query_one(&format!("SELECT EXISTS (SELECT 1 FROM {table})"), &[])?;
                if row.get::<_, bool>(0) {
                    holding.push(table);
                }
            }
            Ok((holding, nodes))
        })?;
        if nodes > 0 {
            return Err(StoreError::GroupRunning {
                database: self.pool.shown().to_owned(),
                nodes: nodes as u64,
            });
        }
        if !holding.is_empty() {
            return Err(StoreError::NotEmpty {
                database: self.pool.shown().to_owned(),
                holding: holding.join(", "),
            });
        }
        export(&mut |row| {
            self.pool.in_held(&mut held, |c| {
                let (sql, params): (&str, Vec<&(dyn postgres::types::ToSql + Sync)>) = match &row {
                    Row::Binary { id, bytes } => (
                        "INSERT INTO binaries (id, bytes) VALUES ($1, $2)",
                        vec![id, bytes],
                    ),
                    Row::Machine { id, binary, params } => (
                        "INSERT INTO machines (id, binary_id, params) VALUES ($1, $2, $3)",
                        vec![id, binary, params],
                    ),
                    Row::State {
                        machine,
                        key,
                        value,
                    } => (
                        "INSERT INTO state (machine, key, value) VALUES ($1, $2, $3)",
                        vec![machine, key, value],
                    ),
                    Row::Nonce {
                        machine,
                        name,
                        message,
                    } => (
                        "INSERT INTO nonces (machine, name, message) VALUES ($1, $2, $3)",
                        vec![machine, name, message],
                    ),
                    Row::UsedKeys { machine, bits } => {
                        let bits = i16::from(*bits);
                        return c
                            .execute(
                                "INSERT INTO used_keys (machine, bits) VALUES ($1, $2)",
                                &[machine, &bits],
                            )
                            .map(drop);
                    }
                    Row::Removed { id, record } => (
                        "INSERT INTO removed (id, record) VALUES ($1, $2)",
                        vec![id, record],
                    ),
                    Row::Agreement { decree, record } => (
                        "INSERT INTO agreements (decree, record) VALUES ($1, $2)",
                        vec![decree, record],
                    ),
                };
                c.execute(sql, &params).map(drop)
            })
        })?;
        self.pool.finish(held, |c| {
            c.batch_execute(
                "INSERT INTO state_bytes (machine, bytes) \
                 SELECT machine, SUM(length(key) + length(value))::BIGINT FROM state GROUP BY machine; \
                 INSERT INTO nonce_counts (machine, count) \
                 SELECT machine, COUNT(*) FROM nonces GROUP BY machine",
            )?;
            c.execute(
                "UPDATE meta SET value = $1 WHERE name = 'nonce-secret'",
                &[&nonce_secret.as_slice()],
            )?;
            c.batch_execute("COMMIT")
        })
    }
}
