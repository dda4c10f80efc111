//! The binaries and machines a node holds.

use crate::ids::{BinaryId, MachineId};
use crate::runtime::{Binary, Machine};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// Binaries by id, machines by id. Entries are never replaced: an id names its content.
#[derive(Default)]
pub struct Store {
    binaries: RwLock<BTreeMap<BinaryId, Arc<Binary>>>,
    machines: RwLock<BTreeMap<MachineId, Machine>>,
}

impl Store {
    /// The binary with this id.
    pub fn binary(&self, id: &BinaryId) -> Option<Arc<Binary>> {
        self.binaries.read().expect("store lock").get(id).cloned()
    }

    /// Adds a binary unless one with its id is there; returns the stored one and whether it is new.
    pub fn insert_binary(&self, binary: Binary) -> (Arc<Binary>, bool) {
        let mut binaries = self.binaries.write().expect("store lock");
        if let Some(existing) = binaries.get(&binary.id()) {
            return (existing.clone(), false);
        }
        let binary = Arc::new(binary);
        binaries.insert(binary.id(), binary.clone());
        (binary, true)
    }

    /// The machine with this id.
    pub fn machine(&self, id: &MachineId) -> Option<Machine> {
        self.machines.read().expect("store lock").get(id).cloned()
    }

    /// Adds a machine unless one with its id is there; returns the stored one and whether it is new.
    pub fn insert_machine(&self, machine: Machine) -> (Machine, bool) {
        let mut machines = self.machines.write().expect("store lock");
        if let Some(existing) = machines.get(&machine.id()) {
            return (existing.clone(), false);
        }
        machines.insert(machine.id(), machine.clone());
        (machine, true)
    }

    /// Ids of the binaries held, at most `limit` of them.
    pub fn binary_ids(&self, limit: usize) -> Vec<BinaryId> {
        self.binaries
            .read()
            .expect("store lock")
            .keys()
            .take(limit)
            .copied()
            .collect()
    }

    /// Ids of the machines held, at most `limit` of them.
    pub fn machine_ids(&self, limit: usize) -> Vec<MachineId> {
        self.machines
            .read()
            .expect("store lock")
            .keys()
            .take(limit)
            .copied()
            .collect()
    }

    /// How many binaries and machines are held.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.binaries.read().expect("store lock").len(),
            self.machines.read().expect("store lock").len(),
        )
    }
}
