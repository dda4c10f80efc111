//! The two groups a federation's keys live in, behind one trait, so that one implementation of
//! Shamir's sharing, Feldman's commitments and the key generation serves both: BLS12-381's G1
//! (the federation key and machines' BLS keys, signatures in G2) and secp256k1 (BIP340 keys and
//! committed nonces). The arithmetic is the well-kept crates' (`bls12_381`, `k256`); this module
//! only names what the protocol needs of it.

use std::fmt::Debug;
use std::ops::{Add, AddAssign, Mul, Neg, Sub};
use zeroize::DefaultIsZeroes;

/// A prime-order group with its scalar field, as the key generation uses it.
pub trait Curve: Copy + Debug + Eq + Send + Sync + 'static {
    /// A scalar: a secret, a share, a coefficient.
    type Scalar: Copy
        + Debug
        + Eq
        + Send
        + Sync
        + DefaultIsZeroes
        + Add<Output = Self::Scalar>
        + AddAssign
        + Sub<Output = Self::Scalar>
        + Mul<Output = Self::Scalar>
        + Neg<Output = Self::Scalar>;
    /// A point, as it is kept and compared.
    type Point: Copy + Debug + Eq + Send + Sync;

    /// A short name, for domain separation and messages: `bls12-381` or `secp256k1`.
    const NAME: &'static str;
    /// Bytes of a compressed point.
    const POINT_BYTES: usize;

    /// `0`.
    fn zero() -> Self::Scalar;
    /// `1`.
    fn one() -> Self::Scalar;
    /// `n` as a scalar.
    fn scalar_from_u64(n: u64) -> Self::Scalar;
    /// 64 uniform bytes reduced to a scalar (bias below 2^-128).
    fn scalar_from_wide(bytes: &[u8; 64]) -> Self::Scalar;
    /// The scalar's canonical 32 bytes.
    fn scalar_to_bytes(scalar: &Self::Scalar) -> [u8; 32];
    /// The scalar of canonical bytes; `None` for bytes of no scalar.
    fn scalar_from_bytes(bytes: &[u8; 32]) -> Option<Self::Scalar>;
    /// `1 / scalar`; `None` for zero.
    fn invert(scalar: &Self::Scalar) -> Option<Self::Scalar>;

    /// `scalar · G`.
    fn base_mul(scalar: &Self::Scalar) -> Self::Point;
    /// `Σ scalar · point`.
    fn lincomb(terms: &[(Self::Point, Self::Scalar)]) -> Self::Point;
    /// The compressed point.
    fn point_to_bytes(point: &Self::Point) -> Vec<u8>;
    /// The point of compressed bytes; `None` unless they are a valid point of the group.
    fn point_from_bytes(bytes: &[u8]) -> Option<Self::Point>;

    /// A random scalar, uniform: 64 bytes of the operating system's randomness, reduced.
    fn random_scalar() -> Self::Scalar {
        let mut wide = zeroize::Zeroizing::new([0u8; 64]);
        getrandom::fill(wide.as_mut()).expect("the operating system's random source failed");
        Self::scalar_from_wide(&wide)
    }
}

/// BLS12-381's G1, with 48-byte compressed points: the federation key and machines' BLS keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bls;

impl Curve for Bls {
    type Scalar = bls12_381::Scalar;
    type Point = bls12_381::G1Affine;

    const NAME: &'static str = "bls12-381";
    const POINT_BYTES: usize = 48;

    fn zero() -> Self::Scalar {
        bls12_381::Scalar::zero()
    }

    fn one() -> Self::Scalar {
        bls12_381::Scalar::one()
    }

    fn scalar_from_u64(n: u64) -> Self::Scalar {
        bls12_381::Scalar::from(n)
    }

    fn scalar_from_wide(bytes: &[u8; 64]) -> Self::Scalar {
        bls12_381::Scalar::from_bytes_wide(bytes)
    }

    fn scalar_to_bytes(scalar: &Self::Scalar) -> [u8; 32] {
        scalar.to_bytes()
    }

    fn scalar_from_bytes(bytes: &[u8; 32]) -> Option<Self::Scalar> {
        bls12_381::Scalar::from_bytes(bytes).into()
    }

    fn invert(scalar: &Self::Scalar) -> Option<Self::Scalar> {
        scalar.invert().into()
    }

    fn base_mul(scalar: &Self::Scalar) -> Self::Point {
        (bls12_381::G1Affine::generator() * scalar).into()
    }

    fn lincomb(terms: &[(Self::Point, Self::Scalar)]) -> Self::Point {
        let sum: bls12_381::G1Projective = terms.iter().map(|(p, s)| p * s).sum();
        sum.into()
    }

    fn point_to_bytes(point: &Self::Point) -> Vec<u8> {
        point.to_compressed().to_vec()
    }

    fn point_from_bytes(bytes: &[u8]) -> Option<Self::Point> {
        let bytes: &[u8; 48] = bytes.try_into().ok()?;
        bls12_381::G1Affine::from_compressed(bytes).into()
    }
}

/// secp256k1, with 33-byte compressed (SEC1) points: BIP340 keys and committed nonces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Secp256k1;

impl Curve for Secp256k1 {
    type Scalar = k256::Scalar;
    type Point = k256::ProjectivePoint;

    const NAME: &'static str = "secp256k1";
    const POINT_BYTES: usize = 33;

    fn zero() -> Self::Scalar {
        k256::Scalar::ZERO
    }

    fn one() -> Self::Scalar {
        k256::Scalar::ONE
    }

    fn scalar_from_u64(n: u64) -> Self::Scalar {
        k256::Scalar::from(n)
    }

    fn scalar_from_wide(bytes: &[u8; 64]) -> Self::Scalar {
        use k256::elliptic_curve::bigint::U512;
        use k256::elliptic_curve::ops::Reduce;
        <k256::Scalar as Reduce<U512>>::reduce(U512::from_be_slice(bytes))
    }

    fn scalar_to_bytes(scalar: &Self::Scalar) -> [u8; 32] {
        scalar.to_bytes().into()
    }

    fn scalar_from_bytes(bytes: &[u8; 32]) -> Option<Self::Scalar> {
        use k256::elliptic_curve::PrimeField;
        k256::Scalar::from_repr((*bytes).into()).into()
    }

    fn invert(scalar: &Self::Scalar) -> Option<Self::Scalar> {
        scalar.invert().into()
    }

    fn base_mul(scalar: &Self::Scalar) -> Self::Point {
        k256::ProjectivePoint::GENERATOR * scalar
    }

    fn lincomb(terms: &[(Self::Point, Self::Scalar)]) -> Self::Point {
        terms.iter().map(|(p, s)| p * s).sum()
    }

    fn point_to_bytes(point: &Self::Point) -> Vec<u8> {
        use k256::elliptic_curve::group::GroupEncoding;
        point.to_affine().to_bytes().to_vec()
    }

    fn point_from_bytes(bytes: &[u8]) -> Option<Self::Point> {
        use k256::elliptic_curve::group::GroupEncoding;
        let bytes: [u8; 33] = bytes.try_into().ok()?;
        let point =
            Option::<k256::AffinePoint>::from(k256::AffinePoint::from_bytes(&bytes.into()))?;
        Some(point.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<C: Curve>() {
        let wide = [7u8; 64];
        let s = C::scalar_from_wide(&wide);
        assert_eq!(C::scalar_from_bytes(&C::scalar_to_bytes(&s)), Some(s));
        let p = C::base_mul(&s);
        let bytes = C::point_to_bytes(&p);
        assert_eq!(bytes.len(), C::POINT_BYTES);
        assert_eq!(C::point_from_bytes(&bytes), Some(p));
        assert_eq!(C::point_from_bytes(&bytes[1..]), None);
        // (2s)·G = s·G + s·G, and s · (1/s) = 1.
        let two = C::scalar_from_u64(2);
        assert_eq!(
            C::base_mul(&(two * s)),
            C::lincomb(&[(p, C::one()), (p, C::one())])
        );
        assert_eq!(s * C::invert(&s).unwrap(), C::one());
        assert_eq!(C::invert(&C::zero()), None);
    }

    #[test]
    fn both_curves_do_what_the_protocol_needs() {
        round_trips::<Bls>();
        round_trips::<Secp256k1>();
    }
}
