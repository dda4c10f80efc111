//! The binaries and machines a node serves: compiled, linked and ready, by id.

use crate::runtime::{Binary, Machine};
use carol_core::ids::{BinaryId, MachineId};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// Served binaries and machines. Entries are never replaced (an id names its content), only
/// removed by the operator.
#[derive(Default)]
pub struct Registry {
    binaries: RwLock<BTreeMap<BinaryId, Arc<Binary>>>,
    machines: RwLock<BTreeMap<MachineId, Machine>>,
}

impl Registry {
    /// The binary with this id.
    pub fn binary(&self, id: &BinaryId) -> Option<Arc<Binary>> {
        self.binaries
            .read()
            .expect("registry lock")
            .get(id)
            .cloned()
    }

    /// Serves a binary unless one with its id is served; returns the served one.
    pub fn insert_binary(&self, binary: Binary) -> Arc<Binary> {
        self.binaries
            .write()
            .expect("registry lock")
            .entry(binary.id())
            .or_insert_with(|| Arc::new(binary))
            .clone()
    }

    /// The machine with this id.
    pub fn machine(&self, id: &MachineId) -> Option<Machine> {
        self.machines
            .read()
            .expect("registry lock")
            .get(id)
            .cloned()
    }

    /// Serves a machine unless one with its id is served; returns the served one.
    pub fn insert_machine(&self, machine: Machine) -> Machine {
        self.machines
            .write()
            .expect("registry lock")
            .entry(machine.id())
            .or_insert(machine)
            .clone()
    }

    /// Stops serving the binary `id` and its machines.
    pub fn remove_binary(&self, id: &BinaryId) {
        // One lock at a time, as everywhere (see `counts`).
        self.machines
            .write()
            .expect("registry lock")
            .retain(|_, machine| machine.binary_id() != *id);
        self.binaries.write().expect("registry lock").remove(id);
    }

    /// Stops serving the machine `id`.
    pub fn remove_machine(&self, id: &MachineId) {
        self.machines.write().expect("registry lock").remove(id);
    }

    /// The ids of the machines of binary `id` served.
    pub fn machines_of(&self, id: &BinaryId) -> Vec<MachineId> {
        let machines = self.machines.read().expect("registry lock");
        machines
            .iter()
            .filter(|(_, machine)| machine.binary_id() == *id)
            .map(|(machine, _)| *machine)
            .collect()
    }

    /// Ids of the binaries served, at most `limit` of them.
    pub fn binary_ids(&self, limit: usize) -> Vec<BinaryId> {
        let binaries = self.binaries.read().expect("registry lock");
        binaries.keys().take(limit).copied().collect()
    }

    /// Ids of the machines served, at most `limit` of them.
    pub fn machine_ids(&self, limit: usize) -> Vec<MachineId> {
        let machines = self.machines.read().expect("registry lock");
        machines.keys().take(limit).copied().collect()
    }

    /// How many binaries and machines are served.
    pub fn counts(&self) -> (usize, usize) {
        // One lock at a time: holding one while waiting for the other could deadlock with a
        // removal, which takes both.
        let binaries = self.binaries.read().expect("registry lock").len();
        let machines = self.machines.read().expect("registry lock").len();
        (binaries, machines)
    }
}
