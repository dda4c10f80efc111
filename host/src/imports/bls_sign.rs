//! `carol:machine/bls-sign`: signatures by the node, bound to the machine that asked.

use super::context::MachineContext;
use crate::bindings::carol::machine::bls_sign::Host;

impl Host for MachineContext {
    fn public_key(&mut self) -> Vec<u8> {
        self.services.public_key.to_bytes().to_vec()
    }

    fn sign(&mut self, message: Vec<u8>) -> Vec<u8> {
        self.services
            .key
            .sign_for_machine(&self.machine, &message)
            .to_bytes()
            .to_vec()
    }
}
