//! Machines' own keys carried over a resharing, so that one machine has one key, forever. The
//! federation file's `[previous]` lists every machine whose key the previous members hold
//! (`carol federation propose --from` asks them, `GET /federation/machine-keys`); the resharing
//! reshares each one as it reshares the federation key (drand's specification, "Resharing"),
//! each under a session of its own ([`machine_key::reshare_group`]): every previous member deals
//! its share of the machine's key, checked against the listed commitments, and the new members
//! keep their shares of it in the share file with the federation key's, all at once.
//!
//! A previous member that took part in making a machine's key the file does not list refuses to
//! deal at all: the resharing would leave that key behind, and with it the machine's signatures.

use super::agreement::{AgreementError, Record};
use super::file::{FederationFile, carried_public};
use super::machine_keys::share_from_record;
use super::share::Kept;
use super::{Member, MemberError};
use crate::store::Store;
use carol_core::federation::{MachineKey, MachineKeys};
use carol_core::ids::MachineId;
use carol_federation::dkg::Group;
use carol_federation::identity::Identity;
use carol_federation::machine_key;
use carol_federation::threshold::Share;
use std::collections::BTreeMap;

/// One key a key generation makes.
pub struct Lane {
    /// `None` for the federation key, else the machine whose own key a resharing carries over.
    pub machine: Option<MachineId>,
    /// Its group.
    pub group: Group,
}

/// The prefix of the store's keys of machine keys' records under federation `session`.
fn records_prefix(session: &[u8; 32]) -> Vec<u8> {
    [session.as_slice(), machine_key::DECREE_PREFIX].concat()
}

/// Every record of a machine key's agreement under federation `session`, by machine.
fn records(store: &Store, session: &[u8; 32]) -> Result<Vec<(MachineId, Record)>, AgreementError> {
    let prefix = records_prefix(session);
    let mut found = Vec::new();
    for (key, value) in store.agreements_under(&prefix)? {
        // A decree that names no machine (a member may ask about any decree) names no key.
        let Some(machine) = machine_key::decreed_machine(&key[session.len()..]) else {
            continue;
        };
        let record = serde_json::from_slice(&value).map_err(|_| AgreementError::Damaged)?;
        found.push((MachineId::from_bytes(machine), record));
    }
    Ok(found)
}

/// What dealer `dealer` of a resharing (`file` has a `[previous]`) deals for each machine the
/// file carries over: its share of that machine's key, from its share file (`kept`, for keys
/// carried into the previous federation) or its records of the previous federation's
/// agreements, each checked against the listed commitments. Refuses if it holds a machine's key
/// the file does not list.
pub(super) fn previous_machine_shares(
    file: &FederationFile,
    identity: &Identity,
    store: &Store,
    kept: Vec<(MachineId, Kept)>,
    dealer: u32,
) -> Result<BTreeMap<MachineId, Share>, MemberError> {
    let previous = file
        .previous
        .as_ref()
        .expect("only a resharing has a dealer");
    let group = previous
        .own_group()
        .expect("a checked file's session is hex");
    let listed: BTreeMap<MachineId, _> = previous
        .machines
        .iter()
        .map(|m| (m.machine, carried_public(m).expect("checked commitments")))
        .collect();
    let mut shares = BTreeMap::new();
    for (machine, kept) in kept {
        // Carried into the previous federation: it must be carried on.
        if !listed.contains_key(&machine) {
            return Err(MemberError::MachineNotCarried { machine });
        }
        shares.insert(machine, (kept.share, kept.public));
    }
    // Machines' secp256k1 keys and committed nonces are not carried over yet: a resharing
    // would change those keys and lose the nonces announced, so it is refused once one is
    // decided (a record a member only asked about, which anyone may, decides nothing).
    for prefix in [
        machine_key::SECP256K1_DECREE_PREFIX,
        machine_key::NONCE_DECREE_PREFIX,
    ] {
        let under = [group.session.as_slice(), prefix].concat();
        let found = store
            .agreements_under(&under)
            .map_err(|e| MemberError::Records(e.into()))?;
        for (_, value) in found {
            let record: Record = serde_json::from_slice(&value)
                .map_err(|_| MemberError::Records(AgreementError::Damaged))?;
            if record.certificate.is_some() {
                return Err(MemberError::Secp256k1NotCarried);
            }
        }
    }
    let records = records(store, &group.session).map_err(MemberError::Records)?;
    for (machine, record) in records {
        let took_part = record.accepted.is_some() || record.certificate.is_some();
        if took_part && !listed.contains_key(&machine) {
            return Err(MemberError::MachineNotCarried { machine });
        }
        let own = machine_key::group(&group, machine.as_bytes());
        if let Ok(Some(made)) = share_from_record(&own, dealer, identity, &record) {
            shares.insert(machine, made);
        }
    }
    let mut dealt = BTreeMap::new();
    for (machine, public) in listed {
        match shares.remove(&machine) {
            Some((share, held)) if held == public && share.index() == dealer => {
                dealt.insert(machine, share);
            }
            Some(_) => return Err(MemberError::OtherMachineKey { machine }),
            None => return Err(MemberError::NoPreviousMachineShare { machine }),
        }
    }
    Ok(dealt)
}

/// The commitments of the key `ready` holds a share of, as keys.
fn commitments(ready: &super::Ready) -> Vec<carol_core::bls::PublicKey> {
    let points = ready.public.commitments().iter();
    points.map(super::describe::point_key).collect()
}

/// Deletes the records of machine keys' agreements under federation `session`: once a resharing
/// carried those keys over, the records (with the node key) would make this node's old shares of
/// them again, which must go as its old share of the federation key goes.
pub(super) fn forget_records(store: &Store, session: &[u8; 32]) -> Result<(), AgreementError> {
    Ok(store.delete_agreements_under(&records_prefix(session))?)
}

impl Member {
    /// The keys this member's key generation makes: the federation key, then in a resharing
    /// each machine key it carries over, in order of machine.
    pub(super) fn lanes(&self) -> Vec<Lane> {
        let mut lanes = vec![Lane {
            machine: None,
            group: self.group.clone(),
        }];
        for carried in self.carried() {
            let public = carried_public(carried).expect("a checked file's commitments are points");
            let group = machine_key::reshare_group(&self.group, carried.machine.as_bytes(), public)
                .expect("a file that carries machines reshares");
            lanes.push(Lane {
                machine: Some(carried.machine),
                group,
            });
        }
        lanes
    }

    /// Once this member keeps its shares of a resharing (or leaves): drops the previous
    /// federation's shares it dealt, and deletes its records of the previous federation's machine
    /// keys ([`forget_records`]); a failure to delete is logged, and it is tried again at the
    /// next start.
    pub(super) fn resharing_done(&self) {
        self.reshared.lock().expect("member lock").take();
        self.reshared_machines.lock().expect("member lock").clear();
        let Some(session) = self.file.previous.as_ref().and_then(|p| p.session()) else {
            return;
        };
        if let Err(error) = forget_records(&self.store, &session) {
            tracing::warn!(%error, "cannot delete the records of the previous federation's machine keys; they are deleted at the next start");
        }
    }

    /// The machines whose keys the resharing that made this federation carried over.
    fn carried(&self) -> &[MachineKey] {
        self.file
            .previous
            .as_ref()
            .map_or(&[], |previous| &previous.machines)
    }

    /// Whether machine `machine`'s key was carried into this federation: it is never made again.
    pub fn is_carried(&self, machine: &MachineId) -> bool {
        self.carried().iter().any(|c| &c.machine == machine)
    }

    /// `GET /federation/machine-keys`: every machine key this member holds a share of, and the
    /// machines whose keys it took part in agreeing on but holds no share of yet. Reads the
    /// store: call it off the async executor.
    pub fn held_machine_keys(&self) -> Result<MachineKeys, AgreementError> {
        let mut held = MachineKeys::default();
        for carried in self.carried() {
            // Its commitments now are the resharing's, not the previous ones listed.
            if let Ok(Some(ready)) = self.kept_machine_key(&carried.machine) {
                held.machines.push(MachineKey {
                    machine: carried.machine,
                    commitments: commitments(&ready),
                });
            }
        }
        for (machine, record) in records(&self.store, self.session())? {
            let took_part = record.accepted.is_some() || record.certificate.is_some();
            match self.kept_machine_key(&machine) {
                Ok(Some(ready)) => held.machines.push(MachineKey {
                    machine,
                    commitments: commitments(&ready),
                }),
                _ if took_part => held.pending.push(machine),
                _ => {}
            }
        }
        held.machines.sort_by_key(|m| m.machine);
        Ok(held)
    }
}
