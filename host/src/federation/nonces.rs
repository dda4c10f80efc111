//! BIP340 signatures of a machine's key on a federation member, with nonces the members share
//! ([`carol_federation::schnorr`]): a committed nonce (`keys.nonce(name)`) is a secret the
//! members make together on first use, like a machine's BLS key ([`super::machine_keys`]), under
//! a decree of its own that the members decide once, so that no member ever holds a share of a
//! second nonce of that machine and name. A signature with it is the members' partials
//! `s_i = k_i + e·x_i` combined ([`super::exchange`]); each member records the one message its
//! nonce signs, durably, before it releases its partial, and refuses any other, as a single node
//! does.
//!
//! A signature with a fresh nonce (`keys.secp256k1-sign`) takes a nonce named by its message:
//! made after the message is known, used for that message alone (signing it again gives the
//! same signature), so that no nonce is ever open before its message is fixed.

use super::Member;
use super::Secp256k1Ready;
use super::exchange::{Scheme, TooFewAgreed};
use super::machine_keys::{MachineKeyError, Making};
use super::partials::Partials;
use carol_core::ids::MachineId;
use carol_federation::curve::{Curve, Secp256k1};
use carol_federation::machine_key::{self, MachineDealJson};
use carol_federation::schnorr::{Partial, Signing};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tokio::time::Instant;

/// How many nonces' shares a member keeps in memory; the rest are made again from its records.
const NONCES_REMEMBERED: usize = 4096;

/// Why a federation member got no BIP340 signature.
#[derive(Debug, thiserror::Error)]
pub enum NonceError {
    /// The nonce could not be made.
    #[error("the committed nonce cannot be made with the other members: {0}")]
    Nonce(#[from] MachineKeyError),
    /// Too few members' runs signed the message.
    #[error(transparent)]
    TooFew(#[from] TooFewAgreed),
    /// This member's shares are not those of the key and nonce (a damaged record).
    #[error("this member's shares do not match the machine's key and the nonce: {0}")]
    Shares(#[from] carol_federation::schnorr::SchnorrError),
}

/// Bytes as they travel in JSON: hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HexBytes<const N: usize>(pub [u8; N]);

impl<const N: usize> Serialize for HexBytes<N> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(self.0))
    }
}

impl<'de, const N: usize> Deserialize<'de> for HexBytes<N> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        let mut bytes = [0u8; N];
        hex::decode_to_slice(text.as_bytes(), &mut bytes)
            .map_err(|_| serde::de::Error::custom(format!("{N} bytes in hex")))?;
        Ok(Self(bytes))
    }
}

impl Making<Secp256k1> {
    /// Machine `machine`'s committed nonce `name`, in the federation whose group is
    /// `federation`.
    pub fn nonce(
        federation: &carol_federation::dkg::Group,
        machine: &MachineId,
        name: &[u8],
    ) -> Self {
        Self {
            decree: machine_key::nonce_decree(machine.as_bytes(), name),
            group: machine_key::nonce_group(federation, machine.as_bytes(), name),
            deal_path: format!(
                "/federation/machines/{machine}/nonce-deal?name={}&",
                hex::encode(name)
            ),
            pledge_path: format!(
                "/federation/machines/{machine}/nonce-pledge?name={}",
                hex::encode(name)
            ),
            pledged_first: true,
        }
    }
}

/// The name of the fresh nonce that signs `message` alone: a first byte no UTF-8 string has, so
/// that it is never a committed nonce's name (which is a WIT string).
pub fn fresh_name(message: &[u8; 32]) -> Vec<u8> {
    let mut name = vec![0xff];
    name.extend_from_slice(b"fresh/");
    name.extend_from_slice(&Sha256::digest(message));
    name
}

/// One BIP340 signature's work among the members.
pub struct Bip340 {
    signing: Signing,
}

impl Scheme for Bip340 {
    type Partial = HexBytes<32>;
    type Signature = HexBytes<64>;
    const PATH: &'static str = "/federation/bip340-partials";
    const LABEL: &'static [u8] = b"carol-federation/bip340-partial/v1";

    fn store(member: &Member) -> &Arc<Partials<HexBytes<32>, HexBytes<64>>> {
        &member.bip340_partials
    }

    fn bytes(partial: &HexBytes<32>) -> &[u8] {
        &partial.0
    }

    fn combine(&self, _threshold: usize, held: &[(u32, HexBytes<32>)]) -> Option<HexBytes<64>> {
        let partials: Option<Vec<Partial>> = held.iter().map(|(i, p)| partial(*i, p)).collect();
        self.signing.combine(&partials?).ok().map(HexBytes)
    }

    fn verifies(&self, signature: &HexBytes<64>) -> bool {
        self.signing.verifies_signature(&signature.0)
    }

    fn partial_verifies(&self, index: u32, p: &HexBytes<32>) -> bool {
        partial(index, p).is_some_and(|p| self.signing.verifies(&p))
    }
}

/// Member `index`'s partial of the bytes `s`, if they are a scalar.
fn partial(index: u32, s: &HexBytes<32>) -> Option<Partial> {
    Some(Partial {
        index,
        s: Secp256k1::scalar_from_bytes(&s.0)?,
    })
}

/// The digest that names a BIP340 signature among the members: of the key, the nonce and the
/// message.
fn digest(signing: &Signing, message: &[u8; 32]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(b"carol-federation/bip340/v1\0");
    hash.update(signing.public_key());
    hash.update(signing.r());
    hash.update(message);
    hash.finalize().into()
}

impl Member {
    /// This member's share of machine `machine`'s committed nonce `name`, made with the other
    /// members on first use, by `deadline`.
    pub async fn nonce(
        &self,
        machine: &MachineId,
        name: &[u8],
        deadline: Instant,
    ) -> Result<Arc<Secp256k1Ready>, MachineKeyError> {
        let making = Making::nonce(&self.group, machine, name);
        if let Some(ready) = self.nonces.lock().expect("member lock").get(&making.decree) {
            return Ok(ready.clone());
        }
        let (share, public) = self.make(&making, deadline).await?;
        let ready = Arc::new(Secp256k1Ready::new(share, public));
        let mut nonces = self.nonces.lock().expect("member lock");
        if nonces.len() >= NONCES_REMEMBERED {
            nonces.clear();
        }
        nonces.insert(making.decree, ready.clone());
        Ok(ready)
    }

    /// Member `dealer`'s contribution to machine `machine`'s committed nonce `name` (`GET
    /// /federation/machines/{id}/nonce-deal?name=HEX&dealer=N`).
    pub fn nonce_deal(
        &self,
        machine: &MachineId,
        name: &[u8],
        dealer: u32,
    ) -> Option<MachineDealJson> {
        self.deal_of(&Making::nonce(&self.group, machine, name), dealer)
    }

    /// This member's pledge to its contribution to machine `machine`'s committed nonce `name`
    /// (`GET /federation/machines/{id}/nonce-pledge?name=HEX`).
    pub fn nonce_pledge(
        &self,
        machine: &MachineId,
        name: &[u8],
    ) -> Option<machine_key::PledgeJson> {
        self.pledge_of(&Making::nonce(&self.group, machine, name))
    }

    /// The BIP340 signature of `message` by the key `key` with the nonce `nonce`, made with `t`
    /// members' partials by `deadline`. The caller has recorded, durably, that the nonce signs
    /// this message and no other.
    pub async fn sign_with_nonce(
        &self,
        key: &Secp256k1Ready,
        nonce: &Secp256k1Ready,
        message: &[u8; 32],
        deadline: Instant,
    ) -> Result<[u8; 64], NonceError> {
        let signing = Signing::new(&key.public, &nonce.public, message);
        let own = signing.partial(&key.share, &nonce.share)?;
        let digest = digest(&signing, message);
        let own = (own.index, HexBytes(Secp256k1::scalar_to_bytes(&own.s)));
        let scheme = Bip340 { signing };
        let signature = self.exchange(&scheme, digest, own, deadline).await?;
        Ok(signature.0)
    }
}
