//! Threshold BIP340 signatures with a shared nonce: the signing key `x` and the nonce `k` are
//! each Shamir-shared among the members, with Feldman commitments public (made by the members
//! like any key, Joint-Feldman, so that no one holds either whole). Member `i`'s partial
//! signature of a message `m` is `s_i = k_i + e·x_i`, with `e` BIP340's challenge of `x(R)`,
//! `x(P)` and `m`; anyone checks it from public shares as `s_i·G = K_i + e·X_i`; any `t` of them
//! combine by Lagrange interpolation into `s`, and `(x(R), s)` is an ordinary BIP340 signature
//! (Stinson and Strobl, "Provably secure distributed Schnorr signatures and a (t, n) threshold
//! scheme for implicit certificates", 2001; Gennaro, Jarecki, Krawczyk and Rabin, "Secure
//! distributed key generation for discrete-log based cryptosystems", on Joint-Feldman keys for
//! Schnorr). Unlike FROST (RFC 9591), whose group nonce depends on the message, the nonce is
//! fixed before the message is known: it can be committed to in a DLC announcement.
//!
//! BIP340 keys and nonces have an even y: when `P = x·G` has an odd y, the key signed with is
//! `−x`, so every share and public share is negated, and likewise for the nonce
//! ([`Signing::new`]).
//!
//! Each machine's key is a key of its own, made by the members like a committed nonce
//! ([`crate::machine_key::secp256k1_group`]), not a public tweak of the federation's: with
//! committed nonces a machine's author may steer messages under many open nonces (the ROS attack,
//! Benhamouda, Lepoint, Loss, Orrù and Raykova, 2021), and under keys that differ by known
//! offsets a forgery under the author's own machine's key would be one under any other's
//! (`s* + c*·(τ_B − τ_A)`). Independent keys confine it to the author's own.
//!
//! **One nonce, one key and one message, ever.** Two signatures with one nonce, under two
//! messages, give away the whole key; so do partials of two messages under one nonce, from
//! enough members together.
//! This module does not know which nonces signed what: a caller ties each nonce to one machine and
//! one name when it is made, has the members agree on the one message it signs before any member
//! releases its partial, and has each member record that message durably first.

use crate::curve::{Curve, Secp256k1};
use crate::poly::{PublicPoly, lagrange_at_zero};
use carol_core::bip340;
use k256::elliptic_curve::point::AffineCoordinates;
use k256::{ProjectivePoint, Scalar};

/// Why partial signatures give no signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchnorrError {
    /// Fewer distinct members' partials than the threshold.
    #[error("{have} distinct members' partial signatures, but {threshold} are needed")]
    TooFew {
        /// Distinct members.
        have: usize,
        /// The threshold.
        threshold: usize,
    },
    /// A partial does not check out under its member's public shares.
    #[error("member {0}'s partial signature does not verify under its public shares")]
    BadPartial(u32),
    /// A member's shares are not both its own, of this key and this nonce.
    #[error(
        "member {0}'s shares are not its shares of this key and this nonce (another machine's \
         key, another nonce, or another member's)"
    )]
    NotTheShares(u32),
    /// The key or the nonce is the point at infinity: a partial would be `e·x_i` or `k_i`
    /// alone, giving the other secret away, so none is made.
    #[error("the key or the nonce is the point at infinity: nothing is signed with it")]
    Degenerate,
    /// Every partial checks out, yet they make no signature, or the key's and nonce's
    /// thresholds differ: the commitments are not those of the shares the members hold.
    #[error(
        "the partial signatures verify but combine into no signature: the key's or the nonce's \
         commitments are not those of the members' shares"
    )]
    Inconsistent,
}

/// A member's share of a secp256k1 secret (a key or a nonce).
pub type Share = crate::threshold::Share<Secp256k1>;

/// A member's partial signature: `s_i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partial {
    /// The member.
    pub index: u32,
    /// `s_i = k_i + e·x_i`, even-y rules applied.
    pub s: Scalar,
}

/// One signature's work among the members: the key's and the nonce's commitments, with BIP340's
/// even-y rule applied to both, and the challenge of the message.
pub struct Signing {
    key: PublicPoly<Secp256k1>,
    nonce: PublicPoly<Secp256k1>,
    negate_key: bool,
    negate_nonce: bool,
    r: [u8; 32],
    public: [u8; 32],
    message: [u8; 32],
    e: Scalar,
}

impl Signing {
    /// Signing `message` with the key whose commitments are `key` and the nonce whose
    /// commitments are `nonce`.
    pub fn new(
        key: &PublicPoly<Secp256k1>,
        nonce: &PublicPoly<Secp256k1>,
        message: &[u8; 32],
    ) -> Self {
        let p = key.commitments()[0].to_affine();
        let r = nonce.commitments()[0].to_affine();
        let (public, r_x) = (bip340::x_only(&p), bip340::x_only(&r));
        Self {
            key: key.clone(),
            nonce: nonce.clone(),
            negate_key: bool::from(p.y_is_odd()),
            negate_nonce: bool::from(r.y_is_odd()),
            e: bip340::challenge(&r_x, &public, message),
            r: r_x,
            public,
            message: *message,
        }
    }

    /// The x-only key the signature verifies under.
    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }

    /// The signature's `r`: the nonce's x-only point, as announced.
    pub fn r(&self) -> [u8; 32] {
        self.r
    }

    /// Whether `signature` is a BIP340 signature of the message under the key.
    pub fn verifies_signature(&self, signature: &[u8; 64]) -> bool {
        bip340::verify(&self.public, &self.message, signature)
    }

    /// Member `key.index()`'s partial, with its shares of the key and of the nonce, each
    /// checked against its commitments first (a share of another machine's key, or of another
    /// nonce, is refused rather than signed with).
    pub fn partial(&self, key: &Share, nonce: &Share) -> Result<Partial, SchnorrError> {
        let identity = ProjectivePoint::IDENTITY;
        if self.key.commitments()[0] == identity || self.nonce.commitments()[0] == identity {
            return Err(SchnorrError::Degenerate);
        }
        let index = key.index();
        if index != nonce.index()
            || !self.key.verifies(index, key.secret())
            || !self.nonce.verifies(index, nonce.secret())
        {
            return Err(SchnorrError::NotTheShares(index));
        }
        let x = if self.negate_key {
            -*key.secret()
        } else {
            *key.secret()
        };
        let k = if self.negate_nonce {
            -*nonce.secret()
        } else {
            *nonce.secret()
        };
        Ok(Partial {
            index,
            s: k + self.e * x,
        })
    }

    /// Whether `partial` is its member's: `s_i·G = K_i + e·X_i`, with the public shares
    /// negated as the shares are.
    pub fn verifies(&self, partial: &Partial) -> bool {
        if partial.index == 0 {
            return false;
        }
        let sign = |negate: bool, point: ProjectivePoint| if negate { -point } else { point };
        let k_i = sign(self.negate_nonce, self.nonce.eval(partial.index));
        let x_i = sign(self.negate_key, self.key.eval(partial.index));
        ProjectivePoint::GENERATOR * partial.s == k_i + x_i * self.e
    }

    /// The BIP340 signature the partials make: the first `t` distinct members' (`t` the key's and
    /// the nonce's threshold), checked; if it does not verify, that of the partials that check
    /// out under their public shares, if `t` of them do, else the first bad one is named.
    pub fn combine(&self, partials: &[Partial]) -> Result<[u8; 64], SchnorrError> {
        let threshold = self.key.threshold();
        if self.nonce.threshold() != threshold {
            return Err(SchnorrError::Inconsistent);
        }
        match self.combine_first(threshold, partials) {
            Err(SchnorrError::BadPartial(bad)) => {
                let good: Vec<Partial> = partials
                    .iter()
                    .copied()
                    .filter(|p| self.verifies(p))
                    .collect();
                self.combine_first(threshold, &good)
                    .map_err(|_| SchnorrError::BadPartial(bad))
            }
            outcome => outcome,
        }
    }

    fn combine_first(
        &self,
        threshold: usize,
        partials: &[Partial],
    ) -> Result<[u8; 64], SchnorrError> {
        let mut chosen: Vec<&Partial> = Vec::with_capacity(threshold);
        for partial in partials.iter().filter(|p| p.index != 0) {
            if chosen.len() < threshold && chosen.iter().all(|c| c.index != partial.index) {
                chosen.push(partial);
            }
        }
        if chosen.len() < threshold {
            return Err(SchnorrError::TooFew {
                have: chosen.len(),
                threshold,
            });
        }
        let indices: Vec<u32> = chosen.iter().map(|p| p.index).collect();
        let weights = lagrange_at_zero::<Secp256k1>(&indices).expect("distinct, non-zero indices");
        let s = chosen
            .iter()
            .zip(&weights)
            .fold(Scalar::ZERO, |sum, (p, w)| sum + p.s * w);
        let mut signature = [0u8; 64];
        signature[..32].copy_from_slice(&self.r);
        signature[32..].copy_from_slice(&Secp256k1::scalar_to_bytes(&s));
        if self.verifies_signature(&signature) {
            return Ok(signature);
        }
        match chosen.iter().find(|p| !self.verifies(p)) {
            Some(bad) => Err(SchnorrError::BadPartial(bad.index)),
            None => Err(SchnorrError::Inconsistent),
        }
    }
}

#[cfg(test)]
mod tests;
