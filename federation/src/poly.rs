//! Polynomials over a curve's scalar field and their Feldman commitments in its group
//! ([`crate::curve`]): Shamir's sharing, in which member `i` holds the value at `x = i` (members
//! are numbered from 1, so no one is ever given the value at 0, the secret).

use crate::curve::{Bls, Curve};
use carol_core::bls::PublicKey;
use zeroize::Zeroize;

/// A random BLS12-381 scalar, uniform ([`Curve::random_scalar`]).
pub fn random_scalar() -> bls12_381::Scalar {
    Bls::random_scalar()
}

/// A secret polynomial of degree `threshold - 1`: its value at 0 is the secret, its values at
/// 1..=n the shares. Wiped from memory when dropped; its `Debug` shows only its degree.
pub struct SecretPoly<C: Curve = Bls>(Vec<C::Scalar>);

impl<C: Curve> SecretPoly<C> {
    /// A polynomial with a random secret, whose shares any `threshold` of reconstruct.
    pub fn random(threshold: usize) -> Self {
        Self::with_secret(C::random_scalar(), threshold)
    }

    /// A polynomial with the given `secret` and random other coefficients: what a member deals
    /// when it reshares its share.
    pub fn with_secret(secret: C::Scalar, threshold: usize) -> Self {
        assert!(threshold >= 1, "a threshold is at least 1");
        let mut coefficients = Vec::with_capacity(threshold);
        coefficients.push(secret);
        coefficients.extend((1..threshold).map(|_| C::random_scalar()));
        Self(coefficients)
    }

    /// A polynomial whose coefficients are `coefficient(0)`, `coefficient(1)`, …: derived ones,
    /// so that the same polynomial is dealt each time.
    pub fn derived(threshold: usize, coefficient: impl Fn(usize) -> C::Scalar) -> Self {
        assert!(threshold >= 1, "a threshold is at least 1");
        Self((0..threshold).map(coefficient).collect())
    }

    /// The polynomial with these coefficients, lowest first: for known-answer tests.
    pub fn from_coefficients(coefficients: Vec<C::Scalar>) -> Self {
        assert!(!coefficients.is_empty(), "a polynomial has a coefficient");
        Self(coefficients)
    }

    /// How many shares reconstruct it: its degree plus one.
    pub fn threshold(&self) -> usize {
        self.0.len()
    }

    /// Its value at `x = index`.
    pub fn eval(&self, index: u32) -> C::Scalar {
        let x = C::scalar_from_u64(u64::from(index));
        self.0
            .iter()
            .rev()
            .fold(C::zero(), |value, coefficient| value * x + *coefficient)
    }

    /// Its Feldman commitments: each coefficient times the group's generator.
    pub fn commit(&self) -> PublicPoly<C> {
        PublicPoly(self.0.iter().map(C::base_mul).collect())
    }
}

impl<C: Curve> Drop for SecretPoly<C> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<C: Curve> std::fmt::Debug for SecretPoly<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(
            f,
            "SecretPoly(threshold {}, coefficients hidden)",
            self.0.len()
        )
    }
}

/// The commitments to a secret polynomial's coefficients, in the curve's group: public, and
/// enough to check any share against (Feldman) and to compute any member's public share. The
/// first is the public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicPoly<C: Curve = Bls>(Vec<C::Point>);

/// Points with their scalars, for [`Curve::lincomb`].
type Terms<C> = Vec<(<C as Curve>::Point, <C as Curve>::Scalar)>;

impl<C: Curve> PublicPoly<C> {
    /// How many shares reconstruct the polynomial.
    pub fn threshold(&self) -> usize {
        self.0.len()
    }

    /// The commitments, lowest coefficient first.
    pub fn commitments(&self) -> &[C::Point] {
        &self.0
    }

    /// The public share of member `index`: its share times the generator.
    pub fn eval(&self, index: u32) -> C::Point {
        let x = C::scalar_from_u64(u64::from(index));
        let mut power = C::one();
        let mut terms = Vec::with_capacity(self.0.len());
        for commitment in &self.0 {
            terms.push((*commitment, power));
            power = power * x;
        }
        C::lincomb(&terms)
    }

    /// The commitments of the polynomial plus the constant whose commitment is `point`: every
    /// public share moves by `point` (a public tweak of a key).
    pub fn shifted(&self, point: C::Point) -> Self {
        let mut points = self.0.clone();
        points[0] = C::lincomb(&[(points[0], C::one()), (point, C::one())]);
        Self(points)
    }

    /// The commitments of the negated polynomial: every public share negated.
    pub fn negated(&self) -> Self {
        let minus_one = C::zero() - C::one();
        Self(
            self.0
                .iter()
                .map(|p| C::lincomb(&[(*p, minus_one)]))
                .collect(),
        )
    }

    /// Whether `share` is the value at `index` of the polynomial these commit to.
    pub fn verifies(&self, index: u32, share: &C::Scalar) -> bool {
        C::base_mul(share) == self.eval(index)
    }

    /// The commitments to `Σ w·f` for the weights `w` and polynomials `f` these commit to:
    /// with weights of one, what the members' contributions to a key generation add up to; with
    /// Lagrange coefficients, what a resharing's add up to. `None` when their thresholds differ.
    pub fn weighted_sum<'a>(
        terms: impl IntoIterator<Item = (C::Scalar, &'a PublicPoly<C>)>,
    ) -> Option<PublicPoly<C>> {
        // One column of weighted commitments per coefficient.
        let mut columns: Option<Vec<Terms<C>>> = None;
        for (weight, poly) in terms {
            let columns = columns.get_or_insert_with(|| vec![Vec::new(); poly.threshold()]);
            if poly.threshold() != columns.len() {
                return None;
            }
            for (column, commitment) in columns.iter_mut().zip(&poly.0) {
                column.push((*commitment, weight));
            }
        }
        Some(PublicPoly(columns?.iter().map(|c| C::lincomb(c)).collect()))
    }

    /// The commitments as compressed points, one after the other.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(C::point_to_bytes).collect()
    }

    /// Commitments from [`PublicPoly::to_bytes`]; `None` unless they are whole, valid points in
    /// the group.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.is_empty() || !bytes.len().is_multiple_of(C::POINT_BYTES) {
            return None;
        }
        let points = bytes.chunks_exact(C::POINT_BYTES).map(C::point_from_bytes);
        Some(Self(points.collect::<Option<Vec<_>>>()?))
    }
}

impl PublicPoly<Bls> {
    /// The commitment to the secret: the key every combined signature verifies under.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_bytes(&self.0[0].to_compressed()).expect("a commitment is a valid G1 point")
    }
}

/// The Lagrange coefficients at 0 of the members `indices`: the weights that turn their values
/// of a polynomial into its value at 0, `λ_i = Π_{j ≠ i} x_j / (x_j − x_i)`. `None` unless the
/// indices are distinct and non-zero.
pub fn lagrange_at_zero<C: Curve>(indices: &[u32]) -> Option<Vec<C::Scalar>> {
    let distinct: std::collections::BTreeSet<u32> = indices.iter().copied().collect();
    if distinct.len() != indices.len() || distinct.contains(&0) {
        return None;
    }
    let xs: Vec<C::Scalar> = indices
        .iter()
        .map(|&i| C::scalar_from_u64(u64::from(i)))
        .collect();
    let weights = xs.iter().enumerate().map(|(i, xi)| {
        let (numerator, denominator) = xs
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .fold((C::one(), C::one()), |(num, den), (_, xj)| {
                (num * *xj, den * (*xj - *xi))
            });
        numerator * C::invert(&denominator).expect("distinct indices have a non-zero difference")
    });
    Some(weights.collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curve::Secp256k1;

    fn interpolate<C: Curve>(poly: &SecretPoly<C>, indices: &[u32]) -> C::Scalar {
        let weights = lagrange_at_zero::<C>(indices).unwrap();
        indices
            .iter()
            .zip(&weights)
            .fold(C::zero(), |sum, (&i, w)| sum + poly.eval(i) * *w)
    }

    fn threshold_interpolates<C: Curve>() {
        let poly = SecretPoly::<C>::random(3);
        let secret = poly.eval(0);
        for indices in [[1u32, 2, 3], [2, 4, 5], [5, 1, 3]] {
            assert_eq!(interpolate(&poly, &indices), secret);
        }
        assert_eq!(lagrange_at_zero::<C>(&[1, 1]), None);
        assert_eq!(lagrange_at_zero::<C>(&[0, 1]), None);
        assert_ne!(interpolate(&poly, &[1, 2]), secret);
    }

    #[test]
    fn any_threshold_of_values_interpolate_the_secret_and_fewer_do_not() {
        threshold_interpolates::<Bls>();
        threshold_interpolates::<Secp256k1>();
    }

    fn commitments_check<C: Curve>() {
        let a = SecretPoly::<C>::random(3);
        let b = SecretPoly::<C>::random(3);
        let (ca, cb) = (a.commit(), b.commit());
        assert!(ca.verifies(4, &a.eval(4)));
        assert!(!ca.verifies(4, &b.eval(4)));
        assert!(!ca.verifies(5, &a.eval(4)));
        let one = C::one();
        let sum = PublicPoly::weighted_sum([(one, &ca), (one, &cb)]).unwrap();
        assert!(sum.verifies(2, &(a.eval(2) + b.eval(2))));
        let seven = C::scalar_from_u64(7);
        let weighted = PublicPoly::weighted_sum([(seven, &ca), (one, &cb)]).unwrap();
        assert!(weighted.verifies(2, &(a.eval(2) * seven + b.eval(2))));
        assert_eq!(
            PublicPoly::weighted_sum([(one, &ca), (one, &SecretPoly::<C>::random(2).commit())]),
            None
        );
        assert_eq!(PublicPoly::<C>::from_bytes(&sum.to_bytes()), Some(sum));
        assert_eq!(
            PublicPoly::<C>::from_bytes(&vec![0; C::POINT_BYTES - 1]),
            None
        );
        assert_eq!(
            PublicPoly::<C>::from_bytes(&vec![0xff; C::POINT_BYTES]),
            None
        );
    }

    #[test]
    fn commitments_check_shares_and_sum_like_the_polynomials() {
        commitments_check::<Bls>();
        commitments_check::<Secp256k1>();
    }

    /// Pins the BLS12-381 commitments' bytes, so that making the code generic over the curve
    /// changed nothing a member sends.
    #[test]
    fn bls_commitments_are_compressed_g1_points_as_before() {
        let poly = SecretPoly::<Bls>::from_coefficients(vec![
            bls12_381::Scalar::from(7u64),
            bls12_381::Scalar::from(9u64),
        ]);
        let expected: Vec<u8> = [7u64, 9]
            .iter()
            .flat_map(|&c| {
                bls12_381::G1Affine::from(
                    bls12_381::G1Affine::generator() * bls12_381::Scalar::from(c),
                )
                .to_compressed()
            })
            .collect();
        assert_eq!(poly.commit().to_bytes(), expected);
        let at_two = bls12_381::G1Affine::from(
            bls12_381::G1Affine::generator() * bls12_381::Scalar::from(7u64 + 9 * 2),
        );
        assert_eq!(poly.commit().eval(2), at_two);
    }

    #[test]
    fn the_debug_of_a_secret_polynomial_shows_no_coefficient() {
        let poly = SecretPoly::<Bls>::from_coefficients(vec![
            bls12_381::Scalar::from(7u64),
            bls12_381::Scalar::from(9u64),
        ]);
        let shown = format!("{poly:?}");
        assert_eq!(shown, "SecretPoly(threshold 2, coefficients hidden)");
    }
}
