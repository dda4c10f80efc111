//! Joint-Feldman (Pedersen) key generation with complaints and justifications, as drand's
//! specification describes it (drand-docs `docs/concepts/03-Specification.md`, "Distributed key
//! generation": "Deal phase", "Response phase", "Justification phase", "Finish phase"; kyber
//! `share/dkg/dkg.go`), as a state machine without transport: the node sends every bundle it
//! makes to every member and feeds in every bundle it receives.
//!
//! Every member deals a random polynomial of degree `t - 1`: its commitments, and each member's
//! share sealed to that member. Each holder checks its shares against the commitments and
//! responds for every dealer; a dealer complained against reveals the complaining holders'
//! shares, which everyone checks. A dealer is disqualified if its bundle is malformed, if two
//! holders saw different bundles from it, if `t` or more holders complained (revealing `t`
//! shares would reveal its secret), or if any complaint is not justified. The federation key is
//! the sum of the qualified dealers' secrets, which no one ever holds: each member holds the sum
//! of its shares from them, and everyone the sum of their commitments.
//!
//! Unlike drand, which moves on from a phase when its time is up, every member must deal and
//! respond: a member that is missing makes the key generation fail (and it is run again),
//! rather than leave a federation whose missing member has no share.
//!
//! A resharing (drand's specification, "Resharing"; kyber's `share/dkg` with `OldNodes`) runs
//! the same phases with other dealers: the previous federation's members, each dealing a
//! polynomial of the new threshold whose secret is its share of the previous key, with its public
//! share as the constant commitment, which everyone checks. The new members hold the shares:
//! each the Lagrange combination, over the qualified dealers (at least the previous threshold),
//! of its shares from them, which are shares of the previous federation's key. The key stays the
//! same; the new shares are of a new polynomial, unrelated to the old shares.

mod finish;
mod messages;
#[cfg(test)]
mod reshare_tests;
mod start;
#[cfg(test)]
pub(crate) mod tests;

pub use messages::{
    Confirmation, Deal, DealBundle, Group, Justification, JustificationBundle, Previous, Response,
    ResponseBundle, deal_context, kept_digest,
};

use crate::curve::{Bls, Curve};
use crate::ecies;
use crate::identity::Identity;
use crate::poly::{PublicPoly, SecretPoly};
use crate::threshold::Share;
use bls12_381::G1Affine;
use std::collections::{BTreeMap, BTreeSet};

/// Why a key generation, or one message of it, failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DkgError {
    /// The group cannot make a key.
    #[error("invalid group: {0}")]
    Group(&'static str),
    /// A message names a member the group does not have.
    #[error("a {kind} names member {index}, but the group has members 1 to {size}")]
    NotAMember {
        /// The kind of message.
        kind: &'static str,
        /// The index it names.
        index: u32,
        /// The group's size.
        size: u32,
    },
    /// A message is not signed by the member it names.
    #[error("the {kind} of member {from} is not signed by its node key")]
    BadSignature {
        /// The kind of message.
        kind: &'static str,
        /// The member it claims to be from.
        from: u32,
    },
    /// A member sent two different messages of one kind.
    #[error("member {from} sent two different {kind}s; the first one stands")]
    Equivocation {
        /// The kind of message.
        kind: &'static str,
        /// The member.
        from: u32,
    },
    /// A message lacks what it must have.
    #[error("the {kind} of member {from} is malformed: {why}")]
    Malformed {
        /// The kind of message.
        kind: &'static str,
        /// The member.
        from: u32,
        /// What is wrong.
        why: &'static str,
    },
    /// Members' messages of a phase are missing.
    #[error("no {kind} yet from member(s) {missing:?}: every member must take part")]
    Incomplete {
        /// The kind of message.
        kind: &'static str,
        /// The members missing.
        missing: Vec<u32>,
    },
    /// This member's share does not match the key's commitments: nothing may be kept.
    #[error("this member's share does not match the federation key's commitments")]
    Inconsistent,
    /// A previous member that the resharing's file says does not deal sent a deal.
    #[error("previous member {0} is absent from this resharing: it deals nothing")]
    Absent(u32),
    /// This node holds no share in this key generation: it only deals (it leaves the
    /// federation in a resharing).
    #[error("this node is no member of the new federation: it deals, and holds no share")]
    NotAHolder,
    /// Too few dealers qualified to make a key of the threshold (in a resharing, the previous
    /// federation's).
    #[error("only {qualified} dealer(s) qualified, fewer than the threshold {threshold}")]
    TooFewQualified {
        /// How many qualified.
        qualified: usize,
        /// The threshold.
        threshold: usize,
    },
}

/// What a key generation gives a member.
#[derive(Debug)]
pub struct Output<C: Curve = Bls> {
    /// The member's share of the federation key.
    pub share: Share<C>,
    /// The commitments to the federation key's polynomial: the key, and every member's public
    /// share. The same on every member.
    pub public: PublicPoly<C>,
    /// The dealers whose contributions make the key, in order.
    pub qualified: Vec<u32>,
}

impl<C: Curve> Output<C> {
    /// What this member says it ended with, signed, for the others to compare.
    pub fn confirmation(&self, session: &[u8; 32], identity: &Identity) -> Confirmation<C> {
        let mut confirmation = Confirmation {
            member: self.share.index(),
            public: self.public.clone(),
            qualified: self.qualified.clone(),
            signature: [0; 96],
        };
        confirmation.sign(session, identity);
        confirmation
    }
}

/// What a member made of one dealer's bundle.
struct Dealt<C: Curve> {
    digest: [u8; 32],
    /// The commitments, unless the bundle is malformed.
    commitments: Option<PublicPoly<C>>,
    /// This member's share from the dealer, if it opened and matched the commitments.
    share: Option<C::Scalar>,
}

/// One member's run of a key generation, of a key in the curve `C`.
pub struct Dkg<C: Curve = Bls> {
    group: Group<C>,
    /// This node's index among the members, who hold the shares; `None` for a dealer that
    /// leaves in a resharing.
    holder: Option<u32>,
    /// Its index among the dealers, and its polynomial; `None` for a new member in a resharing.
    dealer: Option<(u32, SecretPoly<C>)>,
    identity: Identity,
    deals: BTreeMap<u32, Dealt<C>>,
    responses: BTreeMap<u32, ResponseBundle>,
    justifications: BTreeMap<u32, JustificationBundle<C>>,
}

impl<C: Curve> Dkg<C> {
    /// This node's index among the members, if it holds a share.
    pub fn holder(&self) -> Option<u32> {
        self.holder
    }

    /// Its index among the dealers, if it deals.
    pub fn dealer(&self) -> Option<u32> {
        self.dealer.as_ref().map(|(index, _)| *index)
    }

    /// Dealer `dealer`'s commitments and this member's share from it, if its bundle was taken
    /// in, is well formed and the share opened and matched them: for a key generation whose
    /// contributors are agreed on by other means, such as a machine's key
    /// ([`crate::machine_key`]).
    pub fn dealt(&self, dealer: u32) -> Option<(&PublicPoly<C>, C::Scalar)> {
        let dealt = self.deals.get(&dealer)?;
        Some((dealt.commitments.as_ref()?, dealt.share?))
    }

    /// The polynomial this run deals, if it deals: for proofs about it within the crate.
    pub(crate) fn dealt_poly(&self) -> Option<&SecretPoly<C>> {
        self.dealer.as_ref().map(|(_, poly)| poly)
    }

    /// The group.
    pub fn group(&self) -> &Group<C> {
        &self.group
    }

    fn check_sender<'k>(
        kind: &'static str,
        index: u32,
        keys: &'k [G1Affine],
    ) -> Result<&'k G1Affine, DkgError> {
        index
            .checked_sub(1)
            .and_then(|i| keys.get(i as usize))
            .ok_or(DkgError::NotAMember {
                kind,
                index,
                size: keys.len() as u32,
            })
    }

    /// Takes in a dealer's bundle. A bundle not signed by its dealer is refused and not kept;
    /// one that is signed but wrong is kept, and its dealer will be disqualified.
    pub fn receive_deal(&mut self, bundle: &DealBundle<C>) -> Result<(), DkgError> {
        const KIND: &str = "deal bundle";
        let dealer = bundle.dealer;
        let key = Self::check_sender(KIND, dealer, self.group.dealers())?;
        if !self.group.dealer_indices().any(|d| d == dealer) {
            return Err(DkgError::Absent(dealer));
        }
        let session = self.group.session;
        if !bundle.signed_by(&session, key) {
            return Err(DkgError::BadSignature {
                kind: KIND,
                from: dealer,
            });
        }
        let digest = bundle.digest(&session);
        if let Some(known) = self.deals.get(&dealer) {
            return match known.digest == digest {
                true => Ok(()),
                false => Err(DkgError::Equivocation {
                    kind: KIND,
                    from: dealer,
                }),
            };
        }
        let shaped = bundle.commitments.threshold() == self.group.threshold
            && bundle.deals.len() == self.group.members.len()
            && bundle
                .deals
                .iter()
                .zip(self.group.indices())
                .all(|(d, i)| d.holder == i);
        // A reshared polynomial's secret must be the dealer's share of the previous key.
        let reshares = self.group.previous.as_ref().is_none_or(|previous| {
            bundle.commitments.commitments()[0] == previous.public.eval(dealer)
        });
        let commitments = (shaped && reshares).then(|| bundle.commitments.clone());
        let holder = self.holder;
        let share = commitments
            .as_ref()
            .zip(holder)
            .and_then(|(commitments, me)| {
                let deal = &bundle.deals[(me - 1) as usize];
                let context = deal_context(&session, dealer, me);
                let opened = ecies::open(self.identity.scalar(), &deal.sealed, &context).ok()?;
                let bytes: [u8; 32] = opened.as_slice().try_into().ok()?;
                let share = C::scalar_from_bytes(&bytes)?;
                commitments.verifies(me, &share).then_some(share)
            });
        self.deals.insert(
            dealer,
            Dealt {
                digest,
                commitments,
                share,
            },
        );
        Ok(())
    }

    fn missing<T>(
        kind: &'static str,
        have: &BTreeMap<u32, T>,
        expected: impl Iterator<Item = u32>,
    ) -> Result<(), DkgError> {
        let missing: Vec<u32> = expected.filter(|i| !have.contains_key(i)).collect();
        match missing.is_empty() {
            true => Ok(()),
            false => Err(DkgError::Incomplete { kind, missing }),
        }
    }

    fn missing_deals(&self) -> Result<(), DkgError> {
        Self::missing("deal bundle", &self.deals, self.group.dealer_indices())
    }

    fn missing_responses(&self) -> Result<(), DkgError> {
        Self::missing("response bundle", &self.responses, self.group.indices())
    }

    /// This member's response bundle, once it has every dealer's bundle; it is taken in
    /// already.
    pub fn response(&mut self) -> Result<ResponseBundle, DkgError> {
        let holder = self.holder.ok_or(DkgError::NotAHolder)?;
        self.missing_deals()?;
        let mut bundle = ResponseBundle {
            holder,
            responses: self
                .deals
                .iter()
                .map(|(&dealer, dealt)| Response {
                    dealer,
                    bundle: dealt.digest,
                    valid: dealt.share.is_some(),
                })
                .collect(),
            signature: [0; 96],
        };
        bundle.sign(&self.group.session, &self.identity);
        self.receive_response(&bundle)?;
        Ok(bundle)
    }

    /// Takes in a holder's response bundle.
    pub fn receive_response(&mut self, bundle: &ResponseBundle) -> Result<(), DkgError> {
        const KIND: &str = "response bundle";
        let holder = bundle.holder;
        let key = Self::check_sender(KIND, holder, &self.group.members)?;
        if !bundle.signed_by(&self.group.session, key) {
            return Err(DkgError::BadSignature {
                kind: KIND,
                from: holder,
            });
        }
        let covers_all = bundle.responses.len() == self.group.dealer_indices().count()
            && bundle
                .responses
                .iter()
                .zip(self.group.dealer_indices())
                .all(|(r, i)| r.dealer == i);
        if !covers_all {
            return Err(DkgError::Malformed {
                kind: KIND,
                from: holder,
                why: "it must respond for every dealer, in order",
            });
        }
        if let Some(known) = self.responses.get(&holder) {
            return match known == bundle {
                true => Ok(()),
                false => Err(DkgError::Equivocation {
                    kind: KIND,
                    from: holder,
                }),
            };
        }
        self.responses.insert(holder, bundle.clone());
        Ok(())
    }

    /// The holders that complained against `dealer`: that said its share was bad, or that
    /// received another bundle from it than this member did. A holder that lies about the
    /// bundle it got thus only makes the dealer reveal its share, as any complaint does; a dealer
    /// that did show holders different bundles must justify every share against the commitments
    /// this member holds, or be disqualified.
    fn complaints(&self, dealer: u32) -> BTreeSet<u32> {
        let seen = self.deals.get(&dealer).map(|dealt| dealt.digest);
        self.responses
            .values()
            .filter(|bundle| {
                bundle
                    .responses
                    .iter()
                    .any(|r| r.dealer == dealer && (!r.valid || Some(r.bundle) != seen))
            })
            .map(|bundle| bundle.holder)
            .collect()
    }

    /// Whether any holder complained, so that a justification phase must run, once every
    /// response is in. The dealers to wait for are [`Dkg::complained_against`].
    pub fn complained_against(&self) -> Result<BTreeSet<u32>, DkgError> {
        self.missing_responses()?;
        Ok(self
            .group
            .dealer_indices()
            .filter(|&dealer| !self.complaints(dealer).is_empty())
            .collect())
    }

    /// This member's justification bundle, if holders complained against it; it is taken in
    /// already.
    pub fn justification(&mut self) -> Result<Option<JustificationBundle<C>>, DkgError> {
        let Some((dealer, poly)) = &self.dealer else {
            return Ok(None);
        };
        let complaints = self.complaints(*dealer);
        self.missing_responses()?;
        // With `t` complaints or more this dealer is disqualified whatever it reveals, and
        // revealing them would give away its polynomial.
        if complaints.is_empty() || complaints.len() >= self.group.threshold {
            return Ok(None);
        }
        let mut bundle = JustificationBundle {
            dealer: *dealer,
            justifications: complaints
                .into_iter()
                .map(|holder| Justification {
                    holder,
                    share: poly.eval(holder),
                })
                .collect(),
            signature: [0; 96],
        };
        bundle.sign(&self.group.session, &self.identity);
        self.receive_justification(&bundle)?;
        Ok(Some(bundle))
    }

    /// Takes in a dealer's justification bundle.
    pub fn receive_justification(
        &mut self,
        bundle: &JustificationBundle<C>,
    ) -> Result<(), DkgError> {
        const KIND: &str = "justification bundle";
        let dealer = bundle.dealer;
        let key = Self::check_sender(KIND, dealer, self.group.dealers())?;
        if !bundle.signed_by(&self.group.session, key) {
            return Err(DkgError::BadSignature {
                kind: KIND,
                from: dealer,
            });
        }
        if let Some(known) = self.justifications.get(&dealer) {
            return match known == bundle {
                true => Ok(()),
                false => Err(DkgError::Equivocation {
                    kind: KIND,
                    from: dealer,
                }),
            };
        }
        self.justifications.insert(dealer, bundle.clone());
        Ok(())
    }
}
