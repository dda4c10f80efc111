//! Development federations, for `cargo carol run --federation T-of-N`: node keys and the
//! federation key's shares dealt from a publicly known seed, like the development key, so that a
//! machine's author can run it on a federation on one computer without a key generation. Anyone
//! can compute these keys: their signatures prove nothing.

use super::file::{FederationFile, FileMember, Problem};
use super::{Ready, Secp256k1Ready};
use bls12_381::Scalar;
use carol_core::bls::SecretKey;
use carol_federation::curve::{Curve, Secp256k1};
use carol_federation::poly::SecretPoly;
use carol_federation::threshold::Share;
use sha2::{Digest, Sha512};

/// What every development key and share derives from.
const SEED: &[u8] = b"carol development federation: never use for anything real";

/// The federation's name in a development federation's file.
pub const NAME: &str = "development (publicly known keys: its signatures prove nothing)";

/// A `threshold`-of-n development federation whose members are at `urls`: its file, and each
/// member's node key and share.
pub struct Development {
    /// The federation file every member runs with.
    pub file: FederationFile,
    /// Member `i`'s node key and shares of the BLS and secp256k1 keys, at `i - 1`.
    pub members: Vec<(SecretKey, (Ready, Secp256k1Ready))>,
}

impl Development {
    /// Deals a `threshold`-of-`urls.len()` development federation. Its keys depend on the
    /// threshold and the number of members alone, not on the URLs.
    pub fn deal(threshold: usize, urls: &[String]) -> Result<Self, Problem> {
        let n = urls.len();
        let label = format!("{threshold}-of-{n}");
        let keys: Vec<SecretKey> = (1..=n)
            .map(|index| {
                let bytes = derive(&label, "node key", index);
                SecretKey::from_le_bytes_reduced(&bytes[..32])
                    .expect("a derived development key is not zero")
            })
            .collect();
        let poly = SecretPoly::derived(threshold, |k| {
            Scalar::from_bytes_wide(&derive(&label, "coefficient", k))
        });
        let public = poly.commit();
        let secp256k1 = SecretPoly::<Secp256k1>::derived(threshold, |k| {
            Secp256k1::scalar_from_wide(&derive(&label, "secp256k1 coefficient", k))
        });
        let secp256k1_public = secp256k1.commit();
        let file = FederationFile {
            name: NAME.into(),
            threshold,
            nonce: hex::encode(&derive(&label, "nonce", 0)[..32]),
            members: urls
                .iter()
                .zip(&keys)
                .map(|(url, key)| FileMember {
                    url: url.clone(),
                    node_key: key.public_key(),
                })
                .collect(),
            previous: None,
        };
        file.check()?;
        let members = keys
            .into_iter()
            .zip(1..)
            .map(|(key, index)| {
                let share = Share::new(index, poly.eval(index));
                let secp256k1_share = Share::new(index, secp256k1.eval(index));
                let secp256k1 = Secp256k1Ready::new(secp256k1_share, secp256k1_public.clone());
                (key, (Ready::new(share, public.clone()), secp256k1))
            })
            .collect();
        Ok(Self { file, members })
    }
}

/// 64 bytes derived from the seed for `label`, `what` and `index`.
fn derive(label: &str, what: &str, index: usize) -> [u8; 64] {
    let mut hash = Sha512::new();
    for part in [SEED, label.as_bytes(), what.as_bytes()] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.update((index as u64).to_be_bytes());
    hash.finalize().into()
}
