//! `GET /federation` on a federation member: who the members are, the commitments to the
//! federation key's polynomial, the key itself, and where the member is.

use crate::bls::PublicKey;
use crate::ids::MachineId;
use serde::{Deserialize, Serialize};

/// Where a member is with its federation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FederationStatus {
    /// Running the key generation with the other members: no key yet.
    Keygen,
    /// Holding its share: it signs as a member.
    Ready,
}

/// One member of a federation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FederationMember {
    /// Its index, from 1: it holds the key polynomial's value at this point.
    pub index: u32,
    /// Its URL.
    pub url: String,
    /// Its node key, which signs its protocol messages and opens the shares sent to it.
    pub node_key: PublicKey,
    /// Its public share (its share times the G1 generator), once the key is made: what its
    /// partial signatures verify under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_share: Option<PublicKey>,
}

/// `GET /federation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FederationDescription {
    /// The federation's name.
    pub name: String,
    /// How many members sign together.
    pub threshold: usize,
    /// Which member answered.
    pub member: u32,
    /// Where it is.
    pub status: FederationStatus,
    /// The members, by index.
    pub members: Vec<FederationMember>,
    /// The commitments to the federation key's polynomial, lowest first, as 48-byte compressed
    /// G1 points in hex; the first is the federation key. Empty until the key is made.
    #[serde(default)]
    pub commitments: Vec<PublicKey>,
    /// The federation key: what every signature of the federation verifies under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKey>,
    /// The commitments to the federation's secp256k1 key's polynomial, lowest first, as
    /// 33-byte compressed points in hex: member `i`'s public share is their value at `i`. Empty
    /// until the key is made, and on a federation made before federations had one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secp256k1_commitments: Vec<String>,
    /// The federation's secp256k1 key, x-only (BIP340), hex. Machines' BIP340 keys are keys of
    /// their own, made by the members like their BLS keys, not tweaks of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secp256k1_public_key: Option<String>,
}

/// `GET /federation/machine-keys` on a member: the machines whose own keys it holds a share of,
/// which a resharing carries over (`carol federation propose --from` asks every member).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MachineKeys {
    /// Each machine's key, in order of machine id.
    pub machines: Vec<MachineKey>,
    /// Machines whose keys the members have begun to agree on, or agreed on, but whose share
    /// this member does not hold yet: a resharing now would leave them behind.
    pub pending: Vec<MachineId>,
}

/// One machine's own key on a federation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineKey {
    /// The machine.
    pub machine: MachineId,
    /// The commitments to its key's polynomial; the first is its key.
    pub commitments: Vec<PublicKey>,
}

/// What a federation of `members` that signs with `threshold` of them tolerates, for each kind of
/// signature. `t > n/2` is assumed (`carol federation propose` refuses less).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tolerance {
    /// Dishonest members that cannot sign anything together: `t − 1`, for BLS signatures and
    /// BIP340 ones with a fresh nonce (made for its message, used once).
    pub forging: usize,
    /// Dishonest members that cannot get one committed nonce to sign two outcomes, when the
    /// honest members' runs see different outcomes: `2t − n − 1`. Two sets of `t` members share
    /// `2t − n`, of whom one must be honest; two signatures under one nonce give the key away.
    pub two_outcomes: usize,
    /// Members that may be down (or refuse) while the others still sign: `n − t`.
    pub down: usize,
}

impl Tolerance {
    /// The tolerance of `threshold` of `members`.
    pub fn of(threshold: usize, members: usize) -> Self {
        Self {
            forging: threshold.saturating_sub(1),
            two_outcomes: (2 * threshold).saturating_sub(members + 1),
            down: members.saturating_sub(threshold),
        }
    }

    /// One line for operators, as `carol federation propose` prints it.
    pub fn describe(&self) -> String {
        format!(
            "fewer than {} dishonest members can sign nothing (BLS, and secp256k1 with a fresh \
             nonce); one committed nonce cannot sign two outcomes with up to {} dishonest \
             members (2t - n > f); it signs with up to {} members down",
            self.forging + 1,
            self.two_outcomes,
            self.down
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_of_five_tolerates_no_dishonest_member_for_committed_nonces_four_of_five_two() {
        let three = Tolerance::of(3, 5);
        assert_eq!((three.forging, three.two_outcomes, three.down), (2, 0, 2));
        let four = Tolerance::of(4, 5);
        assert_eq!((four.forging, four.two_outcomes, four.down), (3, 2, 1));
        let seven = Tolerance::of(5, 7);
        assert_eq!((seven.forging, seven.two_outcomes, seven.down), (4, 2, 2));
        assert!(three.describe().contains("up to 0 dishonest"));
    }
}
