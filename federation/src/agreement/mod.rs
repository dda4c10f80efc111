//! The members agreeing on one value, once and for good: single-decree Paxos (Lamport, "Paxos
//! Made Simple", 2001, section 2.2), for the choices a federation must make the same on every
//! member and never make twice, such as which members' contributions make a machine's own key.
//!
//! A *decree* names what is decided (bytes, such as `machine-key/bls/<machine id>`). Any member
//! may propose, with a [`Ballot`] higher than any it has seen. Each member is an [`Acceptor`] that
//! keeps, durably, the highest ballot it promised and the last value it accepted, before it
//! answers. A value is *chosen* once a threshold `t > n/2` of acceptors accepted it in one ballot;
//! since two majorities share an acceptor, and a proposer that got promises from a majority must
//! propose the value accepted in the highest ballot among them, no other value can be chosen
//! afterwards. Acceptances are signed by their acceptor's node key, so `t` of them make a
//! [`Certificate`] that anyone holding the members' keys checks, and that a member that was down
//! takes as the decision.
//!
//! This is safe against members that crash and restart (it never chooses two values), and live
//! while a threshold of members is up and proposers back off from each other. A member that
//! accepts two values in one ballot, or breaks a promise, is dishonest; with `f` such members
//! and `2t - n > f`, two certificates still cannot exist, provided each acceptance is justified by
//! `t` signed promises whose highest ballot reports one value (the node checks that): otherwise a
//! proposer alone could ask for two values in one ballot and have the second decided later.

use crate::identity::{self, Identity};
use bls12_381::G1Affine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// A proposal's number: ordered by round, then by proposer, so that no two proposers ever use
/// the same ballot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ballot {
    /// The round, from 1.
    pub round: u64,
    /// The member that proposes in it.
    pub proposer: u32,
}

impl Ballot {
    /// The first ballot of `proposer` above `seen` (or the first of all); at the last round it
    /// stays there, and acceptors refuse rounds that far ([`MAX_ROUND_STEP`]).
    pub fn above(seen: Option<Ballot>, proposer: u32) -> Self {
        let round = seen.map_or(1, |b| {
            if b.proposer < proposer {
                b.round
            } else {
                b.round.saturating_add(1)
            }
        });
        Self { round, proposer }
    }
}

/// How far above its promise an acceptor lets a ballot's round jump: honest proposers go one
/// round above what they saw, so a member cannot use up the rounds with one request.
pub const MAX_ROUND_STEP: u64 = 1000;

/// One member's contribution a decision takes: the member, and the digest of what it
/// contributed (for a machine's key, its deal bundle's), so that every member builds on the very
/// same contribution: a dealer that shows members different ones cannot have them make different
/// keys, since at most one of those is the one decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contributor {
    /// The member.
    pub member: u32,
    /// The digest of its contribution, hex.
    #[serde(with = "hex::serde")]
    pub digest: [u8; 32],
}

impl Contributor {
    /// Adds it to `hash`, as every signed digest of a value does.
    pub fn hash_into(&self, hash: &mut Sha256) {
        hash.update(self.member.to_be_bytes());
        hash.update(self.digest);
    }
}

/// What one acceptor keeps about one decree; it must be kept durably before any answer leaves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acceptor {
    /// The highest ballot it promised to answer.
    pub promised: Option<Ballot>,
    /// The last value it accepted, and in which ballot.
    pub accepted: Option<(Ballot, Vec<Contributor>)>,
}

impl Acceptor {
    /// Phase 1b: promises to accept nothing below `ballot`, and returns what it accepted last;
    /// `Err` with the ballot it promised instead, if that is higher.
    pub fn prepare(
        &mut self,
        ballot: Ballot,
    ) -> Result<Option<(Ballot, Vec<Contributor>)>, Ballot> {
        if self.too_far(ballot) {
            return Err(self.promised.unwrap_or(ballot));
        }
        match self.promised {
            Some(promised) if promised > ballot => Err(promised),
            _ => {
                self.promised = Some(ballot);
                Ok(self.accepted.clone())
            }
        }
    }

    /// Phase 2b: accepts `value` in `ballot` unless it promised a higher ballot, or accepted
    /// another value in this very ballot (which no honest proposer asks): `Err` with the ballot
    /// it promised.
    pub fn accept(&mut self, ballot: Ballot, value: &[Contributor]) -> Result<(), Ballot> {
        if self.too_far(ballot) {
            return Err(self.promised.unwrap_or(ballot));
        }
        let other_value = self
            .accepted
            .as_ref()
            .is_some_and(|(b, v)| *b == ballot && v != value);
        match self.promised {
            Some(promised) if promised > ballot || other_value => Err(promised),
            _ => {
                self.promised = Some(ballot);
                self.accepted = Some((ballot, value.to_vec()));
                Ok(())
            }
        }
    }
}

impl Acceptor {
    fn too_far(&self, ballot: Ballot) -> bool {
        let promised = self.promised.map_or(0, |b| b.round);
        ballot.round > promised.saturating_add(MAX_ROUND_STEP)
    }
}

/// Phase 2a's choice: the value accepted in the highest ballot among the promises, or, if none of
/// them accepted anything, the proposer's own.
pub fn value_to_propose(
    promises: &[Option<(Ballot, Vec<Contributor>)>],
    own: &[Contributor],
) -> Vec<Contributor> {
    promises
        .iter()
        .flatten()
        .max_by_key(|(ballot, _)| *ballot)
        .map_or_else(|| own.to_vec(), |(_, value)| value.clone())
}

/// What member `contributor.member` signs with its node key to endorse its own part in a value
/// for `decree`, in the federation named by `session`: a dealer its pledged contribution, a voter
/// the message its run asked to sign. Acceptors accept a value only with each of its
/// contributors' endorsements, so that no proposer, dishonest or not, names a contribution or a
/// vote its member never made.
pub fn endorsement_digest(
    session: &[u8; 32],
    decree: &[u8],
    contributor: &Contributor,
) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(b"carol-federation/agreement/v2/endorsed\0");
    hash.update(session);
    hash.update((decree.len() as u64).to_be_bytes());
    hash.update(decree);
    contributor.hash_into(&mut hash);
    hash.finalize().into()
}

/// `identity`'s endorsement of `contributor` (its own part) in a value for `decree`.
pub fn endorse(
    identity: &Identity,
    session: &[u8; 32],
    decree: &[u8],
    contributor: &Contributor,
) -> [u8; 96] {
    identity.sign(&endorsement_digest(session, decree, contributor))
}

/// Whether `signature` is the endorsement of `contributor` in a value for `decree` by the node
/// key `key` (its member's).
pub fn endorses(
    key: &G1Affine,
    session: &[u8; 32],
    decree: &[u8],
    contributor: &Contributor,
    signature: &[u8; 96],
) -> bool {
    identity::verify(
        key,
        &endorsement_digest(session, decree, contributor),
        signature,
    )
}

/// What a member signs when it accepts `value` for `decree` in `ballot`, in the federation
/// named by `session`.
pub fn acceptance_digest(
    session: &[u8; 32],
    decree: &[u8],
    ballot: Ballot,
    value: &[Contributor],
) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(b"carol-federation/agreement/v2/accepted\0");
    hash.update(session);
    hash.update((decree.len() as u64).to_be_bytes());
    hash.update(decree);
    hash.update(ballot.round.to_be_bytes());
    hash.update(ballot.proposer.to_be_bytes());
    hash.update((value.len() as u64).to_be_bytes());
    for contributor in value {
        contributor.hash_into(&mut hash);
    }
    hash.finalize().into()
}

/// A member's signed acceptance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acceptance {
    /// The member that accepted.
    pub member: u32,
    /// Its node key's signature of [`acceptance_digest`].
    pub signature: [u8; 96],
}

impl Acceptance {
    /// `identity`'s acceptance, as member `member`, of `value` for `decree` in `ballot`.
    pub fn sign(
        identity: &Identity,
        member: u32,
        session: &[u8; 32],
        decree: &[u8],
        ballot: Ballot,
        value: &[Contributor],
    ) -> Self {
        Self {
            member,
            signature: identity.sign(&acceptance_digest(session, decree, ballot, value)),
        }
    }
}

/// Proof that a value was chosen: `t` members' acceptances of it in one ballot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// What was decided.
    pub decree: Vec<u8>,
    /// The ballot in which it was.
    pub ballot: Ballot,
    /// The value chosen.
    pub value: Vec<Contributor>,
    /// The acceptances, at least the threshold of them, from distinct members.
    pub acceptances: Vec<Acceptance>,
}

/// Why a certificate proves nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// It is about another decree.
    #[error("the certificate is about another decision")]
    OtherDecree,
    /// Fewer distinct members' acceptances than the threshold.
    #[error("the certificate holds {have} distinct members' acceptances, fewer than {threshold}")]
    TooFew {
        /// Distinct members.
        have: usize,
        /// The threshold.
        threshold: usize,
    },
    /// More acceptances than members (each costs a pairing to check).
    #[error("the certificate holds {have} acceptances, more than the {members} members")]
    TooMany {
        /// Acceptances.
        have: usize,
        /// Members.
        members: usize,
    },
    /// An acceptance is not its member's.
    #[error("member {0}'s acceptance in the certificate is not signed by its node key")]
    BadSignature(u32),
}

impl Certificate {
    /// Checks that `threshold` distinct members of `members` (node keys; member `i` is
    /// `members[i - 1]`) signed their acceptance of the value for `decree` in the federation
    /// `session`.
    pub fn verify(
        &self,
        session: &[u8; 32],
        decree: &[u8],
        members: &[G1Affine],
        threshold: usize,
    ) -> Result<(), CertificateError> {
        if self.decree != decree {
            return Err(CertificateError::OtherDecree);
        }
        if self.acceptances.len() > members.len() {
            return Err(CertificateError::TooMany {
                have: self.acceptances.len(),
                members: members.len(),
            });
        }
        let digest = acceptance_digest(session, decree, self.ballot, &self.value);
        let mut distinct = BTreeMap::new();
        for acceptance in &self.acceptances {
            if distinct.contains_key(&acceptance.member) {
                continue;
            }
            let key = acceptance
                .member
                .checked_sub(1)
                .and_then(|i| members.get(i as usize))
                .ok_or(CertificateError::BadSignature(acceptance.member))?;
            if !identity::verify(key, &digest, &acceptance.signature) {
                return Err(CertificateError::BadSignature(acceptance.member));
            }
            distinct.insert(acceptance.member, ());
        }
        if distinct.len() < threshold {
            return Err(CertificateError::TooFew {
                have: distinct.len(),
                threshold,
            });
        }
        Ok(())
    }
}

/// A [`Certificate`] as JSON, signatures in hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateJson {
    /// The decree, hex.
    pub decree: String,
    /// The ballot.
    pub ballot: Ballot,
    /// The value chosen.
    pub value: Vec<Contributor>,
    /// Each acceptance: the member, and its signature in hex.
    pub acceptances: Vec<(u32, String)>,
}

impl From<&Certificate> for CertificateJson {
    fn from(certificate: &Certificate) -> Self {
        Self {
            decree: hex::encode(&certificate.decree),
            ballot: certificate.ballot,
            value: certificate.value.clone(),
            acceptances: certificate
                .acceptances
                .iter()
                .map(|a| (a.member, hex::encode(a.signature)))
                .collect(),
        }
    }
}

impl TryFrom<&CertificateJson> for Certificate {
    type Error = hex::FromHexError;

    fn try_from(json: &CertificateJson) -> Result<Self, Self::Error> {
        let acceptances = json
            .acceptances
            .iter()
            .map(|(member, signature)| {
                let mut bytes = [0u8; 96];
                hex::decode_to_slice(signature, &mut bytes)?;
                Ok(Acceptance {
                    member: *member,
                    signature: bytes,
                })
            })
            .collect::<Result<_, hex::FromHexError>>()?;
        Ok(Self {
            decree: hex::decode(&json.decree)?,
            ballot: json.ballot,
            value: json.value.clone(),
            acceptances,
        })
    }
}

#[cfg(test)]
mod tests;
