//! Known answers: shares dealt from a known secret sign, together, exactly what the whole key
//! signs, and that signature is a published one and verifies with an independent
//! implementation of BLS (bls12_381's pairing, not blst, which signs).

use bls12_381::hash_to_curve::{ExpandMsgXmd, HashToCurve};
use bls12_381::{G1Affine, G2Affine, G2Projective, Scalar, pairing};
use carol_core::bls::{DST, SecretKey};
use carol_federation::curve::Bls;
use carol_federation::poly::SecretPoly;
use carol_federation::threshold::{Share, combine};

/// A published vector of the ciphersuite (noble-curves' `bls12-381-g2-test-vectors.txt`, second
/// line): secret key, message, signature, in hex.
const SECRET: &str = "28b90deaf189015d3a325908c5e0e4bf00f84f7e639b056ff82d7e70b6eede4c";
const MESSAGE: &str = "09";
const SIGNATURE: &str = "8647aa9680cd0cdf065b94e818ff2bb948cc97838bcee987b9bc1b76d0a0a6e0d85db4e9d75aaedfc79d4ea2733a21ae0579014de7636dd2943d45b87c82b1c66a289006b0b9767921bb8edd3f6c5c5dec0d54cd65f61513113c50cc977849e5";

fn scalar_from_big_endian_hex(text: &str) -> Scalar {
    let mut bytes: [u8; 32] = hex::decode(text).unwrap().try_into().unwrap();
    bytes.reverse();
    Scalar::from_bytes(&bytes).unwrap()
}

/// Independent of blst: e(pk, H(m)) == e(G1, signature).
fn verifies_independently(public: &G1Affine, message: &[u8], signature: &[u8; 96]) -> bool {
    let signature = G2Affine::from_compressed(signature).unwrap();
    let hashed =
        <G2Projective as HashToCurve<ExpandMsgXmd<sha2::Sha256>>>::hash_to_curve([message], DST);
    pairing(public, &G2Affine::from(hashed)) == pairing(&G1Affine::generator(), &signature)
}

#[test]
fn shares_of_a_known_secret_combine_into_the_published_signature_of_the_whole_key() {
    let secret = scalar_from_big_endian_hex(SECRET);
    let message = hex::decode(MESSAGE).unwrap();
    // A 3-of-5 sharing with fixed coefficients: the answer is known before any code runs.
    let poly = SecretPoly::<Bls>::from_coefficients(vec![
        secret,
        Scalar::from(11u64),
        Scalar::from(13u64),
    ]);
    let public = poly.commit();
    let shares: Vec<Share> = (1..=5).map(|i| Share::new(i, poly.eval(i))).collect();
    let partials: Vec<_> = shares.iter().map(|s| s.sign(&message)).collect();
    for partial in &partials {
        assert!(
            partial.verify(&public, &message),
            "member {}",
            partial.index
        );
    }

    let whole = SecretKey::from_bytes(&hex::decode(SECRET).unwrap()).unwrap();
    assert_eq!(public.public_key(), whole.public_key());
    let published = hex::decode(SIGNATURE).unwrap();
    assert_eq!(
        whole.sign(&message).to_bytes().as_slice(),
        published.as_slice()
    );

    for subset in [[0usize, 1, 2], [2, 3, 4], [4, 0, 2]] {
        let chosen: Vec<_> = subset.iter().map(|&i| partials[i].clone()).collect();
        let combined = combine(3, &chosen).unwrap().to_bytes();
        assert_eq!(
            combined.as_slice(),
            published.as_slice(),
            "members {subset:?}"
        );
        let key = G1Affine::from_compressed(&public.public_key().to_bytes()).unwrap();
        assert!(verifies_independently(&key, &message, &combined));
    }
}

#[test]
fn two_shares_of_a_three_of_five_key_sign_nothing_the_key_signs() {
    let secret = scalar_from_big_endian_hex(SECRET);
    let message = hex::decode(MESSAGE).unwrap();
    let poly = SecretPoly::<Bls>::from_coefficients(vec![
        secret,
        Scalar::from(11u64),
        Scalar::from(13u64),
    ]);
    let partials: Vec<_> = (1..=2)
        .map(|i| Share::new(i, poly.eval(i)).sign(&message))
        .collect();
    assert!(combine(3, &partials).is_err());
    // Interpolating two as if the threshold were 2 gives no signature of the key.
    let wrong = combine(2, &partials).unwrap();
    assert_ne!(
        wrong.to_bytes().as_slice(),
        hex::decode(SIGNATURE).unwrap().as_slice()
    );
}
