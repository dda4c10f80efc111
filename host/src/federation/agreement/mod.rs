//! The members' agreements ([`carol_federation::agreement`]) over HTTP: this member as an
//! acceptor, its record of each decree kept in the store before it answers (`POST
//! /federation/agreement`, `GET /federation/decided/{decree}`), and as a proposer.
//!
//! Requests are signed by the proposing member's node key, so that nobody but a member moves an
//! acceptor; acceptances are signed by the acceptor's, so that `t` of them make a certificate.

mod messages;
mod propose;

pub use messages::{Ask, Endorsed, Record, Reply, SignedPromise, ask_digest, promise_digest};

use super::Member;
use crate::store::StoreError;
use carol_federation::agreement::{
    Acceptance, Acceptor, Ballot, Certificate, CertificateError, CertificateJson, Contributor,
};

/// Why an agreement could not be taken part in or reached.
#[derive(Debug, thiserror::Error)]
pub enum AgreementError {
    /// The request is not a member's.
    #[error("the request is not signed by the node key of member {0}")]
    NotAMember(u32),
    /// The value names no workable set of members.
    #[error(
        "the value proposed is not at least {threshold} distinct members' contributions, in \
         order of member"
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
            } => (decree, *ballot, None, &[][..], proof, &[][..]),
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
                promises.as_slice(),
            ),
        };
        let decree = hex::decode(decree).map_err(|_| AgreementError::Hex)?;
        self.refuse_carried(&decree)?;
        let phase = if value.is_some() { "accept" } else { "prepare" };
        self.check_proof(&decree, phase, ballot, value.unwrap_or_default(), proof)?;
        if let Some(value) = value {
            self.check_value(value)?;
            self.check_endorsements(&decree, value, endorsements)?;
            self.check_promises(&decree, ballot, value, promises)?;
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
                record.endorsements = endorsements.to_vec();
            }
            (record.promised, record.accepted) = (acceptor.promised, acceptor.accepted);
            outcome.map(|accepted| accepted.map(|a| (a, record.endorsements.clone())))
        })?;
        Ok(match outcome {
            Err(promised) => Reply::Refused { promised },
            Ok(Some((accepted, endorsements))) => {
                let digest = promise_digest(self.session(), &decree, ballot, accepted.as_ref());
                Reply::Promise {
                    endorsements: match accepted {
                        Some(_) => endorsements,
                        None => Vec::new(),
                    },
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
        self.check_value(&checked.value)?;
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

    /// Whether `promises` justify accepting `value` in `ballot` (Paxos phase 2a, with proofs):
    /// the threshold of distinct members' signed promises of that ballot, and `value` the one
    /// accepted in the highest ballot among them, if any was, and only one was. Without this, a dishonest member
    /// could skip the first phase and have a second value accepted after a decision.
    fn check_promises(
        &self,
        decree: &[u8],
        ballot: Ballot,
        value: &[Contributor],
        promises: &[SignedPromise],
    ) -> Result<(), AgreementError> {
        let threshold = self.file.threshold;
        // One promise per member at most: each costs a pairing to check.
        if promises.len() > self.group.members.len() {
            return Err(AgreementError::Unjustified { threshold });
        }
        let mut members = std::collections::BTreeSet::new();
        let mut accepted = Vec::with_capacity(promises.len());
        for promise in promises {
            let digest = promise_digest(self.session(), decree, ballot, promise.accepted.as_ref());
            let signed = self.signed_by(promise.member, &digest, &promise.signature);
            if signed && members.insert(promise.member) {
                accepted.push(promise.accepted.clone());
            }
        }
        // Two values accepted in one ballot (its proposer told acceptors different things): the
        // promises justify neither, whichever comes last.
        let highest = accepted.iter().flatten().map(|(ballot, _)| *ballot).max();
        let mut at_highest = accepted
            .iter()
            .flatten()
            .filter(|(b, _)| Some(*b) == highest);
        let first = at_highest.next().map(|(_, value)| value);
        let one_value = at_highest.all(|(_, value)| Some(value) == first);
        let justified = members.len() >= threshold
            && one_value
            && carol_federation::agreement::value_to_propose(&accepted, value) == value;
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
        match endorsements.len() == value.len() {
            true => Ok(()),
            false => Err(AgreementError::BadValue {
                threshold: self.file.threshold,
            }),
        }
    }

    /// A value is the contributions of at least the threshold of distinct members, in
    /// increasing order of member.
    fn check_value(&self, value: &[Contributor]) -> Result<(), AgreementError> {
        let ordered = value.windows(2).all(|w| w[0].member < w[1].member);
        let members = value.iter().all(|c| self.group.member(c.member).is_some());
        match ordered && members && value.len() >= self.file.threshold {
            true => Ok(()),
            false => Err(AgreementError::BadValue {
                threshold: self.file.threshold,
            }),
        }
    }
}
