//! The messages a member made in the key generation, which it serves to the others.

use carol_core::ids::MachineId;
use carol_federation::wire::{ConfirmationJson, DealJson, JustificationJson, ResponseJson};
use std::collections::BTreeMap;

/// The messages a member made in the key generation of one key, as it serves them.
#[derive(Debug, Clone, Default)]
pub struct Published {
    /// Its deal bundle.
    pub deal: Option<DealJson>,
    /// Its response bundle.
    pub response: Option<ResponseJson>,
    /// Its justification bundle once it knows whether it needs one (`Some(None)`: none needed).
    pub justification: Option<Option<JustificationJson>>,
    /// Its confirmation of the key it made.
    pub confirmation: Option<ConfirmationJson>,
}

/// What a member made for each key of a key generation: the federation key's, and in a
/// resharing each carried machine key's (`GET /federation/keygen/machines/{id}/{phase}`).
#[derive(Debug, Default)]
pub struct Lanes {
    /// The federation key's.
    pub key: Published,
    /// Each machine's own key's, by machine.
    pub machines: BTreeMap<MachineId, Published>,
}

impl Lanes {
    /// The messages of the federation key (`None`) or of machine `machine`'s key.
    pub fn lane(&mut self, machine: Option<&MachineId>) -> &mut Published {
        match machine {
            None => &mut self.key,
            Some(machine) => self.machines.entry(*machine).or_default(),
        }
    }
}
