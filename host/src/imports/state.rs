//! `carol:machine/state`: a key-value store private to each machine.
//!
//! An activation's writes go to an overlay that its own reads see first; they are committed in
//! one transaction when the activation returns, and dropped with it when it traps or runs out
//! of time. From its first state call to its end an activation holds its machine's state lock:
//! the activations of one machine that use state run one after another, so they are
//! serializable, and committed state cannot change under an activation that reads it.
//! Activations that never call the state functions take no lock.

use super::context::MachineContext;
use super::session::StateSession;
use crate::bindings::carol::machine::state::{Error, Host};
use crate::store::StoreError;
use std::collections::{BTreeMap, BTreeSet};

/// Longest key, in bytes.
pub const MAX_KEY_BYTES: usize = 1024;
/// Longest value, in bytes.
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;
/// Most keys one `list-keys` call returns.
pub const MAX_LIST_KEYS: usize = 1000;
/// A machine's keys and values together, in bytes, unless the node is configured otherwise.
pub const DEFAULT_QUOTA_BYTES: u64 = 16 * 1024 * 1024;
/// Most keys one activation may write (set or delete) before it returns: its writes are held
/// in memory and committed in one transaction, which holds the store's only writer.
pub const MAX_PENDING_WRITES: usize = 10_000;

impl MachineContext {
    /// Opens the activation's state session, waiting for the machine's lock, unless it is open.
    async fn open_state(&mut self) -> Result<&mut StateSession, StoreError> {
        if self.state.is_none() {
            let lock = self.services.state_locks.lock(&self.machine).await;
            // Read under the locks: no other activation, on this node or another of its group,
            // commits to this machine while they are held.
            let (hold, bytes) = self.services.store.hold_state(&self.machine)?;
            self.state = Some(StateSession {
                lock,
                hold,
                bytes,
                committed: bytes,
                writes: BTreeMap::new(),
            });
        }
        Ok(self.state.as_mut().expect("the session was just opened"))
    }

    /// The length of the value of `key` this activation sees, if it has one.
    async fn visible_len(&mut self, key: &[u8]) -> Result<Option<usize>, StoreError> {
        if let Some(write) = self.open_state().await?.writes.get(key) {
            return Ok(write.as_ref().map(Vec::len));
        }
        self.services.store.state_len(&self.machine, key)
    }

    /// Commits the activation's writes, if it made any, in one transaction, then releases the
    /// machine's lock.
    pub(crate) async fn commit_state(&mut self) -> Result<(), StoreError> {
        let Some(session) = self.state.take() else {
            return Ok(());
        };
        if session.writes.is_empty() {
            return Ok(());
        }
        let store = self.services.store.clone();
        let machine = self.machine;
        // The lock moves with the commit: were this future dropped (the client went away)
        // while the commit runs, the next activation must still wait for it to finish.
        let services = self.services.clone();
        tokio::task::spawn_blocking(move || {
            let result = store.commit_state(&machine, &session.writes, session.hold);
            if result.is_ok() {
                services.state_committed(session.committed, session.bytes);
            }
            drop(session.lock);
            result
        })
        .await
        .expect("committing state does not panic")
    }
}

/// Adds a write to the activation's pending ones, or traps if it would be one key too many.
/// A trap, not a `state.error`: a new case would change the interface every uploaded machine
/// imports.
fn pend(session: &mut StateSession, key: Vec<u8>, value: Option<Vec<u8>>) -> wasmtime::Result<()> {
    if session.writes.len() >= MAX_PENDING_WRITES && !session.writes.contains_key(&key) {
        return Err(wasmtime::Error::msg(format!(
            "the activation wrote more than {MAX_PENDING_WRITES} keys of its state, the most one \
             activation may write: write fewer keys per activation; nothing it wrote is kept"
        )));
    }
    session.writes.insert(key, value);
    Ok(())
}

/// What a failed store read does to the activation: it traps, since an answer without the data
/// would be wrong. The error is kept, so that a database out of reach is answered as such.
fn trap(error: StoreError) -> wasmtime::Error {
    wasmtime::Error::new(error).context("reading the machine's state failed")
}

impl Host for MachineContext {
    async fn get(&mut self, key: Vec<u8>) -> wasmtime::Result<Option<Vec<u8>>> {
        let session = self.open_state().await.map_err(trap)?;
        if let Some(write) = session.writes.get(&key) {
            return Ok(write.clone());
        }
        if key.len() > MAX_KEY_BYTES {
            return Ok(None);
        }
        self.services
            .store
            .state_get(&self.machine, &key)
            .map_err(trap)
    }

    async fn set(&mut self, key: Vec<u8>, value: Vec<u8>) -> wasmtime::Result<Result<(), Error>> {
        if key.len() > MAX_KEY_BYTES {
            return Ok(Err(Error::KeyTooLarge(MAX_KEY_BYTES as u32)));
        }
        if value.len() > MAX_VALUE_BYTES {
            return Ok(Err(Error::ValueTooLarge(MAX_VALUE_BYTES as u32)));
        }
        let old = self
            .visible_len(&key)
            .await
            .map_err(trap)?
            .map_or(0, |len| (key.len() + len) as u64);
        let new = (key.len() + value.len()) as u64;
        let quota = self.services.quotas.state_bytes;
        let total = self.services.quotas.state_total_bytes;
        let used = self.services.state_used();
        let session = self.open_state().await.map_err(trap)?;
        let bytes = session.bytes.saturating_sub(old) + new;
        // A write that does not grow the state is allowed even past the quota (which the
        // operator may have lowered), so that a full machine can always shrink.
        if new > old && bytes > quota {
            return Ok(Err(Error::QuotaExceeded(quota)));
        }
        // The node's total is checked against what is committed: activations of other
        // machines running at once may together pass it by what they write before they commit.
        if new > old && used.saturating_sub(session.committed) + bytes > total {
            return Ok(Err(Error::QuotaExceeded(total)));
        }
        pend(session, key, Some(value))?;
        session.bytes = bytes;
        Ok(Ok(()))
    }

    async fn delete(&mut self, key: Vec<u8>) -> wasmtime::Result<bool> {
        let Some(len) = self.visible_len(&key).await.map_err(trap)? else {
            return Ok(false);
        };
        let committed = self
            .services
            .store
            .state_len(&self.machine, &key)
            .map_err(trap)?
            .is_some();
        let session = self.open_state().await.map_err(trap)?;
        session.bytes = session.bytes.saturating_sub((key.len() + len) as u64);
        if committed {
            pend(session, key, None)?;
        } else {
            // Only this activation ever wrote it: forgetting the write deletes it, and a
            // set-and-delete loop holds nothing.
            session.writes.remove(&key);
        }
        Ok(true)
    }

    async fn list_keys(
        &mut self,
        prefix: Vec<u8>,
        start_after: Option<Vec<u8>>,
        limit: u32,
    ) -> wasmtime::Result<Vec<Vec<u8>>> {
        let limit = usize::try_from(limit).map_or(MAX_LIST_KEYS, |l| l.min(MAX_LIST_KEYS));
        let in_range = |key: &Vec<u8>| {
            key.starts_with(&prefix) && start_after.as_ref().is_none_or(|after| key > after)
        };
        let session = self.open_state().await.map_err(trap)?;
        let writes: Vec<(Vec<u8>, bool)> = session
            .writes
            .iter()
            .filter(|(key, _)| in_range(key))
            .map(|(key, value)| (key.clone(), value.is_some()))
            .collect();
        // Each key this activation deleted may hide one committed key, so that many more
        // committed keys are read to be sure of `limit` visible ones.
        let deleted = writes.iter().filter(|(_, set)| !set).count();
        let committed = self
            .services
            .store
            .state_keys(
                &self.machine,
                &prefix,
                start_after.as_deref(),
                limit + deleted,
            )
            .map_err(trap)?;
        let mut keys: BTreeSet<Vec<u8>> = committed.into_iter().collect();
        for (key, set) in writes {
            if set {
                keys.insert(key);
            } else {
                keys.remove(&key);
            }
        }
        Ok(keys.into_iter().take(limit).collect())
    }
}
