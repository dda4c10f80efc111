//! A member's node key, as the key generation uses it: it signs the member's protocol messages,
//! and its scalar opens the shares sealed to it ([`crate::ecies`], as drand uses its node keys).
//!
//! Protocol messages are signed under a ciphersuite tag of their own, so that no signature a
//! node makes for a machine (under [`carol_core::bls::DST`]) can ever pass for one of them, nor
//! the other way round.

use crate::curve::Curve;
use bls12_381::{G1Affine, Scalar};
use blst::BLST_ERROR;
use blst::min_pk;
use carol_core::bls::{PublicKey, SecretKey};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroize;

/// The tag the members' protocol messages are signed under.
pub const PROTOCOL_DST: &[u8] = b"CAROL_FEDERATION_V1_BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_";

/// A member's node key. Its `Debug` shows only the public key.
#[derive(Clone)]
pub struct Identity {
    key: min_pk::SecretKey,
    scalar: Scalar,
    public: G1Affine,
}

impl Identity {
    /// The identity of the node whose key is `key`.
    pub fn new(key: &SecretKey) -> Self {
        let mut bytes = key.to_bytes();
        let signing = min_pk::SecretKey::from_bytes(&bytes).expect("a node key is a valid key");
        bytes.reverse();
        let scalar =
            Option::<Scalar>::from(Scalar::from_bytes(&bytes)).expect("a node key is a scalar");
        bytes.zeroize();
        Self {
            key: signing,
            public: G1Affine::from(G1Affine::generator() * scalar),
            scalar,
        }
    }

    /// The node's public key, as a point.
    pub fn public(&self) -> &G1Affine {
        &self.public
    }

    /// The scalar that opens shares sealed to this node.
    pub(crate) fn scalar(&self) -> &Scalar {
        &self.scalar
    }

    /// A scalar derived from this node's key for `label` and `parts`: what makes a member's
    /// contributions to a key generation the same each time it runs, so that a member that
    /// restarts in the middle sends exactly what it sent before, and nothing need be stored.
    /// HKDF-SHA256 with the key as input keying material; 64 bytes, reduced.
    pub fn derive<C: Curve>(&self, label: &str, parts: &[&[u8]]) -> C::Scalar {
        let mut ikm = self.scalar.to_bytes();
        let hkdf = Hkdf::<Sha256>::new(Some(b"carol-federation/derive/v1"), &ikm);
        ikm.zeroize();
        let mut info = (label.len() as u64).to_be_bytes().to_vec();
        info.extend_from_slice(label.as_bytes());
        for part in parts {
            info.extend_from_slice(&(part.len() as u64).to_be_bytes());
            info.extend_from_slice(part);
        }
        let mut wide = [0u8; 64];
        hkdf.expand(&info, &mut wide)
            .expect("64 bytes is a valid HKDF-SHA256 length");
        let scalar = C::scalar_from_wide(&wide);
        wide.zeroize();
        scalar
    }

    /// Signs a protocol message.
    pub fn sign(&self, message: &[u8]) -> [u8; 96] {
        self.key.sign(message, PROTOCOL_DST, &[]).compress()
    }

    /// The key this node shares with the node whose key is `peer`, in the federation `session`:
    /// static Diffie–Hellman of the two node keys in G1 (as Noise's `ss` token), through
    /// HKDF-SHA256 (RFC 5869) bound to the session and both keys, in an order both sides agree
    /// on. Only the two of them can make it: an HMAC under it (RFC 2104) shows the one that
    /// receives a message that the other sent it, for a hash where a signature costs a pairing.
    pub fn pairwise(&self, session: &[u8; 32], peer: &G1Affine) -> PairwiseKey {
        let shared = zeroize::Zeroizing::new(G1Affine::from(peer * self.scalar).to_compressed());
        let (mine, theirs) = (self.public.to_compressed(), peer.to_compressed());
        let (low, high) = if mine <= theirs {
            (mine, theirs)
        } else {
            (theirs, mine)
        };
        let hkdf = Hkdf::<Sha256>::new(Some(session), shared.as_slice());
        let mut info = b"carol-federation/pairwise/v1".to_vec();
        info.extend_from_slice(&low);
        info.extend_from_slice(&high);
        let mut key = [0u8; 32];
        hkdf.expand(&info, &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 length");
        PairwiseKey(key)
    }
}

/// A key two members share ([`Identity::pairwise`]). Wiped when dropped; its `Debug` hides it.
#[derive(Clone)]
pub struct PairwiseKey([u8; 32]);

impl PairwiseKey {
    /// HMAC-SHA256 of `message` under the key.
    pub fn tag(&self, message: &[u8]) -> [u8; 32] {
        self.mac(message).finalize().into_bytes().into()
    }

    /// Whether `tag` is [`PairwiseKey::tag`] of `message`, compared in constant time.
    pub fn verifies(&self, message: &[u8], tag: &[u8]) -> bool {
        self.mac(message).verify_slice(tag).is_ok()
    }

    fn mac(&self, message: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("any key length");
        mac.update(message);
        mac
    }
}

impl Drop for PairwiseKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for PairwiseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("PairwiseKey(hidden)")
    }
}

impl Drop for Identity {
    fn drop(&mut self) {
        self.scalar.zeroize();
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "Identity({})", hex_of(&self.public.to_compressed()))
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `signature` is the protocol signature of `message` by the node whose key is `public`.
pub fn verify(public: &G1Affine, message: &[u8], signature: &[u8; 96]) -> bool {
    let Ok(key) = min_pk::PublicKey::key_validate(&public.to_compressed()) else {
        return false;
    };
    let Ok(signature) = min_pk::Signature::sig_validate(signature, true) else {
        return false;
    };
    signature.verify(true, message, PROTOCOL_DST, &[], &key, true) == BLST_ERROR::BLST_SUCCESS
}

/// A node public key as a point, if it is one.
pub fn node_point(key: &PublicKey) -> G1Affine {
    Option::<G1Affine>::from(G1Affine::from_compressed(&key.to_bytes()))
        .expect("a public key is a valid point")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curve::Bls;

    #[test]
    fn protocol_signatures_are_not_machine_signatures() {
        let key = SecretKey::generate();
        let identity = Identity::new(&key);
        assert_eq!(identity.public(), &node_point(&key.public_key()));
        let signature = identity.sign(b"deal");
        assert!(verify(identity.public(), b"deal", &signature));
        assert!(!verify(identity.public(), b"other", &signature));
        // The same message signed as a node signs for machines does not pass, nor the reverse.
        let plain = key.sign(b"deal").to_bytes();
        assert!(!verify(identity.public(), b"deal", &plain));
        let as_machine = carol_core::bls::Signature::from_bytes(&signature).unwrap();
        assert!(!key.public_key().verify(b"deal", &as_machine));
        assert!(!format!("{identity:?}").contains(&hex_of(&key.to_bytes())));
    }

    /// A known answer: a member that upgraded mid-way must derive what it derived before, or
    /// the others would see it deal two bundles.
    #[test]
    fn derivation_is_pinned() {
        let identity = Identity::new(&SecretKey::key_gen(&[7; 32]));
        let scalar = identity.derive::<Bls>("dkg/coefficient", &[b"session", &0u64.to_be_bytes()]);
        assert_eq!(hex_of(&scalar.to_bytes()), PINNED);
    }

    #[test]
    fn two_members_share_a_pairwise_key_no_third_has() {
        let (a, b, c) = (
            SecretKey::generate(),
            SecretKey::generate(),
            SecretKey::generate(),
        );
        let (a, b, c) = (Identity::new(&a), Identity::new(&b), Identity::new(&c));
        let session = [5; 32];
        let ab = a.pairwise(&session, b.public());
        let tag = ab.tag(b"partial");
        assert!(b.pairwise(&session, a.public()).verifies(b"partial", &tag));
        assert!(!ab.verifies(b"other", &tag));
        assert!(!c.pairwise(&session, a.public()).verifies(b"partial", &tag));
        assert!(!c.pairwise(&session, b.public()).verifies(b"partial", &tag));
        assert!(!b.pairwise(&[6; 32], a.public()).verifies(b"partial", &tag));
        assert!(!ab.verifies(b"partial", &tag[..31]));
        assert_eq!(format!("{ab:?}"), "PairwiseKey(hidden)");
    }

    const PINNED: &str = "30b2a88b07beaba30a43c2def0902f417af88ba33b571aa4d6dd1e7350d69c1a";

    #[test]
    fn derived_scalars_depend_on_the_key_the_label_and_every_part() {
        let key = SecretKey::generate();
        let a = Identity::new(&key);
        let again = Identity::new(&SecretKey::from_bytes(&key.to_bytes()).unwrap());
        let other = Identity::new(&SecretKey::generate());
        let base = a.derive::<Bls>("poly", &[b"session", b"1"]);
        assert_eq!(base, again.derive::<Bls>("poly", &[b"session", b"1"]));
        assert_ne!(base, other.derive::<Bls>("poly", &[b"session", b"1"]));
        assert_ne!(base, a.derive::<Bls>("ephemeral", &[b"session", b"1"]));
        assert_ne!(base, a.derive::<Bls>("poly", &[b"session", b"2"]));
        // Parts are length-prefixed: moving a byte between them changes the result.
        assert_ne!(base, a.derive::<Bls>("poly", &[b"session1", b""]));
    }
}
