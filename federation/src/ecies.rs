//! Shares encrypted to a member's node key, so that they never travel in the clear, even over
//! plain HTTP.
//!
//! drand's construction (kyber `encrypt/ecies`: ECIES on the key group, here G1, with HKDF-SHA256
//! and AES-256-GCM), bound more tightly: the key derivation's info names the ephemeral point and
//! the recipient's key, and the caller's `context` (the session, the dealer and the recipient)
//! is the AEAD's associated data, so a sealed share opens only for the one deal it was made for.
//!
//! ```text
//! r random, R = r·G1, D = r·PK
//! key ‖ nonce = HKDF-SHA256(ikm = D (compressed), salt = none,
//!                           info = "carol-federation/ecies/v1" ‖ R ‖ PK)  (32 + 12 bytes)
//! sealed = R (48 bytes) ‖ AES-256-GCM(key, nonce, plaintext, aad = context)
//! ```
//!
//! The nonce is derived with the key, which is fresh for every `r`; a caller that gives `r`
//! ([`seal_with`]) gives it for one plaintext only.

use crate::poly::random_scalar;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use bls12_381::{G1Affine, Scalar};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

const INFO: &[u8] = b"carol-federation/ecies/v1";
const POINT_BYTES: usize = 48;

/// Why a sealed share does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EciesError {
    /// It is too short, or its ephemeral point is not a point of G1.
    #[error("the sealed share is malformed")]
    Malformed,
    /// It was not sealed to this key with this context, or it was altered.
    #[error("the sealed share does not open with this key and context")]
    Unopenable,
}

fn cipher(shared: &G1Affine, ephemeral: &G1Affine, recipient: &G1Affine) -> (Aes256Gcm, [u8; 12]) {
    let mut info = Vec::with_capacity(INFO.len() + 2 * POINT_BYTES);
    info.extend_from_slice(INFO);
    info.extend_from_slice(&ephemeral.to_compressed());
    info.extend_from_slice(&recipient.to_compressed());
    let mut okm = Zeroizing::new([0u8; 44]);
    Hkdf::<Sha256>::new(None, &shared.to_compressed())
        .expand(&info, okm.as_mut())
        .expect("44 bytes is a valid HKDF-SHA256 length");
    let cipher = Aes256Gcm::new_from_slice(&okm[..32]).expect("a 32-byte key");
    let nonce: [u8; 12] = okm[32..].try_into().expect("12 bytes");
    (cipher, nonce)
}

/// Seals `plaintext` to the holder of `recipient`'s secret, bound to `context`.
pub fn seal(recipient: &G1Affine, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
    seal_with(random_scalar(), recipient, plaintext, context)
}

/// [`seal`] with the ephemeral secret `r`, which must never seal another plaintext (a key
/// generation derives it from the dealer's key, the session and the recipient, and seals the
/// same share with it each time).
pub fn seal_with(mut r: Scalar, recipient: &G1Affine, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
    let ephemeral = G1Affine::from(G1Affine::generator() * r);
    let shared = G1Affine::from(recipient * r);
    r.zeroize();
    let (cipher, nonce) = cipher(&shared, &ephemeral, recipient);
    let body = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: context,
            },
        )
        .expect("AES-GCM encrypts any short message");
    let mut sealed = ephemeral.to_compressed().to_vec();
    sealed.extend_from_slice(&body);
    sealed
}

/// Opens what [`seal`] sealed to the public key of `secret` with the same `context`.
pub fn open(
    secret: &Scalar,
    sealed: &[u8],
    context: &[u8],
) -> Result<Zeroizing<Vec<u8>>, EciesError> {
    if sealed.len() < POINT_BYTES {
        return Err(EciesError::Malformed);
    }
    let (point, body) = sealed.split_at(POINT_BYTES);
    let point: [u8; POINT_BYTES] = point.try_into().expect("48 bytes");
    let ephemeral = Option::<G1Affine>::from(G1Affine::from_compressed(&point))
        .filter(|p| !bool::from(p.is_identity()))
        .ok_or(EciesError::Malformed)?;
    let recipient = G1Affine::from(G1Affine::generator() * secret);
    let shared = G1Affine::from(ephemeral * secret);
    let (cipher, nonce) = cipher(&shared, &ephemeral, &recipient);
    cipher
        .decrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: body,
                aad: context,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| EciesError::Unopenable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> (Scalar, G1Affine) {
        let secret = random_scalar();
        (secret, G1Affine::from(G1Affine::generator() * secret))
    }

    #[test]
    fn a_sealed_share_opens_for_its_recipient_and_context_only() {
        let (secret, public) = key();
        let (other, _) = key();
        let sealed = seal(&public, b"a share of 32 bytes, say........", b"session 1");
        assert_eq!(
            open(&secret, &sealed, b"session 1").unwrap().as_slice(),
            b"a share of 32 bytes, say........"
        );
        assert_eq!(
            open(&other, &sealed, b"session 1"),
            Err(EciesError::Unopenable)
        );
        assert_eq!(
            open(&secret, &sealed, b"session 2"),
            Err(EciesError::Unopenable)
        );
        // Sealing twice gives different texts: the ephemeral key is fresh.
        assert_ne!(
            sealed,
            seal(&public, b"a share of 32 bytes, say........", b"session 1")
        );
    }

    #[test]
    fn an_altered_or_truncated_text_does_not_open() {
        let (secret, public) = key();
        let sealed = seal(&public, b"share", b"c");
        for at in [0, 47, 48, sealed.len() - 1] {
            let mut altered = sealed.clone();
            altered[at] ^= 1;
            assert!(open(&secret, &altered, b"c").is_err(), "byte {at}");
        }
        assert_eq!(
            open(&secret, &sealed[..40], b"c"),
            Err(EciesError::Malformed)
        );
        // The point at infinity as the ephemeral key, and another valid point in its place.
        let mut identity = sealed.clone();
        identity[..48].copy_from_slice(&G1Affine::identity().to_compressed());
        assert_eq!(open(&secret, &identity, b"c"), Err(EciesError::Malformed));
        let mut substituted = sealed.clone();
        substituted[..48].copy_from_slice(&key().1.to_compressed());
        assert_eq!(
            open(&secret, &substituted, b"c"),
            Err(EciesError::Unopenable)
        );
        assert_eq!(
            open(&secret, &sealed[..60], b"c"),
            Err(EciesError::Unopenable)
        );
    }
}
