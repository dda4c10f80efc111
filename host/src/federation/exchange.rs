//! Partial signatures among members, for either kind of signature ([`Scheme`]: BLS, or BIP340
//! with a shared nonce). When its own run of a machine asks to sign, a member makes its partial,
//! sends it to every other member, and waits until it holds `t` partials of that very message,
//! its own among them, which it combines into the one signature. A member never sends a partial
//! of a message its own run did not ask to sign: the partials it holds from others are only what
//! they sent.
//!
//! The combination is checked once; only when that fails is each partial checked against its
//! member's public shares, and the members whose partials were bad are logged and their partials
//! dropped. What partials are held, and for how long, is the `partials` module's concern.
//!
//! A member that has made a signature does not send its partial again when another run asks
//! for it; a member that lacks it (one that restarted, or was down) sends its own partial, and
//! the members that made it answer with the signature, which it checks before it uses it.
//! Partials travel with an HMAC under the key the two members share
//! ([`carol_federation::identity::Identity::pairwise`]), not a signature: a hash, where checking
//! a signature costs a pairing per partial.

use super::Member;
use super::partials::Partials;
use super::peers::Answer;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::time::Instant;

/// A kind of threshold signature, as the members exchange its partials.
pub trait Scheme {
    /// A partial as it travels.
    type Partial: Copy + Serialize + DeserializeOwned + Send + Sync + 'static;
    /// A whole signature.
    type Signature: Copy + Serialize + DeserializeOwned + Send + Sync + 'static;
    /// Where members take this kind's partials (`POST`).
    const PATH: &'static str;
    /// What the tag of a partial of this kind authenticates first.
    const LABEL: &'static [u8];

    /// The member's store of this kind's partials.
    fn store(member: &Member) -> &Arc<Partials<Self::Partial, Self::Signature>>;
    /// The partial's bytes, as its tag authenticates them.
    fn bytes(partial: &Self::Partial) -> &[u8];
    /// The signature `held` combine into, if it verifies; `None` if they are too few or some
    /// are bad.
    fn combine(&self, threshold: usize, held: &[(u32, Self::Partial)]) -> Option<Self::Signature>;
    /// Whether `signature` is the one this signing makes.
    fn verifies(&self, signature: &Self::Signature) -> bool;
    /// Whether `partial` is member `index`'s, under its public shares.
    fn partial_verifies(&self, index: u32, partial: &Self::Partial) -> bool;
}

/// A partial signature as one member sends it to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartialJson<P> {
    /// The digest of what is signed (the key, the message and, for BIP340, the nonce), hex:
    /// what was signed, without the message itself.
    pub digest: String,
    /// The member that signed.
    pub index: u32,
    /// Its partial (checked only as the combination is).
    pub signature: P,
    /// The HMAC of the three above ([`authenticated`]) under the key the sender and the
    /// receiver share, hex: only a member can hand another a partial, so no one else can crowd
    /// out its partials.
    pub tag: String,
}

/// What the tag of a partial authenticates: the kind's label, the federation's session, the
/// digest, the index and the partial (the session, so that a node that is a member of two
/// federations cannot have its partials of one replayed in the other).
pub fn authenticated(
    label: &[u8],
    session: &[u8; 32],
    digest: &[u8; 32],
    index: u32,
    partial: &[u8],
) -> Vec<u8> {
    let mut message = label.to_vec();
    message.extend_from_slice(session);
    message.extend_from_slice(digest);
    message.extend_from_slice(&index.to_be_bytes());
    message.extend_from_slice(partial);
    message
}

/// What a member answers to a partial: that it holds it, or the signature it made of that
/// message already.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartialAnswer<S> {
    /// Whether it keeps the partial.
    pub held: bool,
    /// The signature it made of the message, if it made it.
    #[serde(default = "Option::default", skip_serializing_if = "Option::is_none")]
    pub made: Option<S>,
}

/// Why a member's run got no signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "only {agreed} member(s) signed this message in time, and the federation needs {threshold}: \
     members that are down, unreachable, or whose runs of the machine asked to sign something \
     else do not count{}",
    match others.is_empty() {
        true => String::new(),
        false => format!("; the runs of other members asked this nonce to sign other messages, {others:?} members each"),
    }
)]
pub struct TooFewAgreed {
    /// Members whose partials of the message arrived and verify (or, for a committed nonce,
    /// whose runs asked to sign it), this one's among them.
    pub agreed: usize,
    /// The federation's threshold.
    pub threshold: usize,
    /// For a committed nonce: how many members' runs asked to sign each other message, most
    /// first.
    pub others: Vec<usize>,
}

impl TooFewAgreed {
    /// `agreed` of the `threshold` needed.
    pub fn new(agreed: usize, threshold: usize) -> Self {
        Self::with_others(agreed, threshold, Vec::new())
    }

    /// `agreed` of the `threshold` needed, and `others` for other messages.
    pub fn with_others(agreed: usize, threshold: usize, others: Vec<usize>) -> Self {
        Self {
            agreed,
            threshold,
            others,
        }
    }
}

impl Member {
    /// The signature `scheme` makes of what `digest` names, with this member's partial `own`
    /// and `t - 1` others', by `deadline`.
    pub(super) async fn exchange<S: Scheme>(
        &self,
        scheme: &S,
        digest: [u8; 32],
        own: (u32, S::Partial),
        deadline: Instant,
    ) -> Result<S::Signature, TooFewAgreed> {
        let threshold = self.file.threshold;
        let store = S::store(self);
        if let Some(made) = store.begin(digest, own.0, own.1) {
            return Ok(made);
        }
        self.send_partial::<S>(digest, own, deadline);
        let outcome = loop {
            let arrived = store.arrived();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            if let Some(made) = store.made(&digest) {
                break Ok(made);
            }
            let answered = store.take_answered(&digest);
            if let Some(made) = answered.into_iter().find(|s| scheme.verifies(s)) {
                break Ok(made);
            }
            let held = store.of(&digest);
            // Partials that do not combine are checked and the bad ones dropped: what is left
            // waits for more to arrive.
            if held.len() >= threshold
                && let Some(signature) = self.combine_checked(scheme, &digest, &held)
            {
                break Ok(signature);
            }
            tokio::select! {
                () = &mut arrived => {}
                () = tokio::time::sleep_until(deadline) => {
                    // Only partials that verify under their members' public shares count as
                    // members that agreed: a dishonest member's bogus one does not.
                    let held = store.of(&digest);
                    let agreed = held.iter().filter(|(i, p)| scheme.partial_verifies(*i, p)).count();
                    break Err(TooFewAgreed::new(agreed, threshold));
                }
            }
        };
        store.end(&digest, outcome.as_ref().ok().copied());
        outcome
    }

    /// The combination of `held`, checked; if it fails, the partials that do not verify under
    /// their members' public shares are logged and dropped, and the rest combined if enough
    /// remain.
    fn combine_checked<S: Scheme>(
        &self,
        scheme: &S,
        digest: &[u8; 32],
        held: &[(u32, S::Partial)],
    ) -> Option<S::Signature> {
        let threshold = self.file.threshold;
        if let Some(signature) = scheme.combine(threshold, held) {
            return Some(signature);
        }
        let mut good = Vec::with_capacity(held.len());
        for (index, partial) in held {
            if scheme.partial_verifies(*index, partial) {
                good.push((*index, *partial));
            } else {
                tracing::warn!(
                    member = index,
                    "a member sent a partial signature that does not verify under its public \
                     shares; it is ignored"
                );
                self.metrics.partial_rejected(*index);
                S::store(self).drop_partial(digest, *index);
            }
        }
        scheme.combine(threshold, &good)
    }

    /// Sends this member's partial to every other member, without waiting for them; a member
    /// that does not take it is asked again, until `deadline`. One that answers with the
    /// signature it made hands it to the waiting run ([`Partials::answered`]).
    fn send_partial<S: Scheme>(&self, digest: [u8; 32], own: (u32, S::Partial), deadline: Instant) {
        let (me, partial) = own;
        let authenticated =
            authenticated(S::LABEL, self.session(), &digest, me, S::bytes(&partial));
        for index in self.file.indices().filter(|&i| i != me) {
            let Some(key) = self.pairwise(index) else {
                continue;
            };
            let body = serde_json::to_vec(&PartialJson {
                digest: hex::encode(digest),
                index: me,
                signature: partial,
                tag: hex::encode(key.tag(&authenticated)),
            })
            .expect("JSON");
            self.metrics.partial_sent(index);
            let (peers, partials) = (self.peers.clone(), S::store(self).clone());
            tokio::spawn(async move {
                let answer = peers.post_until(index, S::PATH, body, deadline).await;
                if let Answer::Got(PartialAnswer::<S::Signature> {
                    made: Some(made), ..
                }) = answer
                {
                    partials.answered(&digest, index, made);
                }
            });
        }
    }
}
