//! The operator's removals of binaries and machines ([`crate::store::Removal`]): taken off the
//! node with their state, and answered 410 Gone with the reason ever after.

use super::Node;
use crate::store::{Removal, StoreError};
use carol_core::ids::{BinaryId, MachineId};
use std::sync::atomic::Ordering;

/// Why a removal was not made.
#[derive(Debug, thiserror::Error)]
pub enum RemoveError {
    /// The node holds no such binary or machine.
    #[error("no {0} on this node to remove")]
    Unknown(String),
    /// The removal could not be stored.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What was removed.
#[derive(Debug, Clone)]
pub struct Removed {
    /// The removal's record.
    pub removal: Removal,
    /// The machines removed with it (a binary's), or the machine itself.
    pub machines: Vec<MachineId>,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

impl Node {
    /// The removal of the binary or machine whose id is `id`, if the operator removed it.
    pub fn removal(&self, id: &[u8; 32]) -> Option<Removal> {
        self.store().removed(id).unwrap_or_else(|error| {
            tracing::error!(%error, "cannot read the record of removals");
            None
        })
    }

    /// Removes binary `id` and its machines, with their state, for `reason`; afterwards their
    /// routes answer 410 with it, and the same component is refused if uploaded again.
    pub async fn remove_binary(&self, id: &BinaryId, reason: &str) -> Result<Removed, RemoveError> {
        if self.registry().binary(id).is_none() {
            return Err(RemoveError::Unknown(format!("binary {id}")));
        }
        let machines = self.registry().machines_of(id);
        let mut locks = Vec::with_capacity(machines.len());
        for machine in &machines {
            locks.push(self.runtime().services().lock_state(machine).await);
        }
        let removal = Removal {
            reason: reason.to_owned(),
            at: now(),
        };
        let (node, id, of, record) = (self.clone(), *id, machines.clone(), removal.clone());
        tokio::task::spawn_blocking(move || -> Result<(), RemoveError> {
            let store = node.store();
            let key = node.runtime().loader().cache_key(&id);
            let held = store.binary(&id)?.map_or(0, |b| b.len()) as u64
                + store.compiled(&key)?.map_or(0, |c| c.len()) as u64;
            let states = of
                .iter()
                .map(|machine| store.state_bytes(machine))
                .collect::<Result<Vec<_>, _>>()?;
            store.remove_binary(&id, &key, &of, &record)?;
            node.registry().remove_binary(&id);
            node.inner.binaries_bytes.fetch_sub(held, Ordering::AcqRel);
            for bytes in states {
                node.runtime().services().state_committed(bytes, 0);
            }
            Ok(())
        })
        .await
        .expect("removing does not panic")?;
        drop(locks);
        tracing::warn!(binary = %id, machines = machines.len(), reason, "binary removed by the operator");
        Ok(Removed { removal, machines })
    }

    /// Removes machine `id` with its state, for `reason`; afterwards its routes answer 410
    /// with it, and it cannot be created again.
    pub async fn remove_machine(
        &self,
        id: &MachineId,
        reason: &str,
    ) -> Result<Removed, RemoveError> {
        if self.registry().machine(id).is_none() {
            return Err(RemoveError::Unknown(format!("machine {id}")));
        }
        let lock = self.runtime().services().lock_state(id).await;
        let removal = Removal {
            reason: reason.to_owned(),
            at: now(),
        };
        let (node, machine, record) = (self.clone(), *id, removal.clone());
        tokio::task::spawn_blocking(move || -> Result<(), RemoveError> {
            let bytes = node.store().state_bytes(&machine)?;
            node.store().remove_machine(&machine, &record)?;
            node.registry().remove_machine(&machine);
            node.runtime().services().state_committed(bytes, 0);
            Ok(())
        })
        .await
        .expect("removing does not panic")?;
        drop(lock);
        tracing::warn!(machine = %id, reason, "machine removed by the operator");
        Ok(Removed {
            removal,
            machines: vec![*id],
        })
    }
}
