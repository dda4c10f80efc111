//! The JSON the members exchange: each protocol message with its points, scalars and
//! signatures in hex. Reading checks every point and scalar; what a message means is checked
//! by [`crate::dkg`].

use crate::curve::Curve;
use crate::dkg::{
    Confirmation, Deal, DealBundle, Justification, JustificationBundle, Response, ResponseBundle,
};
use crate::poly::PublicPoly;
use serde::{Deserialize, Serialize};

/// Why JSON is not a protocol message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid {kind}: {why}")]
pub struct WireError {
    /// The kind of message.
    pub kind: &'static str,
    /// What is wrong.
    pub why: String,
}

fn bytes<const N: usize>(kind: &'static str, what: &str, text: &str) -> Result<[u8; N], WireError> {
    hex::decode(text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| WireError {
            kind,
            why: format!("{what} must be {N} bytes in hex"),
        })
}

/// Commitments as JSON: compressed points in hex (48 bytes in BLS12-381's G1, 33 in
/// secp256k1), lowest first.
pub fn commitments_to_hex<C: Curve>(public: &PublicPoly<C>) -> Vec<String> {
    public
        .commitments()
        .iter()
        .map(|c| hex::encode(C::point_to_bytes(c)))
        .collect()
}

/// Commitments from their JSON, if they are points of the curve, at least one.
pub fn commitments_from_hex<C: Curve>(
    kind: &'static str,
    hex: &[String],
) -> Result<PublicPoly<C>, WireError> {
    let invalid = || WireError {
        kind,
        why: format!(
            "the commitments must be compressed {} points ({} bytes) in hex, at least one",
            C::NAME,
            C::POINT_BYTES
        ),
    };
    let mut points = Vec::with_capacity(hex.len() * C::POINT_BYTES);
    for commitment in hex {
        let point = hex::decode(commitment).map_err(|_| invalid())?;
        if point.len() != C::POINT_BYTES {
            return Err(invalid());
        }
        points.extend_from_slice(&point);
    }
    PublicPoly::from_bytes(&points).ok_or_else(invalid)
}

/// A [`DealBundle`] as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DealJson {
    /// The dealer.
    pub dealer: u32,
    /// The commitments, compressed points in hex, lowest first.
    pub commitments: Vec<String>,
    /// The sealed shares, one per member in order.
    pub deals: Vec<SealedJson>,
    /// The dealer's signature, hex.
    pub signature: String,
}

/// One sealed share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedJson {
    /// The member it is for.
    pub holder: u32,
    /// The sealed share, hex.
    pub sealed: String,
}

impl<C: Curve> From<&DealBundle<C>> for DealJson {
    fn from(bundle: &DealBundle<C>) -> Self {
        Self {
            dealer: bundle.dealer,
            commitments: commitments_to_hex(&bundle.commitments),
            deals: bundle
                .deals
                .iter()
                .map(|d| SealedJson {
                    holder: d.holder,
                    sealed: hex::encode(&d.sealed),
                })
                .collect(),
            signature: hex::encode(bundle.signature),
        }
    }
}

impl<C: Curve> TryFrom<&DealJson> for DealBundle<C> {
    type Error = WireError;

    fn try_from(json: &DealJson) -> Result<Self, WireError> {
        const KIND: &str = "deal bundle";
        let commitments = commitments_from_hex(KIND, &json.commitments)?;
        let deals = json
            .deals
            .iter()
            .map(|d| {
                Ok(Deal {
                    holder: d.holder,
                    sealed: hex::decode(&d.sealed).map_err(|_| WireError {
                        kind: KIND,
                        why: "a sealed share must be hex".into(),
                    })?,
                })
            })
            .collect::<Result<_, WireError>>()?;
        Ok(DealBundle {
            dealer: json.dealer,
            commitments,
            deals,
            signature: bytes(KIND, "the signature", &json.signature)?,
        })
    }
}

/// A [`ResponseBundle`] as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseJson {
    /// The holder.
    pub holder: u32,
    /// Its verdicts, one per dealer in order.
    pub responses: Vec<VerdictJson>,
    /// The holder's signature, hex.
    pub signature: String,
}

/// One verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerdictJson {
    /// The dealer.
    pub dealer: u32,
    /// The digest of the dealer's bundle the holder got, hex.
    pub bundle: String,
    /// Whether its share was good; `false` is a complaint.
    pub valid: bool,
}

impl From<&ResponseBundle> for ResponseJson {
    fn from(bundle: &ResponseBundle) -> Self {
        Self {
            holder: bundle.holder,
            responses: bundle
                .responses
                .iter()
                .map(|r| VerdictJson {
                    dealer: r.dealer,
                    bundle: hex::encode(r.bundle),
                    valid: r.valid,
                })
                .collect(),
            signature: hex::encode(bundle.signature),
        }
    }
}

impl TryFrom<&ResponseJson> for ResponseBundle {
    type Error = WireError;

    fn try_from(json: &ResponseJson) -> Result<Self, WireError> {
        const KIND: &str = "response bundle";
        Ok(ResponseBundle {
            holder: json.holder,
            responses: json
                .responses
                .iter()
                .map(|r| {
                    Ok(Response {
                        dealer: r.dealer,
                        bundle: bytes(KIND, "a bundle digest", &r.bundle)?,
                        valid: r.valid,
                    })
                })
                .collect::<Result<_, WireError>>()?,
            signature: bytes(KIND, "the signature", &json.signature)?,
        })
    }
}

/// A [`JustificationBundle`] as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JustificationJson {
    /// The dealer.
    pub dealer: u32,
    /// The shares it reveals.
    pub justifications: Vec<RevealedJson>,
    /// The dealer's signature, hex.
    pub signature: String,
}

/// One revealed share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevealedJson {
    /// The holder that complained.
    pub holder: u32,
    /// The share, its 32 canonical bytes (little-endian in BLS12-381, big-endian in
    /// secp256k1), hex.
    pub share: String,
}

impl<C: Curve> From<&JustificationBundle<C>> for JustificationJson {
    fn from(bundle: &JustificationBundle<C>) -> Self {
        Self {
            dealer: bundle.dealer,
            justifications: bundle
                .justifications
                .iter()
                .map(|j| RevealedJson {
                    holder: j.holder,
                    share: hex::encode(C::scalar_to_bytes(&j.share)),
                })
                .collect(),
            signature: hex::encode(bundle.signature),
        }
    }
}

impl<C: Curve> TryFrom<&JustificationJson> for JustificationBundle<C> {
    type Error = WireError;

    fn try_from(json: &JustificationJson) -> Result<Self, WireError> {
        const KIND: &str = "justification bundle";
        Ok(JustificationBundle {
            dealer: json.dealer,
            justifications: json
                .justifications
                .iter()
                .map(|j| {
                    let bytes = bytes::<32>(KIND, "a share", &j.share)?;
                    let share = C::scalar_from_bytes(&bytes).ok_or_else(|| WireError {
                        kind: KIND,
                        why: "a share must be a scalar below the group order".into(),
                    })?;
                    Ok(Justification {
                        holder: j.holder,
                        share,
                    })
                })
                .collect::<Result<_, WireError>>()?,
            signature: bytes(KIND, "the signature", &json.signature)?,
        })
    }
}

/// A [`Confirmation`] as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmationJson {
    /// The member.
    pub member: u32,
    /// The commitments it computed, hex, lowest first.
    pub commitments: Vec<String>,
    /// The dealers it qualified.
    pub qualified: Vec<u32>,
    /// The member's signature, hex.
    pub signature: String,
}

impl<C: Curve> From<&Confirmation<C>> for ConfirmationJson {
    fn from(confirmation: &Confirmation<C>) -> Self {
        Self {
            member: confirmation.member,
            commitments: commitments_to_hex(&confirmation.public),
            qualified: confirmation.qualified.clone(),
            signature: hex::encode(confirmation.signature),
        }
    }
}

impl<C: Curve> TryFrom<&ConfirmationJson> for Confirmation<C> {
    type Error = WireError;

    fn try_from(json: &ConfirmationJson) -> Result<Self, WireError> {
        const KIND: &str = "confirmation";
        Ok(Confirmation {
            member: json.member,
            public: commitments_from_hex(KIND, &json.commitments)?,
            qualified: json.qualified.clone(),
            signature: bytes(KIND, "the signature", &json.signature)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curve::Bls;
    use crate::dkg::{Dkg, Group};
    use crate::identity::{Identity, node_point};
    use bls12_381::Scalar;
    use carol_core::bls::SecretKey;

    #[test]
    fn messages_read_back_as_they_were_written_and_bad_ones_are_refused() {
        let keys: Vec<SecretKey> = (0..3).map(|_| SecretKey::generate()).collect();
        let group = Group {
            session: [4; 32],
            threshold: 2,
            members: keys.iter().map(|k| node_point(&k.public_key())).collect(),
            previous: None,
        };
        let (mut dkg, deal) = Dkg::<Bls>::new(group, 1, Identity::new(&keys[0])).unwrap();
        let json = DealJson::from(&deal);
        let text = serde_json::to_string(&json).unwrap();
        let read: DealJson = serde_json::from_str(&text).unwrap();
        assert_eq!(DealBundle::try_from(&read).unwrap(), deal);

        let mut bad = json.clone();
        bad.commitments[0] = "ff".repeat(48);
        assert!(DealBundle::<Bls>::try_from(&bad).is_err());
        let mut bad = json;
        bad.signature = "00".into();
        assert!(
            DealBundle::<Bls>::try_from(&bad)
                .unwrap_err()
                .why
                .contains("96 bytes")
        );
        assert!(serde_json::from_str::<DealJson>(r#"{"dealer":1,"extra":1}"#).is_err());

        assert!(dkg.response().is_err(), "not every deal is in yet");
        let justification = JustificationBundle::<Bls> {
            dealer: 1,
            justifications: vec![Justification {
                holder: 2,
                share: Scalar::from(5u64),
            }],
            signature: [7; 96],
        };
        let json = JustificationJson::from(&justification);
        assert_eq!(JustificationBundle::try_from(&json).unwrap(), justification);
        let mut bad = json;
        bad.justifications[0].share = "ff".repeat(32);
        assert!(JustificationBundle::<Bls>::try_from(&bad).is_err());
    }
}
