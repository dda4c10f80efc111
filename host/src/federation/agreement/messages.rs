//! The agreement's messages between members, and what a member keeps.

use carol_federation::agreement::{Ballot, CertificateJson, Contributor};
use carol_federation::machine_key::MachineDealJson;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a member keeps about one decree.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Record {
    /// Its acceptor's promise.
    pub promised: Option<Ballot>,
    /// Its acceptor's last acceptance.
    pub accepted: Option<(Ballot, Vec<Contributor>)>,
    /// What justified the value it accepted last: the request to accept it, which its promises
    /// carry on (a proposer that must propose that value again proves it with it).
    #[serde(default)]
    pub justification: Option<Justification>,
    /// The decision, once this member knows it.
    pub certificate: Option<CertificateJson>,
    /// For a machine's key: the contributors' bundles, so that the share is made again without
    /// asking them (all public).
    #[serde(default)]
    pub bundles: Vec<MachineDealJson>,
}

/// A request to an acceptor (`POST /federation/agreement`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case", deny_unknown_fields)]
pub enum Ask {
    /// Phase 1a.
    Prepare {
        /// The decree, hex.
        decree: String,
        /// The ballot.
        ballot: Ballot,
        /// The proposer's node key's signature of [`ask_digest`], hex.
        proof: String,
    },
    /// Phase 2a.
    Accept {
        /// The decree, hex.
        decree: String,
        /// The ballot.
        ballot: Ballot,
        /// The value.
        value: Vec<Contributor>,
        /// Each contributor's endorsement of its part in the value, in the value's order
        /// ([`Endorsed`]).
        endorsements: Vec<String>,
        /// The threshold of signed promises of this ballot the proposer holds, which justify the
        /// value: the one accepted in the highest ballot among them, if any was, each such
        /// acceptance with its own [`Justification`].
        promises: Vec<SignedPromise>,
        /// The proposer's node key's signature of [`ask_digest`], hex.
        proof: String,
    },
    /// The decision, for a member that does not know it yet.
    Decided {
        /// Its certificate.
        certificate: CertificateJson,
    },
}

/// An acceptor's promise of a ballot, as a proposer passes it on in its request to accept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedPromise {
    /// The acceptor.
    pub member: u32,
    /// What it had accepted last.
    pub accepted: Option<(Ballot, Vec<Contributor>)>,
    /// Its node key's signature of [`promise_digest`], hex.
    pub signature: String,
    /// What justified that acceptance: needed for the acceptance in the highest ballot among a
    /// request's promises, which decides the value (a signature alone would let a dishonest
    /// acceptor claim an acceptance it never made, and so have a second value decided).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<Box<Justification>>,
}

/// The request to accept a value in a ballot, but for what the acceptance names (the decree,
/// the ballot and the value): the proposer's signature, the contributors' endorsements, and the
/// promises that justified the value, each checked again by whoever relies on the acceptance
/// (Castro and Liskov's and Lamport's Byzantine Paxos prove each phase with the one before the
/// same way). Its promises' justifications nest: each proves the acceptance in the highest
/// ballot among them, down to a ballot in which no value had been accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Justification {
    /// The contributors' endorsements of the value.
    pub endorsements: Vec<String>,
    /// The promises of the ballot that justified the value.
    pub promises: Vec<SignedPromise>,
    /// The proposer's node key's signature of [`ask_digest`] of the acceptance, hex.
    pub proof: String,
}

/// What an acceptor answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case", deny_unknown_fields)]
pub enum Reply {
    /// Phase 1b: it promised; what it accepted last, signed (so that no one between the
    /// members can make a proposer believe an acceptor accepted nothing).
    Promise {
        /// Its last acceptance.
        accepted: Option<(Ballot, Vec<Contributor>)>,
        /// What justified that acceptance, which a proposer that must propose that value again
        /// passes on.
        #[serde(default)]
        justification: Option<Justification>,
        /// Its node key's signature of [`promise_digest`], hex.
        signature: String,
    },
    /// Phase 2b: it accepted, signed.
    Accepted {
        /// The acceptor.
        member: u32,
        /// Its signature, hex.
        signature: String,
    },
    /// It promised a higher ballot.
    Refused {
        /// That ballot.
        promised: Ballot,
    },
    /// It took the decision in.
    Taken,
}

/// A value with each contributor's endorsement of its own part in it
/// ([`carol_federation::agreement::endorsement_digest`], its node key's signature, hex), in the
/// same order: every acceptor checks them before it accepts, so that a value names only
/// contributions and votes their members made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endorsed {
    /// The contributors, in increasing order of member.
    pub value: Vec<Contributor>,
    /// Their endorsements.
    pub endorsements: Vec<String>,
}

impl Endorsed {
    /// The value of `parts` (contributors and their endorsements), ordered by member.
    pub fn new(mut parts: Vec<(Contributor, String)>) -> Self {
        parts.sort();
        parts.dedup_by_key(|(c, _)| c.member);
        let (value, endorsements) = parts.into_iter().unzip();
        Self {
            value,
            endorsements,
        }
    }
}

/// What a proposer signs to ask `phase` of `ballot` (with `value` for an acceptance).
pub fn ask_digest(
    session: &[u8; 32],
    decree: &[u8],
    phase: &str,
    ballot: Ballot,
    value: &[Contributor],
) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(b"carol-federation/agreement/v2/ask\0");
    hash.update(session);
    for part in [decree, phase.as_bytes()] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.update(ballot.round.to_be_bytes());
    hash.update(ballot.proposer.to_be_bytes());
    for contributor in value {
        contributor.hash_into(&mut hash);
    }
    hash.finalize().into()
}

/// Keeps the justification of the first of `promises` that claims an acceptance in the highest
/// ballot any of them claims, and drops every other: that one is all an acceptor checks (every
/// claim at that ballot names the same value, or the promises justify nothing). Proposers pass
/// promises on this way and acceptors take them this way, so a justification grows by one
/// ballot's promises per ballot, and no proposer can make an acceptor check or keep a tree of
/// them. Returns the index of the promise whose justification is kept.
pub fn one_justification(promises: &mut [SignedPromise]) -> Option<usize> {
    let kept = justified(promises);
    for (i, promise) in promises.iter_mut().enumerate() {
        if Some(i) != kept {
            promise.justification = None;
        }
    }
    kept
}

/// The index of the promise whose justification [`one_justification`] keeps.
pub fn justified(promises: &[SignedPromise]) -> Option<usize> {
    let highest = promises
        .iter()
        .filter_map(|p| p.accepted.as_ref().map(|(ballot, _)| *ballot))
        .max()?;
    promises.iter().position(|p| {
        p.justification.is_some() && p.accepted.as_ref().map(|(b, _)| *b) == Some(highest)
    })
}

/// What an acceptor signs when it promises `ballot` on `decree`, having accepted `accepted`.
pub fn promise_digest(
    session: &[u8; 32],
    decree: &[u8],
    ballot: Ballot,
    accepted: Option<&(Ballot, Vec<Contributor>)>,
) -> [u8; 32] {
    let (accepted_ballot, value) = match accepted {
        Some((b, v)) => (Some(*b), v.as_slice()),
        None => (None, &[][..]),
    };
    let mut digest = ask_digest(session, decree, "promise", ballot, value).to_vec();
    if let Some(b) = accepted_ballot {
        digest.extend_from_slice(&b.round.to_be_bytes());
        digest.extend_from_slice(&b.proposer.to_be_bytes());
    }
    Sha256::digest(&digest).into()
}
