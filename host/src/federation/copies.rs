//! Copies of what a member missed (it was down when a binary was uploaded or a machine created
//! on another member), fetched from the other members when it is asked to run a machine. Ids
//! name content: a machine's is the hash of its binary's id and its params, a binary's the
//! SHA-256 of the component, so what a member answers is checked, not trusted.

use super::Member;
use super::peers::Answer;
use carol_core::api::MachineDescription;
use carol_core::ids::{BinaryId, MachineId};

impl Member {
    /// Machine `id`'s binary id and params, from the first other member that has it and
    /// answers with ones that make `id`.
    pub async fn machine_from_members(&self, id: &MachineId) -> Option<(BinaryId, Vec<u8>)> {
        let path = format!("/machines/{id}");
        for index in self.others() {
            match self.copier.get::<MachineDescription>(index, &path).await {
                Answer::Got(machine)
                    if MachineId::of(&machine.binary_id, &machine.params) == *id =>
                {
                    return Some((machine.binary_id, machine.params));
                }
                Answer::Got(_) => tracing::warn!(
                    member = index,
                    machine = %id,
                    "a member described a machine whose binary and params do not make its id"
                ),
                Answer::NotYet => {}
                Answer::Failed(why) => {
                    tracing::debug!(member = index, %why, "cannot ask a member for a machine")
                }
            }
        }
        None
    }

    /// Component `id`, from the first other member whose copy hashes to `id`.
    pub async fn component_from_members(&self, id: &BinaryId) -> Option<Vec<u8>> {
        let path = format!("/binaries/{id}/component");
        for index in self.others() {
            match self.copier.get_bytes(index, &path).await {
                Answer::Got(bytes) if BinaryId::of(&bytes) == *id => return Some(bytes),
                Answer::Got(_) => tracing::warn!(
                    member = index,
                    binary = %id,
                    "a member served a component that is not the one its id names"
                ),
                Answer::NotYet => {}
                Answer::Failed(why) => {
                    tracing::debug!(member = index, %why, "cannot ask a member for a component")
                }
            }
        }
        None
    }

    /// The other members' indices.
    pub(super) fn others(&self) -> impl Iterator<Item = u32> + use<'_> {
        self.file.indices().filter(|&i| Some(i) != self.index)
    }
}
