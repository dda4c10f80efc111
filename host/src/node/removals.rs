//! The operator's removals of binaries and machines ([`crate::store::Removal`]): taken off the
//! node with their state, and answered 410 Gone with the reason ever after.

use super::Node;
use crate::store::{Freed, Removal, StoreError};
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
        // Activations of its machines that use state finish first; later ones find it gone.
        let mut locks = Vec::new();
        for machine in self.registry().machines_of(id) {
            locks.push(self.runtime().services().lock_state(&machine).await);
        }
        let removal = Removal {
            reason: reason.to_owned(),
            at: now(),
        };
        let (node, binary, record) = (self.clone(), *id, removal.clone());
        let freed = tokio::task::spawn_blocking(move || {
            let key = node.runtime().loader().cache_key(&binary);
            let freed = node.store().remove_binary(&binary, &key, &record)?;
            node.registry().remove_binary(&binary);
            node.freed(&freed);
            Ok::<_, RemoveError>(freed)
        })
        .await
        .expect("removing does not panic")?;
        drop(locks);
        tracing::warn!(binary = %id, machines = freed.machines.len(), reason, "binary removed by the operator");
        Ok(Removed {
            removal,
            machines: freed.machines,
        })
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
        let freed = tokio::task::spawn_blocking(move || {
            let freed = node.store().remove_machine(&machine, &record)?;
            node.registry().remove_machine(&machine);
            node.freed(&freed);
            Ok::<_, RemoveError>(freed)
        })
        .await
        .expect("removing does not panic")?;
        drop(lock);
        tracing::warn!(machine = %id, reason, "machine removed by the operator");
        Ok(Removed {
            removal,
            machines: freed.machines,
        })
    }

    /// Counts what a removal freed off the quotas, never below nothing.
    fn freed(&self, freed: &Freed) {
        let _ =
            self.inner
                .binaries_bytes
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                    Some(held.saturating_sub(freed.binaries))
                });
        self.runtime().services().state_committed(freed.state, 0);
    }
}
