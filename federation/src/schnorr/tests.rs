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

/// Every member's partial, with its shares of the key (tweaked by `tweak`) and of the nonce.
fn partials(signing: &Signing, keys: &[Share], nonces: &[Share], tweak: &Scalar) -> Vec<Partial> {
    keys.iter()
        .zip(nonces)
        .map(|(x_i, k_i)| signing.partial(&x_i.tweaked(tweak), k_i))
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
        let partials = partials(&signing, &key_shares, &nonce_shares, &Scalar::ZERO);
        assert!(partials.iter().all(|p| signing.verifies(p)));
        // The whole key's signature with the whole nonce, as a single signer makes it.
        let (d, public) = bip340::with_even_y(x);
        let whole = bip340::sign_with_nonce(d, &public, k, &message);
        assert_eq!(signing.public_key(), bip340::x_only(&public));
        for subset in [[0usize, 1, 2], [4, 2, 0], [1, 3, 4]] {
            let chosen: Vec<Partial> = subset.iter().map(|&i| partials[i]).collect();
            assert_eq!(signing.combine(3, &chosen), Ok(whole));
        }
        assert_eq!(whole[..32], signing.r());
        assert!(libsecp256k1_verifies(
            &signing.public_key(),
            &message,
            &whole
        ));
        assert_eq!(
            signing.combine(3, &partials[..2]),
            Err(SchnorrError::TooFew {
                have: 2,
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
    let mut partials = partials(&signing, &key_shares, &nonce_shares, &Scalar::ZERO);
    partials[1].s += Scalar::ONE;
    assert!(!signing.verifies(&partials[1]));
    assert_eq!(
        signing.combine(3, &partials),
        Err(SchnorrError::BadPartial(2))
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
    let signature = signing.combine(3, &good).unwrap();
    assert!(libsecp256k1_verifies(
        &signing.public_key(),
        &message,
        &signature
    ));
}

#[test]
fn a_machines_key_signs_nothing_that_verifies_under_another_machines_or_the_federations() {
    let message = [9; 32];
    let (poly, key, key_shares) = shared(random_scalar());
    let (_, nonce, nonce_shares) = shared(random_scalar());
    let (a, b) = ([1; 32], [2; 32]);
    let (tweak_a, tweak_b) = (machine_tweak(&key, &a), machine_tweak(&key, &b));
    assert_ne!(tweak_a, tweak_b);
    assert_eq!(machine_tweak(&key, &a), tweak_a, "the same every time");
    let key_a = tweaked(&key, &tweak_a);
    let key_b = tweaked(&key, &tweak_b);
    // Tweaked shares are shares of the tweaked key, x + τ.
    assert!(key_a.verifies(2, &key_shares[1].tweaked(&tweak_a).secret));
    let whole_a = ProjectivePoint::GENERATOR * (poly.eval(0) + tweak_a);
    assert_eq!(key_a.commitments()[0], whole_a);
    let signing = Signing::new(&key_a, &nonce, &message);
    let partials = partials(&signing, &key_shares, &nonce_shares, &tweak_a);
    let by_a = signing.combine(3, &partials).unwrap();
    assert!(libsecp256k1_verifies(
        &signing.public_key(),
        &message,
        &by_a
    ));
    for other in [&key_b, &key] {
        let x = bip340::x_only(&other.commitments()[0].to_affine());
        assert!(!libsecp256k1_verifies(&x, &message, &by_a));
        assert!(!bip340::verify(&x, &message, &by_a));
    }
}

#[test]
fn the_debug_of_a_share_shows_no_secret() {
    let share = Share::new(4, Scalar::from(123_456u64));
    assert_eq!(format!("{share:?}"), "Share(member 4, secret hidden)");
}
