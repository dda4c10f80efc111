//! Machines' keys made among five members in one process, honest and not.
use super::*;
use crate::dkg::tests::{deal_all, respond};
use crate::identity::node_point;
use crate::poly::lagrange_at_zero;
use crate::threshold::combine;
use bls12_381::{G1Affine, Scalar};
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

/// The contributions of `members` among `deals`, as a decision names them.
fn named(group: &Group, deals: &[MachineDeal], members: &[u32]) -> Vec<Contributor> {
    let named: Vec<Contributor> = deals
        .iter()
        .filter(|d| members.contains(&d.bundle.dealer))
        .map(|d| d.contributor(group))
        .collect();
    assert_eq!(named.len(), members.len(), "a deal of each");
    named
}

/// The members of `contributors`.
fn members(contributors: Vec<Contributor>) -> Vec<u32> {
    contributors.into_iter().map(|c| c.member).collect()
}

/// Every member's share of machine `machine`'s key made by `contributors`.
fn shares(
    keys: &[SecretKey],
    federation: &Group,
    machine: [u8; 32],
    contributors: &[u32],
) -> Vec<(Share, PublicPoly)> {
    let group = group(federation, &machine);
    let bundles: Vec<MachineDeal> = (1..=keys.len() as u32)
        .map(|i| deal(&group, i, &Identity::new(&keys[i as usize - 1])).unwrap())
        .collect();
    (1..=keys.len() as u32)
        .map(|i| {
            share(
                &group,
                i,
                &Identity::new(&keys[i as usize - 1]),
                &named(&group, &bundles, contributors),
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
    let weights = lagrange_at_zero::<crate::curve::Bls>(&[2, 3, 5]).unwrap();
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
    let bundles: Vec<MachineDeal> = (1..=5)
        .map(|i| deal(&machine_group, i, &Identity::new(&keys[i as usize - 1])).unwrap())
        .collect();
    assert_eq!(
        share(
            &machine_group,
            1,
            &identity,
            &named(&machine_group, &bundles, &[1, 2]),
            &bundles
        )
        .unwrap_err(),
        MachineKeyError::TooFewContributors {
            have: 2,
            threshold: 3
        }
    );
    // This member's own contribution always counts.
    assert_eq!(
        members(usable(&machine_group, 1, &identity, &bundles[1..4]).unwrap()),
        [1, 2, 3, 4]
    );
    // A contributor whose bundle is missing gives this member no share.
    let first_three = named(&machine_group, &bundles, &[1, 2, 3]);
    assert_eq!(
        share(&machine_group, 1, &identity, &first_three, &bundles[..2]).unwrap_err(),
        MachineKeyError::Missing(3)
    );
    // Another machine's bundle is not this machine's contribution.
    let other = group(&federation, &[2; 32]);
    let foreign = deal(&other, 3, &Identity::new(&keys[2])).unwrap();
    let mut mixed = bundles[..2].to_vec();
    mixed.push(foreign);
    assert!(share(&machine_group, 1, &identity, &first_three, &mixed).is_err());
}

#[test]
fn a_contribution_without_its_proof_of_knowledge_is_no_contribution() {
    let (keys, federation) = federation(5);
    let machine_group = group(&federation, &[1; 32]);
    let identity = Identity::new(&keys[0]);
    let mut deals: Vec<MachineDeal> = (1..=5)
        .map(|i| deal(&machine_group, i, &Identity::new(&keys[i as usize - 1])).unwrap())
        .collect();
    assert!(deals.iter().all(|d| d.proves(&machine_group)));
    // The same proof for another machine's group proves nothing.
    assert!(!deals[2].proves(&group(&federation, &[2; 32])));
    deals[2].proof_scalar += Scalar::one();
    assert_eq!(
        members(usable(&machine_group, 1, &identity, &deals).unwrap()),
        [1, 2, 4, 5]
    );
    let first_three = named(&machine_group, &deals, &[1, 2, 3]);
    assert_eq!(
        share(&machine_group, 1, &identity, &first_three, &deals).unwrap_err(),
        MachineKeyError::BadContribution(3)
    );
    let json = MachineDealJson::from(&deals[0]);
    assert_eq!(MachineDeal::try_from(&json), Ok(deals[0].clone()));
}

/// The rogue dealer of an independent review: having seen the honest members' (public)
/// contributions, member 5 commits to `g^x` minus their sum, with higher commitments solved so
/// that each honest member's own share checks out. Without proofs of knowledge every member
/// would take it, and member 5 alone would know the machine's key; its proof cannot verify.
#[test]
fn a_rogue_dealer_that_would_alone_know_the_key_is_refused() {
    use crate::dkg::{Deal, deal_context};
    use crate::ecies;
    use crate::poly::random_scalar;
    use bls12_381::G1Projective;

    let (keys, federation) = federation(5);
    let group = group(&federation, &[7; 32]);
    let honest: Vec<MachineDeal> = (1..=4u32)
        .map(|i| deal(&group, i, &Identity::new(&keys[i as usize - 1])).unwrap())
        .collect();
    let x = random_scalar();
    let sum: G1Projective = honest
        .iter()
        .map(|d| G1Projective::from(d.bundle.commitments.commitments()[0]))
        .sum();
    let rogue = G1Projective::generator() * x - sum;
    let dealer = Identity::new(&keys[4]);
    for j in 1..=4u32 {
        let at = Scalar::from(u64::from(j));
        let s_j = random_scalar();
        let higher = random_scalar();
        // s_j·G = rogue + C1·j + higher·G·j²
        let c1 = (G1Projective::generator() * s_j
            - rogue
            - G1Projective::generator() * (higher * at * at))
            * at.invert().unwrap();
        let points = [
            G1Affine::from(rogue),
            G1Affine::from(c1),
            G1Affine::from(G1Projective::generator() * higher),
        ];
        let bytes: Vec<u8> = points.iter().flat_map(G1Affine::to_compressed).collect();
        let mut bundle = DealBundle {
            dealer: 5,
            commitments: PublicPoly::from_bytes(&bytes).unwrap(),
            deals: (1..=5u32)
                .map(|h| Deal {
                    holder: h,
                    sealed: ecies::seal(
                        group.member(h).unwrap(),
                        &(if h == j { s_j } else { Scalar::zero() }).to_bytes(),
                        &deal_context(&group.session, 5, h),
                    ),
                })
                .collect(),
            signature: [0; 96],
        };
        bundle.sign(&group.session, &dealer);
        // The best proof it can make is one for a secret it knows, not for the rogue commitment.
        let k = random_scalar();
        let rogue_deal = MachineDeal {
            bundle,
            proof_point: G1Affine::from(G1Affine::generator() * k),
            proof_scalar: k + x,
        };
        let mut deals = honest.clone();
        deals.push(rogue_deal);
        let me = Identity::new(&keys[j as usize - 1]);
        assert_eq!(
            members(usable(&group, j, &me, &deals).unwrap()),
            [1, 2, 3, 4],
            "member {j}"
        );
        assert_eq!(
            share(
                &group,
                j,
                &me,
                &named(&group, &deals, &[1, 2, 3, 4, 5]),
                &deals
            )
            .unwrap_err(),
            MachineKeyError::BadContribution(5)
        );
    }
}

#[test]
fn a_resharing_carries_a_machines_key_over_to_the_new_members() {
    // Machine M's key made by the 3-of-5 federation; the federation reshared to old members 2,
    // 4 and 5 and a newcomer, 3-of-4. M's key is reshared along, as its own lane.
    let (keys, old) = federation(5);
    let machine = [6; 32];
    let made = shares(&keys, &old, machine, &[1, 3, 5]);
    let machine_public = made[0].1.clone();
    let newcomer = SecretKey::generate();
    let mut members: Vec<G1Affine> = [2usize, 4, 5]
        .iter()
        .map(|&i| node_point(&keys[i - 1].public_key()))
        .collect();
    members.push(node_point(&newcomer.public_key()));
    let reshared_federation = Group {
        session: [9; 32],
        threshold: 3,
        members,
        previous: Some(Previous {
            threshold: 3,
            members: old.members.clone(),
            public: machine_public.clone(),
            absent: Vec::new(),
        }),
    };
    assert!(reshare_group(&old, &machine, machine_public.clone()).is_none());
    let lane = reshare_group(&reshared_federation, &machine, machine_public.clone()).unwrap();
    assert_ne!(lane.session, group(&reshared_federation, &machine).session);
    assert_ne!(lane.session, reshared_federation.session);

    // A previous member may deal only its own share of this machine's key.
    let other = shares(&keys, &old, [7; 32], &[1, 2, 3]);
    assert!(Dkg::reshare(lane.clone(), Identity::new(&keys[0]), Some(&other[0].0)).is_err());

    let mut runs = Vec::new();
    let mut deals = Vec::new();
    for (i, (share, _)) in made.iter().enumerate() {
        let (run, deal) = Dkg::reshare(lane.clone(), Identity::new(&keys[i]), Some(share)).unwrap();
        runs.push(run);
        deals.push(deal.unwrap());
    }
    runs.push(
        Dkg::reshare(lane.clone(), Identity::new(&newcomer), None)
            .unwrap()
            .0,
    );
    deal_all(&mut runs, &deals);
    respond(&mut runs);
    let outputs: Vec<_> = runs
        .into_iter()
        .filter(|r| r.holder().is_some())
        .map(|r| r.finish().unwrap())
        .collect();
    assert_eq!(outputs.len(), 4);
    assert!(outputs.iter().all(|o| o.public == outputs[0].public));
    assert_eq!(outputs[0].public.public_key(), machine_public.public_key());
    // The machine's signature by three new shares is the one it made with three old ones.
    let message = b"price=30264";
    let old_signature = combine(
        3,
        &[
            made[0].0.sign(message),
            made[2].0.sign(message),
            made[4].0.sign(message),
        ],
    )
    .unwrap();
    let new_partials: Vec<_> = outputs.iter().map(|o| o.share.sign(message)).collect();
    assert_eq!(combine(3, &new_partials[1..]).unwrap(), old_signature);
    let key = PublicKey::from_bytes(&machine_public.public_key().to_bytes()).unwrap();
    assert!(key.verify(message, &old_signature));
}

/// Member 5 deals two valid contributions, each with its proof, and shows members 1 and 2 one,
/// members 3 and 4 the other. The decision names one by its digest: the members shown the other
/// have no share until they hold the one decided, and then every member's key is the same. Were
/// the members alone named, the two halves would make two keys for one machine, member 5 taking
/// part in both.
#[test]
fn a_dealer_that_shows_members_different_contributions_cannot_split_the_key() {
    use crate::dkg::{Deal, deal_context};
    use crate::ecies;
    use crate::poly::{SecretPoly, random_scalar};

    let (keys, federation) = federation(5);
    let group = group(&federation, &[5; 32]);
    let honest: Vec<MachineDeal> = (1..=5u32)
        .map(|i| deal(&group, i, &Identity::new(&keys[i as usize - 1])).unwrap())
        .collect();
    let poly = SecretPoly::random(3);
    let mut bundle = DealBundle {
        dealer: 5,
        commitments: poly.commit(),
        deals: (1..=5u32)
            .map(|h| Deal {
                holder: h,
                sealed: ecies::seal(
                    group.member(h).unwrap(),
                    &Bls::scalar_to_bytes(&poly.eval(h)),
                    &deal_context(&group.session, 5, h),
                ),
            })
            .collect(),
        signature: [0; 96],
    };
    bundle.sign(&group.session, &Identity::new(&keys[4]));
    let second = MachineDeal::prove(&group, bundle, &poly.eval(0), &random_scalar());
    assert!(second.proves(&group));
    let mut shown_second = honest[..4].to_vec();
    shown_second.push(second.clone());
    for j in [3u32, 4] {
        let me = Identity::new(&keys[j as usize - 1]);
        let usable = usable(&group, j, &me, &shown_second).unwrap();
        assert_eq!(usable[4], second.contributor(&group), "member {j}");
    }

    let decided = named(&group, &honest, &[1, 2, 5]);
    assert_ne!(decided[2], second.contributor(&group));
    let me = Identity::new(&keys[2]);
    assert_eq!(
        share(&group, 3, &me, &decided, &shown_second).unwrap_err(),
        MachineKeyError::Missing(5)
    );
    // Of two bundles of one dealer, the first counts: the second is an equivocation.
    let mut two_of_five = honest.clone();
    two_of_five.push(second.clone());
    let usable_first = usable(&group, 3, &me, &two_of_five).unwrap();
    assert_eq!(usable_first[4], honest[4].contributor(&group));
    // A copy of the decided bundle whose proof was damaged on the way is passed over.
    let mut damaged = honest[4].clone();
    damaged.proof_scalar += Scalar::one();
    let mut both = shown_second.clone();
    both.push(damaged);
    assert_eq!(
        share(&group, 3, &me, &decided, &both).unwrap_err(),
        MachineKeyError::BadContribution(5)
    );
    both.push(honest[4].clone());
    let keys_made: Vec<PublicPoly> = (1..=5u32)
        .map(|j| {
            let me = Identity::new(&keys[j as usize - 1]);
            let held = if j > 2 { &both } else { &honest };
            share(&group, j, &me, &decided, held).unwrap().1
        })
        .collect();
    assert!(keys_made.iter().all(|k| *k == keys_made[0]));
    let other = share(
        &group,
        3,
        &me,
        &named(&group, &shown_second, &[1, 2, 5]),
        &both,
    );
    assert_ne!(other.unwrap().1, keys_made[0]);
}

#[test]
fn a_pledge_names_its_dealers_contribution_and_nothing_else() {
    let keys: Vec<SecretKey> = (0..3).map(|_| SecretKey::generate()).collect();
    let federation = Group {
        session: [8; 32],
        threshold: 2,
        members: keys.iter().map(|k| node_point(&k.public_key())).collect(),
        previous: None,
    };
    let group = nonce_group(&federation, &[3; 32], b"event/0");
    let deal = deal(&group, 2, &Identity::new(&keys[1])).unwrap();
    let (session, decree) = ([8; 32], nonce_decree(&[3; 32], b"event/0"));
    let pledge = deal.pledge(&group, &session, &decree, &Identity::new(&keys[1]));
    let named = pledged(&group, &session, &decree, &pledge).map(|(c, _)| c);
    assert_eq!(named, Some(deal.contributor(&group)));
    // Another digest, another dealer named, another decision or another federation: no
    // contributor.
    let mut other = pledge.clone();
    other.digest = hex::encode([0u8; 32]);
    assert_eq!(pledged(&group, &session, &decree, &other), None);
    let mut other = pledge.clone();
    other.dealer = 1;
    assert_eq!(pledged(&group, &session, &decree, &other), None);
    let elsewhere = nonce_decree(&[3; 32], b"event/1");
    assert_eq!(pledged(&group, &session, &elsewhere, &pledge), None);
    assert_eq!(pledged(&group, &[9; 32], &decree, &pledge), None);
    // The endorsement is the one an acceptor checks against the dealer's node key.
    let (contributor, signature) = pledged(&group, &session, &decree, &pledge).unwrap();
    let key = node_point(&keys[1].public_key());
    assert!(crate::agreement::endorses(
        &key,
        &session,
        &decree,
        &contributor,
        &signature
    ));
    let stranger = node_point(&keys[0].public_key());
    assert!(!crate::agreement::endorses(
        &stranger,
        &session,
        &decree,
        &contributor,
        &signature
    ));
}
