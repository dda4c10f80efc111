//! A node of a group sharing a database: what another node of the group stored, served here
//! on first use.

use super::Node;
use crate::runtime::{Binary, Machine};
use carol_core::ids::{BinaryId, MachineId};
use std::sync::Arc;

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
            Some(node.registry().insert_machine(Machine::new(binary, stored.params)))
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
                tracing::info!(binary = %id, "serving a binary another node of the group stored");
                Some(self.registry().insert_binary(binary))
            }
            Err(error) => {
                tracing::error!(binary = %id, %error, "a binary of the group cannot run on this node");
                None
            }
        }
    }
}
