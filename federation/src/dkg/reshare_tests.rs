//! Resharings simulated in one process: a 3-of-5 federation's key reshared to 3-of-4 members,
//! three of them old and one new, honestly and with a dealer that reshares something else.

use super::tests::{Members, deal_all, finish_all, respond, respond_all};
use super::*;
use crate::ecies;
use crate::identity::node_point;
use crate::threshold::{CombineError, combine};
use bls12_381::G1Affine;
use carol_core::bls::SecretKey;

const NEW_SESSION: [u8; 32] = [7; 32];

/// A 3-of-5 federation made by a key generation, and its members' outputs.
fn federation() -> (Members, Vec<Output>) {
    let members = Members::new(3, 5);
    let (mut runs, deals) = members.start();
    deal_all(&mut runs, &deals);
    respond_all(&mut runs);
    (members, finish_all(runs))
}

/// The 3-of-4 group of old members 2, 4 and 5 (new members 1 to 3) and one newcomer (4), whose
/// key is also returned, resharing the key of `old`.
fn resharing(old: &Members, outputs: &[Output]) -> (Group, SecretKey) {
    let newcomer = SecretKey::generate();
    let mut members: Vec<G1Affine> = [2, 4, 5]
        .iter()
        .map(|&i| *old.group.member(i).unwrap())
        .collect();
    members.push(node_point(&newcomer.public_key()));
    let group = Group {
        session: NEW_SESSION,
        threshold: 3,
        members,
        previous: Some(Previous {
            threshold: 3,
            members: old.group.members.clone(),
            public: outputs[0].public.clone(),
            absent: Vec::new(),
        }),
    };
    (group, newcomer)
}

/// Every old member's run (dealing its share) and the newcomer's; returns them and the deals.
fn start(
    old: &Members,
    outputs: &[Output],
    group: &Group,
    newcomer: &SecretKey,
) -> (Vec<Dkg>, Vec<DealBundle>) {
    let mut runs = Vec::new();
    let mut deals = Vec::new();
    for output in outputs {
        let identity = old.identity(output.share.index());
        let (run, deal) = Dkg::reshare(group.clone(), identity, Some(&output.share)).unwrap();
        runs.push(run);
        deals.push(deal.expect("an old member deals"));
    }
    let (run, deal) = Dkg::reshare(group.clone(), Identity::new(newcomer), None).unwrap();
    assert!(deal.is_none(), "a newcomer has nothing to deal");
    runs.push(run);
    (runs, deals)
}

/// The new members' runs, finished and checked by [`finish_all`]; the leaving members' runs
/// end with no share.
fn finish(runs: Vec<Dkg>) -> Vec<Output> {
    let (holders, leaving): (Vec<Dkg>, Vec<Dkg>) =
        runs.into_iter().partition(|r| r.holder().is_some());
    assert_eq!(leaving.len(), 2);
    for mut run in leaving {
        assert_eq!(run.response().unwrap_err(), DkgError::NotAHolder);
        assert_eq!(run.finish().unwrap_err(), DkgError::NotAHolder);
    }
    finish_all(holders)
}

#[test]
fn a_reshared_key_is_the_same_key_and_old_shares_do_not_mix_with_new_ones() {
    let (old, outputs) = federation();
    let (group, newcomer) = resharing(&old, &outputs);
    let (mut runs, deals) = start(&old, &outputs, &group, &newcomer);
    assert_eq!(runs.iter().filter_map(Dkg::dealer).count(), 5);
    deal_all(&mut runs, &deals);
    respond(&mut runs);
    assert!(
        runs.iter()
            .all(|r| r.complained_against().unwrap().is_empty())
    );
    let reshared = finish(runs);

    assert_eq!(reshared.len(), 4);
    assert_eq!(reshared[0].qualified, [1, 2, 3, 4, 5]);
    assert_eq!(
        reshared[0].public.public_key(),
        outputs[0].public.public_key()
    );
    assert_ne!(reshared[0].public, outputs[0].public);
    // The whole key signs the same with old shares and new: BLS signatures are unique.
    let message = b"machine id || message";
    let old_signature = combine(
        3,
        &outputs[..3]
            .iter()
            .map(|o| o.share.sign(message))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let new_partials: Vec<_> = reshared.iter().map(|o| o.share.sign(message)).collect();
    assert_eq!(combine(3, &new_partials[1..]).unwrap(), old_signature);
    // Old member 2 is new member 1, with a new share.
    assert_ne!(reshared[0].share.secret(), outputs[1].share.secret());
    // A leaving member's old share with two new ones signs nothing the key verifies.
    let key = reshared[0].public.public_key();
    let mixed = [
        new_partials[0].clone(),
        new_partials[1].clone(),
        outputs[0].share.sign(message),
    ];
    let combined = combine(3, &mixed);
    assert!(combined.is_err() || !key.verify(message, &combined.unwrap()));
    assert_eq!(
        combine(3, &new_partials[..2]).unwrap_err(),
        CombineError::TooFew {
            have: 2,
            threshold: 3
        }
    );
}

#[test]
fn a_dealer_that_reshares_anything_but_its_share_is_disqualified_and_the_key_stays() {
    let (old, outputs) = federation();
    let (group, newcomer) = resharing(&old, &outputs);
    let (runs, mut deals) = start(&old, &outputs, &group, &newcomer);
    // Old member 1 deals a fresh secret instead of its share, with a consistent, signed bundle.
    let poly = crate::poly::SecretPoly::random(3);
    let mut forged = DealBundle {
        dealer: 1,
        commitments: poly.commit(),
        deals: group
            .indices()
            .map(|holder| Deal {
                holder,
                sealed: ecies::seal(
                    group.member(holder).unwrap(),
                    &Bls::scalar_to_bytes(&poly.eval(holder)),
                    &deal_context(&NEW_SESSION, 1, holder),
                ),
            })
            .collect(),
        signature: [0; 96],
    };
    forged.sign(&NEW_SESSION, &old.identity(1));
    deals[0] = forged;
    // Old member 1 leaves, so its own run holds nothing anyone needs.
    let mut runs: Vec<Dkg> = runs.into_iter().skip(1).collect();
    deal_all(&mut runs, &deals);
    respond(&mut runs);
    let holders: Vec<Dkg> = runs.into_iter().filter(|r| r.holder().is_some()).collect();
    let reshared = finish_all(holders);
    assert_eq!(reshared[0].qualified, [2, 3, 4, 5]);
    assert_eq!(
        reshared[0].public.public_key(),
        outputs[0].public.public_key()
    );
}

#[test]
fn a_resharing_refuses_a_previous_member_without_its_own_share() {
    let (old, outputs) = federation();
    let (group, _) = resharing(&old, &outputs);
    for share in [None, Some(&outputs[2].share)] {
        assert!(matches!(
            Dkg::reshare(group.clone(), old.identity(2), share),
            Err(DkgError::Group(_))
        ));
    }
    let fresh = Group {
        previous: None,
        ..group.clone()
    };
    assert!(Dkg::reshare(fresh, old.identity(2), Some(&outputs[1].share)).is_err());
    // A resharing group is no fresh key generation.
    assert!(Dkg::new(group, 1, old.identity(2)).is_err());
}

#[test]
fn a_reshared_polynomial_cannot_be_derived_again_from_the_node_key_alone() {
    // After it leaves, a member keeps its node key but not its share: what it dealt must then
    // not be derivable, or its public bundle would give its old share back.
    let (old, outputs) = federation();
    let (group, newcomer) = resharing(&old, &outputs);
    let (_, deals) = start(&old, &outputs, &group, &newcomer);
    let context = group.digest();
    for dealer in [1u32, 3] {
        let identity = old.identity(dealer);
        let guessed = identity.derive::<Bls>("dkg/coefficient", &[&context, &1u64.to_be_bytes()]);
        let committed = deals[(dealer - 1) as usize].commitments.commitments()[1];
        assert_ne!(G1Affine::from(G1Affine::generator() * guessed), committed);
    }
}

#[test]
fn a_resharing_goes_on_without_an_absent_previous_member() {
    // Previous member 1 is gone for good: the file says so, and the other four deal.
    let (old, outputs) = federation();
    let (mut group, newcomer) = resharing(&old, &outputs);
    group.previous.as_mut().unwrap().absent = vec![1];
    let (mut runs, deals) = start(&old, &outputs[1..], &group, &newcomer);
    deal_all(&mut runs, &deals);
    respond(&mut runs);
    let holders: Vec<Dkg> = runs.into_iter().filter(|r| r.holder().is_some()).collect();
    let reshared = finish_all(holders);
    assert_eq!(reshared[0].qualified, [2, 3, 4, 5]);
    assert_eq!(
        reshared[0].public.public_key(),
        outputs[0].public.public_key()
    );
    // What it would deal is refused, and it deals nothing when it runs.
    let (mut run, none) = Dkg::reshare(group.clone(), Identity::new(&newcomer), None).unwrap();
    assert!(none.is_none());
    let (_, honest) = Dkg::reshare(
        Group {
            previous: Some(Previous {
                absent: Vec::new(),
                ..group.previous.clone().unwrap()
            }),
            ..group.clone()
        },
        old.identity(1),
        Some(&outputs[0].share),
    )
    .unwrap();
    assert_eq!(run.receive_deal(&honest.unwrap()), Err(DkgError::Absent(1)));
    // Absent, and no new member, it takes no part at all.
    assert!(Dkg::reshare(group.clone(), old.identity(1), None).is_err());
    // Too many absent for the previous threshold, or not members: refused.
    let mut short = group.clone();
    short.previous.as_mut().unwrap().absent = vec![1, 2, 3];
    assert!(Dkg::reshare(short, Identity::new(&newcomer), None).is_err());
    let mut wrong = group;
    wrong.previous.as_mut().unwrap().absent = vec![9];
    assert!(Dkg::reshare(wrong, Identity::new(&newcomer), None).is_err());
}
