//! Threshold BIP340 among five members in one process: known answers against the whole key,
//! partials checked against public shares, machines' keys independent, every signature
//! verified with libsecp256k1.

use super::*;
use crate::poly::SecretPoly;

/// A 3-of-5 sharing of `secret`: the polynomial, its commitments and every member's share.
fn shared(secret: Scalar) -> (SecretPoly<Secp256k1>, PublicPoly<Secp256k1>, Vec<Share>) {
    let poly = SecretPoly::<Secp256k1>::with_secret(secret, 3);
    let shares = (1..=5).map(|i| Share::new(i, poly.eval(i))).collect();
    let public = poly.commit();
    (poly, public, shares)
}

/// Whether libsecp256k1 takes `signature` of `message` under the x-only key `public`.
fn libsecp256k1_verifies(public: &[u8; 32], message: &[u8; 32], signature: &[u8; 64]) -> bool {
    let secp = secp256k1::Secp256k1::verification_only();
    let key = secp256k1::XOnlyPublicKey::from_slice(public).unwrap();
    let signature = secp256k1::schnorr::Signature::from_slice(signature).unwrap();
    let message = secp256k1::Message::from_digest(*message);
    secp.verify_schnorr(&signature, &message, &key).is_ok()
}

fn random_scalar() -> Scalar {
    Secp256k1::random_scalar()
}

/// Every member's partial, with its shares of the key and of the nonce.
fn partials(signing: &Signing, keys: &[Share], nonces: &[Share]) -> Vec<Partial> {
    keys.iter()
        .zip(nonces)
        .map(|(x_i, k_i)| signing.partial(x_i, k_i).unwrap())
        .collect()
}

#[test]
fn any_three_partials_make_the_whole_keys_bip340_signature() {
    let message = [0x42; 32];
    let mut parities = std::collections::BTreeSet::new();
    // Enough keys and nonces that both parities of y occur for each (2^-20 that they do not).
    for _ in 0..24 {
        let (x, k) = (random_scalar(), random_scalar());
        let (_, key, key_shares) = shared(x);
        let (_, nonce, nonce_shares) = shared(k);
        let signing = Signing::new(&key, &nonce, &message);
        parities.insert((signing.negate_key, signing.negate_nonce));
        let partials = partials(&signing, &key_shares, &nonce_shares);
        assert!(partials.iter().all(|p| signing.verifies(p)));
        // The whole key's signature with the whole nonce, as a single signer makes it.
        let (d, public) = bip340::with_even_y(x);
        let whole = bip340::sign_with_nonce(d, &public, k, &message);
        assert_eq!(signing.public_key(), bip340::x_only(&public));
        for subset in [[0usize, 1, 2], [4, 2, 0], [1, 3, 4]] {
            let chosen: Vec<Partial> = subset.iter().map(|&i| partials[i]).collect();
            assert_eq!(signing.combine(&chosen), Ok(whole));
        }
        assert_eq!(whole[..32], signing.r());
        assert!(libsecp256k1_verifies(
            &signing.public_key(),
            &message,
            &whole
        ));
        assert_eq!(
            signing.combine(&partials[..2]),
            Err(SchnorrError::TooFew {
                have: 2,
                threshold: 3
            })
        );
        // The same member twice, and member 0, count for nothing.
        let repeated = [
            partials[0],
            partials[0],
            Partial {
                index: 0,
                ..partials[1]
            },
        ];
        assert_eq!(
            signing.combine(&repeated),
            Err(SchnorrError::TooFew {
                have: 1,
                threshold: 3
            })
        );
    }
    assert_eq!(parities.len(), 4, "odd and even y, for keys and nonces");
}

#[test]
fn a_bad_partial_is_found_by_its_public_shares_and_named() {
    let message = [7; 32];
    let (_, key, key_shares) = shared(random_scalar());
    let (_, nonce, nonce_shares) = shared(random_scalar());
    let signing = Signing::new(&key, &nonce, &message);
    let mut partials = partials(&signing, &key_shares, &nonce_shares);
    partials[1].s += Scalar::ONE;
    assert!(!signing.verifies(&partials[1]));
    // Among the first three, it is passed over for the good ones after it.
    let signature = signing.combine(&partials).unwrap();
    assert!(libsecp256k1_verifies(
        &signing.public_key(),
        &message,
        &signature
    ));
    assert_eq!(
        signing.combine(&partials[..3]),
        Err(SchnorrError::BadPartial(2))
    );
    // A share of another nonce is refused before it signs.
    let (_, _, other_nonces) = shared(random_scalar());
    assert_eq!(
        signing.partial(&key_shares[0], &other_nonces[0]),
        Err(SchnorrError::NotTheShares(1))
    );
    assert_eq!(
        signing.partial(&key_shares[0], &nonce_shares[1]),
        Err(SchnorrError::NotTheShares(1))
    );
    // Member 1's partial under member 3's name is no partial either.
    let misnamed = Partial {
        index: 3,
        ..partials[0]
    };
    assert!(!signing.verifies(&misnamed));
    let good: Vec<Partial> = partials
        .iter()
        .copied()
        .filter(|p| signing.verifies(p))
        .collect();
    let signature = signing.combine(&good).unwrap();
    assert!(libsecp256k1_verifies(
        &signing.public_key(),
        &message,
        &signature
    ));
}

#[test]
fn a_key_signs_nothing_that_verifies_under_another_and_no_degenerate_key_or_nonce_signs() {
    let message = [9; 32];
    let (_, a, shares_a) = shared(random_scalar());
    let (_, b, _) = shared(random_scalar());
    let (_, nonce, nonce_shares) = shared(random_scalar());
    let signing = Signing::new(&a, &nonce, &message);
    let by_a = signing
        .combine(&partials(&signing, &shares_a, &nonce_shares))
        .unwrap();
    assert!(libsecp256k1_verifies(
        &signing.public_key(),
        &message,
        &by_a
    ));
    let x = bip340::x_only(&b.commitments()[0].to_affine());
    assert!(!libsecp256k1_verifies(&x, &message, &by_a));
    assert!(!bip340::verify(&x, &message, &by_a));
    // Another key's shares are refused, not signed with.
    let (_, _, shares_b) = shared(random_scalar());
    assert_eq!(
        signing.partial(&shares_b[0], &nonce_shares[0]),
        Err(SchnorrError::NotTheShares(1))
    );
    // A nonce of zero would make each partial `e·x_i`: nothing is signed with it.
    let (_, zero, zero_shares) = shared_poly(Scalar::ZERO);
    let degenerate = Signing::new(&a, &zero, &message);
    assert_eq!(
        degenerate.partial(&shares_a[0], &zero_shares[0]),
        Err(SchnorrError::Degenerate)
    );
}

/// A sharing of `secret` by a polynomial with all other coefficients 0: a fixed key for pins.
fn shared_poly(secret: Scalar) -> (SecretPoly<Secp256k1>, PublicPoly<Secp256k1>, Vec<Share>) {
    let poly = SecretPoly::<Secp256k1>::from_coefficients(vec![secret, Scalar::ZERO, Scalar::ZERO]);
    let shares = (1..=5).map(|i| Share::new(i, poly.eval(i))).collect();
    let public = poly.commit();
    (poly, public, shares)
}

/// Why a nonce must sign once: two messages signed with one nonce give the key away to anyone
/// who sees both, `x = (s_1 − s_2) / (e_1 − e_2)` (even y taken care of).
#[test]
fn two_messages_signed_with_one_nonce_give_the_key_away() {
    let (poly, key, key_shares) = shared(random_scalar());
    let (_, nonce, nonce_shares) = shared(random_scalar());
    let sign = |message: &[u8; 32]| {
        let signing = Signing::new(&key, &nonce, message);
        let signature = signing.combine(&partials(&signing, &key_shares, &nonce_shares));
        (signature.unwrap(), signing)
    };
    let (one, first) = sign(&[1; 32]);
    let (two, second) = sign(&[2; 32]);
    let s = |signature: &[u8; 64]| {
        Secp256k1::scalar_from_bytes(&signature[32..].try_into().unwrap()).unwrap()
    };
    let x = (s(&one) - s(&two)) * (first.e - second.e).invert().unwrap();
    let x = if first.negate_key { -x } else { x };
    assert_eq!(x, poly.eval(0));
}

#[test]
fn the_debug_of_a_share_shows_no_secret() {
    let share = Share::new(4, Scalar::from(123_456u64));
    assert_eq!(format!("{share:?}"), "Share(member 4, secret hidden)");
}

#[test]
fn a_key_and_a_nonce_made_by_the_members_sign_as_one_bip340_key_that_none_of_them_holds() {
    use crate::dkg::{Dkg, Group};
    use crate::identity::Identity;
    use crate::machine_key::{self, MachineDeal};
    let keys: Vec<carol_core::bls::SecretKey> = (0..5)
        .map(|_| carol_core::bls::SecretKey::generate())
        .collect();
    let identities: Vec<Identity> = keys.iter().map(Identity::new).collect();
    let members: Vec<_> = identities.iter().map(|i| *i.public()).collect();
    let federation = Group {
        session: [4; 32],
        threshold: 3,
        members: members.clone(),
        previous: None,
    };
    // The federation's secp256k1 key: a whole Joint-Feldman run among the five.
    let group = Group::<Secp256k1> {
        session: [5; 32],
        threshold: 3,
        members,
        previous: None,
    };
    let (mut runs, deals): (Vec<Dkg<Secp256k1>>, Vec<_>) = (1..=5u32)
        .map(|i| Dkg::new(group.clone(), i, identities[i as usize - 1].clone()).unwrap())
        .unzip();
    for run in &mut runs {
        for deal in &deals {
            run.receive_deal(deal).unwrap();
        }
    }
    let responses: Vec<_> = runs.iter_mut().map(|r| r.response().unwrap()).collect();
    for run in &mut runs {
        for response in &responses {
            run.receive_response(response).unwrap();
        }
    }
    let outputs: Vec<_> = runs.into_iter().map(|r| r.finish().unwrap()).collect();
    assert!(outputs.iter().all(|o| o.public == outputs[0].public));
    let federation_key = &outputs[0].public;

    // A committed nonce: members 1 to 4 contribute (5 is down), 5 still gets its share.
    let machine = [7; 32];
    let nonce_group = machine_key::nonce_group(&federation, &machine, b"digit-0");
    let contributions: Vec<MachineDeal<Secp256k1>> = (1..=4u32)
        .map(|i| machine_key::deal(&nonce_group, i, &identities[i as usize - 1]).unwrap())
        .collect();
    let decided = machine_key::usable(&nonce_group, 1, &identities[0], &contributions).unwrap();
    assert_eq!(decided.len(), 4);
    let nonces: Vec<(Share, PublicPoly<Secp256k1>)> = (1..=5u32)
        .map(|i| {
            let identity = &identities[i as usize - 1];
            machine_key::share(&nonce_group, i, identity, &decided, &contributions).unwrap()
        })
        .collect();
    assert!(nonces.iter().all(|(_, public)| *public == nonces[0].1));
    let other = machine_key::nonce_group(&federation, &machine, b"digit-1");
    assert_ne!(other.session, nonce_group.session);

    let message = [0x17; 32];
    let signing = Signing::new(federation_key, &nonces[0].1, &message);
    let partials: Vec<Partial> = [1usize, 3, 4]
        .iter()
        .map(|&i| signing.partial(&outputs[i].share, &nonces[i].0).unwrap())
        .collect();
    let signature = signing.combine(&partials).unwrap();
    assert_eq!(
        signature[..32],
        bip340::x_only(&nonces[0].1.commitments()[0].to_affine())
    );
    assert!(libsecp256k1_verifies(
        &signing.public_key(),
        &message,
        &signature
    ));
    // Two members' partials make nothing.
    assert!(matches!(
        signing.combine(&partials[..2]),
        Err(SchnorrError::TooFew { have: 2, .. })
    ));
}
