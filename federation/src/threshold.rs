//! Threshold BLS: a member's share signs a partial signature; partials are checked against the
//! member's public share; any `t` of them combine, by Lagrange interpolation in G2, into the
//! signature of the whole key (BLS signatures are unique, so it is byte-identical whichever `t`
//! took part). The ciphersuite is the node's, [`carol_core::bls::DST`]; the signing itself is
//! blst's, as for a single node.

use crate::curve::{Bls, Curve};
use crate::poly::{PublicPoly, lagrange_at_zero};
use bls12_381::Scalar;
use blst::{MultiPoint, min_pk};
use carol_core::bls::{DST, PublicKey, Signature};
use zeroize::Zeroize;

/// Why partial signatures do not combine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CombineError {
    /// Fewer distinct members signed than the threshold.
    #[error("{have} distinct members' partial signatures, but {threshold} are needed")]
    TooFew {
        /// Distinct members that signed.
        have: usize,
        /// The threshold.
        threshold: usize,
    },
    /// The partials add up to no signature (the point at infinity, or a point outside G2's
    /// subgroup): some are not what they claim; check each against its public share to find
    /// which.
    #[error("the partial signatures add up to no signature: check each against its public share")]
    Identity,
    /// A partial signature is not a point of G2, or names member 0.
    #[error("the partial signature of member {index} is not a valid signature")]
    Invalid {
        /// The member.
        index: u32,
    },
}

/// A member's share of a key (or of a nonce), in either curve: the value of the key's
/// polynomial at the member's index. Wiped from memory when dropped; its `Debug` shows only the
/// index.
#[derive(Clone)]
pub struct Share<C: Curve = Bls> {
    index: u32,
    secret: C::Scalar,
}

impl<C: Curve> Share<C> {
    /// Member `index`'s share `secret`.
    pub fn new(index: u32, secret: C::Scalar) -> Self {
        assert!(index >= 1, "members are numbered from 1");
        Self { index, secret }
    }

    /// The member's index.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The share's scalar, for the key generation's arithmetic.
    pub fn secret(&self) -> &C::Scalar {
        &self.secret
    }
}

impl Share<Bls> {
    /// The public share: what this share's partial signatures verify under.
    pub fn public(&self) -> PublicKey {
        let point = bls12_381::G1Affine::from(bls12_381::G1Affine::generator() * self.secret);
        PublicKey::from_bytes(&point.to_compressed()).expect("a valid point")
    }

    /// The partial signature of `message` (for a machine, `machine_id || message`, as a single
    /// node signs).
    pub fn sign(&self, message: &[u8]) -> PartialSignature {
        let mut big_endian = self.secret.to_bytes();
        big_endian.reverse();
        // A share of zero has probability 2^-255; blst refuses it as a key, and so do we.
        let key = min_pk::SecretKey::from_bytes(&big_endian).expect("a share is a non-zero scalar");
        big_endian.zeroize();
        PartialSignature {
            index: self.index,
            signature: PartialBytes(key.sign(message, DST, &[]).serialize()),
        }
    }
}

/// A partial signature as it travels: an uncompressed G2 point, 192 bytes (hex in JSON), not
/// checked to be in G2's subgroup when it is read. Uncompressed, because decompressing takes a
/// square root and every member combines three partials per signature; unchecked, because the
/// subgroup check costs most of a scalar multiplication, and it is made once instead, on the
/// combination ([`combine`]), and on a partial itself only when it is checked alone
/// ([`PartialSignature::verify`]).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PartialBytes(pub [u8; 192]);

impl From<&Signature> for PartialBytes {
    fn from(signature: &Signature) -> Self {
        let point =
            min_pk::Signature::uncompress(&signature.to_bytes()).expect("a signature is a point");
        Self(point.serialize())
    }
}

impl PartialBytes {
    /// The point, if the bytes are one on the curve (in G2's subgroup or not).
    fn point(&self) -> Option<min_pk::Signature> {
        min_pk::Signature::deserialize(&self.0).ok()
    }
}

impl std::fmt::Debug for PartialBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "PartialBytes({})", hex::encode(self.0))
    }
}

impl serde::Serialize for PartialBytes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> serde::Deserialize<'de> for PartialBytes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        let mut bytes = [0u8; 192];
        hex::decode_to_slice(text.as_bytes(), &mut bytes).map_err(|_| {
            serde::de::Error::custom(
                "a partial signature is an uncompressed G2 point: 192 bytes in hex",
            )
        })?;
        Ok(Self(bytes))
    }
}

impl<C: Curve> Drop for Share<C> {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

impl<C: Curve> std::fmt::Debug for Share<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "Share(member {}, secret hidden)", self.index)
    }
}

/// Member `index`'s signature with its share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialSignature {
    /// The member that signed.
    pub index: u32,
    /// Its signature, an ordinary BLS signature under its public share (unchecked).
    pub signature: PartialBytes,
}

impl PartialSignature {
    /// Whether it is member `index`'s signature of `message` under the key `public` commits to.
    pub fn verify(&self, public: &PublicPoly, message: &[u8]) -> bool {
        if self.index == 0 {
            return false;
        }
        let share = public.eval(self.index).to_compressed();
        let checked = self
            .signature
            .point()
            .and_then(|point| Signature::from_bytes(&point.compress()).ok());
        let Some(signature) = checked else {
            return false;
        };
        PublicKey::from_bytes(&share)
            .map(|key| key.verify(message, &signature))
            .unwrap_or(false)
    }
}

/// Combines the partial signatures of at least `threshold` distinct members into the signature
/// of the whole key. The first `threshold` distinct members are used; the partials are not
/// checked (check the result under the whole key, and each partial only if it fails), but the
/// result is checked to be in G2's subgroup, as every [`Signature`] is.
pub fn combine(threshold: usize, partials: &[PartialSignature]) -> Result<Signature, CombineError> {
    let mut chosen: Vec<&PartialSignature> = Vec::with_capacity(threshold);
    for partial in partials {
        if chosen.len() == threshold {
            break;
        }
        if partial.index == 0 {
            return Err(CombineError::Invalid { index: 0 });
        }
        if chosen.iter().all(|c| c.index != partial.index) {
            chosen.push(partial);
        }
    }
    if chosen.len() < threshold {
        return Err(CombineError::TooFew {
            have: chosen.len(),
            threshold,
        });
    }
    let indices: Vec<u32> = chosen.iter().map(|p| p.index).collect();
    let weights = lagrange_at_zero::<Bls>(&indices).expect("distinct, non-zero indices");
    // Σ λ_i·σ_i in G2 by blst's multi-scalar multiplication, scalars little-endian: the
    // combination is most of a federated signature's work, several times faster than the
    // `bls12_381` crate's G2 arithmetic.
    let points = chosen
        .iter()
        .map(|p| {
            // On the curve; the subgroup is checked once, below.
            p.signature
                .point()
                .ok_or(CombineError::Invalid { index: p.index })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let scalars: Vec<u8> = weights.iter().flat_map(Scalar::to_bytes).collect();
    let sum = min_pk::Signature::from_aggregate(&points.mult(&scalars, 255));
    Signature::from_bytes(&sum.compress()).map_err(|_| CombineError::Identity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::poly::SecretPoly;

    fn shares(poly: &SecretPoly, n: u32) -> Vec<Share> {
        (1..=n).map(|i| Share::new(i, poly.eval(i))).collect()
    }

    #[test]
    fn partials_verify_under_their_own_public_share_only() {
        let poly = SecretPoly::random(3);
        let public = poly.commit();
        let shares = shares(&poly, 5);
        let partial = shares[1].sign(b"m");
        assert!(partial.verify(&public, b"m"));
        let whole = Signature::from_bytes(&partial.signature.point().unwrap().compress()).unwrap();
        assert!(shares[1].public().verify(b"m", &whole));
        assert!(!partial.verify(&public, b"other"));
        let misattributed = PartialSignature {
            index: 3,
            ..partial.clone()
        };
        assert!(!misattributed.verify(&public, b"m"));
        let zero = PartialSignature {
            index: 0,
            ..partial
        };
        assert!(!zero.verify(&public, b"m"));
    }

    #[test]
    fn every_threshold_subset_gives_the_same_signature_and_fewer_give_none() {
        let poly = SecretPoly::random(3);
        let public = poly.commit();
        let partials: Vec<_> = shares(&poly, 5).iter().map(|s| s.sign(b"m")).collect();
        let reference = combine(3, &partials[..3]).unwrap();
        assert!(public.public_key().verify(b"m", &reference));
        for subset in [[0, 2, 4], [4, 3, 1], [1, 2, 3]] {
            let chosen: Vec<_> = subset.iter().map(|&i| partials[i].clone()).collect();
            assert_eq!(combine(3, &chosen).unwrap(), reference);
        }
        // More than the threshold: the first three are used.
        assert_eq!(combine(3, &partials).unwrap(), reference);
        let zero = PartialSignature {
            index: 0,
            ..partials[0].clone()
        };
        assert_eq!(combine(3, &[zero]), Err(CombineError::Invalid { index: 0 }));
        // Bytes of no point on the curve are no partial.
        let garbage = PartialSignature {
            index: 2,
            signature: PartialBytes([0x11; 192]),
        };
        assert!(!garbage.verify(&public, b"m"));
        let with_garbage = [partials[0].clone(), garbage, partials[2].clone()];
        assert_eq!(
            combine(3, &with_garbage),
            Err(CombineError::Invalid { index: 2 })
        );
        // The same member twice counts once.
        let repeated = vec![
            partials[0].clone(),
            partials[0].clone(),
            partials[1].clone(),
        ];
        assert_eq!(
            combine(3, &repeated),
            Err(CombineError::TooFew {
                have: 2,
                threshold: 3
            })
        );
    }

    #[test]
    fn a_bad_partial_spoils_the_combination_and_is_found_by_its_own_check() {
        let poly = SecretPoly::random(2);
        let public = poly.commit();
        let shares = shares(&poly, 3);
        let mut partials: Vec<_> = shares.iter().map(|s| s.sign(b"m")).collect();
        partials[0].signature = shares[0].sign(b"another message").signature;
        let combined = combine(2, &partials).unwrap();
        assert!(!public.public_key().verify(b"m", &combined));
        let bad: Vec<u32> = partials
            .iter()
            .filter(|p| !p.verify(&public, b"m"))
            .map(|p| p.index)
            .collect();
        assert_eq!(bad, [1]);
        let good: Vec<_> = partials
            .into_iter()
            .filter(|p| p.verify(&public, b"m"))
            .collect();
        assert!(
            public
                .public_key()
                .verify(b"m", &combine(2, &good).unwrap())
        );
    }

    #[test]
    fn the_debug_of_a_share_shows_no_secret() {
        let share = Share::<Bls>::new(2, Scalar::from(12345u64));
        assert_eq!(format!("{share:?}"), "Share(member 2, secret hidden)");
    }
}
