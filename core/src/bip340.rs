//! BIP340 Schnorr signatures over secp256k1, with k256's arithmetic: the tagged hash, x-only keys
//! and the even-y rule, signing with a given nonce (a committed one, or a federation's), and
//! verifying. One implementation for a node's own keys, a federation's threshold signatures and
//! the clients that check them.

use k256::elliptic_curve::PrimeField;
use k256::elliptic_curve::ops::Reduce;
use k256::elliptic_curve::point::AffineCoordinates;
use k256::{AffinePoint, FieldBytes, ProjectivePoint, Scalar, U256};
use sha2::{Digest, Sha256};

/// SHA-256 of `SHA-256(tag) || SHA-256(tag) || parts...`, BIP340's tagged hash.
pub fn tagged_hash(tag: &str, parts: &[&[u8]]) -> [u8; 32] {
    let tag = Sha256::digest(tag.as_bytes());
    let mut hasher = Sha256::new();
    hasher.update(tag);
    hasher.update(tag);
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// The x-only form of `point` (BIP340's `bytes(P)`): its x coordinate, 32 bytes.
pub fn x_only(point: &AffinePoint) -> [u8; 32] {
    point.x().into()
}

/// `scalar` or its negation, whichever makes `scalar * G` have an even y, with that point.
pub fn with_even_y(scalar: Scalar) -> (Scalar, AffinePoint) {
    let point = (ProjectivePoint::GENERATOR * scalar).to_affine();
    if bool::from(point.y_is_odd()) {
        (-scalar, (-ProjectivePoint::from(point)).to_affine())
    } else {
        (scalar, point)
    }
}

/// BIP340 `Sign(sk, m)` with auxiliary randomness `aux`.
pub fn sign(secret: &Scalar, message: &[u8; 32], aux: &[u8; 32]) -> [u8; 64] {
    let (d, public) = with_even_y(*secret);
    let d_bytes: [u8; 32] = d.to_repr().into();
    let mask = tagged_hash("BIP0340/aux", &[aux]);
    let t: Vec<u8> = d_bytes.iter().zip(mask).map(|(a, b)| a ^ b).collect();
    let rand = tagged_hash("BIP0340/nonce", &[&t, &x_only(&public), message]);
    let k = <Scalar as Reduce<U256>>::reduce_bytes(&FieldBytes::from(rand));
    assert!(
        !bool::from(k.is_zero()),
        "BIP340: the nonce hashed to zero (probability 2^-256)"
    );
    sign_with_nonce(d, &public, k, message)
}

/// The BIP340 signature of `message` by the key `d` (already made even-y, with its point
/// `public`) with nonce `k` (negated as BIP340 requires).
pub fn sign_with_nonce(d: Scalar, public: &AffinePoint, k: Scalar, message: &[u8; 32]) -> [u8; 64] {
    let (k, nonce) = with_even_y(k);
    let r = x_only(&nonce);
    let e = challenge(&r, &x_only(public), message);
    let s: [u8; 32] = (k + e * d).to_repr().into();
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(&r);
    signature[32..].copy_from_slice(&s);
    signature
}

/// BIP340's challenge `e = int(hash_BIP0340/challenge(r || P || m)) mod n`.
pub fn challenge(r: &[u8; 32], public: &[u8; 32], message: &[u8; 32]) -> Scalar {
    let hash = tagged_hash("BIP0340/challenge", &[r, public, message]);
    <Scalar as Reduce<U256>>::reduce_bytes(&FieldBytes::from(hash))
}

/// BIP340 `Verify(pk, m, sig)`: whether `signature` is a signature of `message` by the x-only key
/// `public`.
pub fn verify(public: &[u8; 32], message: &[u8; 32], signature: &[u8; 64]) -> bool {
    let Some(key) = lift_x(public) else {
        return false;
    };
    let r: [u8; 32] = signature[..32].try_into().expect("32 bytes");
    let s_bytes: [u8; 32] = signature[32..].try_into().expect("32 bytes");
    let Some(s) = Option::<Scalar>::from(Scalar::from_repr(FieldBytes::from(s_bytes))) else {
        return false;
    };
    let e = challenge(&r, public, message);
    let point = (ProjectivePoint::GENERATOR * s - ProjectivePoint::from(key) * e).to_affine();
    // R must not be infinity, must have an even y and x(R) = r; k256 encodes infinity as x = 0,
    // which is no valid r.
    point != AffinePoint::IDENTITY && !bool::from(point.y_is_odd()) && x_only(&point) == r
}

/// The point with x-only coordinate `x` and an even y (BIP340's `lift_x`), if there is one.
pub fn lift_x(x: &[u8; 32]) -> Option<AffinePoint> {
    use k256::elliptic_curve::sec1::FromEncodedPoint;
    let mut compressed = [0u8; 33];
    compressed[0] = 0x02;
    compressed[1..].copy_from_slice(x);
    let encoded = k256::EncodedPoint::from_bytes(compressed).ok()?;
    Option::from(AffinePoint::from_encoded_point(&encoded))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex32(text: &str) -> [u8; 32] {
        hex::decode(text).unwrap().try_into().unwrap()
    }

    /// The signing vectors of BIP340 (test-vectors.csv, indices 0 to 3), verified too.
    #[test]
    fn bip340_signing_vectors() {
        let vectors = [
            (
                "0000000000000000000000000000000000000000000000000000000000000003",
                "F9308A019258C31049344F85F89D5229B531C845836F99B08601F113BCE036F9",
                "0000000000000000000000000000000000000000000000000000000000000000",
                "0000000000000000000000000000000000000000000000000000000000000000",
                "E907831F80848D1069A5371B402410364BDF1C5F8307B0084C55F1CE2DCA821525F66A4A85EA8B71E482A74F382D2CE5EBEEE8FDB2172F477DF4900D310536C0",
            ),
            (
                "B7E151628AED2A6ABF7158809CF4F3C762E7160F38B4DA56A784D9045190CFEF",
                "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659",
                "0000000000000000000000000000000000000000000000000000000000000001",
                "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89",
                "6896BD60EEAE296DB48A229FF71DFE071BDE413E6D43F917DC8DCF8C78DE33418906D11AC976ABCCB20B091292BFF4EA897EFCB639EA871CFA95F6DE339E4B0A",
            ),
            (
                "C90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B14E5C9",
                "DD308AFEC5777E13121FA72B9CC1B7CC0139715309B086C960E18FD969774EB8",
                "C87AA53824B4D7AE2EB035A2B5BBBCCC080E76CDC6D1692C4B0B62D798E6D906",
                "7E2D58D8B3BCDF1ABADEC7829054F90DDA9805AAB56C77333024B9D0A508B75C",
                "5831AAEED7B44BB74E5EAB94BA9D4294C49BCF2A60728D8B4C200F50DD313C1BAB745879A5AD954A72C45A91C3A51D3C7ADEA98D82F8481E0E1E03674A6F3FB7",
            ),
            (
                "0B432B2677937381AEF05BB02A66ECD012773062CF3FA2549E44F58ED2401710",
                "25D1DFF95105F5253C4022F628A996AD3A0D95FBF21D468A1B33F8C160D8F517",
                "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
                "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
                "7EB0509757E246F19449885651611CB965ECC1A187DD51B64FDA1EDC9637D5EC97582B9CB13DB3933705B32BA982AF5AF25FD78881EBB32771FC5922EFC66EA3",
            ),
        ];
        for (secret, public, aux, message, signature) in vectors {
            let secret = Scalar::from_repr(FieldBytes::from(hex32(secret))).unwrap();
            let (_, point) = with_even_y(secret);
            assert_eq!(hex::encode_upper(x_only(&point)), public);
            let signed = sign(&secret, &hex32(message), &hex32(aux));
            assert_eq!(hex::encode_upper(signed), signature);
            assert!(verify(&hex32(public), &hex32(message), &signed));
        }
    }

    #[test]
    fn signatures_verify_and_others_do_not() {
        let secret = Scalar::from(7u64);
        let (_, point) = with_even_y(secret);
        let public = x_only(&point);
        let message = [3u8; 32];
        let signature = sign(&secret, &message, &[0; 32]);
        assert!(verify(&public, &message, &signature));
        assert!(!verify(&public, &[4u8; 32], &signature));
        let mut bent = signature;
        bent[63] ^= 1;
        assert!(!verify(&public, &message, &bent));
        let other = x_only(&with_even_y(Scalar::from(8u64)).1);
        assert!(!verify(&other, &message, &signature));
    }
}
