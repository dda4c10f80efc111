//! The members' agreements ([`carol_federation::agreement`]) over HTTP: this member as an
//! acceptor, its record of each decree kept in the store before it answers (`POST
//! /federation/agreement`, `GET /federation/decided/{decree}`), and as a proposer.
//!
//! Requests are signed by the proposing member's node key, so that nobody but a member moves an
//! acceptor; acceptances are signed by the acceptor's, so that `t` of them make a certificate.

mod messages;
mod propose;

pub use messages::{
    Ask, Endorsed, Justification, Record, Reply, SignedPromise, ask_digest, justified,
    one_justification, promise_digest,
};

use super::Member;
use crate::store::StoreError;
use carol_federation::agreement::{
    Acceptance, Acceptor, Ballot, Certificate, CertificateError, CertificateJson, Contributor,
};
use sha2::{Digest, Sha256};

/// How deep the justifications of an acceptance may nest: each level is a ballot in which a
/// value accepted before was proposed again. Honest proposers that race add a level now and then;
/// deeper is refused before anything is kept (the decree then waits for a proposer with
/// shallower promises). Each level nests JSON three deep, and a record, a request and a reply
/// must stay within serde_json's 128 levels, or members could not read them.
pub const MAX_JUSTIFICATION_DEPTH: usize = 32;
/// How many proven acceptances a member remembers; past it, it forgets them all.
const PROVEN_REMEMBERED: usize = 10_000;

/// What every decree on the one message a committed nonce signs starts with
/// (`super::votes::use_decree`).
pub(super) const USE_PREFIX: &[u8] = b"nonce-use/secp256k1/";

/// What every decree names: its prefix, and for a nonce's use whether every vote must be for one
/// message.
const DECREE_PREFIXES: [&[u8]; 4] = [
    carol_federation::machine_key::DECREE_PREFIX,
    carol_federation::machine_key::SECP256K1_DECREE_PREFIX,
    carol_federation::machine_key::NONCE_DECREE_PREFIX,
    USE_PREFIX,
];

/// Why an agreement could not be taken part in or reached.
#[derive(Debug, thiserror::Error)]
pub enum AgreementError {
    /// The request is not a member's.
    #[error("the request is not signed by the node key of member {0}")]
    NotAMember(u32),
    /// The value names no workable set of members.
    #[error(
        "the value proposed is not at least {threshold} distinct members' contributions, in \
         order of member (for a nonce's use, votes for one message)"
    )]
    BadValue {
        /// The threshold.
        threshold: usize,
    },
    /// A certificate proves nothing.
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    /// A contributor's endorsement is missing or not its own.
    #[error(
        "the value proposed names member {0}'s contribution or vote without its node key's \
         endorsement of it: a proposer names only what members endorsed"
    )]
    Unendorsed(u32),
    /// Text that should be hex is not.
    #[error("the request's hex is not valid")]
    Hex,
    /// An acceptance asked for without the promises that justify its value.
    #[error(
        "the value asked to accept is not justified by {threshold} members' signed promises of its \
         ballot (the value accepted in the highest ballot among them, if any)"
    )]
    Unjustified {
        /// The threshold.
        threshold: usize,
    },
    /// The decree is none a member decides.
    #[error("the decree names nothing the members decide")]
    UnknownDecree,
    /// The record could not be read or kept.
    #[error("the record of the agreement cannot be kept: {0}")]
    Store(#[from] StoreError),
    /// Too few members took part in time.
    #[error(
        "only {reached} of the {threshold} members needed took part in the agreement in time \
         (members down or unreachable)"
    )]
    TooFew {
        /// How many did.
        reached: usize,
        /// The threshold.
        threshold: usize,
    },
    /// The record in the store is not one this node wrote.
    #[error(
        "the record of an agreement in the database is damaged, or was written by a development \
         version of Carol before 2026-12-02 (whose records of machines' keys are not read); restore \
         the database from a backup, or form the federation anew"
    )]
    Damaged,
    /// The decree is of a machine's key a resharing carried over: it is never made again.
    #[error(
        "machine {0}'s own key was carried over from the previous federation: no member makes \
         it again"
    )]
    Carried(carol_core::ids::MachineId),
    /// This node is no member of the federation (it leaves in a resharing).
    #[error("this node is no member of the federation: it takes part in no agreement")]
    NoMember,
}

impl Member {
    /// This member's record of `decree`.
    pub fn record(&self, decree: &[u8]) -> Result<Record, AgreementError> {
        match self.store.agreement(&self.record_key(decree))? {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|_| AgreementError::Damaged),
            None => Ok(Record::default()),
        }
    }

    /// Where the record of `decree` is kept: under the federation's session, so that another
    /// federation of the same node (after a resharing) decides afresh.
    fn record_key(&self, decree: &[u8]) -> Vec<u8> {
        [self.session().as_slice(), decree].concat()
    }

    /// Changes this member's record of `decree` with `change`, and keeps it, one change at a
    /// time: an acceptor must never lose a promise to a concurrent write. Writes to the store.
    pub fn update_record<R>(
        &self,
        decree: &[u8],
        change: impl FnOnce(&mut Record) -> R,
    ) -> Result<R, AgreementError> {
        let _one_at_a_time = self.acceptor.lock().expect("acceptor lock");
        let mut record = self.record(decree)?;
        let changed = change(&mut record);
        let bytes = serde_json::to_vec(&record).expect("JSON");
        self.store.put_agreement(&self.record_key(decree), &bytes)?;
        Ok(changed)
    }

    /// The decision on `decree`, if this member knows it.
    pub fn decided(&self, decree: &[u8]) -> Option<CertificateJson> {
        self.record(decree).ok()?.certificate
    }

    /// Answers `ask` as an acceptor, keeping what it promised or accepted before it answers.
    /// Writes to the store: call it off the async executor.
    pub fn answer(&self, ask: &Ask) -> Result<Reply, AgreementError> {
        let me = self.index.ok_or(AgreementError::NoMember)?;
        let (decree, ballot, value, endorsements, proof, promises) = match ask {
            Ask::Decided { certificate } => {
                let decree = hex::decode(&certificate.decree).map_err(|_| AgreementError::Hex)?;
                self.take_certificate(&decree, certificate)?;
                return Ok(Reply::Taken);
            }
            Ask::Prepare {
                decree,
                ballot,
                proof,
            } => (decree, *ballot, None, &[][..], proof, Vec::new()),
            Ask::Accept {
                decree,
                ballot,
                value,
                endorsements,
                promises,
                proof,
            } => (
                decree,
                *ballot,
                Some(value.as_slice()),
                endorsements.as_slice(),
                proof,
                {
                    // Taken as an honest proposer passes them on, whatever was sent.
                    let mut promises = promises.clone();
                    messages::one_justification(&mut promises);
                    promises
                },
            ),
        };
        let promises = promises.as_slice();
        let decree = hex::decode(decree).map_err(|_| AgreementError::Hex)?;
        self.refuse_carried(&decree)?;
        let phase = if value.is_some() { "accept" } else { "prepare" };
        self.check_proof(&decree, phase, ballot, value.unwrap_or_default(), proof)?;
        if let Some(value) = value {
            self.check_value(&decree, value)?;
            self.check_endorsements(&decree, value, endorsements)?;
            self.check_promises(&decree, ballot, value, promises, 0)?;
        }
        let outcome = self.update_record(&decree, |record| {
            let mut acceptor = Acceptor {
                promised: record.promised,
                accepted: record.accepted.take(),
            };
            let outcome = match value {
                Some(value) => acceptor.accept(ballot, value).map(|()| None),
                None => acceptor.prepare(ballot).map(Some),
            };
            if value.is_some() && outcome.is_ok() {
                record.justification = Some(Justification {
                    endorsements: endorsements.to_vec(),
                    promises: promises.to_vec(),
                    proof: proof.clone(),
                });
            }
            (record.promised, record.accepted) = (acceptor.promised, acceptor.accepted);
            let justification = record.justification.clone();
            outcome.map(|accepted| accepted.map(|a| (a, justification)))
        })?;
        Ok(match outcome {
            Err(promised) => Reply::Refused { promised },
            Ok(Some((accepted, justification))) => {
                let digest = promise_digest(self.session(), &decree, ballot, accepted.as_ref());
                Reply::Promise {
                    justification: justification.filter(|_| accepted.is_some()),
                    accepted,
                    signature: hex::encode(self.identity.sign(&digest)),
                }
            }
            Ok(None) => {
                let value = value.unwrap_or_default();
                let acceptance =
                    Acceptance::sign(&self.identity, me, self.session(), &decree, ballot, value);
                Reply::Accepted {
                    member: me,
                    signature: hex::encode(acceptance.signature),
                }
            }
        })
    }

    /// Refuses a decree on a machine's key carried over by the resharing that made this
    /// federation: one machine, one key.
    fn refuse_carried(&self, decree: &[u8]) -> Result<(), AgreementError> {
        let machine = carol_federation::machine_key::decreed_machine(decree)
            .map(carol_core::ids::MachineId::from_bytes);
        match machine {
            Some(machine) if self.is_carried(&machine) => Err(AgreementError::Carried(machine)),
            _ => Ok(()),
        }
    }

    /// Checks `certificate` of `decree` and keeps it.
    fn take_certificate(
        &self,
        decree: &[u8],
        certificate: &CertificateJson,
    ) -> Result<Certificate, AgreementError> {
        self.refuse_carried(decree)?;
        let checked = Certificate::try_from(certificate).map_err(|_| AgreementError::Hex)?;
        checked.verify(
            self.session(),
            decree,
            &self.group.members,
            self.file.threshold,
        )?;
        self.check_value(decree, &checked.value)?;
        self.update_record(decree, |record| {
            record
                .certificate
                .get_or_insert_with(|| certificate.clone());
        })?;
        Ok(checked)
    }

    fn check_proof(
        &self,
        decree: &[u8],
        phase: &str,
        ballot: Ballot,
        value: &[Contributor],
        proof: &str,
    ) -> Result<(), AgreementError> {
        let from = ballot.proposer;
        let mut signature = [0u8; 96];
        hex::decode_to_slice(proof, &mut signature).map_err(|_| AgreementError::Hex)?;
        let key = self
            .group
            .member(from)
            .ok_or(AgreementError::NotAMember(from))?;
        let digest = ask_digest(self.session(), decree, phase, ballot, value);
        match carol_federation::identity::verify(key, &digest, &signature) {
            true => Ok(()),
            false => Err(AgreementError::NotAMember(from)),
        }
    }

    /// Whether `justification` proves an acceptance of `value` in `ballot` on `decree`: the
    /// ballot's proposer asked for it, its contributors endorsed it, and its promises justify it,
    /// `depth` levels down from the request being answered.
    pub(super) fn check_justified(
        &self,
        decree: &[u8],
        ballot: Ballot,
        value: &[Contributor],
        justification: &Justification,
        depth: usize,
    ) -> Result<(), AgreementError> {
        let threshold = self.file.threshold;
        if depth > MAX_JUSTIFICATION_DEPTH {
            return Err(AgreementError::Unjustified { threshold });
        }
        // A justification proves the acceptance once checked: each is checked once. The same
        // acceptance with another justification is checked again, for it is what a member
        // passes on and keeps.
        let proven: [u8; 32] = Sha256::new()
            .chain_update(ask_digest(self.session(), decree, "proven", ballot, value))
            .chain_update(serde_json::to_vec(justification).expect("JSON"))
            .finalize()
            .into();
        if self.proven.lock().expect("proven lock").contains(&proven) {
            return Ok(());
        }
        self.check_proof(decree, "accept", ballot, value, &justification.proof)?;
        self.check_value(decree, value)?;
        self.check_endorsements(decree, value, &justification.endorsements)?;
        self.check_promises(decree, ballot, value, &justification.promises, depth)?;
        let mut remembered = self.proven.lock().expect("proven lock");
        if remembered.len() >= PROVEN_REMEMBERED {
            remembered.clear();
        }
        remembered.insert(proven);
        Ok(())
    }

    /// Whether `promises` justify accepting `value` in `ballot` (Paxos phase 2a, with proofs):
    /// the threshold of distinct members' signed promises of that ballot, and `value` the one
    /// accepted in the highest ballot among them, if any was, and only one was, each such
    /// acceptance proved by its justification. Without this, a dishonest member could skip the
    /// first phase, or claim an acceptance it never made, and have a second value accepted
    /// after a decision.
    fn check_promises(
        &self,
        decree: &[u8],
        ballot: Ballot,
        value: &[Contributor],
        promises: &[SignedPromise],
        depth: usize,
    ) -> Result<(), AgreementError> {
        let threshold = self.file.threshold;
        // One promise per member at most: each costs a pairing to check.
        if promises.len() > self.group.members.len() {
            return Err(AgreementError::Unjustified { threshold });
        }
        let mut members = std::collections::BTreeSet::new();
        let mut counted = Vec::with_capacity(promises.len());
        for promise in promises {
            let digest = promise_digest(self.session(), decree, ballot, promise.accepted.as_ref());
            let signed = self.signed_by(promise.member, &digest, &promise.signature);
            if signed && members.insert(promise.member) {
                counted.push(promise);
            }
        }
        let accepted: Vec<_> = counted.iter().map(|p| p.accepted.clone()).collect();
        // Two values accepted in one ballot (its proposer told acceptors different things): the
        // promises justify neither, whichever comes last.
        let highest = accepted.iter().flatten().map(|(ballot, _)| *ballot).max();
        let mut at_highest = accepted
            .iter()
            .flatten()
            .filter(|(b, _)| Some(*b) == highest);
        let first = at_highest.next().map(|(_, value)| value);
        let one_value = at_highest.all(|(_, value)| Some(value) == first);
        // The acceptance that decides the value must be proved: one proof of it is enough (every
        // claim at that ballot names the same value), and only the one an honest proposer keeps
        // is looked at, so that nested justifications are checked once per level, never as a
        // tree.
        let proved = || {
            let Some(promise) = messages::justified(promises).map(|i| &promises[i]) else {
                return false;
            };
            match (&promise.accepted, &promise.justification) {
                (Some((b, v)), Some(justification)) if counted.contains(&promise) => self
                    .check_justified(decree, *b, v, justification, depth + 1)
                    .is_ok(),
                _ => false,
            }
        };
        let justified = members.len() >= threshold
            && one_value
            && carol_federation::agreement::value_to_propose(&accepted, value) == value
            && (highest.is_none() || proved());
        match justified {
            true => Ok(()),
            false => Err(AgreementError::Unjustified { threshold }),
        }
    }

    /// Whether `endorsements` hold, in order, each contributor's own endorsement of its part in
    /// `value` for `decree`. Costs a pairing per contributor.
    pub(super) fn check_endorsements(
        &self,
        decree: &[u8],
        value: &[Contributor],
        endorsements: &[String],
    ) -> Result<(), AgreementError> {
        if endorsements.len() != value.len() {
            let missing = value.get(endorsements.len()).or(value.last());
            return Err(AgreementError::Unendorsed(missing.map_or(0, |c| c.member)));
        }
        for (at, contributor) in value.iter().enumerate() {
            let mut signature = [0u8; 96];
            let endorsed = endorsements
                .get(at)
                .is_some_and(|e| hex::decode_to_slice(e, &mut signature).is_ok())
                && self.group.member(contributor.member).is_some_and(|key| {
                    carol_federation::agreement::endorses(
                        key,
                        self.session(),
                        decree,
                        contributor,
                        &signature,
                    )
                });
            if !endorsed {
                return Err(AgreementError::Unendorsed(contributor.member));
            }
        }
        Ok(())
    }

    /// A value is the contributions of at least the threshold of distinct members, in
    /// increasing order of member, on a decree the members decide; on a nonce's use, votes for
    /// one message (a value of votes for several would leave the nonce unable to sign any).
    fn check_value(&self, decree: &[u8], value: &[Contributor]) -> Result<(), AgreementError> {
        if !DECREE_PREFIXES.iter().any(|p| decree.starts_with(p)) {
            return Err(AgreementError::UnknownDecree);
        }
        let one_message =
            !decree.starts_with(USE_PREFIX) || value.windows(2).all(|w| w[0].digest == w[1].digest);
        let ordered = value.windows(2).all(|w| w[0].member < w[1].member);
        let members = value.iter().all(|c| self.group.member(c.member).is_some());
        match one_message && ordered && members && value.len() >= self.file.threshold {
            true => Ok(()),
            false => Err(AgreementError::BadValue {
                threshold: self.file.threshold,
            }),
        }
    }
}
