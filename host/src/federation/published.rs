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

/// Which key of a key generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The federation's BLS key (`GET /federation/keygen/{phase}`).
    Key,
    /// The federation's secp256k1 key (`GET /federation/keygen/secp256k1/{phase}`).
    Secp256k1,
    /// A machine's own BLS key that a resharing carries over
    /// (`GET /federation/keygen/machines/{id}/{phase}`).
    Machine(MachineId),
}

impl Which {
    /// Where its messages are served, before `/{phase}`.
    pub fn path(&self) -> String {
        match self {
            Which::Key => "/federation/keygen".to_owned(),
            Which::Secp256k1 => "/federation/keygen/secp256k1".to_owned(),
            Which::Machine(machine) => format!("/federation/keygen/machines/{machine}"),
        }
    }

    /// How the log and errors name it after the phase: empty for the federation's BLS key.
    pub fn of(&self) -> String {
        match self {
            Which::Key => String::new(),
            Which::Secp256k1 => " for the secp256k1 key".to_owned(),
            Which::Machine(machine) => format!(" for machine {machine}'s own key"),
        }
    }
}

/// What a member made for each key of a key generation: the federation's two keys', and in a
/// resharing each carried machine key's.
#[derive(Debug, Default)]
pub struct Lanes {
    /// The federation's BLS key's.
    pub key: Published,
    /// The federation's secp256k1 key's.
    pub secp256k1: Published,
    /// Each machine's own key's, by machine.
    pub machines: BTreeMap<MachineId, Published>,
}

impl Lanes {
    /// The messages of key `which`.
    pub fn lane(&mut self, which: Which) -> &mut Published {
        match which {
            Which::Key => &mut self.key,
            Which::Secp256k1 => &mut self.secp256k1,
            Which::Machine(machine) => self.machines.entry(machine).or_default(),
        }
    }
}
