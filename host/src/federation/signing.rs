//! Signing as a member. When its own run of a machine asks to sign `machine_id || message`, a
//! member signs it with its share, sends that partial signature to every other member, and waits
//! until it holds `t` partials of that very message, its own among them, which it combines into
//! the one signature of the federation key. A member never sends a partial of a message its own
//! run did not ask to sign: the partials it holds from others are only what they sent.
//!
//! The combined signature is checked once under the federation key; only when that fails is
//! each partial checked against its member's public share, and the members whose partials were
//! bad are logged and their partials dropped. What partials are held, and for how long, is
//! the `partials` module's concern.
//!
//! A member that has made a signature does not send its partial again when another run asks
//! for it; a member that lacks it (one that restarted, or was down) sends its own partial, and
//! the members that made it answer with the signature, which it checks before it uses it.
//! Partials travel with an HMAC under the key the two members share
//! ([`carol_federation::identity::Identity::pairwise`]), not a signature: a hash, where checking
//! a signature costs a pairing per partial.

use super::peers::Answer;
use super::{Member, Ready};
use crate::bindings::carol::machine::http_fetch::Method;
use carol_core::bls::{PublicKey, Signature};
use carol_federation::threshold::{PartialBytes, PartialSignature, combine};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;
use tokio::time::Instant;

/// A partial signature as one member sends it to another (`POST /federation/partials`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartialJson {
    /// [`digest`] of the key and the message signed, hex: what was signed, without the message
    /// itself.
    pub digest: String,
    /// The member that signed.
    pub index: u32,
    /// Its signature with its share, hex (checked only as the combination is).
    pub signature: PartialBytes,
    /// The HMAC of the three above ([`PartialJson::authenticated`]) under the key the sender
    /// and the receiver share, hex: only a member can hand another a partial, so no one else can
    /// crowd out its partials.
    pub tag: String,
}

impl PartialJson {
    /// What the tag authenticates: the federation's session, the digest, the index and the
    /// partial signature (the session, so that a node that is a member of two federations cannot
    /// have its partials of one replayed in the other).
    pub fn authenticated(
        session: &[u8; 32],
        digest: &[u8; 32],
        index: u32,
        signature: &PartialBytes,
    ) -> Vec<u8> {
        let mut message = b"carol-federation/partial/v2".to_vec();
        message.extend_from_slice(session);
        message.extend_from_slice(digest);
        message.extend_from_slice(&index.to_be_bytes());
        message.extend_from_slice(&signature.0);
        message
    }
}

/// What a member answers to a partial (`POST /federation/partials`): that it holds it, or the
/// signature it made of that message already.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartialAnswer {
    /// Whether it keeps the partial.
    pub held: bool,
    /// The signature it made of the message, if it made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made: Option<Signature>,
}

/// What names a message to sign with a key among the members: SHA-256 of the key (48 bytes) and
/// the message, so that partials of one message under two keys (the federation's and a
/// machine's own) are never taken for each other.
pub fn digest(key: &PublicKey, message: &[u8]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(key.to_bytes());
    hash.update(message);
    hash.finalize().into()
}

/// Why a member's run got no signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "only {agreed} member(s) signed this message in time, and the federation needs {threshold}: \
     members that are down, unreachable, or whose runs of the machine asked to sign something \
     else do not count"
)]
pub struct TooFewAgreed {
    /// Members whose partials of the message arrived and verify, this one's among them.
    pub agreed: usize,
    /// The federation's threshold.
    pub threshold: usize,
}

impl Member {
    /// The federation's signature of `message` (`machine_id || message` for a machine), made
    /// with `t` members' partials, by `deadline`.
    pub async fn sign(&self, message: &[u8], deadline: Instant) -> Result<Signature, TooFewAgreed> {
        let (own, key, public) = {
            let ready = self.ready.read().expect("member lock");
            let Some(ready) = ready.as_ref() else {
                return Err(TooFewAgreed {
                    agreed: 0,
                    threshold: self.file.threshold,
                });
            };
            (ready.share.sign(message), ready.key, ready.public.clone())
        };
        self.sign_as(own, key, public, message, deadline).await
    }

    /// The signature of `message` by the key `ready` holds a share of (a machine's own), made
    /// with `t` members' partials, by `deadline`.
    pub async fn sign_with(
        &self,
        ready: &Ready,
        message: &[u8],
        deadline: Instant,
    ) -> Result<Signature, TooFewAgreed> {
        let own = ready.share.sign(message);
        self.sign_as(own, ready.key, ready.public.clone(), message, deadline)
            .await
    }

    /// The combination of this member's partial `own` with the others' under `key`, whose
    /// commitments are `public`.
    async fn sign_as(
        &self,
        own: PartialSignature,
        key: PublicKey,
        public: carol_federation::poly::PublicPoly,
        message: &[u8],
        deadline: Instant,
    ) -> Result<Signature, TooFewAgreed> {
        let threshold = self.file.threshold;
        let digest = digest(&key, message);
        if let Some(made) = self.partials.begin(digest, &own) {
            return Ok(made);
        }
        self.send_partial(digest, &own, deadline);
        let outcome = loop {
            let arrived = self.partials.arrived();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            if let Some(made) = self.partials.made(&digest) {
                break Ok(made);
            }
            let answered = self.partials.take_answered(&digest);
            if let Some(made) = answered.into_iter().find(|s| key.verify(message, s)) {
                break Ok(made);
            }
            let held = self.partials.of(&digest);
            if held.len() >= threshold {
                if let Some(signature) =
                    self.combine_checked(&digest, &held, &public, &key, message)
                {
                    break Ok(signature);
                }
                tokio::task::yield_now().await;
                continue;
            }
            tokio::select! {
                () = &mut arrived => {}
                () = tokio::time::sleep_until(deadline) => {
                    // Only partials that verify under their members' public shares count as
                    // members that agreed: a dishonest member's bogus one does not.
                    let held = self.partials.of(&digest);
                    let agreed = held.iter().filter(|p| p.verify(&public, message)).count();
                    break Err(TooFewAgreed { agreed, threshold });
                }
            }
        };
        self.partials.end(&digest, outcome.as_ref().ok().copied());
        outcome
    }

    /// The combination of `held`, checked under the federation key; if it fails, the partials
    /// that do not verify under their members' public shares are logged and dropped, and the
    /// rest combined if enough remain.
    fn combine_checked(
        &self,
        digest: &[u8; 32],
        held: &[PartialSignature],
        public: &carol_federation::poly::PublicPoly,
        key: &PublicKey,
        message: &[u8],
    ) -> Option<Signature> {
        let threshold = self.file.threshold;
        if let Ok(signature) = combine(threshold, held)
            && key.verify(message, &signature)
        {
            return Some(signature);
        }
        let mut good = Vec::with_capacity(held.len());
        for partial in held {
            if partial.verify(public, message) {
                good.push(partial.clone());
            } else {
                tracing::warn!(
                    member = partial.index,
                    "a member sent a partial signature that does not verify under its public \
                     share; it is ignored"
                );
                self.partials.drop_partial(digest, partial.index);
            }
        }
        combine(threshold, &good)
            .ok()
            .filter(|s| key.verify(message, s))
    }

    /// Sends this member's partial to every other member, without waiting for them; a member
    /// that does not take it is asked again, until `deadline`. One that answers with the
    /// signature it made hands it to the waiting run ([`Partials::answered`]).
    ///
    /// [`Partials::answered`]: super::partials::Partials::answered
    fn send_partial(&self, digest: [u8; 32], partial: &PartialSignature, deadline: Instant) {
        let authenticated =
            PartialJson::authenticated(self.session(), &digest, partial.index, &partial.signature);
        for index in self.file.indices().filter(|&i| i != partial.index) {
            let Some(key) = self.pairwise(index) else {
                continue;
            };
            let body = serde_json::to_vec(&PartialJson {
                digest: hex::encode(digest),
                index: partial.index,
                signature: partial.signature,
                tag: hex::encode(key.tag(&authenticated)),
            })
            .expect("JSON");
            let (peers, partials) = (self.peers.clone(), self.partials.clone());
            tokio::spawn(async move {
                let mut pause = Duration::from_millis(100);
                loop {
                    let headers = vec![("content-type".into(), "application/json".into())];
                    let answer: Answer<PartialAnswer> = peers
                        .send(
                            index,
                            Method::Post,
                            "/federation/partials",
                            headers,
                            body.clone(),
                        )
                        .await;
                    if let Answer::Got(PartialAnswer {
                        made: Some(made), ..
                    }) = answer
                    {
                        partials.answered(&digest, index, made);
                    }
                    let Answer::Failed(why) = answer else { return };
                    tracing::debug!(member = index, %why, "cannot send a partial signature");
                    if Instant::now() + pause >= deadline {
                        return;
                    }
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
            });
        }
    }
}
