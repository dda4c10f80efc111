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
//! and `2t - n > f`, two certificates still cannot exist.

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

/// What one acceptor keeps about one decree; it must be kept durably before any answer leaves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acceptor {
    /// The highest ballot it promised to answer.
    pub promised: Option<Ballot>,
    /// The last value it accepted, and in which ballot.
    pub accepted: Option<(Ballot, Vec<u32>)>,
}

impl Acceptor {
    /// Phase 1b: promises to accept nothing below `ballot`, and returns what it accepted last;
    /// `Err` with the ballot it promised instead, if that is higher.
    pub fn prepare(&mut self, ballot: Ballot) -> Result<Option<(Ballot, Vec<u32>)>, Ballot> {
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
    pub fn accept(&mut self, ballot: Ballot, value: &[u32]) -> Result<(), Ballot> {
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
pub fn value_to_propose(promises: &[Option<(Ballot, Vec<u32>)>], own: &[u32]) -> Vec<u32> {
    promises
        .iter()
        .flatten()
        .max_by_key(|(ballot, _)| *ballot)
        .map_or_else(|| own.to_vec(), |(_, value)| value.clone())
}

/// What a member signs when it accepts `value` for `decree` in `ballot`, in the federation
/// named by `session`.
pub fn acceptance_digest(
    session: &[u8; 32],
    decree: &[u8],
    ballot: Ballot,
    value: &[u32],
) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(b"carol-federation/agreement/v1/accepted\0");
    hash.update(session);
    hash.update((decree.len() as u64).to_be_bytes());
    hash.update(decree);
    hash.update(ballot.round.to_be_bytes());
    hash.update(ballot.proposer.to_be_bytes());
    hash.update((value.len() as u64).to_be_bytes());
    for member in value {
        hash.update(member.to_be_bytes());
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
        value: &[u32],
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
    pub value: Vec<u32>,
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
        let digest = acceptance_digest(session, decree, self.ballot, &self.value);
        let mut distinct = BTreeMap::new();
        for acceptance in &self.acceptances {
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
    pub value: Vec<u32>,
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
mod tests {
    use super::*;
    use carol_core::bls::SecretKey;

    const SESSION: [u8; 32] = [3; 32];
    const DECREE: &[u8] = b"machine-key/bls/m";

    /// `n` acceptors, and one proposer's attempt on those of `reach`: promises from a majority,
    /// then acceptances. The value it got chosen, if it did.
    fn attempt(
        acceptors: &mut [Acceptor],
        reach: &[usize],
        ballot: Ballot,
        own: &[u32],
        threshold: usize,
    ) -> Option<Vec<u32>> {
        let promises: Vec<_> = reach
            .iter()
            .filter_map(|&i| acceptors[i].prepare(ballot).ok())
            .collect();
        if promises.len() < threshold {
            return None;
        }
        let value = value_to_propose(&promises, own);
        let accepted = reach
            .iter()
            .filter(|&&i| acceptors[i].accept(ballot, &value).is_ok())
            .count();
        (accepted >= threshold).then_some(value)
    }

    #[test]
    fn once_a_value_is_chosen_every_later_proposal_chooses_it_again() {
        let mut acceptors = vec![Acceptor::default(); 5];
        let first = attempt(
            &mut acceptors,
            &[0, 1, 2],
            Ballot::above(None, 1),
            &[1, 2, 3],
            3,
        );
        assert_eq!(first, Some(vec![1, 2, 3]));
        // A proposer that reaches only two of the acceptors that accepted, and wants another
        // value, proposes the chosen one.
        let seen = acceptors[2].promised;
        let second = attempt(
            &mut acceptors,
            &[2, 3, 4],
            Ballot::above(seen, 4),
            &[3, 4, 5],
            3,
        );
        assert_eq!(second, Some(vec![1, 2, 3]));
        let seen = acceptors[3].promised;
        let third = attempt(
            &mut acceptors,
            &[0, 3, 4],
            Ballot::above(seen, 5),
            &[4, 5, 1],
            3,
        );
        assert_eq!(third, Some(vec![1, 2, 3]));
    }

    #[test]
    fn a_promise_to_a_higher_ballot_refuses_lower_ones_and_dueling_proposers_settle() {
        let mut acceptor = Acceptor::default();
        let low = Ballot {
            round: 1,
            proposer: 1,
        };
        let high = Ballot {
            round: 1,
            proposer: 2,
        };
        assert_eq!(acceptor.prepare(high), Ok(None));
        assert_eq!(acceptor.prepare(low), Err(high));
        assert_eq!(acceptor.accept(low, &[1, 2]), Err(high));
        assert_eq!(acceptor.accept(high, &[2, 3]), Ok(()));
        assert_eq!(
            acceptor.prepare(Ballot::above(Some(high), 1)),
            Ok(Some((high, vec![2, 3])))
        );
        assert!(Ballot::above(Some(high), 1) > high);
        // Another value in the very ballot it accepted in is refused; a round far above its
        // promise too, and the last round does not wrap.
        let mut once = Acceptor::default();
        assert_eq!(once.accept(high, &[1, 2]), Ok(()));
        assert_eq!(once.accept(high, &[2, 3]), Err(high));
        assert_eq!(once.accept(high, &[1, 2]), Ok(()));
        let far = Ballot {
            round: 3 + MAX_ROUND_STEP,
            proposer: 1,
        };
        assert!(acceptor.prepare(far).is_err() && acceptor.accept(far, &[2, 3]).is_err());
        let last = Ballot {
            round: u64::MAX,
            proposer: 5,
        };
        assert_eq!(Ballot::above(Some(last), 1).round, u64::MAX);
        assert!(Ballot::above(Some(high), 3) > high);

        // Two proposers whose proposals interleave: neither's first attempt is chosen, the one
        // that retries above the other's ballot is, and nothing else ever is.
        let mut acceptors = vec![Acceptor::default(); 3];
        let a = Ballot::above(None, 1);
        let b = Ballot::above(None, 2);
        for acceptor in &mut acceptors {
            acceptor.prepare(a).unwrap();
        }
        for acceptor in &mut acceptors {
            acceptor.prepare(b).unwrap();
        }
        assert!(acceptors.iter_mut().all(|x| x.accept(a, &[1, 2]).is_err()));
        let retry = Ballot::above(acceptors[0].promised, 1);
        assert_eq!(
            attempt(&mut acceptors, &[0, 1, 2], retry, &[1, 2], 2),
            Some(vec![1, 2])
        );
        let late = Ballot::above(acceptors[0].promised, 2);
        assert_eq!(
            attempt(&mut acceptors, &[1, 2], late, &[2, 3], 2),
            Some(vec![1, 2])
        );
    }

    #[test]
    fn a_certificate_needs_the_threshold_of_members_own_acceptances() {
        let keys: Vec<SecretKey> = (0..3).map(|_| SecretKey::generate()).collect();
        let members: Vec<G1Affine> = keys
            .iter()
            .map(|k| identity::node_point(&k.public_key()))
            .collect();
        let ballot = Ballot {
            round: 2,
            proposer: 3,
        };
        let value = vec![1, 3];
        let accept = |i: usize| {
            Acceptance::sign(
                &Identity::new(&keys[i]),
                i as u32 + 1,
                &SESSION,
                DECREE,
                ballot,
                &value,
            )
        };
        let mut certificate = Certificate {
            decree: DECREE.to_vec(),
            ballot,
            value: value.clone(),
            acceptances: vec![accept(0), accept(2)],
        };
        assert_eq!(certificate.verify(&SESSION, DECREE, &members, 2), Ok(()));
        let json = CertificateJson::from(&certificate);
        assert_eq!(Certificate::try_from(&json), Ok(certificate.clone()));
        assert_eq!(
            certificate.verify(&SESSION, b"machine-key/bls/other", &members, 2),
            Err(CertificateError::OtherDecree)
        );
        assert_eq!(
            certificate.verify(&[4; 32], DECREE, &members, 2),
            Err(CertificateError::BadSignature(1))
        );
        certificate.acceptances[1] = accept(0);
        assert_eq!(
            certificate.verify(&SESSION, DECREE, &members, 2),
            Err(CertificateError::TooFew {
                have: 1,
                threshold: 2
            })
        );
        // An acceptance moved to another value or member does not verify.
        certificate.acceptances[1] = Acceptance {
            member: 2,
            ..accept(2)
        };
        assert_eq!(
            certificate.verify(&SESSION, DECREE, &members, 2),
            Err(CertificateError::BadSignature(2))
        );
        certificate.acceptances[1] = accept(2);
        certificate.value = vec![1, 2];
        assert!(certificate.verify(&SESSION, DECREE, &members, 2).is_err());
    }
}
