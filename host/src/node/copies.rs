//! On a federation member: a machine it missed, copied from another member when it is asked
//! to run it ([`crate::federation::Member::machine_from_members`] checks what is copied).

use super::Node;
use crate::runtime::Machine;
use carol_core::ids::MachineId;

impl Node {
    /// On a federation member that lacks machine `id`: the machine, with its binary if that is
    /// missing too, copied from another member and stored; `None` on a standalone node, when no
    /// member has it, or when the copy cannot run here.
    pub async fn machine_from_members(&self, id: &MachineId) -> Option<Machine> {
        let member = self.federation()?.clone();
        let (binary, params) = member.machine_from_members(id).await?;
        if self.registry().binary(&binary).is_none() {
            let bytes = member.component_from_members(&binary).await?;
            match self.upload(std::sync::Arc::new(bytes.to_vec())).await {
                Ok(_) => {
                    tracing::info!(%binary, "copied a binary this member missed from another member")
                }
                Err(error) => {
                    tracing::warn!(%binary, %error, "a binary copied from another member cannot be served on this node");
                    return None;
                }
            }
        }
        let node = self.clone();
        match tokio::task::spawn_blocking(move || node.create_machine(&binary, params)).await {
            Ok(Ok((machine, _))) => {
                tracing::info!(machine = %id, "copied a machine this member missed from another member");
                Some(machine)
            }
            Ok(Err(error)) => {
                tracing::warn!(machine = %id, %error, "cannot store a machine copied from another member");
                None
            }
            Err(_) => None,
        }
    }
}
