//! What a node says about itself, its binaries and its machines ([`carol_core::api`]): the same
//! typed descriptions serve the JSON routes and the pages.

use super::Node;
use crate::runtime::Machine;
use crate::store::{StoreError, UsedKeys};
use carol_core::api::{
    Health, Load, MachineDescription, NodeInfo, NodeLimits, PublicKeys, SignatureScheme, StateUsage,
};

impl Node {
    /// `GET /`: who the node is and what it accepts.
    pub fn info(&self) -> NodeInfo {
        let config = self.config();
        let (binaries, machines) = self.registry().counts();
        NodeInfo {
            public_key: self.public_key(),
            node_key: self.federation().map(|_| self.node_key()),
            name: "carol".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            signatures: SignatureScheme::carol(),
            wit: carol_core::wit::PACKAGE.into(),
            limits: NodeLimits {
                max_binary_bytes: config.max_binary_bytes,
                max_params_bytes: config.max_params_bytes,
                max_request_bytes: config.max_request_bytes,
                activation_timeout_ms: config.limits.activation_timeout.as_millis() as u64,
                state_quota_bytes: config.state_quota_bytes,
            },
            binaries,
            machines,
        }
    }

    /// `GET /healthz`: what the node holds and does now.
    pub fn health(&self) -> Health {
        let (binaries, machines) = self.registry().counts();
        let (running, waiting) = self.admission().load();
        Health {
            status: "ok".into(),
            binaries,
            machines,
            activations: Load { running, waiting },
            compiled: self.stats(),
        }
    }

    /// A machine: its binary, params, activations, named types, the keys of its own it has
    /// used and its state's size.
    pub fn describe_machine(&self, machine: &Machine) -> Result<MachineDescription, StoreError> {
        let binary = machine.binary().description();
        Ok(MachineDescription {
            id: machine.id(),
            binary_id: machine.binary_id(),
            params: machine.params().to_vec(),
            activations: binary.activations,
            types: binary.types,
            keys: self.public_keys(machine),
            state: self.state_usage(machine)?,
        })
    }

    /// The public keys of its own that `machine` has used. On a federation member, they are
    /// the ones the members made together, once this member holds its shares of them.
    pub fn public_keys(&self, machine: &Machine) -> PublicKeys {
        let used = self.store().used_keys(&machine.id());
        if let Some(member) = self.federation() {
            let bls = member.kept_machine_key(&machine.id()).ok().flatten();
            let secp256k1 = member
                .kept_machine_secp256k1_key(&machine.id())
                .ok()
                .flatten();
            return PublicKeys {
                secp256k1: secp256k1
                    .filter(|_| used.contains(UsedKeys::SECP256K1))
                    .map(|r| r.key()),
                bls: bls.filter(|_| used.contains(UsedKeys::BLS)).map(|r| r.key),
            };
        }
        let keys = self.runtime().services().machine_keys(&machine.id());
        PublicKeys {
            secp256k1: used
                .contains(UsedKeys::SECP256K1)
                .then(|| keys.secp256k1_public_key()),
            bls: used
                .contains(UsedKeys::BLS)
                .then(|| keys.bls_key().public_key()),
        }
    }

    /// How much `machine`'s state holds, against its quota.
    pub fn state_usage(&self, machine: &Machine) -> Result<StateUsage, StoreError> {
        Ok(StateUsage {
            bytes: self.store().state_bytes(&machine.id())?,
            quota: self.config().state_quota_bytes,
        })
    }
}
