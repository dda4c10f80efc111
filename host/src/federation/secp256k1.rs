//! A machine's BIP340 key on a federation member: a key of its own, made by the members together
//! on its first use as its BLS key is ([`super::machine_keys`]), and never a public tweak of the
//! federation's secp256k1 key: with committed nonces a machine's author can steer what is signed
//! (the ROS attack), and a forgery under keys that differ by known offsets would move from the
//! author's machine to any other (`carol_federation::schnorr`). The same on every member and
//! after restarts: each member keeps the decision and the contributions in its record.

use super::machine_keys::{MachineKeyError, Making};
use super::{Member, Secp256k1Ready};
use carol_core::ids::MachineId;
use carol_federation::curve::Secp256k1;
use carol_federation::machine_key::{self, MachineDealJson};
use std::sync::Arc;
use tokio::time::Instant;

impl Making<Secp256k1> {
    /// Machine `machine`'s own secp256k1 key, in the federation whose group is `federation`.
    pub fn secp256k1_key(federation: &carol_federation::dkg::Group, machine: &MachineId) -> Self {
        Self {
            decree: machine_key::secp256k1_decree(machine.as_bytes()),
            group: machine_key::secp256k1_group(federation, machine.as_bytes()),
            deal_path: format!("/federation/machines/{machine}/deal?key=secp256k1&"),
            pledge_path: format!("/federation/machines/{machine}/pledge?key=secp256k1"),
            pledged_first: false,
        }
    }
}

impl Member {
    /// This member's share of machine `machine`'s own secp256k1 key, made with the other members
    /// on its first use, by `deadline`.
    pub async fn machine_secp256k1_key(
        &self,
        machine: &MachineId,
        deadline: Instant,
    ) -> Result<Arc<Secp256k1Ready>, MachineKeyError> {
        if let Some(ready) = self
            .secp256k1_keys
            .lock()
            .expect("member lock")
            .get(machine)
        {
            return Ok(ready.clone());
        }
        let making = Making::secp256k1_key(&self.group, machine);
        let (share, public) = self.make(&making, deadline).await?;
        let ready = Arc::new(Secp256k1Ready::new(share, public));
        self.secp256k1_keys
            .lock()
            .expect("member lock")
            .insert(*machine, ready.clone());
        Ok(ready)
    }

    /// Machine `machine`'s secp256k1 key as this member holds it, or makes again from its record
    /// without asking anyone; `None` before the members made it (or while this member lacks the
    /// contributors' bundles).
    pub fn kept_machine_secp256k1_key(
        &self,
        machine: &MachineId,
    ) -> Result<Option<Arc<Secp256k1Ready>>, MachineKeyError> {
        if let Some(ready) = self
            .secp256k1_keys
            .lock()
            .expect("member lock")
            .get(machine)
        {
            return Ok(Some(ready.clone()));
        }
        let Some(me) = self.index else {
            return Ok(None);
        };
        let making = Making::secp256k1_key(&self.group, machine);
        let record = self.record(&making.decree)?;
        let made =
            super::machine_keys::share_from_record(&making.group, me, &self.identity, &record)?;
        Ok(made.map(|(share, public)| {
            let ready = Arc::new(Secp256k1Ready::new(share, public));
            self.secp256k1_keys
                .lock()
                .expect("member lock")
                .insert(*machine, ready.clone());
            ready
        }))
    }

    /// Member `dealer`'s contribution to machine `machine`'s secp256k1 key (`GET
    /// /federation/machines/{id}/deal?key=secp256k1&dealer=N`).
    pub fn machine_secp256k1_deal(
        &self,
        machine: &MachineId,
        dealer: u32,
    ) -> Option<MachineDealJson> {
        self.deal_of(&Making::secp256k1_key(&self.group, machine), dealer)
    }
}
