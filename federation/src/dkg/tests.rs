//! Key generations among members simulated in one process, honest and not: every bundle goes
//! to every member, as the node sends them, unless a test says otherwise.

use super::*;
use crate::ecies;
use crate::threshold::combine;
use bls12_381::Scalar;
use carol_core::bls::SecretKey;

const SESSION: [u8; 32] = [9; 32];

impl Dkg {
    /// The polynomial this run deals, for tests that deal otherwise.
    fn poly(&mut self) -> &mut SecretPoly {
        &mut self.dealer.as_mut().expect("a dealer").1
    }
}

pub(super) struct Members {
    pub(super) keys: Vec<SecretKey>,
    pub(super) group: Group,
}

impl Members {
    pub(super) fn new(threshold: usize, n: usize) -> Self {
        let keys: Vec<SecretKey> = (0..n).map(|_| SecretKey::generate()).collect();
        let group = Group {
            session: SESSION,
            threshold,
            members: keys
                .iter()
                .map(|k| crate::identity::node_point(&k.public_key()))
                .collect(),
            previous: None,
        };
        Self { keys, group }
    }

    pub(super) fn identity(&self, index: u32) -> Identity {
        Identity::new(&self.keys[(index - 1) as usize])
    }

    /// Every member's run, started, and the deal bundles they made.
    pub(super) fn start(&self) -> (Vec<Dkg>, Vec<DealBundle>) {
        self.group
            .indices()
            .map(|i| Dkg::new(self.group.clone(), i, self.identity(i)).unwrap())
            .unzip()
    }
}

/// Hands every bundle to every run but its maker's.
pub(crate) fn deal_all(runs: &mut [Dkg], deals: &[DealBundle]) {
    for run in runs.iter_mut() {
        for deal in deals {
            run.receive_deal(deal).unwrap();
        }
    }
}

/// Hands every holder's response (in a resharing, every new member's) to every run.
pub(crate) fn respond(runs: &mut [Dkg]) {
    let responses: Vec<_> = runs
        .iter_mut()
        .filter(|r| r.holder().is_some())
        .map(|r| r.response().unwrap())
        .collect();
    for run in runs.iter_mut() {
        for response in &responses {
            run.receive_response(response).unwrap();
        }
    }
}

pub(super) fn respond_all(runs: &mut [Dkg]) -> Vec<ResponseBundle> {
    let responses: Vec<_> = runs.iter_mut().map(|r| r.response().unwrap()).collect();
    for run in runs.iter_mut() {
        for response in &responses {
            run.receive_response(response).unwrap();
        }
    }
    responses
}

fn justify_all(runs: &mut [Dkg], skip: &[u32]) {
    let justifications: Vec<_> = runs
        .iter_mut()
        .filter(|r| !skip.contains(&r.holder().unwrap()))
        .filter_map(|r| r.justification().unwrap())
        .collect();
    for run in runs.iter_mut() {
        for justification in &justifications {
            run.receive_justification(justification).unwrap();
        }
    }
}

/// Finishes every run; asserts they agree on the key and the qualified dealers, that every
/// share matches its public share, and that any `t` partial signatures make a signature that
/// verifies under the key.
pub(super) fn finish_all(runs: Vec<Dkg>) -> Vec<Output> {
    let threshold = runs[0].group().threshold;
    let outputs: Vec<Output> = runs.into_iter().map(|r| r.finish().unwrap()).collect();
    for output in &outputs {
        assert_eq!(output.public, outputs[0].public);
        assert_eq!(output.qualified, outputs[0].qualified);
        assert!(
            output
                .public
                .verifies(output.share.index(), output.share.secret())
        );
    }
    let partials: Vec<_> = outputs.iter().map(|o| o.share.sign(b"m")).collect();
    let key = outputs[0].public.public_key();
    for window in partials.windows(threshold) {
        assert!(key.verify(b"m", &combine(threshold, window).unwrap()));
    }
    outputs
}

#[test]
fn honest_members_agree_on_one_key_that_any_threshold_signs_for() {
    let members = Members::new(3, 5);
    let (mut runs, deals) = members.start();
    deal_all(&mut runs, &deals);
    respond_all(&mut runs);
    assert!(
        runs.iter()
            .all(|r| r.complained_against().unwrap().is_empty())
    );
    let outputs = finish_all(runs);
    assert_eq!(outputs[0].qualified, [1, 2, 3, 4, 5]);
    // Each member's signed confirmation says the same, and only its member can sign it.
    let confirmations: Vec<Confirmation> = outputs
        .iter()
        .map(|o| o.confirmation(&SESSION, &members.identity(o.share.index())))
        .collect();
    for c in &confirmations {
        assert!(c.signed_by(&SESSION, members.group.member(c.member).unwrap()));
        assert!(!c.signed_by(&SESSION, members.group.member(c.member % 5 + 1).unwrap()));
        assert!(c.agrees_with(&confirmations[0]));
    }
    let mut other = confirmations[1].clone();
    other.qualified.pop();
    assert!(!other.agrees_with(&confirmations[0]));
    assert!(!other.signed_by(&SESSION, members.group.member(2).unwrap()));
    // The key is the sum of the dealers' commitments to their secrets.
    let sum = crate::poly::PublicPoly::weighted_sum(
        deals.iter().map(|d| (Scalar::one(), &d.commitments)),
    )
    .unwrap();
    assert_eq!(sum, outputs[0].public);
}

/// Re-seals dealer `dealer`'s share for `holder` as `wrong`, and re-signs the bundle as the
/// dealer: a dishonest dealer.
fn corrupt(members: &Members, bundle: &mut DealBundle, holder: u32, wrong: Scalar) {
    let key = members.group.member(holder).unwrap();
    bundle.deals[(holder - 1) as usize].sealed = ecies::seal(
        key,
        &wrong.to_bytes(),
        &deal_context(&SESSION, bundle.dealer, holder),
    );
    bundle.sign(&SESSION, &members.identity(bundle.dealer));
}

#[test]
fn a_bad_share_that_its_dealer_justifies_leaves_the_dealer_in() {
    // Member 1 seals a wrong share for member 2, and every member, itself included, holds
    // that bundle.
    let members = Members::new(3, 5);
    let (mut runs, mut deals) = members.start();
    let honest_share = runs[0].poly().eval(2);
    corrupt(&members, &mut deals[0], 2, honest_share + Scalar::one());
    runs[0].deals.clear();
    deal_all(&mut runs, &deals);
    respond_all(&mut runs);
    for run in &runs {
        assert_eq!(run.complained_against().unwrap(), BTreeSet::from([1]));
    }
    justify_all(&mut runs, &[]);
    let outputs = finish_all(runs);
    assert_eq!(outputs[0].qualified, [1, 2, 3, 4, 5]);
}

#[test]
fn a_dealer_that_does_not_justify_or_justifies_wrongly_is_disqualified_by_everyone() {
    for lies in [false, true] {
        let members = Members::new(3, 5);
        let (mut runs, mut deals) = members.start();
        let honest_share = runs[2].poly().eval(4);
        corrupt(&members, &mut deals[2], 4, honest_share + Scalar::one());
        runs[2].deals.clear();
        deal_all(&mut runs, &deals);
        respond_all(&mut runs);
        if lies {
            // Member 3 answers the complaint with another wrong share.
            *runs[2].poly() = SecretPoly::from_coefficients(vec![Scalar::from(5u64); 3]);
            justify_all(&mut runs, &[]);
        } else {
            justify_all(&mut runs, &[3]);
        }
        let outputs = finish_all(runs);
        assert_eq!(outputs[0].qualified, [1, 2, 4, 5], "lies: {lies}");
    }
}

#[test]
fn a_dealer_that_shows_holders_different_bundles_makes_their_keys_differ_visibly() {
    let members = Members::new(3, 5);
    let (mut runs, deals) = members.start();
    // Member 5 makes a second bundle, sealing member 1's share anew, and sends it to members 3
    // and 4: each bundle is valid, but not the same.
    let mut second = deals[4].clone();
    second.deals[0].sealed = ecies::seal(
        members.group.member(1).unwrap(),
        &runs[4].poly().eval(1).to_bytes(),
        &deal_context(&SESSION, 5, 1),
    );
    second.sign(&SESSION, &members.identity(5));
    for (i, run) in runs.iter_mut().enumerate() {
        for deal in &deals[..4] {
            run.receive_deal(deal).unwrap();
        }
        if i != 4 {
            let seen = if i == 2 || i == 3 { &second } else { &deals[4] };
            run.receive_deal(seen).unwrap();
        }
    }
    // Once a member holds one bundle of a dealer, another is refused.
    assert_eq!(
        runs[0].receive_deal(&second),
        Err(DkgError::Equivocation {
            kind: "deal bundle",
            from: 5
        })
    );
    respond_all(&mut runs);
    justify_all(&mut runs, &[]);
    // Members 3 and 4 hold another bundle than the rest: to each side, the other side
    // complained. The dealer justifies, and members 1, 2 and 5 keep it; 3 and 4 count three
    // complaints and drop it. They end with different keys, which their confirmations show, so
    // nobody keeps anything.
    let outputs: Vec<Output> = runs.into_iter().map(|r| r.finish().unwrap()).collect();
    let confirmations: Vec<Confirmation> = outputs
        .iter()
        .map(|o| o.confirmation(&SESSION, &members.identity(o.share.index())))
        .collect();
    assert_eq!(outputs[0].qualified, [1, 2, 3, 4, 5]);
    assert_eq!(outputs[2].qualified, [1, 2, 3, 4]);
    assert!(confirmations[0].agrees_with(&confirmations[4]));
    assert!(!confirmations[0].agrees_with(&confirmations[2]));
}

#[test]
fn forged_and_foreign_messages_are_refused_and_not_kept() {
    let members = Members::new(2, 3);
    let (mut runs, deals) = members.start();
    let mut forged = deals[1].clone();
    forged.sign(&SESSION, &members.identity(3));
    assert_eq!(
        runs[0].receive_deal(&forged),
        Err(DkgError::BadSignature {
            kind: "deal bundle",
            from: 2
        })
    );
    let mut foreign = deals[1].clone();
    foreign.dealer = 7;
    assert!(matches!(
        runs[0].receive_deal(&foreign),
        Err(DkgError::NotAMember { index: 7, .. })
    ));
    // A bundle of another session does not verify in this one.
    let other = Members {
        keys: members
            .keys
            .iter()
            .map(|k| SecretKey::from_bytes(&k.to_bytes()).unwrap())
            .collect(),
        group: Group {
            session: [1; 32],
            ..members.group.clone()
        },
    };
    let (_, replayed) = Dkg::new(other.group.clone(), 2, other.identity(2)).unwrap();
    assert!(matches!(
        runs[0].receive_deal(&replayed),
        Err(DkgError::BadSignature { .. })
    ));
    // Nothing was kept: the real bundle is still taken.
    deal_all(&mut runs, &deals);
    respond_all(&mut runs);
    finish_all(runs);
}

#[test]
fn a_missing_member_fails_the_run_and_saying_which() {
    let members = Members::new(3, 5);
    let (mut runs, deals) = members.start();
    for run in runs.iter_mut() {
        for deal in &deals[..4] {
            run.receive_deal(deal).unwrap();
        }
    }
    assert_eq!(
        runs[0].response(),
        Err(DkgError::Incomplete {
            kind: "deal bundle",
            missing: vec![5]
        })
    );
    let run = runs.remove(0);
    assert!(matches!(run.finish(), Err(DkgError::Incomplete { .. })));
}

#[test]
fn a_holder_that_lies_about_the_bundle_it_got_only_makes_the_dealer_justify() {
    let members = Members::new(3, 5);
    let (mut runs, deals) = members.start();
    deal_all(&mut runs, &deals);
    let mut responses: Vec<_> = runs.iter_mut().map(|r| r.response().unwrap()).collect();
    // Member 3 says it got another bundle from dealer 1 than everyone else did.
    responses[2].responses[0].bundle = [0xee; 32];
    responses[2].sign(&SESSION, &members.identity(3));
    for run in runs.iter_mut() {
        for response in &responses {
            let _ = run.receive_response(response);
        }
    }
    // Member 3's own run holds its honest response already; the others hold the lie.
    for run in &runs[..2] {
        assert_eq!(run.complained_against().unwrap(), BTreeSet::from([1]));
    }
    justify_all(&mut runs[..2], &[]);
    let justification = runs[0].justification().unwrap().unwrap();
    for run in runs.iter_mut().skip(2) {
        run.receive_justification(&justification).unwrap();
    }
    let outputs: Vec<Output> = runs.into_iter().map(|r| r.finish().unwrap()).collect();
    for output in &outputs {
        assert_eq!(output.qualified, [1, 2, 3, 4, 5]);
        assert_eq!(output.public, outputs[0].public);
    }
}

#[test]
fn the_polynomial_and_sealing_keys_are_bound_to_the_whole_group() {
    let members = Members::new(2, 3);
    let (_, deal) = Dkg::new(members.group.clone(), 1, members.identity(1)).unwrap();
    let higher = Group {
        threshold: 3,
        ..members.group.clone()
    };
    let (_, other) = Dkg::new(higher, 1, members.identity(1)).unwrap();
    assert_ne!(
        other.commitments.commitments()[0],
        deal.commitments.commitments()[0]
    );
    assert_ne!(other.deals[1].sealed[..48], deal.deals[1].sealed[..48]);
    let mut twice = members.group.clone();
    twice.members[2] = twice.members[1];
    assert!(matches!(
        Dkg::new(twice, 1, members.identity(1)),
        Err(DkgError::Group(_))
    ));
}

#[test]
fn too_many_complaints_disqualify_a_dealer_even_with_justifications() {
    let members = Members::new(2, 3);
    let (mut runs, mut deals) = members.start();
    for holder in [2, 3] {
        let honest = runs[0].poly().eval(holder);
        corrupt(&members, &mut deals[0], holder, honest + Scalar::one());
    }
    runs[0].deals.clear();
    deal_all(&mut runs, &deals);
    respond_all(&mut runs);
    // It reveals nothing: it is out whatever it would reveal.
    assert_eq!(runs[0].justification().unwrap(), None);
    justify_all(&mut runs, &[]);
    let outputs = finish_all(runs);
    assert_eq!(outputs[0].qualified, [2, 3]);
}

#[test]
fn a_member_that_runs_again_deals_and_responds_exactly_as_before() {
    let members = Members::new(3, 5);
    let (mut runs, deals) = members.start();
    let (mut again, deal_again) = Dkg::new(members.group.clone(), 2, members.identity(2)).unwrap();
    assert_eq!(deal_again, deals[1]);
    deal_all(&mut runs, &deals);
    for deal in &deals {
        again.receive_deal(deal).unwrap();
    }
    let responses = respond_all(&mut runs);
    assert_eq!(again.response().unwrap(), responses[1]);
    // Another session deals another polynomial.
    let other = Group {
        session: [3; 32],
        ..members.group.clone()
    };
    let (_, elsewhere) = Dkg::new(other, 2, members.identity(2)).unwrap();
    assert_ne!(elsewhere.commitments, deals[1].commitments);
}

#[test]
fn a_group_that_cannot_make_a_key_is_refused() {
    let members = Members::new(3, 5);
    let mut group = members.group.clone();
    group.threshold = 6;
    assert!(matches!(
        Dkg::new(group, 1, members.identity(1)),
        Err(DkgError::Group(_))
    ));
    assert!(matches!(
        Dkg::new(members.group.clone(), 2, members.identity(1)),
        Err(DkgError::Group(_))
    ));
}
