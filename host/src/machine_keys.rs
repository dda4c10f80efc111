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

use carol_core::bls;
use carol_core::ids::MachineId;
use k256::elliptic_curve::PrimeField;
use k256::elliptic_curve::ops::Reduce;
use k256::elliptic_curve::point::AffineCoordinates;
use k256::{AffinePoint, FieldBytes, ProjectivePoint, Scalar, U256};
use sha2::{Digest, Sha256};

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
        bip340_sign(&self.secp256k1_secret(), message, &aux)
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
        bip340_sign_with_nonce(d, &public, self.nonce(name), message)
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

/// SHA-256 of `SHA-256(tag) || SHA-256(tag) || parts...`, BIP340's tagged hash.
fn tagged_hash(tag: &str, parts: &[&[u8]]) -> [u8; 32] {
    let tag = Sha256::digest(tag.as_bytes());
    let mut hasher = Sha256::new();
    hasher.update(tag);
    hasher.update(tag);
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

fn x_only(point: &AffinePoint) -> [u8; 32] {
    point.x().into()
}

/// `scalar` or its negation, whichever makes `scalar * G` have an even y, with that point.
fn with_even_y(scalar: Scalar) -> (Scalar, AffinePoint) {
    let point = (ProjectivePoint::GENERATOR * scalar).to_affine();
    if bool::from(point.y_is_odd()) {
        (-scalar, (-ProjectivePoint::from(point)).to_affine())
    } else {
        (scalar, point)
    }
}

/// BIP340 `Sign(sk, m)` with auxiliary randomness `aux`.
fn bip340_sign(secret: &Scalar, message: &[u8; 32], aux: &[u8; 32]) -> [u8; 64] {
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
    bip340_sign_with_nonce(d, &public, k, message)
}

/// The BIP340 signature of `message` by the key `d` (already made even-y, with its point
/// `public`) with nonce `k` (negated as BIP340 requires).
fn bip340_sign_with_nonce(
    d: Scalar,
    public: &AffinePoint,
    k: Scalar,
    message: &[u8; 32],
) -> [u8; 64] {
    let (k, nonce) = with_even_y(k);
    let r = x_only(&nonce);
    let challenge = tagged_hash("BIP0340/challenge", &[&r, &x_only(public), message]);
    let e = <Scalar as Reduce<U256>>::reduce_bytes(&FieldBytes::from(challenge));
    let s: [u8; 32] = (k + e * d).to_repr().into();
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(&r);
    signature[32..].copy_from_slice(&s);
    signature
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex32(text: &str) -> [u8; 32] {
        hex::decode(text).unwrap().try_into().unwrap()
    }

    /// The signing vectors of BIP340 (test-vectors.csv, indices 0 to 3).
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
            let signed = bip340_sign(&secret, &hex32(message), &hex32(aux));
            assert_eq!(hex::encode_upper(signed), signature);
        }
    }

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
