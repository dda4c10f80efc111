//! A machine's own BLS key in a federation: made by a key generation of its own among the
//! members, on its first use. Each member deals a polynomial derived from its node key and the
//! machine's group ([`group`]), so it deals the same bundle whenever asked and stores nothing;
//! the members agree on which dealers contribute ([`crate::agreement`], at least the threshold
//! of them), and each member's share is the sum of its shares from those, the key the sum of
//! their secrets, which no one holds.
//!
//! Why not a public tweak of the federation key: a BLS signature carries no key in its message,
//! so from machine A's signature of `B || m` under `x + h(A)` anyone could subtract `h(A)·H(B ||
//! m)`, the public tweak, and hold the federation's `bls-sign` signature of `m` for machine B.
//! Keys made independently have no such relation: what one machine's key signs verifies under no
//! other key.

use crate::dkg::{DealBundle, Dkg, DkgError, Group};
use crate::identity::Identity;
use crate::poly::PublicPoly;
use crate::threshold::Share;
use bls12_381::Scalar;
use sha2::{Digest, Sha256};

/// Why a member cannot have its share of a machine's key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MachineKeyError {
    /// A contributor's bundle is missing, malformed, or its share to this member is bad.
    #[error(
        "member {0}'s contribution to the machine's key gives this member no valid share: it \
         cannot sign with this machine's key"
    )]
    BadContribution(u32),
    /// The contributors agreed on are fewer than the threshold.
    #[error("{have} contributors, fewer than the threshold {threshold}")]
    TooFewContributors {
        /// How many.
        have: usize,
        /// The threshold.
        threshold: usize,
    },
    /// The key generation's own checks refused something.
    #[error(transparent)]
    Dkg(#[from] DkgError),
}

/// The group of machine `machine`'s key generation among the members of `federation`: the same
/// members and threshold, under a session of its own.
pub fn group(federation: &Group, machine: &[u8; 32]) -> Group {
    let mut hash = Sha256::new();
    hash.update(b"carol-federation/machine-key/v1/bls\0");
    hash.update(federation.session);
    hash.update(machine);
    Group {
        session: hash.finalize().into(),
        threshold: federation.threshold,
        members: federation.members.clone(),
        previous: None,
    }
}

/// What names the decision on who contributes to machine `machine`'s BLS key
/// ([`crate::agreement`]).
pub fn decree(machine: &[u8; 32]) -> Vec<u8> {
    let mut decree = b"machine-key/bls/".to_vec();
    decree.extend_from_slice(machine);
    decree
}

/// Member `me`'s contribution to the key of the machine whose group is `group`: the same bundle
/// every time.
pub fn deal(group: &Group, me: u32, identity: &Identity) -> Result<DealBundle, DkgError> {
    Dkg::new(group.clone(), me, identity.clone()).map(|(_, bundle)| bundle)
}

/// The dealers of `bundles` whose contributions give member `me` a valid share, in order: what
/// it may propose as the contributors.
pub fn usable(
    group: &Group,
    me: u32,
    identity: &Identity,
    bundles: &[DealBundle],
) -> Result<Vec<u32>, DkgError> {
    let (mut dkg, _) = Dkg::new(group.clone(), me, identity.clone())?;
    for bundle in bundles {
        // A bundle that is not its dealer's, or not this machine's, is no contribution.
        let _ = dkg.receive_deal(bundle);
    }
    Ok(group
        .indices()
        .filter(|&d| dkg.dealt(d).is_some())
        .collect())
}

/// Member `me`'s share of the key the `contributors`' bundles (`bundles`, by dealer) make, and
/// the key's commitments.
pub fn share(
    group: &Group,
    me: u32,
    identity: &Identity,
    contributors: &[u32],
    bundles: &[DealBundle],
) -> Result<(Share, PublicPoly), MachineKeyError> {
    if contributors.len() < group.threshold {
        return Err(MachineKeyError::TooFewContributors {
            have: contributors.len(),
            threshold: group.threshold,
        });
    }
    let (mut dkg, _) = Dkg::new(group.clone(), me, identity.clone())?;
    for bundle in bundles.iter().filter(|b| contributors.contains(&b.dealer)) {
        dkg.receive_deal(bundle)?;
    }
    let mut secret = Scalar::zero();
    let mut commitments = Vec::with_capacity(contributors.len());
    for &dealer in contributors {
        let (public, share) = dkg
            .dealt(dealer)
            .ok_or(MachineKeyError::BadContribution(dealer))?;
        secret += share;
        commitments.push((Scalar::one(), public));
    }
    let public =
        PublicPoly::weighted_sum(commitments).expect("dealt commitments have the threshold");
    Ok((Share::new(me, secret), public))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::node_point;
    use crate::poly::lagrange_at_zero;
    use crate::threshold::combine;
    use carol_core::bls::{PublicKey, SecretKey};

    fn federation(n: usize) -> (Vec<SecretKey>, Group) {
        let keys: Vec<SecretKey> = (0..n).map(|_| SecretKey::generate()).collect();
        let group = Group {
            session: [8; 32],
            threshold: 3,
            members: keys.iter().map(|k| node_point(&k.public_key())).collect(),
            previous: None,
        };
        (keys, group)
    }

    /// Every member's share of machine `machine`'s key made by `contributors`.
    fn shares(
        keys: &[SecretKey],
        federation: &Group,
        machine: [u8; 32],
        contributors: &[u32],
    ) -> Vec<(Share, PublicPoly)> {
        let group = group(federation, &machine);
        let bundles: Vec<DealBundle> = (1..=keys.len() as u32)
            .map(|i| deal(&group, i, &Identity::new(&keys[i as usize - 1])).unwrap())
            .collect();
        (1..=keys.len() as u32)
            .map(|i| {
                share(
                    &group,
                    i,
                    &Identity::new(&keys[i as usize - 1]),
                    contributors,
                    &bundles,
                )
                .unwrap()
            })
            .collect()
    }

    #[test]
    fn the_contributors_make_one_key_the_same_everywhere_and_every_time() {
        let (keys, federation) = federation(5);
        let machine = [1; 32];
        let made = shares(&keys, &federation, machine, &[1, 2, 4]);
        let public = &made[0].1;
        assert!(
            made.iter()
                .all(|(share, p)| p == public && p.verifies(share.index(), share.secret()))
        );
        // The whole key, rebuilt from three shares as no member ever does, is the key's secret.
        let weights = lagrange_at_zero(&[2, 3, 5]).unwrap();
        let whole: Scalar = [1usize, 2, 4]
            .iter()
            .zip(&weights)
            .map(|(&i, w)| made[i].0.secret() * w)
            .sum();
        let key = PublicKey::from_bytes(
            &bls12_381::G1Affine::from(bls12_381::G1Affine::generator() * whole).to_compressed(),
        )
        .unwrap();
        assert_eq!(key, public.public_key());
        let partials: Vec<_> = made.iter().map(|(s, _)| s.sign(b"price")).collect();
        let signature = combine(3, &partials[2..]).unwrap();
        assert!(key.verify(b"price", &signature));
        // Dealt again, the same bundles and key: nothing need be stored.
        let again = shares(&keys, &federation, machine, &[1, 2, 4]);
        assert_eq!(again[0].1, *public);
        let machine_group = group(&federation, &machine);
        assert_eq!(
            deal(&machine_group, 3, &Identity::new(&keys[2])).unwrap(),
            deal(&machine_group, 3, &Identity::new(&keys[2])).unwrap()
        );
    }

    #[test]
    fn one_machines_key_signs_nothing_that_verifies_as_another_machines_or_the_federations() {
        let (keys, federation) = federation(5);
        let (a, b) = ([1; 32], [2; 32]);
        let key_a = shares(&keys, &federation, a, &[1, 2, 3]);
        let key_b = shares(&keys, &federation, b, &[1, 2, 3]);
        assert_ne!(key_a[0].1.public_key(), key_b[0].1.public_key());
        // Machine A signs what machine B, or the federation for machine B, would sign.
        let mut for_b = b.to_vec();
        for_b.extend_from_slice(b"price");
        let partials: Vec<_> = key_a.iter().take(3).map(|(s, _)| s.sign(&for_b)).collect();
        let by_a = combine(3, &partials).unwrap();
        assert!(key_a[0].1.public_key().verify(&for_b, &by_a));
        assert!(!key_b[0].1.public_key().verify(&for_b, &by_a));
        assert!(!key_b[0].1.public_key().verify(b"price", &by_a));
        // The federation key: the members' fresh key generation.
        let mut runs: Vec<_> = (1..=5)
            .map(|i| Dkg::new(federation.clone(), i, Identity::new(&keys[i as usize - 1])).unwrap())
            .collect();
        let deals: Vec<DealBundle> = runs.iter().map(|(_, d)| d.clone()).collect();
        for (run, _) in &mut runs {
            for d in &deals {
                run.receive_deal(d).unwrap();
            }
        }
        let responses: Vec<_> = runs
            .iter_mut()
            .map(|(r, _)| r.response().unwrap())
            .collect();
        for (run, _) in &mut runs {
            for r in &responses {
                run.receive_response(r).unwrap();
            }
        }
        let (run, _) = runs.remove(0);
        let federation_key = run.finish().unwrap().public.public_key();
        assert_ne!(federation_key, key_a[0].1.public_key());
        assert!(!federation_key.verify(&for_b, &by_a));
    }

    #[test]
    fn too_few_or_bad_contributions_give_no_share() {
        let (keys, federation) = federation(5);
        let machine_group = group(&federation, &[1; 32]);
        let identity = Identity::new(&keys[0]);
        let bundles: Vec<DealBundle> = (1..=5)
            .map(|i| deal(&machine_group, i, &Identity::new(&keys[i as usize - 1])).unwrap())
            .collect();
        assert_eq!(
            share(&machine_group, 1, &identity, &[1, 2], &bundles).unwrap_err(),
            MachineKeyError::TooFewContributors {
                have: 2,
                threshold: 3
            }
        );
        assert_eq!(
            usable(&machine_group, 1, &identity, &bundles[1..4]).unwrap(),
            [2, 3, 4]
        );
        // A contributor whose bundle is missing gives this member no share.
        assert_eq!(
            share(&machine_group, 1, &identity, &[1, 2, 3], &bundles[..2]).unwrap_err(),
            MachineKeyError::BadContribution(3)
        );
        // Another machine's bundle is not this machine's contribution.
        let other = group(&federation, &[2; 32]);
        let foreign = deal(&other, 3, &Identity::new(&keys[2])).unwrap();
        let mut mixed = bundles[..2].to_vec();
        mixed.push(foreign);
        assert!(share(&machine_group, 1, &identity, &[1, 2, 3], &mixed).is_err());
    }
}
