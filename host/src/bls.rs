//! BLS signatures as the node makes them and clients check them.
//!
//! The IETF BLS signature "basic" scheme, minimal-pubkey-size variant, ciphersuite
//! `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_`: public keys are 48-byte compressed G1 points,
//! signatures 96-byte compressed G2 points. A machine's signature is over
//! `machine_id (32 raw bytes) || message`, so it can only be attributed to the machine it names.

use crate::ids::MachineId;
use bls12_381::hash_to_curve::{ExpandMsgXmd, HashToCurve};
use bls12_381::{G1Affine, G1Projective, G2Affine, G2Projective, Scalar, pairing};
use std::fmt;

/// The ciphersuite's domain separation tag.
pub const DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_";

/// Why bytes are not a key or a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlsError {
    /// The secret key is not 32 bytes, is zero, or is not below the group order.
    #[error(
        "invalid BLS secret key: expected 32 bytes (64 hex characters), big-endian, non-zero and below the BLS12-381 group order"
    )]
    SecretKey,
    /// The public key is not a valid 48-byte compressed G1 point.
    #[error("invalid BLS public key: expected a 48-byte compressed G1 point (96 hex characters)")]
    PublicKey,
    /// The signature is not a valid 96-byte compressed G2 point.
    #[error("invalid BLS signature: expected a 96-byte compressed G2 point (192 hex characters)")]
    Signature,
}

/// A node's secret key. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct SecretKey(Scalar);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl SecretKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        loop {
            let mut wide = [0u8; 64];
            getrandom::fill(&mut wide).expect("the operating system's random source failed");
            let scalar = Scalar::from_bytes_wide(&wide);
            if scalar != Scalar::zero() {
                return Self(scalar);
            }
        }
    }

    /// Reads a key from its 32-byte big-endian form (as IETF `I2OSP` and other BLS libraries write it).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        let mut le: [u8; 32] = bytes.try_into().map_err(|_| BlsError::SecretKey)?;
        le.reverse();
        let scalar = Option::<Scalar>::from(Scalar::from_bytes(&le)).ok_or(BlsError::SecretKey)?;
        if scalar == Scalar::zero() {
            return Err(BlsError::SecretKey);
        }
        Ok(Self(scalar))
    }

    /// The 32-byte big-endian form of the key.
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut bytes = self.0.to_bytes();
        bytes.reverse();
        bytes
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(G1Affine::from(G1Projective::generator() * self.0))
    }

    /// Signs the concatenation of `parts` (the ciphersuite's `Sign`).
    pub fn sign_parts(&self, parts: &[&[u8]]) -> Signature {
        let point = <G2Projective as HashToCurve<ExpandMsgXmd<sha2::Sha256>>>::hash_to_curve(
            parts.iter().copied(),
            DST,
        );
        Signature(G2Affine::from(point * self.0))
    }

    /// Signs `machine_id || message`, as the `bls-sign` import does for that machine.
    pub fn sign_for_machine(&self, machine: &MachineId, message: &[u8]) -> Signature {
        self.sign_parts(&[machine.as_bytes(), message])
    }
}

/// A node's public key: a compressed G1 point.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(G1Affine);

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", hex::encode(self.to_bytes()))
    }
}

impl PublicKey {
    /// The 48-byte compressed form.
    pub fn to_bytes(&self) -> [u8; 48] {
        self.0.to_compressed()
    }

    /// Reads a compressed point, rejecting the identity and points outside the subgroup.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        let bytes: &[u8; 48] = bytes.try_into().map_err(|_| BlsError::PublicKey)?;
        let point = Option::<G1Affine>::from(G1Affine::from_compressed(bytes))
            .ok_or(BlsError::PublicKey)?;
        if bool::from(point.is_identity()) {
            return Err(BlsError::PublicKey);
        }
        Ok(Self(point))
    }

    /// Checks `signature` over the concatenation of `parts` (the ciphersuite's `Verify`).
    pub fn verify_parts(&self, parts: &[&[u8]], signature: &Signature) -> bool {
        let point = <G2Projective as HashToCurve<ExpandMsgXmd<sha2::Sha256>>>::hash_to_curve(
            parts.iter().copied(),
            DST,
        );
        pairing(&self.0, &G2Affine::from(point)) == pairing(&G1Affine::generator(), &signature.0)
    }

    /// Checks a signature that a machine's `bls-sign.sign(message)` produced.
    pub fn verify_for_machine(
        &self,
        machine: &MachineId,
        message: &[u8],
        signature: &Signature,
    ) -> bool {
        self.verify_parts(&[machine.as_bytes(), message], signature)
    }
}

/// A signature: a compressed G2 point.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Signature(G2Affine);

impl Signature {
    /// The 96-byte compressed form.
    pub fn to_bytes(&self) -> [u8; 96] {
        self.0.to_compressed()
    }

    /// Reads a compressed point, rejecting points outside the subgroup.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        let bytes: &[u8; 96] = bytes.try_into().map_err(|_| BlsError::Signature)?;
        Option::<G2Affine>::from(G2Affine::from_compressed(bytes))
            .map(Self)
            .ok_or(BlsError::Signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_then_verify() {
        let sk = SecretKey::generate();
        let pk = sk.public_key();
        let machine = MachineId::from_bytes([7; 32]);
        let sig = sk.sign_for_machine(&machine, b"price=30264");
        assert!(pk.verify_for_machine(&machine, b"price=30264", &sig));
        assert!(!pk.verify_for_machine(&machine, b"price=30265", &sig));
        assert!(!pk.verify_for_machine(&MachineId::from_bytes([8; 32]), b"price=30264", &sig));
        let round = Signature::from_bytes(&sig.to_bytes()).unwrap();
        assert!(pk.verify_for_machine(&machine, b"price=30264", &round));
    }

    #[test]
    fn secret_key_bytes_round_trip_and_reject_bad_input() {
        let sk = SecretKey::generate();
        assert_eq!(
            SecretKey::from_bytes(&sk.to_bytes()).unwrap().to_bytes(),
            sk.to_bytes()
        );
        assert_eq!(
            SecretKey::from_bytes(&[0; 32]).unwrap_err(),
            BlsError::SecretKey
        );
        assert_eq!(
            SecretKey::from_bytes(&[0xff; 32]).unwrap_err(),
            BlsError::SecretKey
        );
        assert_eq!(
            SecretKey::from_bytes(&[1; 31]).unwrap_err(),
            BlsError::SecretKey
        );
        assert!(!format!("{sk:?}").contains(&hex::encode(sk.to_bytes())));
    }

    #[test]
    fn public_key_rejects_garbage() {
        assert_eq!(
            PublicKey::from_bytes(&[0; 48]).unwrap_err(),
            BlsError::PublicKey
        );
        assert_eq!(
            PublicKey::from_bytes(&[1; 3]).unwrap_err(),
            BlsError::PublicKey
        );
        assert_eq!(
            Signature::from_bytes(&[0; 96]).unwrap_err(),
            BlsError::Signature
        );
    }
}
