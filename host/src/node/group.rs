//! A node of a group sharing a database: what another node of the group stored, served here
//! on first use; what another node removed, no longer served here within a second.

use super::Node;
use crate::runtime::{Binary, Machine};
use carol_core::ids::{BinaryId, MachineId};
use std::sync::Arc;
use std::time::Duration;

/// How often a node of a group looks for what the others removed.
const REMOVALS_EVERY: Duration = Duration::from_secs(1);

impl Node {
    /// On a node of a group, the binary `id` another node stored, loaded from the shared
    /// database (its compiled code from this node's cache, else compiled here) and served;
    /// `None` on a single node, or when the group has no such binary or it cannot run here.
    pub async fn binary_from_group(&self, id: &BinaryId) -> Option<Arc<Binary>> {
        if !self.store().is_shared() {
            return None;
        }
        let node = self.clone();
        let id = *id;
        tokio::task::spawn_blocking(move || node.load_binary(&id))
            .await
            .ok()
            .flatten()
    }

    /// On a node of a group, the machine `id` another node created, with its binary, loaded
    /// from the shared database and served; `None` as for [`Node::binary_from_group`].
    pub async fn machine_from_group(&self, id: &MachineId) -> Option<Machine> {
        if !self.store().is_shared() {
            return None;
        }
        let node = self.clone();
        let id = *id;
        tokio::task::spawn_blocking(move || {
            let stored = node
                .store()
                .group_machine(&id)
                .inspect_err(|error| tracing::warn!(machine = %id, %error, "cannot read a machine of the group"))
                .ok()??;
            let binary = match node.registry().binary(&stored.binary) {
                Some(binary) => binary,
                None => node.load_binary(&stored.binary)?,
            };
            let machine = node.registry().insert_machine(Machine::new(binary, stored.params));
            // Removed while it was being loaded, the follower may have passed the removal.
            match node.removal(id.as_bytes()) {
                Some(_) => {
                    node.registry().remove_machine(&id);
                    None
                }
                None => Some(machine),
            }
        })
        .await
        .ok()
        .flatten()
    }

    fn load_binary(&self, id: &BinaryId) -> Option<Arc<Binary>> {
        let bytes = self
            .store()
            .binary(id)
            .inspect_err(
                |error| tracing::warn!(binary = %id, %error, "cannot read a binary of the group"),
            )
            .ok()??;
        match self.compiled(id, &bytes) {
            Ok(binary) => {
                let binary = self.registry().insert_binary(binary);
                // As for a machine: removed while it compiled, it is not served.
                if self.removal(id.as_bytes()).is_some() {
                    self.registry().remove_binary(id);
                    return None;
                }
                tracing::info!(binary = %id, "serving a binary another node of the group stored");
                Some(binary)
            }
            Err(error) => {
                tracing::error!(binary = %id, %error, "a binary of the group cannot run on this node");
                None
            }
        }
    }

    /// On a node of a group, and in a Tokio runtime: follows the removals the group's nodes
    /// make after the one numbered `seen`, every [`REMOVALS_EVERY`], for as long as the node
    /// lives.
    pub(super) fn follow_group_removals(&self, mut seen: i64) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if !self.store().is_shared() {
            return;
        }
        let node = Arc::downgrade(&self.inner);
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(REMOVALS_EVERY).await;
                let Some(inner) = node.upgrade() else { return };
                let node = Node { inner };
                let reader = node.clone();
                let removals =
                    tokio::task::spawn_blocking(move || reader.store().group_removals_after(seen))
                        .await;
                match removals {
                    Ok(Ok(removals)) => {
                        for (number, id) in removals {
                            node.registry().remove_binary(&BinaryId::from_bytes(id));
                            node.registry().remove_machine(&MachineId::from_bytes(id));
                            seen = number;
                        }
                    }
                    // Tried again at the next turn.
                    Ok(Err(error)) => {
                        tracing::warn!(%error, "cannot read the group's removals")
                    }
                    Err(_) => return,
                }
            }
        });
    }
}
