//! BLS signatures as the node makes them and clients check them.
//!
//! The IETF BLS signature "basic" scheme, minimal-pubkey-size variant, ciphersuite
//! `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_`: public keys are 48-byte compressed G1 points,
//! signatures 96-byte compressed G2 points. A machine's signature is over
//! `machine_id (32 raw bytes) || message`, so it can only be attributed to the machine it names.

use crate::ids::MachineId;
use blst::BLST_ERROR;
use blst::min_pk;
use std::fmt;
use std::str::FromStr;

/// The ciphersuite's domain separation tag.
pub const DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_";

/// The scheme, in words, as a node's description (`GET /`) names it.
pub const SCHEME: &str = "BLS12-381, IETF basic scheme, minimal-pubkey-size";

/// What a machine's signature is over, in words, as a node's description (`GET /`) says it.
pub const SIGNED_MESSAGE: &str = "machine_id (32 bytes) || message";

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
pub struct SecretKey(min_pk::SecretKey);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl SecretKey {
    /// A fresh key from the operating system's random source (the IETF `KeyGen` over 32 random
    /// bytes).
    pub fn generate() -> Self {
        let mut ikm = [0u8; 32];
        getrandom::fill(&mut ikm).expect("the operating system's random source failed");
        Self::key_gen(&ikm)
    }

    /// The IETF `KeyGen` over 32 bytes of secret key material.
    pub fn key_gen(ikm: &[u8; 32]) -> Self {
        Self(min_pk::SecretKey::key_gen(ikm, &[]).expect("32 bytes of key material suffice"))
    }

    /// The key whose scalar is `bytes`, read as a little-endian integer, modulo the group order;
    /// `None` if that is zero.
    pub fn from_le_bytes_reduced(bytes: &[u8]) -> Option<Self> {
        let mut scalar = blst::blst_scalar::default();
        let mut big_endian = [0u8; 32];
        // SAFETY: both pointers are to live values of the sizes blst expects, and `len` is the
        // length of `bytes`.
        unsafe {
            blst::blst_scalar_from_le_bytes(&mut scalar, bytes.as_ptr(), bytes.len());
            blst::blst_bendian_from_scalar(big_endian.as_mut_ptr(), &scalar);
        }
        Self::from_bytes(&big_endian).ok()
    }

    /// Reads a key from its 32-byte big-endian form (as IETF `I2OSP` and other BLS libraries write it).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        min_pk::SecretKey::from_bytes(bytes)
            .map(Self)
            .map_err(|_| BlsError::SecretKey)
    }

    /// The 32-byte big-endian form of the key.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.sk_to_pk())
    }

    /// Signs `message` alone (the ciphersuite's `Sign`), as a machine's own key does.
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.0.sign(message, DST, &[]))
    }

    /// Signs `machine_id || message`, as the `bls-sign` import does for that machine.
    pub fn sign_for_machine(&self, machine: &MachineId, message: &[u8]) -> Signature {
        // The ciphersuite hashes `aug || msg`, so the machine id goes in front without a copy.
        Signature(self.0.sign(message, DST, machine.as_bytes()))
    }
}

/// A node's public key: a compressed G1 point.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(min_pk::PublicKey);

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", hex::encode(self.to_bytes()))
    }
}

impl PublicKey {
    /// The 48-byte compressed form.
    pub fn to_bytes(&self) -> [u8; 48] {
        self.0.compress()
    }

    /// Reads a compressed point, rejecting the identity and points outside the subgroup.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        if bytes.len() != 48 {
            return Err(BlsError::PublicKey);
        }
        min_pk::PublicKey::key_validate(bytes)
            .map(Self)
            .map_err(|_| BlsError::PublicKey)
    }

    /// Checks a signature over `message` alone (the ciphersuite's `Verify`).
    pub fn verify(&self, message: &[u8], signature: &Signature) -> bool {
        // The key was validated when it was read and the signature's subgroup when it was read.
        signature.0.verify(false, message, DST, &[], &self.0, false) == BLST_ERROR::BLST_SUCCESS
    }

    /// Checks a signature that a machine's `bls-sign.sign(message)` produced.
    pub fn verify_for_machine(
        &self,
        machine: &MachineId,
        message: &[u8],
        signature: &Signature,
    ) -> bool {
        // The key was validated when it was read and the signature's subgroup when it was read.
        signature
            .0
            .verify(false, message, DST, machine.as_bytes(), &self.0, false)
            == BLST_ERROR::BLST_SUCCESS
    }
}

/// A signature: a compressed G2 point.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(min_pk::Signature);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", hex::encode(self.to_bytes()))
    }
}

impl Signature {
    /// The 96-byte compressed form.
    pub fn to_bytes(&self) -> [u8; 96] {
        self.0.compress()
    }

    /// Reads a compressed point, rejecting the identity and points outside the subgroup.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        if bytes.len() != 96 {
            return Err(BlsError::Signature);
        }
        min_pk::Signature::sig_validate(bytes, true)
            .map(Self)
            .map_err(|_| BlsError::Signature)
    }
}

/// Public keys and signatures are written as hex, in JSON as in text.
macro_rules! hex_text {
    ($name:ident, $error:expr) => {
        impl FromStr for $name {
            type Err = BlsError;

            fn from_str(text: &str) -> Result<Self, BlsError> {
                Self::from_bytes(&hex::decode(text).map_err(|_| $error)?)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex::encode(self.to_bytes()))
            }
        }

        serde_as_text!($name);
    };
}

hex_text!(PublicKey, BlsError::PublicKey);
hex_text!(Signature, BlsError::Signature);

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

    /// The same key and signature as the `bls12_381` crate computes, an independent implementation.
    #[test]
    fn matches_an_independent_implementation() {
        use bls12_381::hash_to_curve::{ExpandMsgXmd, HashToCurve};
        use bls12_381::{G1Affine, G1Projective, G2Affine, G2Projective, Scalar};
        for seed in [[0x5a; 32], [0xff; 32]] {
            let mut wide = [0u8; 64];
            wide[..32].copy_from_slice(&seed);
            let scalar = Scalar::from_bytes_wide(&wide);
            let sk = SecretKey::from_le_bytes_reduced(&seed).unwrap();
            let mut expected = scalar.to_bytes();
            expected.reverse();
            assert_eq!(sk.to_bytes(), expected);
            assert_eq!(
                sk.public_key().to_bytes(),
                G1Affine::from(G1Projective::generator() * scalar).to_compressed()
            );
            let machine = MachineId::from_bytes([7; 32]);
            let point = <G2Projective as HashToCurve<ExpandMsgXmd<sha2::Sha256>>>::hash_to_curve(
                [machine.as_bytes().as_slice(), b"price=30264"],
                DST,
            );
            assert_eq!(
                sk.sign_for_machine(&machine, b"price=30264").to_bytes(),
                G2Affine::from(point * scalar).to_compressed()
            );
            let alone = <G2Projective as HashToCurve<ExpandMsgXmd<sha2::Sha256>>>::hash_to_curve(
                [b"price=30264"],
                DST,
            );
            let signature = sk.sign(b"price=30264");
            assert_eq!(
                signature.to_bytes(),
                G2Affine::from(alone * scalar).to_compressed()
            );
            assert!(sk.public_key().verify(b"price=30264", &signature));
            assert!(!sk.public_key().verify(b"price=30265", &signature));
        }
        assert!(SecretKey::from_le_bytes_reduced(&[0; 32]).is_none());
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
    fn keys_and_signatures_read_and_write_hex() {
        let sk = SecretKey::generate();
        let pk = sk.public_key();
        let signature = sk.sign(b"m");
        assert_eq!(pk.to_string().parse::<PublicKey>().unwrap(), pk);
        assert_eq!(
            serde_json::from_value::<Signature>(serde_json::to_value(signature).unwrap()).unwrap(),
            signature
        );
        assert_eq!("xyz".parse::<PublicKey>().unwrap_err(), BlsError::PublicKey);
        assert_eq!("00".parse::<Signature>().unwrap_err(), BlsError::Signature);
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
