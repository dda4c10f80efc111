//! BLS signing as a member ([`super::exchange`] with BLS partials): when its own run of a machine
//! asks to sign `machine_id || message`, a member signs it with its share and combines `t`
//! members' partials into the one signature of the federation key (or of the machine's own).
//! Partials travel uncompressed and unchecked, and G2's subgroup is checked once, on the
//! combination ([`carol_federation::threshold::combine`]).

use super::exchange::{Scheme, TooFewAgreed};
use super::partials::Partials;
use super::{Member, Ready};
use carol_core::bls::{PublicKey, Signature};
use carol_federation::poly::PublicPoly;
use carol_federation::threshold::{PartialBytes, PartialSignature, combine};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tokio::time::Instant;

/// What names a message to sign with a key among the members: SHA-256 of the key (48 bytes) and
/// the message, so that partials of one message under two keys (the federation's and a
/// machine's own) are never taken for each other.
pub fn digest(key: &PublicKey, message: &[u8]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(key.to_bytes());
    hash.update(message);
    hash.finalize().into()
}

/// One BLS signature's work: the key, its commitments, and the message.
pub struct Bls<'a> {
    key: PublicKey,
    public: PublicPoly,
    message: &'a [u8],
}

impl Scheme for Bls<'_> {
    type Partial = PartialBytes;
    type Signature = Signature;
    const PATH: &'static str = "/federation/partials";
    const LABEL: &'static [u8] = b"carol-federation/partial/v2";

    fn store(member: &Member) -> &Arc<Partials<PartialBytes, Signature>> {
        &member.partials
    }

    fn bytes(partial: &PartialBytes) -> &[u8] {
        &partial.0
    }

    fn combine(&self, threshold: usize, held: &[(u32, PartialBytes)]) -> Option<Signature> {
        let partials: Vec<PartialSignature> = held
            .iter()
            .map(|&(index, signature)| PartialSignature { index, signature })
            .collect();
        combine(threshold, &partials)
            .ok()
            .filter(|s| self.verifies(s))
    }

    fn verifies(&self, signature: &Signature) -> bool {
        self.key.verify(self.message, signature)
    }

    fn partial_verifies(&self, index: u32, partial: &PartialBytes) -> bool {
        let partial = PartialSignature {
            index,
            signature: *partial,
        };
        partial.verify(&self.public, self.message)
    }
}

impl Member {
    /// The federation's signature of `message` (`machine_id || message` for a machine), made
    /// with `t` members' partials, by `deadline`.
    pub async fn sign(&self, message: &[u8], deadline: Instant) -> Result<Signature, TooFewAgreed> {
        let (own, key, public) = {
            let ready = self.ready.read().expect("member lock");
            let Some(ready) = ready.as_ref() else {
                return Err(TooFewAgreed::new(0, self.file.threshold));
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
        public: PublicPoly,
        message: &[u8],
        deadline: Instant,
    ) -> Result<Signature, TooFewAgreed> {
        let scheme = Bls {
            key,
            public,
            message,
        };
        let digest = digest(&key, message);
        self.exchange(&scheme, digest, (own.index, own.signature), deadline)
            .await
    }
}
