//! This member as a proposer: getting a decree decided with the others.

use super::AgreementError;
use super::messages::{
    Ask, Endorsed, Reply, SignedPromise, ask_digest, one_justification, promise_digest,
};
use crate::bindings::carol::machine::http_fetch::Method;
use crate::federation::Member;
use crate::federation::peers::{Answer, Peers};
use carol_federation::agreement::{
    Ballot, Certificate, CertificateJson, Contributor, acceptance_digest, value_to_propose,
};
use std::time::Duration;
use tokio::time::Instant;

impl Member {
    /// Gets `decree` decided by `deadline`, proposing `own` unless a value was accepted already:
    /// the decision, from this member's record, another member's, or its own proposal.
    pub async fn decide(
        &self,
        decree: &[u8],
        own: &Endorsed,
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
            let prepare = self.prepare(decree, ballot);
            let mut promises = Vec::new();
            for (member, reply) in self.ask_everyone(&prepare).await {
                match reply {
                    Reply::Promise {
                        accepted,
                        justification,
                        signature,
                    } => {
                        let digest =
                            promise_digest(self.session(), decree, ballot, accepted.as_ref());
                        let promise = SignedPromise {
                            member,
                            accepted,
                            signature,
                            justification: justification.map(Box::new),
                        };
                        // A promise that claims an acceptance it cannot prove is left out: any
                        // `t` promises justify a value, and an honest acceptor's proves its own.
                        if self.signed_by(member, &digest, &promise.signature)
                            && self.proved(decree, &promise)
                        {
                            promises.push(promise);
                        } else {
                            tracing::debug!(member, "left out a promise that proves nothing");
                        }
                    }
                    Reply::Refused { promised } => seen = seen.max(Some(promised)),
                    _ => {}
                }
            }
            seen = seen.max(Some(ballot));
            let promised = promises.len();
            if promised >= threshold {
                let accepted: Vec<_> = promises.iter().map(|p| p.accepted.clone()).collect();
                let value = value_to_propose(&accepted, &own.value);
                let (endorsements, promises) = passed_on(&value, own, promises);
                let accept = self.ask(decree, ballot, &value, endorsements, promises);
                let mut acceptances = Vec::new();
                let digest = acceptance_digest(self.session(), decree, ballot, &value);
                for (member, reply) in self.ask_everyone(&accept).await {
                    match reply {
                        // Only the member asked can accept, and only with its own signature.
                        Reply::Accepted { signature, .. }
                            if self.signed_by(member, &digest, &signature) =>
                        {
                            acceptances.push((member, signature));
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
                    reached: promised,
                    threshold,
                });
            }
            tokio::time::sleep(pause).await;
        }
    }

    /// A signed request to prepare `ballot` on `decree`.
    fn prepare(&self, decree: &[u8], ballot: Ballot) -> Ask {
        let digest = ask_digest(self.session(), decree, "prepare", ballot, &[]);
        Ask::Prepare {
            decree: hex::encode(decree),
            ballot,
            proof: hex::encode(self.identity.sign(&digest)),
        }
    }

    /// A signed request to accept `value` in `ballot` on `decree`, with its contributors'
    /// `endorsements` and the `promises` that justify it.
    fn ask(
        &self,
        decree: &[u8],
        ballot: Ballot,
        value: &[Contributor],
        endorsements: Vec<String>,
        promises: Vec<SignedPromise>,
    ) -> Ask {
        let digest = ask_digest(self.session(), decree, "accept", ballot, value);
        Ask::Accept {
            decree: hex::encode(decree),
            ballot,
            value: value.to_vec(),
            endorsements,
            promises,
            proof: hex::encode(self.identity.sign(&digest)),
        }
    }

    /// Whether `promise` proves the acceptance it claims, if any.
    fn proved(&self, decree: &[u8], promise: &SignedPromise) -> bool {
        match (&promise.accepted, &promise.justification) {
            (None, _) => true,
            (Some((ballot, value)), Some(justification)) => self
                .check_justified(decree, *ballot, value, justification, 1)
                .is_ok(),
            (Some(_), None) => false,
        }
    }

    /// Every member's answer to `ask`, by member, this one's own among them; members that do
    /// not answer in time are left out.
    async fn ask_everyone(&self, ask: &Ask) -> Vec<(u32, Reply)> {
        let body = serde_json::to_vec(ask).expect("JSON");
        let mut asking = tokio::task::JoinSet::new();
        for index in self.others() {
            let (peers, body) = (self.peers.clone(), body.clone());
            asking.spawn(async move {
                match post_agreement(&peers, index, body).await {
                    Answer::Got(reply) => Some((index, reply)),
                    Answer::NotYet | Answer::Failed(_) => None,
                }
            });
        }
        let own = self.index.zip(self.answer(ask).ok());
        let mut replies: Vec<(u32, Reply)> = own.into_iter().collect();
        replies.extend(asking.join_all().await.into_iter().flatten());
        replies
    }

    /// Whether `signature` (hex) is member `member`'s node key's, of `digest`.
    pub(super) fn signed_by(&self, member: u32, digest: &[u8; 32], signature: &str) -> bool {
        let mut bytes = [0u8; 96];
        hex::decode_to_slice(signature, &mut bytes).is_ok()
            && self
                .group
                .member(member)
                .is_some_and(|key| carol_federation::identity::verify(key, digest, &bytes))
    }

    /// Tells every other member `ask`, without waiting.
    fn tell_everyone(&self, ask: Ask) {
        let body = serde_json::to_vec(&ask).expect("JSON");
        for index in self.others() {
            let (peers, body) = (self.peers.clone(), body.clone());
            tokio::spawn(async move { post_agreement(&peers, index, body).await });
        }
    }

    /// The decision on `decree` as this member or another knows it, checked.
    pub(in crate::federation) async fn decision_of_others(
        &self,
        decree: &[u8],
    ) -> Option<Certificate> {
        if let Some(json) = self.decided(decree) {
            return Certificate::try_from(&json).ok();
        }
        let path = format!("/federation/decided/{}", hex::encode(decree));
        let mut asking = tokio::task::JoinSet::new();
        for index in self.others() {
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

/// What a request to accept `value` carries: its endorsements (`own`'s, or those of the
/// acceptance in the highest ballot among `promises`, whose value it is) and the promises, one
/// of that ballot with its justification ([`one_justification`]). Keeping every one at the
/// highest ballot multiplied a justification by the threshold per ballot, past any body limit in
/// a long contest.
fn passed_on(
    value: &[Contributor],
    own: &Endorsed,
    mut promises: Vec<SignedPromise>,
) -> (Vec<String>, Vec<SignedPromise>) {
    let endorsements = one_justification(&mut promises)
        .and_then(|i| promises[i].justification.as_ref())
        .map(|justification| justification.endorsements.clone());
    let endorsements = match endorsements {
        Some(endorsements) if value != own.value => endorsements,
        _ => own.endorsements.clone(),
    };
    (endorsements, promises)
}

/// `POST /federation/agreement` with `body` to member `index`.
async fn post_agreement(peers: &Peers, index: u32, body: Vec<u8>) -> Answer<Reply> {
    let headers = vec![("content-type".into(), "application/json".into())];
    peers
        .send(index, Method::Post, "/federation/agreement", headers, body)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::federation::agreement::{Justification, MAX_JUSTIFICATION_DEPTH};

    fn value() -> Vec<Contributor> {
        (1..=5)
            .map(|member| Contributor {
                member,
                digest: [member as u8; 32],
            })
            .collect()
    }

    fn promise(member: u32, below: Option<&(Ballot, Justification)>) -> SignedPromise {
        SignedPromise {
            member,
            accepted: below.map(|(ballot, _)| (*ballot, value())),
            signature: hex::encode([0xb0; 96]),
            justification: below.map(|(_, j)| Box::new(j.clone())),
        }
    }

    /// A contest of as many ballots as justifications may nest, among five members, each
    /// level's promises all claiming the acceptance of the level below with its justification,
    /// as acceptors answer: what a proposer passes on carries one justification per level, so
    /// its size grows by one ballot's promises per level, not by a factor, and the deepest
    /// request is still JSON a member reads.
    #[test]
    fn a_contested_agreement_passes_on_one_justification_per_level() {
        let own = Endorsed {
            value: value(),
            endorsements: vec![hex::encode([0xa0; 96]); 5],
        };
        let mut below: Option<(Ballot, Justification)> = None;
        let mut first_level = None;
        for round in 1..=MAX_JUSTIFICATION_DEPTH as u64 {
            let promises = (1..=5).map(|m| promise(m, below.as_ref())).collect();
            let (endorsements, promises) = passed_on(&own.value, &own, promises);
            let justification = Justification {
                endorsements,
                promises,
                proof: hex::encode([0xc0; 96]),
            };
            let size = serde_json::to_vec(&justification).expect("JSON").len();
            let per_level = *first_level.get_or_insert(size);
            assert!(
                size <= 2 * per_level * round as usize,
                "{size} bytes at level {round}, {per_level} at the first"
            );
            below = Some((Ballot { round, proposer: 1 }, justification));
        }
        let promises = (1..=5).map(|m| promise(m, below.as_ref())).collect();
        let (endorsements, promises) = passed_on(&own.value, &own, promises);
        let ask = Ask::Accept {
            decree: hex::encode(b"decree"),
            ballot: Ballot {
                round: 1000,
                proposer: 1,
            },
            value: value(),
            endorsements,
            promises,
            proof: hex::encode([0xc0; 96]),
        };
        let json = serde_json::to_vec(&ask).expect("JSON");
        assert!(serde_json::from_slice::<Ask>(&json).is_ok());
    }

    /// Only a promise that claims the highest acceptance keeps its justification: one on a
    /// promise that claims none, or a lower one, is dropped, and so is a second at the highest.
    #[test]
    fn only_the_first_justification_at_the_highest_ballot_is_kept() {
        let junk = Justification {
            endorsements: Vec::new(),
            promises: Vec::new(),
            proof: String::new(),
        };
        let low = (
            Ballot {
                round: 1,
                proposer: 2,
            },
            junk.clone(),
        );
        let high = (
            Ballot {
                round: 2,
                proposer: 2,
            },
            junk.clone(),
        );
        let mut nothing_accepted = promise(1, None);
        nothing_accepted.justification = Some(Box::new(junk));
        let mut promises = vec![
            nothing_accepted.clone(),
            promise(2, Some(&low)),
            promise(3, Some(&high)),
            promise(4, Some(&high)),
        ];
        assert_eq!(one_justification(&mut promises), Some(2));
        let kept: Vec<bool> = promises.iter().map(|p| p.justification.is_some()).collect();
        assert_eq!(kept, [false, false, true, false]);
        let mut none_accepted = vec![nothing_accepted, promise(2, None)];
        assert_eq!(one_justification(&mut none_accepted), None);
        assert!(none_accepted.iter().all(|p| p.justification.is_none()));
    }
}
