//! The one message a committed nonce signs, agreed by the members before any of them releases a
//! partial. Partials `k_i + e·x_i` of two messages under one nonce are linear equations in the
//! shares of the key and the nonce: from enough of them together (fewer than `t` for either
//! message: two of each and its own shares, in 3 of 5) a member solves for the key. So runs that
//! see different outcomes (a price source answering members differently) must not each release
//! partials of their own outcome.
//!
//! Each member's run, once it has recorded the message as its own nonce's, tells the others which
//! message it asks to sign (a vote, signed by its node key: an endorsement of its part in the
//! decision, [`carol_federation::agreement::endorsement_digest`]). A member that holds `t` votes for
//! its own run's message proposes those voters, with their votes, as the decision on the nonce's
//! use ([`super::agreement`], decided once, for good); every acceptor checks each vote, so a
//! decision names `t` members whose runs asked for one message, and no member, dishonest or not,
//! gets one decided with votes it made up. A member releases its partial only when the decision names its own run's message.
//! Honest runs that split so that no message has `t` of them decide nothing, and sign nothing.

use super::Member;
use super::agreement::{AgreementError, Endorsed, USE_PREFIX};
use super::exchange::{TooFewAgreed, authenticated};
use super::peers::Answer;
use carol_core::ids::MachineId;
use carol_federation::agreement::{Certificate, Contributor, endorse, endorses};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// What a vote's tag authenticates first.
const LABEL: &[u8] = b"carol-federation/nonce-vote/v2";
/// Nonces whose votes a member holds at once; the oldest are forgotten first.
const MAX_HELD: usize = 10_000;
/// How long the first of the voters for a message is let propose before the others do.
const HEAD_START: Duration = Duration::from_millis(100);

/// What names the decision on the one message machine `machine`'s nonce `name` signs.
pub fn use_decree(machine: &MachineId, name: &[u8]) -> Vec<u8> {
    [USE_PREFIX, machine.as_bytes(), name].concat()
}

/// Whether `decree` is one [`use_decree`] can make: a machine id and a name a machine may use.
fn is_use_decree(decree: &[u8]) -> bool {
    decree.strip_prefix(USE_PREFIX).is_some_and(|rest| {
        rest.len() > 32 && rest.len() <= 32 + crate::imports::MAX_NONCE_NAME_BYTES
    })
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
    /// The member's node key's endorsement of its vote, hex: what every acceptor of a
    /// decision that names the vote checks.
    pub signature: String,
    /// The HMAC of the vote ([`VoteJson::authenticated`]) under the key the sender and the
    /// receiver share, hex: a check that costs a hash, made before the signature's pairing, so
    /// that nobody but a member makes a member check signatures.
    pub tag: String,
}

impl VoteJson {
    /// Member `index`'s vote on `decree` for the message whose SHA-256 is `digest`, endorsed by
    /// its node key `identity`, in the federation named by `session`.
    pub fn new(
        identity: &carol_federation::identity::Identity,
        session: &[u8; 32],
        decree: &[u8],
        index: u32,
        digest: [u8; 32],
    ) -> Self {
        let voted = Contributor {
            member: index,
            digest,
        };
        Self {
            decree: hex::encode(decree),
            digest: hex::encode(digest),
            index,
            signature: hex::encode(endorse(identity, session, decree, &voted)),
            tag: String::new(),
        }
    }

    /// What the tag authenticates: the decree, the member, the digest and the signature.
    pub fn authenticated(
        session: &[u8; 32],
        decree: &[u8],
        index: u32,
        digest: &[u8; 32],
        signature: &str,
    ) -> Vec<u8> {
        let decree: [u8; 32] = Sha256::digest(decree).into();
        let mut authenticated = authenticated(LABEL, session, &decree, index, digest);
        authenticated.extend_from_slice(signature.as_bytes());
        authenticated
    }
}

/// A vote as held: the digest of the message a member's run asked for, and the member's
/// endorsement of it, hex.
type Vote = ([u8; 32], String);

/// Each member's vote on one decree.
type Ballots = BTreeMap<u32, Vote>;

/// The votes held: by decree, the decrees in the order they came, how many decrees each member
/// voted on, and the decrees a run of this member waits on.
#[derive(Default)]
struct Held {
    votes: HashMap<Vec<u8>, Ballots>,
    order: VecDeque<Vec<u8>>,
    by_member: HashMap<u32, usize>,
    waited: HashMap<Vec<u8>, usize>,
}

/// The votes a member holds, by decree (each member's first), bounded: `MAX_HELD` decrees,
/// each other member an `n`th of that at most, and a decree a run waits on never forgotten.
#[derive(Default)]
pub struct Votes {
    inner: Mutex<Held>,
    arrived: Notify,
}

impl Votes {
    /// Keeps member `index`'s vote on `decree`, unless it voted already, or holds its share of
    /// the bound with decrees no run waits on (`members` in the federation).
    pub fn offer(&self, decree: &[u8], index: u32, vote: Vote, members: usize) {
        let mut inner = self.inner.lock().expect("votes lock");
        let held = &mut *inner;
        let waited = held.waited.contains_key(decree);
        let count = held.by_member.get(&index).copied().unwrap_or(0);
        if !waited && count >= MAX_HELD / members.max(1) {
            return;
        }
        if !held.votes.contains_key(decree) {
            let mut looked = 0;
            while held.votes.len() >= MAX_HELD && looked < held.order.len() {
                looked += 1;
                let Some(oldest) = held.order.pop_front() else {
                    break;
                };
                if held.waited.contains_key(&oldest) {
                    held.order.push_back(oldest);
                    continue;
                }
                for voter in held.votes.remove(&oldest).unwrap_or_default().into_keys() {
                    if let Some(count) = held.by_member.get_mut(&voter) {
                        *count = count.saturating_sub(1);
                    }
                }
            }
            if held.votes.len() >= MAX_HELD {
                return;
            }
            held.order.push_back(decree.to_vec());
        }
        let ballots = held.votes.entry(decree.to_vec()).or_default();
        if ballots.contains_key(&index) {
            return;
        }
        ballots.insert(index, vote);
        *held.by_member.entry(index).or_insert(0) += 1;
        drop(inner);
        self.arrived.notify_waiters();
    }

    /// Marks `decree` as waited on by one more run (`true`) or one fewer.
    fn wait(&self, decree: &[u8], waiting: bool) {
        let mut inner = self.inner.lock().expect("votes lock");
        let count = inner.waited.entry(decree.to_vec()).or_insert(0);
        match waiting {
            true => *count += 1,
            false => *count = count.saturating_sub(1),
        }
        if *count == 0 {
            inner.waited.remove(decree);
        }
    }

    /// The votes held on `decree`, by member.
    fn of(&self, decree: &[u8]) -> Ballots {
        let inner = self.inner.lock().expect("votes lock");
        inner.votes.get(decree).cloned().unwrap_or_default()
    }
}

/// How many members voted for each message, most first, without `digest`'s.
fn others(votes: &Ballots, digest: &[u8; 32]) -> Vec<usize> {
    let mut counts: BTreeMap<[u8; 32], usize> = BTreeMap::new();
    for (vote, _) in votes.values().filter(|(d, _)| d != digest) {
        *counts.entry(*vote).or_default() += 1;
    }
    let mut counts: Vec<usize> = counts.into_values().collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    counts
}

/// Why a member's run may not sign with a committed nonce.
#[derive(Debug)]
pub struct Refused {
    /// How many members' runs asked for its message, and for others.
    pub counts: TooFewAgreed,
    /// Whether the members decided that the nonce signs another message.
    pub outvoted: bool,
}

impl Member {
    /// Waits, by `deadline`, until the members decide which message machine `machine`'s nonce
    /// `name` signs, having voted for `digest` (the SHA-256 of its own run's message): `Ok` when
    /// the decision names it; otherwise how many members' runs asked for it and for others, and
    /// whether the decision names another.
    pub async fn agree_on_message(
        &self,
        machine: &MachineId,
        name: &[u8],
        digest: [u8; 32],
        deadline: Instant,
    ) -> Result<(), Refused> {
        let threshold = self.file.threshold;
        let decree = use_decree(machine, name);
        let Some(me) = self.index else {
            return Err(Refused {
                counts: TooFewAgreed::new(0, threshold),
                outvoted: false,
            });
        };
        self.votes.wait(&decree, true);
        let vote = VoteJson::new(&self.identity, self.session(), &decree, me, digest);
        let held = (digest, vote.signature.clone());
        self.votes.offer(&decree, me, held, self.file.members.len());
        self.send_vote(&decree, &digest, vote, deadline);
        let decided = self
            .decide_message(machine, &decree, digest, deadline)
            .await;
        self.votes.wait(&decree, false);
        let votes = self.votes.of(&decree);
        let agreed = votes.values().filter(|(d, _)| *d == digest).count();
        let refused = TooFewAgreed::with_others(agreed, threshold, others(&votes, &digest));
        match decided {
            Some(certificate) if certificate.value.iter().all(|c| c.digest == digest) => Ok(()),
            Some(_) => {
                tracing::warn!(
                    machine = %machine,
                    "the members decided that this nonce signs another message than this \
                     member's run asked for: this member signs nothing with it"
                );
                Err(Refused {
                    counts: refused,
                    outvoted: true,
                })
            }
            None => Err(Refused {
                counts: refused,
                outvoted: false,
            }),
        }
    }

    /// The decision on `decree`, this member's or the others', or its own proposal once it
    /// holds `t` votes for `digest`; `None` if none is made by `deadline`.
    async fn decide_message(
        &self,
        machine: &MachineId,
        decree: &[u8],
        digest: [u8; 32],
        deadline: Instant,
    ) -> Option<Certificate> {
        let threshold = self.file.threshold;
        let me = self.index?;
        let mut asked_others = Instant::now();
        loop {
            let arrived = self.votes.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            if let Some(decided) = self.decided(decree) {
                return Certificate::try_from(&decided).ok();
            }
            // A member that holds too few votes (one that restarted, or whose peers' votes were
            // lost) asks now and then whether the others decided.
            if asked_others.elapsed() >= HEAD_START * 5 {
                asked_others = Instant::now();
                if let Some(decided) = self.decision_of_others(decree).await {
                    return Some(decided);
                }
            }
            let votes = self.votes.of(decree);
            let voters = Endorsed::new(
                votes
                    .into_iter()
                    .filter(|(_, (d, _))| *d == digest)
                    .map(|(member, (digest, vote))| (Contributor { member, digest }, vote))
                    .collect(),
            );
            if voters.value.len() >= threshold {
                let before = voters
                    .value
                    .iter()
                    .position(|c| c.member == me)
                    .unwrap_or(0);
                let waited = Instant::now() + HEAD_START * before as u32;
                while Instant::now() < waited.min(deadline) && self.decided(decree).is_none() {
                    tokio::time::sleep(HEAD_START / 10).await;
                }
                return match self.decide(decree, &voters, deadline).await {
                    Ok(certificate) => Some(certificate),
                    Err(AgreementError::TooFew { .. }) => None,
                    Err(error) => {
                        tracing::warn!(machine = %machine, %error, "cannot agree on a nonce's message");
                        None
                    }
                };
            }
            tokio::select! {
                () = &mut arrived => {}
                () = tokio::time::sleep(HEAD_START) => {}
                () = tokio::time::sleep_until(deadline) => return None,
            }
        }
    }

    /// Sends this member's vote to every other member, without waiting; a member that does not
    /// take it is asked again, until `deadline`.
    /// `vote` is of `decree` for `digest`.
    fn send_vote(&self, decree: &[u8], digest: &[u8; 32], mut vote: VoteJson, deadline: Instant) {
        let tagged =
            VoteJson::authenticated(self.session(), decree, vote.index, digest, &vote.signature);
        for index in self.others() {
            let Some(key) = self.pairwise(index) else {
                continue;
            };
            vote.tag = hex::encode(key.tag(&tagged));
            let (peers, body) = (self.peers.clone(), serde_json::to_vec(&vote).expect("JSON"));
            tokio::spawn(async move {
                let _: Answer<serde_json::Value> = peers
                    .post_until(index, "/federation/nonce-votes", body, deadline)
                    .await;
            });
        }
    }

    /// Takes another member's vote (`POST /federation/nonce-votes`), if it carries that member's
    /// tag and its node key endorsed it. Costs a pairing, unless the member's vote on the decree
    /// is held already: call it off the async executor.
    pub fn take_vote(&self, vote: &VoteJson) -> Result<(), &'static str> {
        let decree = hex::decode(&vote.decree).map_err(|_| "`decree` must be hex")?;
        if !is_use_decree(&decree) {
            return Err("`decree` names no machine's nonce");
        }
        let mut digest = [0u8; 32];
        hex::decode_to_slice(&vote.digest, &mut digest)
            .map_err(|_| "`digest` must be 32 bytes in hex")?;
        let tag = hex::decode(&vote.tag).unwrap_or_default();
        let tagged = VoteJson::authenticated(
            self.session(),
            &decree,
            vote.index,
            &digest,
            &vote.signature,
        );
        let tagged_by_member = Some(vote.index) != self.index
            && self
                .pairwise(vote.index)
                .is_some_and(|key| key.verifies(&tagged, &tag));
        if !tagged_by_member {
            return Err(
                "the vote's tag is not its member's, under the key it shares with this one",
            );
        }
        // A member's first vote on a decree stands: another costs no pairing.
        if self.votes.of(&decree).contains_key(&vote.index) {
            return Ok(());
        }
        let mut signature = [0u8; 96];
        let voted = Contributor {
            member: vote.index,
            digest,
        };
        let endorsed = hex::decode_to_slice(&vote.signature, &mut signature).is_ok()
            && self
                .member_key(vote.index)
                .is_some_and(|key| endorses(key, self.session(), &decree, &voted, &signature));
        if !endorsed {
            return Err("the vote is not signed by its member's node key");
        }
        let held = (digest, vote.signature.clone());
        self.votes
            .offer(&decree, vote.index, held, self.file.members.len());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_member_cannot_take_more_than_its_share_nor_evict_a_decree_a_run_waits_on() {
        let votes = Votes::default();
        let machine = MachineId::from_bytes([1; 32]);
        let waited = use_decree(&machine, b"event/0");
        assert!(is_use_decree(&waited));
        assert!(!is_use_decree(b"nonce-use/secp256k1/short"));
        votes.wait(&waited, true);
        let vote = |digest| (digest, String::new());
        votes.offer(&waited, 1, vote([1; 32]), 5);
        for i in 0..MAX_HELD as u32 {
            let decree = use_decree(&machine, &i.to_be_bytes());
            votes.offer(&decree, 2, vote([2; 32]), 5);
        }
        let inner = votes.inner.lock().unwrap();
        assert_eq!(inner.by_member[&2], MAX_HELD / 5);
        drop(inner);
        // Past its share, member 2 still votes on the decree a run waits on, and its first
        // vote there stands.
        votes.offer(&waited, 2, vote([3; 32]), 5);
        votes.offer(&waited, 2, vote([4; 32]), 5);
        let held = votes.of(&waited);
        assert_eq!(held.len(), 2);
        assert_eq!(held[&2].0, [3; 32]);
        assert_eq!(others(&held, &[1; 32]), [1]);
    }
}
