//! What a member says of its federation: `GET /federation`, the key generation's messages it
//! serves (`GET /federation/keygen/{phase}`), and its word that it keeps its share.

use super::Member;
use super::published::Which;
use carol_core::bls::PublicKey;
use carol_core::federation::{FederationDescription, FederationMember, FederationStatus};
use carol_federation::poly::PublicPoly;
use carol_federation::wire::commitments_to_hex;

impl Member {
    /// What `GET /federation` answers; `None` on a node that leaves in a resharing.
    pub fn describe(&self) -> Option<FederationDescription> {
        let member = self.index?;
        let ready = self.ready.read().expect("member lock");
        let public = ready.as_ref().map(|r| &r.public);
        let secp256k1 = self.secp256k1.read().expect("member lock");
        Some(FederationDescription {
            name: self.file.name.clone(),
            threshold: self.file.threshold,
            member,
            status: match public {
                Some(_) => FederationStatus::Ready,
                None => FederationStatus::Keygen,
            },
            members: self
                .file
                .members
                .iter()
                .zip(1..)
                .map(|(m, index)| FederationMember {
                    index,
                    url: m.url.clone(),
                    node_key: m.node_key,
                    public_share: public.map(|p| point_key(&p.eval(index))),
                })
                .collect(),
            commitments: public
                .map(|p| p.commitments().iter().map(point_key).collect())
                .unwrap_or_default(),
            public_key: public.map(PublicPoly::public_key),
            secp256k1_commitments: secp256k1
                .as_ref()
                .map(|s| commitments_to_hex(&s.public))
                .unwrap_or_default(),
            secp256k1_public_key: secp256k1.as_ref().map(|s| hex::encode(s.key())),
        })
    }

    /// The key generation message `phase` this member serves for key `which`, as JSON, if it
    /// has made it.
    pub fn published(&self, which: Which, phase: &str) -> Option<serde_json::Value> {
        if phase == "kept" && which == Which::Key {
            return self
                .kept()
                .map(|kept| serde_json::to_value(kept).expect("JSON"));
        }
        let mut lanes = self.published.lock().expect("member lock");
        if let Which::Machine(machine) = which
            && !lanes.machines.contains_key(&machine)
        {
            return None;
        }
        let published = lanes.lane(which);
        let value = match phase {
            "deal" => serde_json::to_value(published.deal.as_ref()?),
            "response" => serde_json::to_value(published.response.as_ref()?),
            "justification" => serde_json::to_value(published.justification.as_ref()?),
            "confirmation" => serde_json::to_value(published.confirmation.as_ref()?),
            _ => return None,
        };
        Some(value.expect("messages are JSON"))
    }
}

/// A member's word that it has kept its share of the key `public` commits to
/// ([`carol_federation::dkg::kept_digest`]): `GET /federation/keygen/kept` once it has.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeptJson {
    /// The member.
    pub member: u32,
    /// Its node key's signature, hex.
    pub signature: String,
}

impl Member {
    /// This member's signed word that it keeps its share, once it does.
    fn kept(&self) -> Option<KeptJson> {
        let ready = self.ready.read().expect("member lock");
        let ready = ready.as_ref()?;
        let member = ready.share.index();
        let digest = carol_federation::dkg::kept_digest(self.session(), member, &ready.public);
        Some(KeptJson {
            member,
            signature: hex::encode(self.identity.sign(&digest)),
        })
    }
}

pub(super) fn point_key(point: &bls12_381::G1Affine) -> PublicKey {
    PublicKey::from_bytes(&point.to_compressed()).expect("a commitment is a valid G1 point")
}
