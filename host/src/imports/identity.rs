//! `carol:machine/identity`: who the running machine is.

use super::context::MachineContext;
use crate::bindings::carol::machine::identity::Host;

impl Host for MachineContext {
    fn machine_id(&mut self) -> Vec<u8> {
        self.machine.as_bytes().to_vec()
    }

    fn binary_id(&mut self) -> Vec<u8> {
        self.binary.as_bytes().to_vec()
    }

    fn params(&mut self) -> Vec<u8> {
        self.params.to_vec()
    }
}
