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

mod messages;
#[cfg(test)]
mod tests;

pub use messages::{
    Confirmation, Deal, DealBundle, Group, Justification, JustificationBundle, Response,
    ResponseBundle, deal_context,
};

use crate::ecies;
use crate::identity::Identity;
use crate::poly::{PublicPoly, SecretPoly};
use crate::threshold::Share;
use bls12_381::Scalar;
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
    /// Too few dealers qualified to make a key of the threshold.
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
pub struct Output {
    /// The member's share of the federation key.
    pub share: Share,
    /// The commitments to the federation key's polynomial: the key, and every member's public
    /// share. The same on every member.
    pub public: PublicPoly,
    /// The dealers whose contributions make the key, in order.
    pub qualified: Vec<u32>,
}

impl Output {
    /// What this member says it ended with, signed, for the others to compare.
    pub fn confirmation(&self, session: &[u8; 32], identity: &Identity) -> Confirmation {
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
struct Dealt {
    digest: [u8; 32],
    /// The commitments, unless the bundle is malformed.
    commitments: Option<PublicPoly>,
    /// This member's share from the dealer, if it opened and matched the commitments.
    share: Option<Scalar>,
}

/// One member's run of a key generation.
pub struct Dkg {
    group: Group,
    me: u32,
    identity: Identity,
    poly: SecretPoly,
    deals: BTreeMap<u32, Dealt>,
    responses: BTreeMap<u32, ResponseBundle>,
    justifications: BTreeMap<u32, JustificationBundle>,
}

impl Dkg {
    /// Starts member `me`'s run; returns it and the deal bundle to send to every member (this
    /// member's own is already taken in).
    pub fn new(group: Group, me: u32, identity: Identity) -> Result<(Self, DealBundle), DkgError> {
        let n = group.members.len();
        if group.threshold == 0 || group.threshold > n {
            return Err(DkgError::Group(
                "the threshold must be between 1 and the group's size",
            ));
        }
        if group.member(me) != Some(identity.public()) {
            return Err(DkgError::Group(
                "this node's key is not that of the member it runs as",
            ));
        }
        // Derived from the node's key and the session, so that a member that runs again (after
        // a restart, or when the last run failed) deals exactly the same bundle: what it sent
        // before stays valid, and it need store nothing until the key is made.
        let distinct: BTreeSet<[u8; 48]> =
            group.members.iter().map(|m| m.to_compressed()).collect();
        if distinct.len() != n {
            return Err(DkgError::Group("two members have the same node key"));
        }
        let session = group.session;
        // Bound to everything the group is, not to the session alone: the same session with
        // another threshold or members must never deal the same polynomial or reuse a sealing
        // key.
        let context = group.digest();
        let poly = SecretPoly::derived(group.threshold, |i| {
            identity.derive("dkg/coefficient", &[&context, &(i as u64).to_be_bytes()])
        });
        let mut bundle = DealBundle {
            dealer: me,
            commitments: poly.commit(),
            deals: group
                .indices()
                .map(|holder| Deal {
                    holder,
                    sealed: ecies::seal_with(
                        identity.derive("dkg/ephemeral", &[&context, &holder.to_be_bytes()]),
                        group.member(holder).expect("a member"),
                        &poly.eval(holder).to_bytes(),
                        &deal_context(&session, me, holder),
                    ),
                })
                .collect(),
            signature: [0; 96],
        };
        bundle.sign(&group.session, &identity);
        let mut dkg = Self {
            group,
            me,
            identity,
            poly,
            deals: BTreeMap::new(),
            responses: BTreeMap::new(),
            justifications: BTreeMap::new(),
        };
        dkg.receive_deal(&bundle)?;
        Ok((dkg, bundle))
    }

    /// The member this run is for.
    pub fn me(&self) -> u32 {
        self.me
    }

    /// The group.
    pub fn group(&self) -> &Group {
        &self.group
    }

    fn check_sender(&self, kind: &'static str, index: u32) -> Result<(), DkgError> {
        match self.group.member(index) {
            Some(_) => Ok(()),
            None => Err(DkgError::NotAMember {
                kind,
                index,
                size: self.group.size(),
            }),
        }
    }

    /// Takes in a dealer's bundle. A bundle not signed by its dealer is refused and not kept;
    /// one that is signed but wrong is kept, and its dealer will be disqualified.
    pub fn receive_deal(&mut self, bundle: &DealBundle) -> Result<(), DkgError> {
        const KIND: &str = "deal bundle";
        let dealer = bundle.dealer;
        self.check_sender(KIND, dealer)?;
        let session = self.group.session;
        let key = self.group.member(dealer).expect("checked");
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
        let commitments = shaped.then(|| bundle.commitments.clone());
        let share = commitments.as_ref().and_then(|commitments| {
            let deal = &bundle.deals[(self.me - 1) as usize];
            let context = deal_context(&session, dealer, self.me);
            let opened = ecies::open(self.identity.scalar(), &deal.sealed, &context).ok()?;
            let bytes: [u8; 32] = opened.as_slice().try_into().ok()?;
            let share = Option::<Scalar>::from(Scalar::from_bytes(&bytes))?;
            commitments.verifies(self.me, &share).then_some(share)
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

    fn missing<T>(&self, kind: &'static str, have: &BTreeMap<u32, T>) -> Result<(), DkgError> {
        let missing: Vec<u32> = self
            .group
            .indices()
            .filter(|i| !have.contains_key(i))
            .collect();
        match missing.is_empty() {
            true => Ok(()),
            false => Err(DkgError::Incomplete { kind, missing }),
        }
    }

    /// This member's response bundle, once it has every dealer's bundle; it is taken in
    /// already.
    pub fn response(&mut self) -> Result<ResponseBundle, DkgError> {
        self.missing("deal bundle", &self.deals)?;
        let mut bundle = ResponseBundle {
            holder: self.me,
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
        self.check_sender(KIND, holder)?;
        let key = self.group.member(holder).expect("checked");
        if !bundle.signed_by(&self.group.session, key) {
            return Err(DkgError::BadSignature {
                kind: KIND,
                from: holder,
            });
        }
        let covers_all = bundle.responses.len() == self.group.members.len()
            && bundle
                .responses
                .iter()
                .zip(self.group.indices())
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

    /// The holders that complained against `dealer`.
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
        self.missing("response bundle", &self.responses)?;
        Ok(self
            .group
            .indices()
            .filter(|&dealer| !self.complaints(dealer).is_empty())
            .collect())
    }

    /// This member's justification bundle, if holders complained against it; it is taken in
    /// already.
    pub fn justification(&mut self) -> Result<Option<JustificationBundle>, DkgError> {
        let complaints = self.complaints(self.me);
        self.missing("response bundle", &self.responses)?;
        // With `t` complaints or more this dealer is disqualified whatever it reveals, and
        // revealing them would give away its polynomial.
        if complaints.is_empty() || complaints.len() >= self.group.threshold {
            return Ok(None);
        }
        let mut bundle = JustificationBundle {
            dealer: self.me,
            justifications: complaints
                .into_iter()
                .map(|holder| Justification {
                    holder,
                    share: self.poly.eval(holder),
                })
                .collect(),
            signature: [0; 96],
        };
        bundle.sign(&self.group.session, &self.identity);
        self.receive_justification(&bundle)?;
        Ok(Some(bundle))
    }

    /// Takes in a dealer's justification bundle.
    pub fn receive_justification(&mut self, bundle: &JustificationBundle) -> Result<(), DkgError> {
        const KIND: &str = "justification bundle";
        let dealer = bundle.dealer;
        self.check_sender(KIND, dealer)?;
        let key = self.group.member(dealer).expect("checked");
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

    /// The share `dealer` justified for `holder`, if it did and it matches its commitments.
    fn justified(&self, dealer: u32, holder: u32, commitments: &PublicPoly) -> Option<Scalar> {
        let bundle = self.justifications.get(&dealer)?;
        let found = bundle.justifications.iter().find(|j| j.holder == holder)?;
        commitments
            .verifies(holder, &found.share)
            .then_some(found.share)
    }

    /// Whether `dealer` qualifies (drand: "Finish phase"), and this member's share from it.
    fn qualify(&self, dealer: u32) -> Option<Scalar> {
        let dealt = self.deals.get(&dealer)?;
        let commitments = dealt.commitments.as_ref()?;
        let complaints = self.complaints(dealer);
        // Revealing `t` shares would reveal the dealer's secret (drand's rule).
        if complaints.len() >= self.group.threshold {
            return None;
        }
        for &holder in &complaints {
            self.justified(dealer, holder, commitments)?;
        }
        match complaints.contains(&self.me) {
            true => self.justified(dealer, self.me, commitments),
            false => dealt.share,
        }
    }

    /// Ends the key generation: the qualified dealers, this member's share and the federation
    /// key's commitments. Every member that took in the same bundles gets the same commitments.
    pub fn finish(self) -> Result<Output, DkgError> {
        self.missing("deal bundle", &self.deals)?;
        self.missing("response bundle", &self.responses)?;
        let contributions: Vec<(u32, Scalar)> = self
            .group
            .indices()
            .filter_map(|dealer| self.qualify(dealer).map(|share| (dealer, share)))
            .collect();
        if contributions.len() < self.group.threshold {
            return Err(DkgError::TooFewQualified {
                qualified: contributions.len(),
                threshold: self.group.threshold,
            });
        }
        let public = PublicPoly::sum(contributions.iter().map(|(dealer, _)| {
            self.deals[dealer]
                .commitments
                .as_ref()
                .expect("qualified dealers' commitments are whole")
        }))
        .expect("qualified commitments have the threshold's length");
        let secret: Scalar = contributions.iter().map(|(_, share)| share).sum();
        if !public.verifies(self.me, &secret) {
            return Err(DkgError::Inconsistent);
        }
        Ok(Output {
            share: Share::new(self.me, secret),
            public,
            qualified: contributions.iter().map(|(dealer, _)| *dealer).collect(),
        })
    }
}
