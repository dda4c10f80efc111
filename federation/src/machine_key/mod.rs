//! A machine's own BLS key in a federation: made by a key generation of its own among the
//! members, on its first use. Each member deals a polynomial derived from its node key and the
//! machine's group ([`group`]), so it deals the same bundle whenever asked and stores nothing;
//! the members agree on which dealers contribute ([`crate::agreement`], at least the threshold
//! of them), and each member's share is the sum of its shares from those, the key the sum of
//! their secrets, which no one holds.
//!
//! Each contribution carries a Schnorr proof of knowledge of its secret, bound to the machine's
//! session and the dealer: the honest members' contributions are public before the decision, so
//! without it a dishonest dealer could choose its commitment as `g^x` minus theirs and alone know
//! the sum (the "rogue key" of Gennaro, Jarecki, Krawczyk and Rabin's analysis of Joint-Feldman;
//! FROST's key generation, RFC 9591 appendix C, proves knowledge the same way).
//!
//! Why not a public tweak of the federation key: a BLS signature carries no key in its message,
//! so from machine A's signature of `B || m` under `x + h(A)` anyone could subtract `h(A)·H(B ||
//! m)`, the public tweak, and hold the federation's `bls-sign` signature of `m` for machine B.
//! Keys made independently have no such relation: what one machine's key signs verifies under no
//! other key.

use crate::agreement::Contributor;
use crate::curve::{Bls, Curve, Secp256k1};
use crate::dkg::{DealBundle, Dkg, DkgError, Group, Previous};
use crate::identity::Identity;
use crate::poly::PublicPoly;
use crate::threshold::Share;
use crate::wire::DealJson;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};

/// Why a member cannot have its share of a machine's key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MachineKeyError {
    /// A contributor's bundle is missing, malformed, or its share to this member is bad.
    #[error(
        "member {0}'s contribution to the machine's key gives this member no valid share: it \
         cannot sign with this machine's key"
    )]
    BadContribution(u32),
    /// The contribution a decision names, with a valid proof, is not among those at hand.
    #[error(
        "member {0}'s contribution to the machine's key, as the members decided on it, is not at \
         hand (the members that hold it did not answer in time): try again later"
    )]
    Missing(u32),
    /// The contributors agreed on are fewer than the threshold.
    #[error("{have} contributors, fewer than the threshold {threshold}")]
    TooFewContributors {
        /// How many.
        have: usize,
        /// The threshold.
        threshold: usize,
    },
    /// The key generation's own checks refused something.
    #[error(transparent)]
    Dkg(#[from] DkgError),
}

/// The group of machine `machine`'s key generation among the members of `federation`: the same
/// members and threshold, under a session of its own.
pub fn group(federation: &Group, machine: &[u8; 32]) -> Group {
    session_group(
        federation,
        b"carol-federation/machine-key/v1/bls\0",
        &[machine],
    )
}

/// The group of the key generation of machine `machine`'s own secp256k1 (BIP340) key: the
/// federation's members and threshold under a session of its own.
pub fn secp256k1_group(federation: &Group, machine: &[u8; 32]) -> Group<Secp256k1> {
    session_group(
        federation,
        b"carol-federation/machine-key/v1/secp256k1\0",
        &[machine],
    )
}

/// What every [`secp256k1_decree`] starts with, the machine's id following.
pub const SECP256K1_DECREE_PREFIX: &[u8] = b"machine-key/secp256k1/";

/// What names the decision on who contributes to machine `machine`'s secp256k1 key.
pub fn secp256k1_decree(machine: &[u8; 32]) -> Vec<u8> {
    [SECP256K1_DECREE_PREFIX, machine].concat()
}

/// The group of the key generation of machine `machine`'s committed nonce `name`, a secret
/// shared like a key (`crate::schnorr`): the federation's members and threshold under a session
/// of its own, so that no nonce is ever made twice, nor from another's contributions.
pub fn nonce_group(federation: &Group, machine: &[u8; 32], name: &[u8]) -> Group<Secp256k1> {
    let length = (name.len() as u64).to_be_bytes();
    let label = b"carol-federation/nonce/v1/secp256k1\0";
    session_group(federation, label, &[machine, &length, name])
}

/// The federation's members and threshold under the session `label` and `parts` name.
fn session_group<C: Curve>(federation: &Group, label: &[u8], parts: &[&[u8]]) -> Group<C> {
    let mut hash = Sha256::new();
    hash.update(label);
    hash.update(federation.session);
    for part in parts {
        hash.update(part);
    }
    Group {
        session: hash.finalize().into(),
        threshold: federation.threshold,
        members: federation.members.clone(),
        previous: None,
    }
}

/// The group of the resharing of machine `machine`'s key, whose commitments are `public`, in the
/// resharing `federation` of the federation key (drand's specification, "Resharing", run once
/// more per machine): the federation's new members and threshold under a session of the machine's
/// resharing in the new federation, its previous members dealing their shares of the machine's key, checked
/// against `public`. `None` when `federation` is no resharing.
pub fn reshare_group(federation: &Group, machine: &[u8; 32], public: PublicPoly) -> Option<Group> {
    let previous = federation.previous.as_ref()?;
    // A session of its own, not the one a fresh key of the machine would be made under: no
    // bundle of one could ever be taken for the other's.
    let mut hash = Sha256::new();
    hash.update(b"carol-federation/machine-key/v1/bls-reshare\0");
    hash.update(federation.session);
    hash.update(machine);
    Some(Group {
        session: hash.finalize().into(),
        threshold: federation.threshold,
        members: federation.members.clone(),
        previous: Some(Previous {
            public,
            ..previous.clone()
        }),
    })
}

/// What every [`decree`] starts with, the machine's id following.
pub const DECREE_PREFIX: &[u8] = b"machine-key/bls/";

/// The machine whose key `decree` ([`decree`]) decides on, if it is such a decree.
pub fn decreed_machine(decree: &[u8]) -> Option<[u8; 32]> {
    decree.strip_prefix(DECREE_PREFIX)?.try_into().ok()
}

/// What names the decision on who contributes to machine `machine`'s BLS key
/// ([`crate::agreement`]).
pub fn decree(machine: &[u8; 32]) -> Vec<u8> {
    let mut decree = DECREE_PREFIX.to_vec();
    decree.extend_from_slice(machine);
    decree
}

/// What every [`nonce_decree`] starts with, the machine's id and the nonce's name following.
pub const NONCE_DECREE_PREFIX: &[u8] = b"nonce/secp256k1/";

/// What names the decision on who contributes to machine `machine`'s committed nonce `name`:
/// decided once, so that no member ever holds a share of a second nonce of that name.
pub fn nonce_decree(machine: &[u8; 32], name: &[u8]) -> Vec<u8> {
    let mut decree = NONCE_DECREE_PREFIX.to_vec();
    decree.extend_from_slice(machine);
    decree.extend_from_slice(name);
    decree
}

/// A member's contribution to a machine's key: its deal bundle, and a proof that it knows the
/// secret its first commitment commits to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineDeal<C: Curve = Bls> {
    /// The bundle, as in a key generation.
    pub bundle: DealBundle<C>,
    /// `R`, a commitment to the proof's nonce.
    pub proof_point: C::Point,
    /// `z = k + c·a₀`.
    pub proof_scalar: C::Scalar,
}

/// The proof's challenge: of the machine's session, the dealer, its first commitment and `R`.
fn challenge<C: Curve>(
    group: &Group<C>,
    dealer: u32,
    commitment: &C::Point,
    point: &C::Point,
) -> C::Scalar {
    let mut hash = Sha512::new();
    hash.update(b"carol-federation/machine-key/v1/proof\0");
    hash.update(group.session);
    hash.update(dealer.to_be_bytes());
    hash.update(C::point_to_bytes(commitment));
    hash.update(C::point_to_bytes(point));
    C::scalar_from_wide(&hash.finalize().into())
}

impl<C: Curve> MachineDeal<C> {
    /// The contribution of `bundle` (its dealer's, in `group`) whose first commitment commits
    /// to `secret`, with its proof made with `nonce` (secret, and never used twice).
    pub fn prove(
        group: &Group<C>,
        bundle: DealBundle<C>,
        secret: &C::Scalar,
        nonce: &C::Scalar,
    ) -> Self {
        let proof_point = C::base_mul(nonce);
        let commitment = bundle.commitments.commitments()[0];
        let c = challenge(group, bundle.dealer, &commitment, &proof_point);
        Self {
            bundle,
            proof_point,
            proof_scalar: *nonce + c * *secret,
        }
    }

    /// What names this contribution in a decision: its bundle's digest, which its dealer signed.
    pub fn contributor(&self, group: &Group<C>) -> Contributor {
        Contributor {
            member: self.bundle.dealer,
            digest: self.bundle.digest(&group.session),
        }
    }

    /// Whether the proof shows its dealer knows the secret of its first commitment, in `group`.
    pub fn proves(&self, group: &Group<C>) -> bool {
        let commitment = self.bundle.commitments.commitments()[0];
        let c = challenge(group, self.bundle.dealer, &commitment, &self.proof_point);
        C::base_mul(&self.proof_scalar)
            == C::lincomb(&[(self.proof_point, C::one()), (commitment, c)])
    }
}

/// Member `me`'s contribution to the key of the machine whose group is `group`: the same bundle
/// and proof every time (the proof's nonce is derived like the polynomial).
pub fn deal<C: Curve>(
    group: &Group<C>,
    me: u32,
    identity: &Identity,
) -> Result<MachineDeal<C>, DkgError> {
    let (dkg, bundle) = Dkg::new(group.clone(), me, identity.clone())?;
    let secret = zeroize::Zeroizing::new(dkg.dealt_poly().expect("a member deals").eval(0));
    let nonce = zeroize::Zeroizing::new(
        identity.derive::<C>("machine-key/proof-nonce", &[&group.digest()]),
    );
    Ok(MachineDeal::prove(group, bundle, &secret, &nonce))
}

/// A dealer's pledge to its contribution, without the contribution: the digest of its bundle and
/// the dealer's endorsement of it for the decree that decides the secret's contributors
/// ([`crate::agreement::endorsement_digest`]), which every acceptor checks. Members agree on
/// pledged contributions, and for a nonce before any is revealed, so that no dealer chooses its
/// own after seeing the others' (for nonces, that choice would let a dishonest member steer them:
/// the ROS attack).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PledgeJson {
    /// The dealer.
    pub dealer: u32,
    /// Its bundle's digest, hex.
    pub digest: String,
    /// The dealer's node key's endorsement of the digest, hex.
    pub signature: String,
}

impl<C: Curve> MachineDeal<C> {
    /// Its dealer's pledge to it, for the decision `decree` in the federation named by
    /// `session`; `identity` is the dealer's.
    pub fn pledge(
        &self,
        group: &Group<C>,
        session: &[u8; 32],
        decree: &[u8],
        identity: &Identity,
    ) -> PledgeJson {
        let contributor = self.contributor(group);
        PledgeJson {
            dealer: contributor.member,
            digest: hex::encode(contributor.digest),
            signature: hex::encode(crate::agreement::endorse(
                identity,
                session,
                decree,
                &contributor,
            )),
        }
    }
}

/// The contributor `pledge` names and its endorsement, if its dealer, a member of `group`,
/// endorsed it for the decision `decree` in the federation named by `session`.
pub fn pledged<C: Curve>(
    group: &Group<C>,
    session: &[u8; 32],
    decree: &[u8],
    pledge: &PledgeJson,
) -> Option<(Contributor, [u8; 96])> {
    let mut digest = [0u8; 32];
    let mut signature = [0u8; 96];
    hex::decode_to_slice(&pledge.digest, &mut digest).ok()?;
    hex::decode_to_slice(&pledge.signature, &mut signature).ok()?;
    let key = group.dealer(pledge.dealer)?;
    let contributor = Contributor {
        member: pledge.dealer,
        digest,
    };
    crate::agreement::endorses(key, session, decree, &contributor, &signature)
        .then_some((contributor, signature))
}

/// A [`MachineDeal`] as JSON: the bundle, and the proof (`R` compressed then `z`: 80 bytes for
/// BLS12-381, 65 for secp256k1) in hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineDealJson {
    /// The bundle.
    pub bundle: DealJson,
    /// The proof, hex.
    pub proof: String,
}

impl<C: Curve> From<&MachineDeal<C>> for MachineDealJson {
    fn from(deal: &MachineDeal<C>) -> Self {
        let mut proof = C::point_to_bytes(&deal.proof_point);
        proof.extend_from_slice(&C::scalar_to_bytes(&deal.proof_scalar));
        Self {
            bundle: DealJson::from(&deal.bundle),
            proof: hex::encode(proof),
        }
    }
}

impl<C: Curve> TryFrom<&MachineDealJson> for MachineDeal<C> {
    type Error = &'static str;

    fn try_from(json: &MachineDealJson) -> Result<Self, Self::Error> {
        let bundle = DealBundle::try_from(&json.bundle).map_err(|_| "not a valid deal bundle")?;
        let proof = hex::decode(&json.proof).map_err(|_| "the proof is not hex")?;
        if proof.len() != C::POINT_BYTES + 32 {
            return Err("the proof is not a compressed point and a scalar");
        }
        let (point, scalar) = proof.split_at(C::POINT_BYTES);
        let proof_point = C::point_from_bytes(point).ok_or("the proof's point is not one")?;
        let scalar: &[u8; 32] = scalar.try_into().expect("32 bytes");
        let proof_scalar = C::scalar_from_bytes(scalar).ok_or("the proof's scalar is not one")?;
        Ok(Self {
            bundle,
            proof_point,
            proof_scalar,
        })
    }
}

/// The contributions of `deals` that prove knowledge of their secret and give member `me` a
/// valid share, by dealer: what it may propose as the contributors. Its own contribution always
/// counts.
pub fn usable<C: Curve>(
    group: &Group<C>,
    me: u32,
    identity: &Identity,
    deals: &[MachineDeal<C>],
) -> Result<Vec<Contributor>, DkgError> {
    let mut dkg = Dkg::holding(group.clone(), me, identity.clone())?;
    // Its own, as it deals it (the same every time), unless `deals` has it already.
    let own = match deals
        .iter()
        .find(|d| d.bundle.dealer == me && d.proves(group))
    {
        Some(own) => own.clone(),
        None => deal(group, me, identity)?,
    };
    dkg.receive_deal(&own.bundle)?;
    let mut usable = vec![own.contributor(group)];
    for deal in deals.iter().filter(|d| d.proves(group)) {
        // A bundle that is not its dealer's, or not this machine's, is no contribution; nor is
        // a second one of a dealer.
        let dealer = deal.bundle.dealer;
        if dkg.dealt(dealer).is_none()
            && dkg.receive_deal(&deal.bundle).is_ok()
            && dkg.dealt(dealer).is_some()
        {
            usable.push(deal.contributor(group));
        }
    }
    usable.sort();
    Ok(usable)
}

/// Member `me`'s share of the key the `contributors`' deals make (from `deals`, each the one
/// whose digest the decision names), and the key's commitments.
pub fn share<C: Curve>(
    group: &Group<C>,
    me: u32,
    identity: &Identity,
    contributors: &[Contributor],
    deals: &[MachineDeal<C>],
) -> Result<(Share<C>, PublicPoly<C>), MachineKeyError> {
    // Distinct, in order: a dealer named twice would count its secret twice.
    if !contributors.windows(2).all(|w| w[0].member < w[1].member) {
        return Err(MachineKeyError::Dkg(DkgError::Group(
            "the contributors must be distinct members, in order",
        )));
    }
    if contributors.len() < group.threshold {
        return Err(MachineKeyError::TooFewContributors {
            have: contributors.len(),
            threshold: group.threshold,
        });
    }
    let mut dkg = Dkg::holding(group.clone(), me, identity.clone())?;
    for contributor in contributors {
        let dealer = contributor.member;
        let mut copies = deals
            .iter()
            .filter(|d| d.contributor(group) == *contributor);
        let first = copies
            .clone()
            .next()
            .ok_or(MachineKeyError::Missing(dealer))?;
        // A copy whose proof was damaged on the way is passed over for one that proves.
        let deal = copies.find(|d| d.proves(group)).unwrap_or(first);
        if !deal.proves(group) {
            return Err(MachineKeyError::BadContribution(dealer));
        }
        dkg.receive_deal(&deal.bundle)?;
    }
    let mut secret = zeroize::Zeroizing::new(C::zero());
    let mut commitments = Vec::with_capacity(contributors.len());
    for &Contributor { member: dealer, .. } in contributors {
        let (public, share) = dkg
            .dealt(dealer)
            .ok_or(MachineKeyError::BadContribution(dealer))?;
        *secret += share;
        commitments.push((C::one(), public));
    }
    let public =
        PublicPoly::weighted_sum(commitments).expect("dealt commitments have the threshold");
    Ok((Share::new(me, *secret), public))
}

#[cfg(test)]
mod tests;
