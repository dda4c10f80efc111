//! What a member says of its federation: `GET /federation`, the key generation's messages it
//! serves (`GET /federation/keygen/{phase}`), and its word that it keeps its share.

use super::Member;
use carol_core::bls::PublicKey;
use carol_core::federation::{FederationDescription, FederationMember, FederationStatus};
use carol_core::ids::MachineId;
use carol_federation::poly::PublicPoly;

impl Member {
    /// What `GET /federation` answers; `None` on a node that leaves in a resharing.
    pub fn describe(&self) -> Option<FederationDescription> {
        let member = self.index?;
        let ready = self.ready.read().expect("member lock");
        let public = ready.as_ref().map(|r| &r.public);
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
        })
    }

    /// The key generation message `phase` this member serves for the federation key (`None`)
    /// or machine `machine`'s key carried over by a resharing, as JSON, if it has made it.
    pub fn published(&self, machine: Option<&MachineId>, phase: &str) -> Option<serde_json::Value> {
        if phase == "kept" && machine.is_none() {
            return self
                .kept()
                .map(|kept| serde_json::to_value(kept).expect("JSON"));
        }
        let mut lanes = self.published.lock().expect("member lock");
        if machine.is_some_and(|m| !lanes.machines.contains_key(m)) {
            return None;
        }
        let published = lanes.lane(machine);
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
