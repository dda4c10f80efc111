//! The partial signatures a member holds, by digest of what they sign, bounded: at most
//! [`MAX_HELD`] messages, each other member's share of that bound at most, for at most [`HOLD`]
//! unless a run of this member waits on the message; and the signatures made, so that a second
//! run of the same message (two clients asking two members at once) gets the one signature too.
//! One store per kind of signature (BLS, BIP340): `P` is a partial as it travels, `S` a
//! signature.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Messages whose partials a member holds at once.
pub const MAX_HELD: usize = 10_000;
/// How long partials of a message no run of this member waits on are held, and signatures
/// made are remembered.
pub const HOLD: Duration = Duration::from_secs(120);

/// The partials a member holds.
pub struct Partials<P, S> {
    inner: Mutex<Inner<P, S>>,
    arrived: Notify,
    /// What one other member may have held at once.
    per_member: usize,
}

struct Inner<P, S> {
    held: HashMap<[u8; 32], Held<P, S>>,
    /// Messages in the order they were first held, for eviction.
    order: VecDeque<[u8; 32]>,
    /// How many partials each member has held.
    by_member: HashMap<u32, usize>,
    /// Signatures made, and when.
    made: HashMap<[u8; 32], (S, Instant)>,
    made_order: VecDeque<[u8; 32]>,
}

impl<P, S> Default for Inner<P, S> {
    fn default() -> Self {
        Self {
            held: HashMap::new(),
            order: VecDeque::new(),
            by_member: HashMap::new(),
            made: HashMap::new(),
            made_order: VecDeque::new(),
        }
    }
}

struct Held<P, S> {
    partials: BTreeMap<u32, P>,
    since: Instant,
    /// Runs of this member waiting on the message: while there are, it is never evicted.
    waiting: usize,
    /// The signatures other members answered they had made, one each, unchecked.
    answered: BTreeMap<u32, S>,
    /// Members whose partial of it was found bad: the rest of theirs are refused, or one could
    /// make this member check again and again.
    blamed: BTreeSet<u32>,
}

impl<P, S> Inner<P, S> {
    fn remove(&mut self, digest: &[u8; 32]) {
        if let Some(held) = self.held.remove(digest) {
            for index in held.partials.keys() {
                if let Some(count) = self.by_member.get_mut(index) {
                    *count = count.saturating_sub(1);
                }
            }
        }
    }

    /// Makes room for one more message, if the bound allows: evicts the oldest message no run
    /// waits on.
    fn make_room(&mut self) -> bool {
        let mut looked = 0;
        while self.held.len() >= MAX_HELD && looked < self.order.len() {
            looked += 1;
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            match self.held.get(&oldest) {
                Some(held) if held.waiting > 0 => self.order.push_back(oldest),
                Some(_) => self.remove(&oldest),
                None => {}
            }
        }
        self.held.len() < MAX_HELD
    }

    fn entry(&mut self, digest: [u8; 32]) -> Option<&mut Held<P, S>> {
        if !self.held.contains_key(&digest) {
            if !self.make_room() {
                return None;
            }
            self.order.push_back(digest);
            self.held.insert(
                digest,
                Held {
                    partials: BTreeMap::new(),
                    since: Instant::now(),
                    waiting: 0,
                    answered: BTreeMap::new(),
                    blamed: BTreeSet::new(),
                },
            );
        }
        self.held.get_mut(&digest)
    }
}

impl<P: Copy, S: Copy> Partials<P, S> {
    /// A store for a federation of `members`.
    pub fn new(members: usize) -> Self {
        Self {
            inner: Mutex::default(),
            arrived: Notify::new(),
            per_member: MAX_HELD / members.max(1),
        }
    }

    /// Keeps another member's partial of `digest`: its first, unless the message is signed
    /// already, the member holds its share of the bound with messages no run waits on, or the
    /// store is full of messages runs wait on.
    pub fn offer(&self, digest: [u8; 32], index: u32, signature: P) {
        let mut inner = self.inner.lock().expect("partials lock");
        if inner.made.contains_key(&digest) {
            return;
        }
        let waited = inner.held.get(&digest).is_some_and(|h| h.waiting > 0);
        let count = inner.by_member.get(&index).copied().unwrap_or(0);
        if !waited && count >= self.per_member {
            return;
        }
        let Some(held) = inner.entry(digest) else {
            return;
        };
        if held.since.elapsed() >= HOLD && held.waiting == 0 {
            held.since = Instant::now();
        }
        if held.partials.contains_key(&index) || held.blamed.contains(&index) {
            return;
        }
        held.partials.insert(index, signature);
        *inner.by_member.entry(index).or_insert(0) += 1;
        drop(inner);
        self.arrived.notify_waiters();
    }

    /// Starts a run's wait on `digest` with its own partial, member `index`'s; the signature if
    /// it is made already.
    pub fn begin(&self, digest: [u8; 32], index: u32, own: P) -> Option<S> {
        let mut inner = self.inner.lock().expect("partials lock");
        if let Some((signature, _)) = inner.made.get(&digest) {
            return Some(*signature);
        }
        inner.make_room();
        inner.order.push_back(digest);
        let held = inner.held.entry(digest).or_insert_with(|| Held {
            partials: BTreeMap::new(),
            since: Instant::now(),
            waiting: 0,
            answered: BTreeMap::new(),
            blamed: BTreeSet::new(),
        });
        held.waiting += 1;
        held.partials.insert(index, own);
        None
    }

    /// Ends a run's wait on `digest`; `made` is the signature, if one was.
    pub fn end(&self, digest: &[u8; 32], made: Option<S>) {
        let mut inner = self.inner.lock().expect("partials lock");
        if let Some(held) = inner.held.get_mut(digest) {
            held.waiting = held.waiting.saturating_sub(1);
        }
        if let Some(signature) = made {
            inner.remove(digest);
            let now = Instant::now();
            while inner.made.len() >= MAX_HELD
                || inner
                    .made_order
                    .front()
                    .is_some_and(|d| inner.made.get(d).is_none_or(|(_, at)| now - *at >= HOLD))
            {
                let Some(oldest) = inner.made_order.pop_front() else {
                    break;
                };
                inner.made.remove(&oldest);
            }
            inner.made.insert(*digest, (signature, now));
            inner.made_order.push_back(*digest);
        }
        drop(inner);
        // Other runs waiting on this message take the signature made.
        self.arrived.notify_waiters();
    }

    /// Keeps `signature` as what another member answered it made of `digest`, while a run of
    /// this member waits on it (a member that restarted, or was down, gets it this way from the
    /// members that have made it: they do not send their partials again). Checked by the run
    /// before it is used, as a combination is.
    pub fn answered(&self, digest: &[u8; 32], from: u32, signature: S) {
        let mut inner = self.inner.lock().expect("partials lock");
        let Some(held) = inner.held.get_mut(digest).filter(|h| h.waiting > 0) else {
            return;
        };
        // One each: a member's bogus answer cannot push out another's good one.
        held.answered.insert(from, signature);
        drop(inner);
        self.arrived.notify_waiters();
    }

    /// Takes the signatures other members answered for `digest` ([`Partials::answered`]).
    pub fn take_answered(&self, digest: &[u8; 32]) -> Vec<S> {
        let mut inner = self.inner.lock().expect("partials lock");
        let Some(held) = inner.held.get_mut(digest) else {
            return Vec::new();
        };
        std::mem::take(&mut held.answered).into_values().collect()
    }

    /// The signature made of `digest`, if one was.
    pub fn made(&self, digest: &[u8; 32]) -> Option<S> {
        let inner = self.inner.lock().expect("partials lock");
        inner.made.get(digest).map(|(signature, _)| *signature)
    }

    /// The partials held of `digest`, by member.
    pub fn of(&self, digest: &[u8; 32]) -> Vec<(u32, P)> {
        let inner = self.inner.lock().expect("partials lock");
        inner
            .held
            .get(digest)
            .map(|h| h.partials.iter().map(|(&index, &p)| (index, p)).collect())
            .unwrap_or_default()
    }

    /// Drops member `index`'s partial of `digest`, which did not verify, and refuses its others
    /// of `digest`.
    pub fn drop_partial(&self, digest: &[u8; 32], index: u32) {
        let mut inner = self.inner.lock().expect("partials lock");
        if let Some(held) = inner.held.get_mut(digest)
            && held.blamed.insert(index)
            && held.partials.remove(&index).is_some()
            && let Some(count) = inner.by_member.get_mut(&index)
        {
            *count = count.saturating_sub(1);
        }
    }

    /// Resolves when a partial or a signature arrives; enabled before the caller looks.
    pub fn arrived(&self) -> tokio::sync::futures::Notified<'_> {
        self.arrived.notified()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use carol_core::bls::{SecretKey, Signature};
    use carol_federation::threshold::{PartialBytes, PartialSignature};

    type Partials = super::Partials<PartialBytes, Signature>;

    fn signature(index: u32) -> Signature {
        SecretKey::key_gen(&[index as u8; 32]).sign(b"m")
    }

    fn partial(index: u32) -> PartialSignature {
        PartialSignature {
            index,
            signature: PartialBytes::from(&signature(index)),
        }
    }

    #[test]
    fn one_member_cannot_take_more_than_its_share_nor_evict_what_a_run_waits_on() {
        let partials = Partials::new(5);
        let waited = [0xaa; 32];
        assert_eq!(partials.begin(waited, 1, partial(1).signature), None);
        let flood = partial(2).signature;
        for i in 0..MAX_HELD as u32 {
            let mut digest = [0u8; 32];
            digest[..4].copy_from_slice(&i.to_be_bytes());
            partials.offer(digest, 2, flood);
        }
        let inner = partials.inner.lock().unwrap();
        assert_eq!(inner.by_member[&2], MAX_HELD / 5);
        assert!(inner.held.contains_key(&waited));
        drop(inner);
        // The message waited on still takes member 2's partial, past its share.
        partials.offer(waited, 2, flood);
        assert_eq!(partials.of(&waited).len(), 2);
    }

    #[test]
    fn a_member_blamed_for_a_message_is_refused_for_it_and_answers_are_kept_one_each() {
        let partials = Partials::new(5);
        let digest = [3; 32];
        assert_eq!(partials.begin(digest, 1, partial(1).signature), None);
        partials.offer(digest, 2, partial(2).signature);
        partials.drop_partial(&digest, 2);
        partials.offer(digest, 2, partial(2).signature);
        assert_eq!(partials.of(&digest).len(), 1, "member 2 is refused");
        partials.offer(digest, 3, partial(3).signature);
        assert_eq!(partials.of(&digest).len(), 2);
        // Member 4's later answer does not push member 3's out.
        partials.answered(&digest, 3, signature(3));
        partials.answered(&digest, 4, signature(4));
        partials.answered(&digest, 4, signature(5));
        let mut taken = partials.take_answered(&digest);
        taken.sort_by_key(|s| s.to_bytes());
        let mut expected = vec![signature(3), signature(5)];
        expected.sort_by_key(|s| s.to_bytes());
        assert_eq!(taken, expected);
        assert!(partials.take_answered(&digest).is_empty());
    }

    #[test]
    fn a_signature_made_answers_a_second_run_and_late_partials_are_dropped() {
        let partials = Partials::new(3);
        let digest = [7; 32];
        assert_eq!(partials.begin(digest, 1, partial(1).signature), None);
        assert_eq!(partials.begin(digest, 1, partial(1).signature), None);
        let made = signature(9);
        partials.end(&digest, Some(made));
        assert_eq!(partials.made(&digest), Some(made));
        assert_eq!(partials.begin(digest, 1, partial(1).signature), Some(made));
        partials.offer(digest, 3, partial(3).signature);
        assert!(partials.of(&digest).is_empty());
    }
}
