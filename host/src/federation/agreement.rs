//! The members' agreements ([`carol_federation::agreement`]) over HTTP: this member as an
//! acceptor, its record of each decree kept in the store before it answers (`POST
//! /federation/agreement`, `GET /federation/decided/{decree}`), and as a proposer.
//!
//! Requests are signed by the proposing member's node key, so that nobody but a member moves an
//! acceptor; acceptances are signed by the acceptor's, so that `t` of them make a certificate.

use super::Member;
use super::peers::Answer;
use crate::bindings::carol::machine::http_fetch::Method;
use crate::store::StoreError;
use carol_federation::agreement::{
    Acceptance, Acceptor, Ballot, Certificate, CertificateError, CertificateJson, value_to_propose,
};
use carol_federation::wire::DealJson;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;
use tokio::time::Instant;

/// Why an agreement could not be taken part in or reached.
#[derive(Debug, thiserror::Error)]
pub enum AgreementError {
    /// The request is not a member's.
    #[error("the request is not signed by the node key of member {0}")]
    NotAMember(u32),
    /// The value names no workable set of members.
    #[error("the value proposed is not at least {threshold} distinct members, in order")]
    BadValue {
        /// The threshold.
        threshold: usize,
    },
    /// A certificate proves nothing.
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    /// Text that should be hex is not.
    #[error("the request's hex is not valid")]
    Hex,
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
        "the record of an agreement in the database is damaged; restore the database from a backup"
    )]
    Damaged,
    /// This node is no member of the federation (it leaves in a resharing).
    #[error("this node is no member of the federation: it takes part in no agreement")]
    NoMember,
}

/// What a member keeps about one decree.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Record {
    /// Its acceptor's promise.
    pub promised: Option<Ballot>,
    /// Its acceptor's last acceptance.
    pub accepted: Option<(Ballot, Vec<u32>)>,
    /// The decision, once this member knows it.
    pub certificate: Option<CertificateJson>,
    /// For a machine's key: the contributors' bundles, so that the share is made again without
    /// asking them (all public).
    #[serde(default)]
    pub bundles: Vec<DealJson>,
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
        value: Vec<u32>,
        /// The proposer's node key's signature of [`ask_digest`], hex.
        proof: String,
    },
    /// The decision, for a member that does not know it yet.
    Decided {
        /// Its certificate.
        certificate: CertificateJson,
    },
}

/// What an acceptor answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case", deny_unknown_fields)]
pub enum Reply {
    /// Phase 1b: it promised; what it accepted last.
    Promise {
        /// Its last acceptance.
        accepted: Option<(Ballot, Vec<u32>)>,
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

/// What a proposer signs to ask `phase` of `ballot` (with `value` for an acceptance).
pub fn ask_digest(
    session: &[u8; 32],
    decree: &[u8],
    phase: &str,
    ballot: Ballot,
    value: &[u32],
) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(b"carol-federation/agreement/v1/ask\0");
    hash.update(session);
    for part in [decree, phase.as_bytes()] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.update(ballot.round.to_be_bytes());
    hash.update(ballot.proposer.to_be_bytes());
    for member in value {
        hash.update(member.to_be_bytes());
    }
    hash.finalize().into()
}

impl Member {
    /// This member's record of `decree`.
    pub fn record(&self, decree: &[u8]) -> Result<Record, AgreementError> {
        match self.store.agreement(decree)? {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|_| AgreementError::Damaged),
            None => Ok(Record::default()),
        }
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
        self.store.put_agreement(decree, &bytes)?;
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
        let (decree, ballot, value, proof) = match ask {
            Ask::Decided { certificate } => {
                let decree = hex::decode(&certificate.decree).map_err(|_| AgreementError::Hex)?;
                self.take_certificate(&decree, certificate)?;
                return Ok(Reply::Taken);
            }
            Ask::Prepare {
                decree,
                ballot,
                proof,
            } => (decree, *ballot, None, proof),
            Ask::Accept {
                decree,
                ballot,
                value,
                proof,
            } => (decree, *ballot, Some(value.as_slice()), proof),
        };
        let decree = hex::decode(decree).map_err(|_| AgreementError::Hex)?;
        let phase = if value.is_some() { "accept" } else { "prepare" };
        self.check_proof(&decree, phase, ballot, value.unwrap_or_default(), proof)?;
        if let Some(value) = value {
            self.check_value(value)?;
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
            (record.promised, record.accepted) = (acceptor.promised, acceptor.accepted);
            outcome
        })?;
        Ok(match outcome {
            Err(promised) => Reply::Refused { promised },
            Ok(Some(accepted)) => Reply::Promise { accepted },
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

    /// Checks `certificate` of `decree` and keeps it.
    fn take_certificate(
        &self,
        decree: &[u8],
        certificate: &CertificateJson,
    ) -> Result<Certificate, AgreementError> {
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
        value: &[u32],
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

    /// A value is at least the threshold of distinct members, in increasing order.
    fn check_value(&self, value: &[u32]) -> Result<(), AgreementError> {
        let ordered = value.windows(2).all(|w| w[0] < w[1]);
        let members = value.iter().all(|&i| self.group.member(i).is_some());
        match ordered && members && value.len() >= self.file.threshold {
            true => Ok(()),
            false => Err(AgreementError::BadValue {
                threshold: self.file.threshold,
            }),
        }
    }

    /// Gets `decree` decided by `deadline`, proposing `own` unless a value was accepted already:
    /// the decision, from this member's record, another member's, or its own proposal.
    pub async fn decide(
        &self,
        decree: &[u8],
        own: &[u32],
        deadline: Instant,
    ) -> Result<Certificate, AgreementError> {
        let me = self.index.ok_or(AgreementError::NoMember)?;
        let threshold = self.file.threshold;
        let mut seen = self.record(decree)?.promised;
        let mut attempt = 0u32;
        loop {
            if let Some(certificate) = self.decision_of_others(decree).await {
                return Ok(certificate);
            }
            let ballot = Ballot::above(seen, me);
            let prepare = self.ask(decree, "prepare", ballot, &[]);
            let replies = self.ask_everyone(&prepare).await;
            let mut promises = Vec::new();
            for reply in &replies {
                match reply {
                    Reply::Promise { accepted } => promises.push(accepted.clone()),
                    Reply::Refused { promised } => seen = seen.max(Some(*promised)),
                    _ => {}
                }
            }
            seen = seen.max(Some(ballot));
            if promises.len() >= threshold {
                let value = value_to_propose(&promises, own);
                let accept = self.ask(decree, "accept", ballot, &value);
                let mut acceptances = Vec::new();
                for reply in self.ask_everyone(&accept).await {
                    match reply {
                        Reply::Accepted { member, signature } => {
                            acceptances.push((member, signature))
                        }
                        Reply::Refused { promised } => seen = seen.max(Some(promised)),
                        _ => {}
                    }
                }
                if acceptances.len() >= threshold {
                    let json = CertificateJson {
                        decree: hex::encode(decree),
                        ballot,
                        value,
                        acceptances,
                    };
                    let certificate = self.take_certificate(decree, &json)?;
                    self.tell_everyone(Ask::Decided { certificate: json });
                    return Ok(certificate);
                }
            }
            attempt += 1;
            // Proposers that keep preempting each other back off, each by its own random time.
            let mut jitter = [0u8; 2];
            getrandom::fill(&mut jitter).expect("the operating system's random source failed");
            let pause = Duration::from_millis(
                (20 * u64::from(attempt.min(10))) + u64::from(u16::from_le_bytes(jitter) % 100),
            );
            if Instant::now() + pause >= deadline {
                return Err(AgreementError::TooFew {
                    reached: promises.len(),
                    threshold,
                });
            }
            tokio::time::sleep(pause).await;
        }
    }

    /// A signed request for `phase` of `ballot` on `decree`.
    fn ask(&self, decree: &[u8], phase: &str, ballot: Ballot, value: &[u32]) -> Ask {
        let digest = ask_digest(self.session(), decree, phase, ballot, value);
        let proof = hex::encode(self.identity.sign(&digest));
        let decree = hex::encode(decree);
        match phase {
            "accept" => Ask::Accept {
                decree,
                ballot,
                value: value.to_vec(),
                proof,
            },
            _ => Ask::Prepare {
                decree,
                ballot,
                proof,
            },
        }
    }

    /// Every member's answer to `ask`, this one's own among them; members that do not answer
    /// in time are left out.
    async fn ask_everyone(&self, ask: &Ask) -> Vec<Reply> {
        let body = serde_json::to_vec(ask).expect("JSON");
        let mut asking = tokio::task::JoinSet::new();
        for index in self.file.indices().filter(|&i| Some(i) != self.index) {
            let (peers, body) = (self.peers.clone(), body.clone());
            asking.spawn(async move {
                let headers = vec![("content-type".into(), "application/json".into())];
                let answer: Answer<Reply> = peers
                    .send(index, Method::Post, "/federation/agreement", headers, body)
                    .await;
                match answer {
                    Answer::Got(reply) => Some(reply),
                    Answer::NotYet | Answer::Failed(_) => None,
                }
            });
        }
        let mut replies: Vec<Reply> = self.answer(ask).ok().into_iter().collect();
        replies.extend(asking.join_all().await.into_iter().flatten());
        replies
    }

    /// Tells every other member `ask`, without waiting.
    fn tell_everyone(&self, ask: Ask) {
        let body = serde_json::to_vec(&ask).expect("JSON");
        for index in self.file.indices().filter(|&i| Some(i) != self.index) {
            let (peers, body) = (self.peers.clone(), body.clone());
            tokio::spawn(async move {
                let headers = vec![("content-type".into(), "application/json".into())];
                let _: Answer<Reply> = peers
                    .send(index, Method::Post, "/federation/agreement", headers, body)
                    .await;
            });
        }
    }

    /// The decision on `decree` as this member or another knows it, checked.
    async fn decision_of_others(&self, decree: &[u8]) -> Option<Certificate> {
        if let Some(json) = self.decided(decree) {
            return Certificate::try_from(&json).ok();
        }
        let path = format!("/federation/decided/{}", hex::encode(decree));
        let mut asking = tokio::task::JoinSet::new();
        for index in self.file.indices().filter(|&i| Some(i) != self.index) {
            let (peers, path) = (self.peers.clone(), path.clone());
            asking.spawn(async move { peers.get::<CertificateJson>(index, &path).await });
        }
        while let Some(answer) = asking.join_next().await {
            if let Ok(Answer::Got(json)) = answer
                && let Ok(certificate) = self.take_certificate(decree, &json)
            {
                return Some(certificate);
            }
        }
        None
    }
}
