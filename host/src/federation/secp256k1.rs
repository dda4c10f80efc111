//! A machine's BIP340 key on a federation member: a public tweak of the federation's
//! secp256k1 key and the machine id ([`carol_federation::schnorr::MachineKey`]), so the same on
//! every member and after every restart, with nothing stored per machine.

use super::Member;
use carol_core::ids::MachineId;
use carol_federation::schnorr::MachineKey;

/// Why a federation member has no secp256k1 key for a machine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Secp256k1Error {
    /// The key generation is not done.
    #[error("the federation's key generation is not done yet: try again when it is")]
    NotReady,
    /// The federation was made by an earlier version, without a secp256k1 key.
    #[error(
        "this federation was made before federations had a secp256k1 key: reshare it (`carol \
         federation propose --from`) to make one"
    )]
    NoKey,
}

impl Member {
    /// Machine `machine`'s x-only (BIP340) key: the federation's secp256k1 key tweaked by the
    /// machine id.
    pub fn machine_secp256k1_key(&self, machine: &MachineId) -> Result<[u8; 32], Secp256k1Error> {
        if !self.is_ready() {
            return Err(Secp256k1Error::NotReady);
        }
        let secp256k1 = self.secp256k1.read().expect("member lock");
        let federation = &secp256k1.as_ref().ok_or(Secp256k1Error::NoKey)?.public;
        let public = MachineKey::of(federation, machine.as_bytes()).public(federation);
        Ok(carol_core::bip340::x_only(
            &public.commitments()[0].to_affine(),
        ))
    }
}
