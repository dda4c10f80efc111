//! The records of machines' keys: which nonce signed which message, and which keys each
//! machine has used.

use super::Postgres;
use crate::store::StoreError;
use crate::store::records::{NonceBinding, UsedKeys};
use carol_core::ids::MachineId;

impl Postgres {
    /// Binds `machine`'s nonce `name` to the message whose SHA-256 is `message`, unless it is
    /// bound already or the machine has `limit` records, and commits that before returning.
    /// Bindings of one machine, on any node, serialize on its `nonce_counts` row: of messages
    /// racing for one nonce exactly one is bound.
    pub(in crate::store) fn bind_nonce(
        &self,
        machine: &MachineId,
        name: &[u8],
        message: &[u8; 32],
        limit: u64,
    ) -> Result<NonceBinding, StoreError> {
        let id = machine.as_bytes().as_slice();
        let bound = |first: Vec<u8>| match first.as_slice() == message {
            true => NonceBinding::Bound,
            false => NonceBinding::Used,
        };
        let first = "SELECT message FROM nonces WHERE machine = $1 AND name = $2";
        self.pool.with(|c| {
            // Signing again with a bound nonce needs no write.
            if let Some(row) = c.query_opt(first, &[&id, &name])? {
                return Ok(bound(row.get(0)));
            }
            let mut txn = c.transaction()?;
            // Whatever the server's default: a binding lost in a crash could sign twice.
            txn.batch_execute("SET LOCAL synchronous_commit = on")?;
            txn.execute(
                "INSERT INTO nonce_counts (machine, count) VALUES ($1, 0) \
                 ON CONFLICT (machine) DO NOTHING",
                &[&id],
            )?;
            let count: i64 = txn
                .query_one(
                    "SELECT count FROM nonce_counts WHERE machine = $1 FOR UPDATE",
                    &[&id],
                )?
                .get(0);
            // Read again under the lock: another node may have bound it meanwhile.
            if let Some(row) = txn.query_opt(first, &[&id, &name])? {
                return Ok(bound(row.get(0)));
            }
            if count as u64 >= limit {
                return Ok(NonceBinding::LimitReached);
            }
            txn.execute(
                "INSERT INTO nonces (machine, name, message) VALUES ($1, $2, $3)",
                &[&id, &name, &message.as_slice()],
            )?;
            txn.execute(
                "UPDATE nonce_counts SET count = count + 1 WHERE machine = $1",
                &[&id],
            )?;
            txn.commit()?;
            Ok(NonceBinding::Bound)
        })
    }

    /// Whether `machine`'s nonce `name` could still be bound: it is bound already, or the
    /// machine has fewer than `limit` records.
    pub(in crate::store) fn nonce_available(
        &self,
        machine: &MachineId,
        name: &[u8],
        limit: u64,
    ) -> Result<bool, StoreError> {
        let id = machine.as_bytes().as_slice();
        let row = self.pool.with(|c| {
            c.query_one(
                "SELECT EXISTS (SELECT 1 FROM nonces WHERE machine = $1 AND name = $2), \
                 COALESCE((SELECT count FROM nonce_counts WHERE machine = $1), 0)",
                &[&id, &name],
            )
        })?;
        Ok(row.get::<_, bool>(0) || (row.get::<_, i64>(1) as u64) < limit)
    }

    /// How many nonce records `machine` has.
    pub(in crate::store) fn nonce_records(&self, machine: &MachineId) -> Result<u64, StoreError> {
        let row = self.pool.with(|c| {
            c.query_opt(
                "SELECT count FROM nonce_counts WHERE machine = $1",
                &[&machine.as_bytes().as_slice()],
            )
        })?;
        Ok(row.map_or(0, |row| row.get::<_, i64>(0) as u64))
    }

    /// Which of its keys `machine` has used, as far as this node has seen.
    pub(in crate::store) fn used_keys(&self, machine: &MachineId) -> UsedKeys {
        self.used_keys
            .read()
            .expect("store lock")
            .get(machine)
            .copied()
            .unwrap_or_default()
    }

    /// Records that `machine` used `keys`; writes only the first time this node sees it.
    pub(in crate::store) fn record_used_keys(
        &self,
        machine: &MachineId,
        keys: UsedKeys,
    ) -> Result<(), StoreError> {
        if self.used_keys(machine).contains(keys) {
            return Ok(());
        }
        let bits = i16::from(keys.0);
        let row = self.pool.with(|c| {
            c.query_one(
                "INSERT INTO used_keys (machine, bits) VALUES ($1, $2) \
                 ON CONFLICT (machine) DO UPDATE SET bits = used_keys.bits | EXCLUDED.bits \
                 RETURNING bits",
                &[&machine.as_bytes().as_slice(), &bits],
            )
        })?;
        let bits =
            u8::try_from(row.get::<_, i16>(0)).map_err(|_| StoreError::Malformed("used keys"))?;
        self.used_keys
            .write()
            .expect("store lock")
            .entry(*machine)
            .or_default()
            .0 |= bits;
        Ok(())
    }
}
