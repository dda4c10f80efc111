//! The one message a committed nonce signs, agreed by the members before any of them releases a
//! partial. Partials `k_i + e·x_i` of two messages under one nonce are linear equations in the
//! shares of the key and the nonce: from enough of them together (fewer than `t` for either
//! message: two of each and its own shares, in 3 of 5) a member solves for the key. So runs that
//! see different outcomes (a price source answering members differently) must not each release
//! partials of their own outcome.
//!
//! Each member's run, once it has recorded the message as its own nonce's, tells the others which
//! message it asks to sign (a vote, tagged with the key two members share). A member that holds
//! `t` votes for its own run's message proposes those voters as the decision on the nonce's use
//! ([`super::agreement`], decided once, for good): a decision names `t` members whose runs asked for
//! one message. A member releases its partial only when the decision names its own run's message.
//! Honest runs that split so that no message has `t` of them decide nothing, and sign nothing.

use super::Member;
use super::agreement::AgreementError;
use super::exchange::{TooFewAgreed, authenticated};
use super::peers::Answer;
use crate::bindings::carol::machine::http_fetch::Method;
use carol_core::ids::MachineId;
use carol_federation::agreement::{Certificate, Contributor};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// What a vote's tag authenticates first.
const LABEL: &[u8] = b"carol-federation/nonce-vote/v1";
/// Nonces whose votes a member holds at once; the oldest are forgotten first.
const MAX_HELD: usize = 10_000;
/// How long the first of the voters for a message is let propose before the others do.
const HEAD_START: Duration = Duration::from_millis(100);

/// What names the decision on the one message machine `machine`'s nonce `name` signs.
pub fn use_decree(machine: &MachineId, name: &[u8]) -> Vec<u8> {
    [b"nonce-use/secp256k1/".as_slice(), machine.as_bytes(), name].concat()
}

/// A vote as one member sends it to another (`POST /federation/nonce-votes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoteJson {
    /// The decree of the nonce's use ([`use_decree`]), hex.
    pub decree: String,
    /// SHA-256 of the message the member's run asks the nonce to sign, hex.
    pub digest: String,
    /// The member.
    pub index: u32,
    /// The HMAC of the three above ([`VoteJson::authenticated`]) under the key the sender and
    /// the receiver share, hex.
    pub tag: String,
}

impl VoteJson {
    /// What the tag authenticates.
    pub fn authenticated(
        session: &[u8; 32],
        decree: &[u8],
        index: u32,
        digest: &[u8; 32],
    ) -> Vec<u8> {
        let decree: [u8; 32] = Sha256::digest(decree).into();
        authenticated(LABEL, session, &decree, index, digest)
    }
}

/// Each member's vote on one decree: the digest of the message its run asked for.
type Ballots = BTreeMap<u32, [u8; 32]>;

/// The votes held by decree, and the decrees in the order they came.
type Held = (HashMap<Vec<u8>, Ballots>, VecDeque<Vec<u8>>);

/// The votes a member holds, by decree (each member's first), and the decrees in the order
/// they came, for forgetting the oldest.
#[derive(Default)]
pub struct Votes {
    inner: Mutex<Held>,
    arrived: Notify,
}

impl Votes {
    /// Keeps member `index`'s vote for `digest` on `decree`, unless it voted already.
    pub fn offer(&self, decree: &[u8], index: u32, digest: [u8; 32]) {
        let mut inner = self.inner.lock().expect("votes lock");
        let (held, order) = &mut *inner;
        if !held.contains_key(decree) {
            while held.len() >= MAX_HELD {
                let Some(oldest) = order.pop_front() else {
                    break;
                };
                held.remove(&oldest);
            }
            order.push_back(decree.to_vec());
        }
        held.entry(decree.to_vec())
            .or_default()
            .entry(index)
            .or_insert(digest);
        drop(inner);
        self.arrived.notify_waiters();
    }

    /// The votes held on `decree`, by member.
    fn of(&self, decree: &[u8]) -> Ballots {
        let inner = self.inner.lock().expect("votes lock");
        inner.0.get(decree).cloned().unwrap_or_default()
    }
}

/// How many members voted for each message, most first, without `digest`'s.
fn others(votes: &Ballots, digest: &[u8; 32]) -> Vec<usize> {
    let mut counts: BTreeMap<[u8; 32], usize> = BTreeMap::new();
    for vote in votes.values().filter(|d| *d != digest) {
        *counts.entry(*vote).or_default() += 1;
    }
    let mut counts: Vec<usize> = counts.into_values().collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    counts
}

impl Member {
    /// Waits, by `deadline`, until the members decide which message machine `machine`'s nonce
    /// `name` signs, having voted for `digest` (the SHA-256 of its own run's message): `Ok` when
    /// the decision names it; otherwise how many members' runs asked for it and for others.
    pub async fn agree_on_message(
        &self,
        machine: &MachineId,
        name: &[u8],
        digest: [u8; 32],
        deadline: Instant,
    ) -> Result<(), TooFewAgreed> {
        let threshold = self.file.threshold;
        let decree = use_decree(machine, name);
        let Some(me) = self.index else {
            return Err(TooFewAgreed::new(0, threshold));
        };
        self.votes.offer(&decree, me, digest);
        self.send_vote(&decree, digest, deadline);
        let decided = loop {
            let arrived = self.votes.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            if let Some(decided) = self.decided(&decree) {
                break Certificate::try_from(&decided).ok();
            }
            let votes = self.votes.of(&decree);
            let voters: Vec<Contributor> = votes
                .iter()
                .filter(|(_, d)| **d == digest)
                .map(|(&member, &digest)| Contributor { member, digest })
                .collect();
            if voters.len() >= threshold {
                let before = voters.iter().position(|c| c.member == me).unwrap_or(0);
                let waited = Instant::now() + HEAD_START * before as u32;
                while Instant::now() < waited.min(deadline) && self.decided(&decree).is_none() {
                    tokio::time::sleep(HEAD_START / 10).await;
                }
                match self.decide(&decree, &voters, deadline).await {
                    Ok(certificate) => break Some(certificate),
                    Err(AgreementError::TooFew { .. }) => break None,
                    Err(error) => {
                        tracing::warn!(machine = %machine, %error, "cannot agree on a nonce's message");
                        break None;
                    }
                }
            }
            tokio::select! {
                () = &mut arrived => {}
                () = tokio::time::sleep(HEAD_START) => {}
                () = tokio::time::sleep_until(deadline) => break None,
            }
        };
        let votes = self.votes.of(&decree);
        let agreed = votes.values().filter(|d| **d == digest).count();
        match decided {
            Some(certificate) if certificate.value.iter().all(|c| c.digest == digest) => Ok(()),
            Some(_) => {
                tracing::warn!(
                    machine = %machine,
                    "the members decided that this nonce signs another message than this \
                     member's run asked for: this member signs nothing with it"
                );
                Err(TooFewAgreed::with_others(
                    agreed,
                    threshold,
                    others(&votes, &digest),
                ))
            }
            None => Err(TooFewAgreed::with_others(
                agreed,
                threshold,
                others(&votes, &digest),
            )),
        }
    }

    /// Sends this member's vote to every other member, without waiting; a member that does not
    /// take it is asked again, until `deadline`.
    fn send_vote(&self, decree: &[u8], digest: [u8; 32], deadline: Instant) {
        let Some(me) = self.index else { return };
        let authenticated = VoteJson::authenticated(self.session(), decree, me, &digest);
        for index in self.others() {
            let Some(key) = self.pairwise(index) else {
                continue;
            };
            let body = serde_json::to_vec(&VoteJson {
                decree: hex::encode(decree),
                digest: hex::encode(digest),
                index: me,
                tag: hex::encode(key.tag(&authenticated)),
            })
            .expect("JSON");
            let peers = self.peers.clone();
            tokio::spawn(async move {
                let mut pause = Duration::from_millis(100);
                loop {
                    let headers = vec![("content-type".into(), "application/json".into())];
                    let answer: Answer<serde_json::Value> = peers
                        .send(
                            index,
                            Method::Post,
                            "/federation/nonce-votes",
                            headers,
                            body.clone(),
                        )
                        .await;
                    let Answer::Failed(why) = answer else { return };
                    tracing::debug!(member = index, %why, "cannot send a vote on a nonce's message");
                    if Instant::now() + pause >= deadline {
                        return;
                    }
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
            });
        }
    }

    /// Takes another member's vote (`POST /federation/nonce-votes`), if its tag is that member's.
    pub fn take_vote(&self, vote: &VoteJson) -> Result<(), &'static str> {
        let decree = hex::decode(&vote.decree).map_err(|_| "`decree` must be hex")?;
        let mut digest = [0u8; 32];
        hex::decode_to_slice(&vote.digest, &mut digest)
            .map_err(|_| "`digest` must be 32 bytes in hex")?;
        let tag = hex::decode(&vote.tag).unwrap_or_default();
        let authenticated = VoteJson::authenticated(self.session(), &decree, vote.index, &digest);
        let from_member = self
            .pairwise(vote.index)
            .is_some_and(|key| key.verifies(&authenticated, &tag));
        if !from_member {
            return Err(
                "the vote's tag is not its member's, under the key it shares with this one",
            );
        }
        self.votes.offer(&decree, vote.index, digest);
        Ok(())
    }
}
