//! Keys of a machine's own, derived from the node's secret key and the machine id.
//!
//! Nothing secret is stored but the database's nonce secret: the same node key and machine id
//! give the same keys after a restart, and no other machine's id leads to them. From
//! `root = H("carol/machine-keys/v1", node key || machine id)` (BIP340-style tagged SHA-256
//! hashes throughout) come
//!
//! - the secp256k1 key: `H("carol/machine-keys/secp256k1", root || counter)`, the first value
//!   that is a valid non-zero scalar (the counter starts at 0; a retry has probability 2^-128);
//! - the BLS12-381 key: the IETF `KeyGen` over `H("carol/machine-keys/bls", root)`;
//! - the committed nonce named `name`: `H("carol/machine-keys/nonce/v2", root || secret || name
//!   || counter)`, likewise, where `secret` is the random nonce secret of the node's database:
//!   the record of which message each nonce signed is in that database, so another database
//!   (fresh, lost, restored from an older copy) must derive other nonces, or it could sign a
//!   second message with one and give the key away. A database made before there were secrets,
//!   whose machines had published nonces, keeps `H("carol/machine-keys/nonce", root || name ||
//!   counter)` until it is given a secret (`carol restore`).
//!
//! Signatures follow BIP340. A signature with a committed nonce is a BIP340 signature whose `k`
//! is that nonce instead of one hashed from the message; whoever uses it must never let one
//! nonce sign two messages (the `keys` import refuses to).

use carol_core::bip340::{self, tagged_hash, with_even_y, x_only};
use carol_core::bls;
use carol_core::ids::MachineId;
use k256::elliptic_curve::PrimeField;
use k256::{FieldBytes, ProjectivePoint, Scalar};

/// The keys of one machine on one node. Cheap to build; each key is computed when asked for.
pub struct MachineKeys {
    root: [u8; 32],
    nonce_secret: Option<[u8; 32]>,
}

impl MachineKeys {
    /// The keys of `machine` on the node whose secret key is `node`, its committed nonces
    /// derived with the database's `nonce_secret`.
    pub fn new(node: &bls::SecretKey, machine: &MachineId, nonce_secret: Option<[u8; 32]>) -> Self {
        Self {
            root: tagged_hash(
                "carol/machine-keys/v1",
                &[&node.to_bytes(), machine.as_bytes()],
            ),
            nonce_secret,
        }
    }

    /// The machine's secp256k1 public key, x-only (BIP340): 32 bytes.
    pub fn secp256k1_public_key(&self) -> [u8; 32] {
        x_only(&(ProjectivePoint::GENERATOR * self.secp256k1_secret()).to_affine())
    }

    /// A BIP340 signature of `message` with the machine's secp256k1 key, with fresh auxiliary
    /// randomness from the operating system.
    pub fn secp256k1_sign(&self, message: &[u8; 32]) -> [u8; 64] {
        let mut aux = [0u8; 32];
        getrandom::fill(&mut aux).expect("the operating system's random source failed");
        bip340::sign(&self.secp256k1_secret(), message, &aux)
    }

    /// The machine's own BLS12-381 key.
    pub fn bls_key(&self) -> bls::SecretKey {
        bls::SecretKey::key_gen(&tagged_hash("carol/machine-keys/bls", &[&self.root]))
    }

    /// The public point R of the committed nonce `name`, x-only: 32 bytes.
    pub fn nonce_point(&self, name: &str) -> [u8; 32] {
        x_only(&(ProjectivePoint::GENERATOR * self.nonce(name)).to_affine())
    }

    /// The BIP340 signature of `message` with the machine's secp256k1 key and the committed
    /// nonce `name`: its first 32 bytes are [`Self::nonce_point`]. The same name and message
    /// always give the same signature; two messages with one name reveal the key, so only the
    /// `keys` import calls this, after binding the nonce to the message.
    pub(crate) fn sign_with_nonce(&self, name: &str, message: &[u8; 32]) -> [u8; 64] {
        let (d, public) = with_even_y(self.secp256k1_secret());
        bip340::sign_with_nonce(d, &public, self.nonce(name), message)
    }

    fn secp256k1_secret(&self) -> Scalar {
        self.scalar("carol/machine-keys/secp256k1", b"")
    }

    fn nonce(&self, name: &str) -> Scalar {
        match &self.nonce_secret {
            Some(secret) => self.scalar(
                "carol/machine-keys/nonce/v2",
                &[secret, name.as_bytes()].concat(),
            ),
            None => self.scalar("carol/machine-keys/nonce", name.as_bytes()),
        }
    }

    /// The first of `H(tag, root || data || counter)` for counter 0, 1, ... that is a non-zero
    /// scalar: uniform, unlike a reduction modulo the group order.
    fn scalar(&self, tag: &str, data: &[u8]) -> Scalar {
        (0u32..)
            .find_map(|counter| {
                let hash = tagged_hash(tag, &[&self.root, data, &counter.to_be_bytes()]);
                Option::<Scalar>::from(Scalar::from_repr(FieldBytes::from(hash)))
                    .filter(|scalar| !bool::from(scalar.is_zero()))
            })
            .expect("a 256-bit hash is a valid scalar with probability 1 - 2^-128")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_nonces_are_the_signatures_r_and_deterministic() {
        let node = bls::SecretKey::from_bytes(&[0x11; 32]).unwrap();
        let keys = MachineKeys::new(&node, &MachineId::from_bytes([1; 32]), Some([7; 32]));
        let message = [0x42; 32];
        let signature = keys.sign_with_nonce("event/0", &message);
        assert_eq!(signature[..32], keys.nonce_point("event/0"));
        assert_eq!(signature, keys.sign_with_nonce("event/0", &message));
        assert_ne!(keys.nonce_point("event/0"), keys.nonce_point("event/1"));
    }

    #[test]
    fn keys_differ_by_machine_and_by_node() {
        let node = bls::SecretKey::from_bytes(&[0x11; 32]).unwrap();
        let other_node = bls::SecretKey::from_bytes(&[0x12; 32]).unwrap();
        let secret = Some([7; 32]);
        let one = MachineKeys::new(&node, &MachineId::from_bytes([1; 32]), secret);
        let again = MachineKeys::new(&node, &MachineId::from_bytes([1; 32]), secret);
        let two = MachineKeys::new(&node, &MachineId::from_bytes([2; 32]), secret);
        let elsewhere = MachineKeys::new(&other_node, &MachineId::from_bytes([1; 32]), secret);
        assert_eq!(one.secp256k1_public_key(), again.secp256k1_public_key());
        assert_eq!(one.bls_key().public_key(), again.bls_key().public_key());
        for different in [&two, &elsewhere] {
            assert_ne!(one.secp256k1_public_key(), different.secp256k1_public_key());
            assert_ne!(one.bls_key().public_key(), different.bls_key().public_key());
            assert_ne!(one.nonce_point("n"), different.nonce_point("n"));
        }
        assert_ne!(
            one.bls_key().public_key(),
            node.public_key(),
            "a machine's BLS key is not the node's"
        );
    }

    /// Another database's secret (a fresh database, a restored copy) derives other nonces from
    /// the same node key and machine: none that the first signed with can sign again. The keys
    /// themselves stay the same.
    #[test]
    fn nonces_derive_from_the_database_secret_and_keys_do_not() {
        let node = bls::SecretKey::from_bytes(&[0x11; 32]).unwrap();
        let machine = MachineId::from_bytes([1; 32]);
        let first = MachineKeys::new(&node, &machine, Some([7; 32]));
        let restored = MachineKeys::new(&node, &machine, Some([8; 32]));
        let legacy = MachineKeys::new(&node, &machine, None);
        assert_ne!(first.nonce_point("e/0"), restored.nonce_point("e/0"));
        assert_ne!(first.nonce_point("e/0"), legacy.nonce_point("e/0"));
        assert_eq!(
            first.secp256k1_public_key(),
            restored.secp256k1_public_key()
        );
        assert_eq!(first.bls_key().public_key(), legacy.bls_key().public_key());
        let message = [0x42; 32];
        let signature = restored.sign_with_nonce("e/0", &message);
        assert_eq!(signature[..32], restored.nonce_point("e/0"));
        // Each is the documented derivation (for this key and machine the first counter
        // gives a valid scalar): a legacy database's nonces are what they were before secrets.
        let root = tagged_hash(
            "carol/machine-keys/v1",
            &[&node.to_bytes(), machine.as_bytes()],
        );
        let point = |tag: &str, data: &[&[u8]]| {
            let mut parts = vec![root.as_slice()];
            parts.extend_from_slice(data);
            parts.push(&[0, 0, 0, 0]);
            let scalar = Scalar::from_repr(FieldBytes::from(tagged_hash(tag, &parts))).unwrap();
            x_only(&(ProjectivePoint::GENERATOR * scalar).to_affine())
        };
        assert_eq!(
            legacy.nonce_point("e/0"),
            point("carol/machine-keys/nonce", &[b"e/0"])
        );
        assert_eq!(
            first.nonce_point("e/0"),
            point("carol/machine-keys/nonce/v2", &[&[7; 32], b"e/0"])
        );
    }
}
