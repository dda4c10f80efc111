//! Polynomials over the BLS12-381 scalar field and their Feldman commitments in G1: Shamir's
//! sharing, in which member `i` holds the value at `x = i` (members are numbered from 1, so no
//! one is ever given the value at 0, the secret).

use bls12_381::{G1Affine, G1Projective, Scalar};
use carol_core::bls::PublicKey;
use zeroize::Zeroize;

/// A random scalar, uniform: 64 bytes of the operating system's randomness, reduced.
pub fn random_scalar() -> Scalar {
    let mut wide = [0u8; 64];
    getrandom::fill(&mut wide).expect("the operating system's random source failed");
    let scalar = Scalar::from_bytes_wide(&wide);
    wide.zeroize();
    scalar
}

/// A secret polynomial of degree `threshold - 1`: its value at 0 is the secret, its values at
/// 1..=n the shares. Wiped from memory when dropped; its `Debug` shows only its degree.
pub struct SecretPoly(Vec<Scalar>);

impl SecretPoly {
    /// A polynomial with a random secret, whose shares any `threshold` of reconstruct.
    pub fn random(threshold: usize) -> Self {
        Self::with_secret(random_scalar(), threshold)
    }

    /// A polynomial with the given `secret` and random other coefficients: what a member deals
    /// when it reshares its share.
    pub fn with_secret(secret: Scalar, threshold: usize) -> Self {
        assert!(threshold >= 1, "a threshold is at least 1");
        let mut coefficients = Vec::with_capacity(threshold);
        coefficients.push(secret);
        coefficients.extend((1..threshold).map(|_| random_scalar()));
        Self(coefficients)
    }

    /// A polynomial whose coefficients are `coefficient(0)`, `coefficient(1)`, …: derived ones,
    /// so that the same polynomial is dealt each time.
    pub fn derived(threshold: usize, coefficient: impl Fn(usize) -> Scalar) -> Self {
        assert!(threshold >= 1, "a threshold is at least 1");
        Self((0..threshold).map(coefficient).collect())
    }

    /// The polynomial with these coefficients, lowest first: for known-answer tests.
    pub fn from_coefficients(coefficients: Vec<Scalar>) -> Self {
        assert!(!coefficients.is_empty(), "a polynomial has a coefficient");
        Self(coefficients)
    }

    /// How many shares reconstruct it: its degree plus one.
    pub fn threshold(&self) -> usize {
        self.0.len()
    }

    /// Its value at `x = index`.
    pub fn eval(&self, index: u32) -> Scalar {
        let x = Scalar::from(u64::from(index));
        self.0
            .iter()
            .rev()
            .fold(Scalar::zero(), |value, coefficient| value * x + coefficient)
    }

    /// Its Feldman commitments: each coefficient times the G1 generator.
    pub fn commit(&self) -> PublicPoly {
        PublicPoly(
            self.0
                .iter()
                .map(|c| G1Affine::from(G1Affine::generator() * c))
                .collect(),
        )
    }
}

impl Drop for SecretPoly {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for SecretPoly {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(
            f,
            "SecretPoly(threshold {}, coefficients hidden)",
            self.0.len()
        )
    }
}

/// The commitments to a secret polynomial's coefficients, in G1: public, and enough to check any
/// share against (Feldman) and to compute any member's public share. The first is the public
/// key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicPoly(Vec<G1Affine>);

impl PublicPoly {
    /// How many shares reconstruct the polynomial.
    pub fn threshold(&self) -> usize {
        self.0.len()
    }

    /// The commitments, lowest coefficient first.
    pub fn commitments(&self) -> &[G1Affine] {
        &self.0
    }

    /// The commitment to the secret: the key every combined signature verifies under.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_bytes(&self.0[0].to_compressed()).expect("a commitment is a valid G1 point")
    }

    /// The public share of member `index`: its share times the generator.
    pub fn eval(&self, index: u32) -> G1Affine {
        let x = Scalar::from(u64::from(index));
        let value = self
            .0
            .iter()
            .rev()
            .fold(G1Projective::identity(), |value, commitment| {
                value * x + commitment
            });
        G1Affine::from(value)
    }

    /// Whether `share` is the value at `index` of the polynomial these commit to.
    pub fn verifies(&self, index: u32, share: &Scalar) -> bool {
        G1Affine::from(G1Affine::generator() * share) == self.eval(index)
    }

    /// The commitments to `Σ w·f` for the weights `w` and polynomials `f` these commit to:
    /// with weights of one, what the members' contributions to a key generation add up to; with
    /// Lagrange coefficients, what a resharing's add up to. `None` when their thresholds differ.
    pub fn weighted_sum<'a>(
        terms: impl IntoIterator<Item = (Scalar, &'a PublicPoly)>,
    ) -> Option<PublicPoly> {
        let mut sum: Option<Vec<G1Projective>> = None;
        for (weight, poly) in terms {
            let total = sum.get_or_insert_with(|| vec![G1Projective::identity(); poly.threshold()]);
            if poly.threshold() != total.len() {
                return None;
            }
            for (total, commitment) in total.iter_mut().zip(&poly.0) {
                *total += commitment * weight;
            }
        }
        Some(PublicPoly(sum?.iter().map(G1Affine::from).collect()))
    }

    /// The commitments as 48-byte compressed points, one after the other.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(G1Affine::to_compressed).collect()
    }

    /// Commitments from [`PublicPoly::to_bytes`]; `None` unless they are whole, valid points in
    /// the group.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.is_empty() || !bytes.len().is_multiple_of(48) {
            return None;
        }
        let points = bytes
            .chunks_exact(48)
            .map(|chunk| {
                let compressed: [u8; 48] = chunk.try_into().expect("48 bytes");
                Option::<G1Affine>::from(G1Affine::from_compressed(&compressed))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self(points))
    }
}

/// The Lagrange coefficients at 0 of the members `indices`: the weights that turn their values
/// of a polynomial into its value at 0, `λ_i = Π_{j ≠ i} x_j / (x_j − x_i)`. `None` unless the
/// indices are distinct and non-zero.
pub fn lagrange_at_zero(indices: &[u32]) -> Option<Vec<Scalar>> {
    let distinct: std::collections::BTreeSet<u32> = indices.iter().copied().collect();
    if distinct.len() != indices.len() || distinct.contains(&0) {
        return None;
    }
    let xs: Vec<Scalar> = indices
        .iter()
        .map(|&i| Scalar::from(u64::from(i)))
        .collect();
    xs.iter()
        .enumerate()
        .map(|(i, xi)| {
            let (numerator, denominator) = xs
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .fold((Scalar::one(), Scalar::one()), |(num, den), (_, xj)| {
                    (num * xj, den * (xj - xi))
                });
            numerator
                * Option::<Scalar>::from(denominator.invert())
                    .expect("distinct indices have a non-zero difference")
        })
        .collect::<Vec<_>>()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_threshold_of_values_interpolate_the_secret_and_fewer_do_not() {
        let poly = SecretPoly::random(3);
        let secret = poly.eval(0);
        for indices in [[1u32, 2, 3], [2, 4, 5], [5, 1, 3]] {
            let weights = lagrange_at_zero(&indices).unwrap();
            let value: Scalar = indices
                .iter()
                .zip(&weights)
                .map(|(&i, w)| poly.eval(i) * w)
                .sum();
            assert_eq!(value, secret);
        }
        let weights = lagrange_at_zero(&[1, 2]).unwrap();
        assert_eq!(lagrange_at_zero(&[1, 1]), None);
        assert_eq!(lagrange_at_zero(&[0, 1]), None);
        let two: Scalar = [1, 2]
            .iter()
            .zip(&weights)
            .map(|(&i, w)| poly.eval(i) * w)
            .sum();
        assert_ne!(two, secret);
    }

    #[test]
    fn commitments_check_shares_and_sum_like_the_polynomials() {
        let a = SecretPoly::random(3);
        let b = SecretPoly::random(3);
        let (ca, cb) = (a.commit(), b.commit());
        assert!(ca.verifies(4, &a.eval(4)));
        assert!(!ca.verifies(4, &b.eval(4)));
        assert!(!ca.verifies(5, &a.eval(4)));
        let one = Scalar::one();
        let sum = PublicPoly::weighted_sum([(one, &ca), (one, &cb)]).unwrap();
        assert!(sum.verifies(2, &(a.eval(2) + b.eval(2))));
        let seven = Scalar::from(7u64);
        let weighted = PublicPoly::weighted_sum([(seven, &ca), (one, &cb)]).unwrap();
        assert!(weighted.verifies(2, &(a.eval(2) * seven + b.eval(2))));
        assert_eq!(
            PublicPoly::weighted_sum([(one, &ca), (one, &SecretPoly::random(2).commit())]),
            None
        );
        assert_eq!(PublicPoly::from_bytes(&sum.to_bytes()), Some(sum));
        assert_eq!(PublicPoly::from_bytes(&[0; 47]), None);
        assert_eq!(PublicPoly::from_bytes(&[0xff; 48]), None);
    }

    #[test]
    fn the_debug_of_a_secret_polynomial_shows_no_coefficient() {
        let poly = SecretPoly::from_coefficients(vec![Scalar::from(7u64), Scalar::from(9u64)]);
        let shown = format!("{poly:?}");
        assert_eq!(shown, "SecretPoly(threshold 2, coefficients hidden)");
    }
}
