//! Starting a member's run: checking the group, deriving the polynomial it deals (from its node
//! key, the whole group and, in a resharing, the share it reshares) and sealing its shares.

use super::{Deal, DealBundle, Dkg, DkgError, Group, deal_context};
use crate::curve::{Bls, Curve};
use crate::ecies;
use crate::identity::Identity;
use crate::poly::SecretPoly;
use crate::threshold::Share;
use bls12_381::G1Affine;
use std::collections::{BTreeMap, BTreeSet};

impl<C: Curve> Dkg<C> {
    /// Starts member `me`'s run of a fresh key generation; returns it and the deal bundle to
    /// send to every member (this member's own is already taken in).
    pub fn new(
        group: Group<C>,
        me: u32,
        identity: Identity,
    ) -> Result<(Self, DealBundle<C>), DkgError> {
        if group.previous.is_some() || group.member(me) != Some(identity.public()) {
            return Err(DkgError::Group(
                "this node's key is not that of the member it runs as",
            ));
        }
        let (dkg, deal) = Self::start(group, identity, None)?;
        Ok((
            dkg,
            deal.expect("every member of a fresh key generation deals"),
        ))
    }

    /// Member `me`'s run of a fresh key generation that takes bundles in without dealing one:
    /// for a key generation whose contributors are agreed on by other means
    /// ([`crate::machine_key`]), where this member's own bundle is taken in as any other, and
    /// sealing it again each time would be wasted.
    pub(crate) fn holding(group: Group<C>, me: u32, identity: Identity) -> Result<Self, DkgError> {
        if group.previous.is_some() || group.member(me) != Some(identity.public()) {
            return Err(DkgError::Group(
                "this node's key is not that of the member it runs as",
            ));
        }
        Ok(Self {
            group,
            holder: Some(me),
            dealer: None,
            identity,
            deals: BTreeMap::new(),
            responses: BTreeMap::new(),
            justifications: BTreeMap::new(),
        })
    }

    /// Starts this node's run of a resharing of `group.previous`, in which it is a member (it
    /// holds a share), a previous member (it deals `share`, its share of the previous key), or
    /// both; returns it and the deal bundle to send to every member, if it deals.
    pub fn reshare(
        group: Group<C>,
        identity: Identity,
        share: Option<&Share<C>>,
    ) -> Result<(Self, Option<DealBundle<C>>), DkgError> {
        let previous = group
            .previous
            .as_ref()
            .ok_or(DkgError::Group("a resharing needs the previous federation"))?;
        let n = previous.members.len() as u32;
        let listed = previous.absent.windows(2).all(|w| w[0] < w[1])
            && previous.absent.iter().all(|&i| (1..=n).contains(&i));
        if !listed {
            return Err(DkgError::Group(
                "the absent previous members must be distinct members, in order",
            ));
        }
        let present = previous.members.len() - previous.absent.len();
        if previous.threshold == 0
            || previous.threshold > present
            || previous.public.threshold() != previous.threshold
        {
            return Err(DkgError::Group(
                "the previous federation's threshold must be between 1 and the number of its \
                 members that deal, and its commitments as many",
            ));
        }
        let dealer = position(&previous.members, identity.public())
            .filter(|index| !previous.absent.contains(index));
        let secret = match (dealer, share) {
            (Some(index), Some(share))
                if share.index() == index && previous.public.verifies(index, share.secret()) =>
            {
                Some(*share.secret())
            }
            (Some(_), _) => {
                return Err(DkgError::Group(
                    "a previous member deals its own share of the previous federation's key, and \
                     this one's is missing or not its own",
                ));
            }
            (None, _) => None,
        };
        Self::start(group, identity, secret)
    }

    /// Starts a run: `reshared` is the dealer's share of the previous key in a resharing.
    fn start(
        group: Group<C>,
        identity: Identity,
        reshared: Option<C::Scalar>,
    ) -> Result<(Self, Option<DealBundle<C>>), DkgError> {
        let n = group.members.len();
        if group.threshold == 0 || group.threshold > n {
            return Err(DkgError::Group(
                "the threshold must be between 1 and the group's size",
            ));
        }
        for keys in [&group.members[..], group.dealers()] {
            let distinct: BTreeSet<[u8; 48]> = keys.iter().map(|m| m.to_compressed()).collect();
            if distinct.len() != keys.len() {
                return Err(DkgError::Group("two members have the same node key"));
            }
        }
        let holder = position(&group.members, identity.public());
        let dealer = position(group.dealers(), identity.public())
            .filter(|index| group.dealer_indices().any(|d| d == *index));
        if holder.is_none() && dealer.is_none() {
            return Err(DkgError::Group(
                "this node's key is not that of any member or dealer",
            ));
        }
        // Derived from the node's key and the whole group, so that a member that runs again
        // (after a restart, or when the last run failed) deals exactly the same bundle: what it
        // sent before stays valid, and it need store nothing until the key is made. Bound to
        // everything the group is, not to the session alone: the same session with another
        // threshold or members must never deal the same polynomial or reuse a sealing key.
        let context = group.digest();
        // A reshared polynomial derives from the old share too: with the node key alone (which
        // stays on disk after the share is deleted) nobody can derive the polynomial again and
        // so take the old share back out of the public bundle.
        let mut keyed = zeroize::Zeroizing::new(context.to_vec());
        if let Some(secret) = &reshared {
            keyed.extend_from_slice(&C::scalar_to_bytes(secret));
        }
        let dealer = dealer.map(|index| {
            let poly = SecretPoly::derived(group.threshold, |i| match (i, reshared) {
                (0, Some(secret)) => secret,
                _ => identity.derive::<C>("dkg/coefficient", &[&keyed, &(i as u64).to_be_bytes()]),
            });
            (index, poly)
        });
        let bundle = dealer.as_ref().map(|(index, poly)| {
            let session = group.session;
            let mut bundle = DealBundle {
                dealer: *index,
                commitments: poly.commit(),
                deals: group
                    .indices()
                    .map(|holder| Deal {
                        holder,
                        sealed: ecies::seal_with(
                            identity.derive::<Bls>(
                                "dkg/ephemeral",
                                &[&keyed, &u64::from(holder).to_be_bytes()],
                            ),
                            group.member(holder).expect("a member"),
                            &C::scalar_to_bytes(&poly.eval(holder)),
                            &deal_context(&session, *index, holder),
                        ),
                    })
                    .collect(),
                signature: [0; 96],
            };
            bundle.sign(&session, &identity);
            bundle
        });
        let mut dkg = Self {
            group,
            holder,
            dealer,
            identity,
            deals: BTreeMap::new(),
            responses: BTreeMap::new(),
            justifications: BTreeMap::new(),
        };
        if let Some(bundle) = &bundle {
            dkg.receive_deal(bundle)?;
        }
        Ok((dkg, bundle))
    }
}

/// The index (from 1) of `key` among `keys`.
fn position(keys: &[G1Affine], key: &G1Affine) -> Option<u32> {
    keys.iter().position(|k| k == key).map(|i| i as u32 + 1)
}
