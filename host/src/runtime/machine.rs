//! A machine: a binary with its params.

use super::binary::Binary;
use carol_core::ids::{BinaryId, MachineId};
use std::sync::Arc;

/// A binary with its parameters: what an activation runs.
#[derive(Clone)]
pub struct Machine {
    id: MachineId,
    binary: Arc<Binary>,
    params: Arc<[u8]>,
}

impl Machine {
    /// The machine made of `binary` and `params`.
    pub fn new(binary: Arc<Binary>, params: impl Into<Arc<[u8]>>) -> Self {
        let params = params.into();
        Self {
            id: MachineId::of(&binary.id(), &params),
            binary,
            params,
        }
    }

    /// The machine's id.
    pub fn id(&self) -> MachineId {
        self.id
    }

    /// The binary it runs.
    pub fn binary(&self) -> &Arc<Binary> {
        &self.binary
    }

    /// Its binary's id.
    pub fn binary_id(&self) -> BinaryId {
        self.binary.id()
    }

    /// Its parameters.
    pub fn params(&self) -> &[u8] {
        &self.params
    }

    /// Its parameters, shared.
    pub(super) fn shared_params(&self) -> Arc<[u8]> {
        self.params.clone()
    }
}
