//! Acceptors and proposers simulated in one process, and certificates checked.

use super::*;
use carol_core::bls::SecretKey;

const SESSION: [u8; 32] = [3; 32];
const DECREE: &[u8] = b"machine-key/bls/m";

/// Each of `members` as a contributor, its contribution's digest made up.
fn v(members: &[u32]) -> Vec<Contributor> {
    let digest = |m: u32| [m as u8; 32];
    members
        .iter()
        .map(|&member| Contributor {
            member,
            digest: digest(member),
        })
        .collect()
}

/// `n` acceptors, and one proposer's attempt on those of `reach`: promises from a majority,
/// then acceptances. The value it got chosen, if it did.
fn attempt(
    acceptors: &mut [Acceptor],
    reach: &[usize],
    ballot: Ballot,
    own: &[u32],
    threshold: usize,
) -> Option<Vec<Contributor>> {
    let promises: Vec<_> = reach
        .iter()
        .filter_map(|&i| acceptors[i].prepare(ballot).ok())
        .collect();
    if promises.len() < threshold {
        return None;
    }
    let value = value_to_propose(&promises, &v(own));
    let accepted = reach
        .iter()
        .filter(|&&i| acceptors[i].accept(ballot, &value).is_ok())
        .count();
    (accepted >= threshold).then_some(value)
}

#[test]
fn once_a_value_is_chosen_every_later_proposal_chooses_it_again() {
    let mut acceptors = vec![Acceptor::default(); 5];
    let first = attempt(
        &mut acceptors,
        &[0, 1, 2],
        Ballot::above(None, 1),
        &[1, 2, 3],
        3,
    );
    assert_eq!(first, Some(v(&[1, 2, 3])));
    // A proposer that reaches only two of the acceptors that accepted, and wants another
    // value, proposes the chosen one.
    let seen = acceptors[2].promised;
    let second = attempt(
        &mut acceptors,
        &[2, 3, 4],
        Ballot::above(seen, 4),
        &[3, 4, 5],
        3,
    );
    assert_eq!(second, Some(v(&[1, 2, 3])));
    let seen = acceptors[3].promised;
    let third = attempt(
        &mut acceptors,
        &[0, 3, 4],
        Ballot::above(seen, 5),
        &[4, 5, 1],
        3,
    );
    assert_eq!(third, Some(v(&[1, 2, 3])));
}

#[test]
fn a_promise_to_a_higher_ballot_refuses_lower_ones_and_dueling_proposers_settle() {
    let mut acceptor = Acceptor::default();
    let low = Ballot {
        round: 1,
        proposer: 1,
    };
    let high = Ballot {
        round: 1,
        proposer: 2,
    };
    assert_eq!(acceptor.prepare(high), Ok(None));
    assert_eq!(acceptor.prepare(low), Err(high));
    assert_eq!(acceptor.accept(low, &v(&[1, 2])), Err(high));
    assert_eq!(acceptor.accept(high, &v(&[2, 3])), Ok(()));
    assert_eq!(
        acceptor.prepare(Ballot::above(Some(high), 1)),
        Ok(Some((high, v(&[2, 3]))))
    );
    assert!(Ballot::above(Some(high), 1) > high);
    // Another value in the very ballot it accepted in is refused; a round far above its
    // promise too, and the last round does not wrap.
    let mut once = Acceptor::default();
    assert_eq!(once.accept(high, &v(&[1, 2])), Ok(()));
    assert_eq!(once.accept(high, &v(&[2, 3])), Err(high));
    assert_eq!(once.accept(high, &v(&[1, 2])), Ok(()));
    let far = Ballot {
        round: 3 + MAX_ROUND_STEP,
        proposer: 1,
    };
    assert!(acceptor.prepare(far).is_err() && acceptor.accept(far, &v(&[2, 3])).is_err());
    let last = Ballot {
        round: u64::MAX,
        proposer: 5,
    };
    assert_eq!(Ballot::above(Some(last), 1).round, u64::MAX);
    assert!(Ballot::above(Some(high), 3) > high);

    // Two proposers whose proposals interleave: neither's first attempt is chosen, the one
    // that retries above the other's ballot is, and nothing else ever is.
    let mut acceptors = vec![Acceptor::default(); 3];
    let a = Ballot::above(None, 1);
    let b = Ballot::above(None, 2);
    for acceptor in &mut acceptors {
        acceptor.prepare(a).unwrap();
    }
    for acceptor in &mut acceptors {
        acceptor.prepare(b).unwrap();
    }
    assert!(
        acceptors
            .iter_mut()
            .all(|x| x.accept(a, &v(&[1, 2])).is_err())
    );
    let retry = Ballot::above(acceptors[0].promised, 1);
    assert_eq!(
        attempt(&mut acceptors, &[0, 1, 2], retry, &[1, 2], 2),
        Some(v(&[1, 2]))
    );
    let late = Ballot::above(acceptors[0].promised, 2);
    assert_eq!(
        attempt(&mut acceptors, &[1, 2], late, &[2, 3], 2),
        Some(v(&[1, 2]))
    );
}

#[test]
fn a_certificate_needs_the_threshold_of_members_own_acceptances() {
    let keys: Vec<SecretKey> = (0..3).map(|_| SecretKey::generate()).collect();
    let members: Vec<G1Affine> = keys
        .iter()
        .map(|k| identity::node_point(&k.public_key()))
        .collect();
    let ballot = Ballot {
        round: 2,
        proposer: 3,
    };
    let value = v(&[1, 3]);
    let accept = |i: usize| {
        Acceptance::sign(
            &Identity::new(&keys[i]),
            i as u32 + 1,
            &SESSION,
            DECREE,
            ballot,
            &value,
        )
    };
    let mut certificate = Certificate {
        decree: DECREE.to_vec(),
        ballot,
        value: value.clone(),
        acceptances: vec![accept(0), accept(2)],
    };
    assert_eq!(certificate.verify(&SESSION, DECREE, &members, 2), Ok(()));
    let json = CertificateJson::from(&certificate);
    assert_eq!(Certificate::try_from(&json), Ok(certificate.clone()));
    assert_eq!(
        certificate.verify(&SESSION, b"machine-key/bls/other", &members, 2),
        Err(CertificateError::OtherDecree)
    );
    assert_eq!(
        certificate.verify(&[4; 32], DECREE, &members, 2),
        Err(CertificateError::BadSignature(1))
    );
    certificate.acceptances[1] = accept(0);
    assert_eq!(
        certificate.verify(&SESSION, DECREE, &members, 2),
        Err(CertificateError::TooFew {
            have: 1,
            threshold: 2
        })
    );
    // More acceptances than members are refused before any is checked.
    let mut padded = certificate.clone();
    padded.acceptances = vec![accept(0); 4];
    assert_eq!(
        padded.verify(&SESSION, DECREE, &members, 2),
        Err(CertificateError::TooMany {
            have: 4,
            members: 3
        })
    );
    // An acceptance moved to another value or member does not verify.
    certificate.acceptances[1] = Acceptance {
        member: 2,
        ..accept(2)
    };
    assert_eq!(
        certificate.verify(&SESSION, DECREE, &members, 2),
        Err(CertificateError::BadSignature(2))
    );
    certificate.acceptances[1] = accept(2);
    certificate.value = v(&[1, 2]);
    assert!(certificate.verify(&SESSION, DECREE, &members, 2).is_err());
    // The same members with another contribution of one of them is another value.
    certificate.value = value.clone();
    certificate.value[1].digest[0] ^= 1;
    assert_eq!(
        certificate.verify(&SESSION, DECREE, &members, 2),
        Err(CertificateError::BadSignature(1))
    );
}
