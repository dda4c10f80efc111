//! The key generation's three messages, as drand's specification names them (kyber
//! `share/dkg/structs.go`): a dealer's deal bundle, a holder's response bundle, and a dealer's
//! justification bundle. Each is signed by its sender's node key over a digest that names the
//! session, so that no message of one key generation can be replayed in another.

use crate::curve::{Bls, Curve};
use crate::identity::{self, Identity};
use crate::poly::PublicPoly;
use bls12_381::G1Affine;
use sha2::{Digest, Sha256};

/// What a key generation is: who takes part, and how many must sign together. The members are
/// named by their node keys (BLS12-381 G1) whichever curve the key is made in (`C`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group<C: Curve = Bls> {
    /// Names this key generation: a hash of everything the members agreed on (the federation
    /// file). Every message is bound to it.
    pub session: [u8; 32],
    /// How many members' shares sign together.
    pub threshold: usize,
    /// The members' node keys; member `i` is `members[i - 1]`. They hold the shares made.
    pub members: Vec<G1Affine>,
    /// In a resharing, the federation whose key is reshared, whose members deal; `None` in a
    /// fresh key generation, where the members deal.
    pub previous: Option<Previous<C>>,
}

/// The federation a resharing starts from (drand's specification, "Resharing"): its members
/// each deal a polynomial whose secret is their share of its key, so that the shares made are
/// of the same key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Previous<C: Curve = Bls> {
    /// How many of its shares make its key: at least that many of its members must qualify.
    pub threshold: usize,
    /// Its members' node keys; dealer `i` is `members[i - 1]`.
    pub members: Vec<G1Affine>,
    /// The commitments of its key's polynomial: dealer `i`'s polynomial must commit to
    /// `public.eval(i)` at 0, its public share.
    pub public: PublicPoly<C>,
    /// The previous members that do not deal (down for good, or without their share), in
    /// order: at least `threshold` others must.
    pub absent: Vec<u32>,
}

impl<C: Curve> Group<C> {
    /// How many members there are.
    pub fn size(&self) -> u32 {
        self.members.len() as u32
    }

    /// The indices of the members, 1 to n.
    pub fn indices(&self) -> impl Iterator<Item = u32> + use<C> {
        1..=self.size()
    }

    /// The dealers' node keys: the previous federation's members in a resharing, else the
    /// members.
    pub fn dealers(&self) -> &[G1Affine] {
        match &self.previous {
            Some(previous) => &previous.members,
            None => &self.members,
        }
    }

    /// The indices of the dealers that deal, from 1: in a resharing, every previous member but
    /// the absent ones.
    pub fn dealer_indices(&self) -> impl Iterator<Item = u32> + use<C> {
        let absent = self
            .previous
            .as_ref()
            .map(|p| p.absent.clone())
            .unwrap_or_default();
        (1..=self.dealers().len() as u32).filter(move |i| !absent.contains(i))
    }

    /// Dealer `index`'s node key, if there is such a dealer.
    pub fn dealer(&self, index: u32) -> Option<&G1Affine> {
        index
            .checked_sub(1)
            .and_then(|i| self.dealers().get(i as usize))
    }

    /// A digest of the whole group: the session, the threshold, every member's key and, in a
    /// resharing, the previous federation's threshold, members and commitments.
    pub fn digest(&self) -> [u8; 32] {
        let mut t = Transcript::new("group", &self.session);
        t.index(self.threshold as u32);
        t.index(self.size());
        for member in &self.members {
            t.bytes(&member.to_compressed());
        }
        if let Some(previous) = &self.previous {
            t.index(previous.threshold as u32);
            t.index(previous.members.len() as u32);
            for member in &previous.members {
                t.bytes(&member.to_compressed());
            }
            t.bytes(&previous.public.to_bytes());
            t.index(previous.absent.len() as u32);
            for absent in &previous.absent {
                t.index(*absent);
            }
        }
        t.finish()
    }

    /// Member `index`'s node key, if there is such a member.
    pub fn member(&self, index: u32) -> Option<&G1Affine> {
        index
            .checked_sub(1)
            .and_then(|i| self.members.get(i as usize))
    }
}

/// A share for one holder, sealed to its node key ([`crate::ecies`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deal {
    /// The member it is for.
    pub holder: u32,
    /// The share (32 bytes, little-endian), sealed with [`deal_context`].
    pub sealed: Vec<u8>,
}

/// A dealer's contribution: the commitments to its polynomial, and a sealed share for every
/// member (drand: "Deal phase").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DealBundle<C: Curve = Bls> {
    /// The dealer's index.
    pub dealer: u32,
    /// The commitments to the dealer's polynomial.
    pub commitments: PublicPoly<C>,
    /// One deal for each member, in the order of their indices.
    pub deals: Vec<Deal>,
    /// The dealer's protocol signature of [`DealBundle::digest`].
    pub signature: [u8; 96],
}

/// A holder's verdict on one dealer's deal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    /// The dealer.
    pub dealer: u32,
    /// The digest of the dealer's bundle as the holder received it, so that a dealer who sent
    /// different bundles to different holders is seen by everyone.
    pub bundle: [u8; 32],
    /// Whether the share the holder got opened and matched the commitments; `false` is a
    /// complaint.
    pub valid: bool,
}

/// A holder's verdicts on every dealer (drand: "Response phase").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseBundle {
    /// The holder's index.
    pub holder: u32,
    /// One response for each dealer, in the order of their indices.
    pub responses: Vec<Response>,
    /// The holder's protocol signature of [`ResponseBundle::digest`].
    pub signature: [u8; 96],
}

/// A share a dealer reveals to answer a complaint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Justification<C: Curve = Bls> {
    /// The holder that complained.
    pub holder: u32,
    /// The share, in the clear.
    pub share: C::Scalar,
}

/// A dealer's answers to the complaints against it (drand: "Justification phase").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JustificationBundle<C: Curve = Bls> {
    /// The dealer's index.
    pub dealer: u32,
    /// One justification for each holder that complained.
    pub justifications: Vec<Justification<C>>,
    /// The dealer's protocol signature of [`JustificationBundle::digest`].
    pub signature: [u8; 96],
}

/// What a member ended the key generation with, which every member compares before it keeps
/// its share: the same key from the same dealers everywhere, or nobody keeps anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation<C: Curve = Bls> {
    /// The member.
    pub member: u32,
    /// The commitments to the federation key's polynomial it computed.
    pub public: PublicPoly<C>,
    /// The dealers it qualified.
    pub qualified: Vec<u32>,
    /// The member's protocol signature of [`Confirmation::digest`].
    pub signature: [u8; 96],
}

/// What a member signs once it has kept its share of the key `public` commits to: a dealer that
/// leaves in a resharing deletes its own share only once every new member says so.
pub fn kept_digest<C: Curve>(session: &[u8; 32], member: u32, public: &PublicPoly<C>) -> [u8; 32] {
    let mut t = Transcript::new("kept", session);
    t.index(member);
    t.bytes(&public.to_bytes());
    t.finish()
}

/// What a share is sealed with, so that it opens only as the share of `dealer` for `holder` in
/// this session.
pub fn deal_context(session: &[u8; 32], dealer: u32, holder: u32) -> Vec<u8> {
    let mut context = b"carol-federation/dkg/v1/share".to_vec();
    context.extend_from_slice(session);
    context.extend_from_slice(&dealer.to_be_bytes());
    context.extend_from_slice(&holder.to_be_bytes());
    context
}

/// A digest of one message: its kind, the session, then its fields, each of variable length
/// prefixed with its length, so that no two messages encode alike.
struct Transcript(Sha256);

impl Transcript {
    fn new(kind: &str, session: &[u8; 32]) -> Self {
        let mut hash = Sha256::new();
        hash.update(b"carol-federation/dkg/v1/");
        hash.update(kind.as_bytes());
        hash.update([0]);
        hash.update(session);
        Self(hash)
    }

    fn index(&mut self, index: u32) {
        self.0.update(index.to_be_bytes());
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.0.update((bytes.len() as u64).to_be_bytes());
        self.0.update(bytes);
    }

    fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

/// A message's signature by its sender's node key, over its digest: written once for every
/// kind.
macro_rules! signed_by_sender {
    ($([$($generics:tt)*] $message:ty),*) => {$(
        impl<$($generics)*> $message {
            /// Signs it as its sender.
            pub fn sign(&mut self, session: &[u8; 32], identity: &Identity) {
                self.signature = identity.sign(&self.digest(session));
            }

            /// Whether its sender, whose node key is `key`, signed it.
            pub fn signed_by(&self, session: &[u8; 32], key: &G1Affine) -> bool {
                identity::verify(key, &self.digest(session), &self.signature)
            }
        }
    )*};
}

signed_by_sender!(
    [C: Curve] DealBundle<C>,
    [] ResponseBundle,
    [C: Curve] JustificationBundle<C>,
    [C: Curve] Confirmation<C>
);

impl<C: Curve> DealBundle<C> {
    /// The digest its signature is over.
    pub fn digest(&self, session: &[u8; 32]) -> [u8; 32] {
        let mut t = Transcript::new("deal", session);
        t.index(self.dealer);
        t.bytes(&self.commitments.to_bytes());
        t.index(self.deals.len() as u32);
        for deal in &self.deals {
            t.index(deal.holder);
            t.bytes(&deal.sealed);
        }
        t.finish()
    }
}

impl ResponseBundle {
    /// The digest its signature is over.
    pub fn digest(&self, session: &[u8; 32]) -> [u8; 32] {
        let mut t = Transcript::new("response", session);
        t.index(self.holder);
        t.index(self.responses.len() as u32);
        for response in &self.responses {
            t.index(response.dealer);
            t.bytes(&response.bundle);
            t.bytes(&[u8::from(response.valid)]);
        }
        t.finish()
    }
}

impl<C: Curve> Confirmation<C> {
    /// The digest its signature is over.
    pub fn digest(&self, session: &[u8; 32]) -> [u8; 32] {
        let mut t = Transcript::new("confirmation", session);
        t.index(self.member);
        t.bytes(&self.public.to_bytes());
        t.index(self.qualified.len() as u32);
        for dealer in &self.qualified {
            t.index(*dealer);
        }
        t.finish()
    }

    /// Whether it says what `other` says, whoever signed each.
    pub fn agrees_with(&self, other: &Confirmation<C>) -> bool {
        self.public == other.public && self.qualified == other.qualified
    }
}

impl<C: Curve> JustificationBundle<C> {
    /// The digest its signature is over.
    pub fn digest(&self, session: &[u8; 32]) -> [u8; 32] {
        let mut t = Transcript::new("justification", session);
        t.index(self.dealer);
        t.index(self.justifications.len() as u32);
        for justification in &self.justifications {
            t.index(justification.holder);
            t.bytes(&C::scalar_to_bytes(&justification.share));
        }
        t.finish()
    }
}
