//! The JSON a node's HTTP API answers, as types that serialize and deserialize both ways: what
//! a node writes and what a client reads are the same definitions.
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /` | [`NodeInfo`] |
//! | `GET /healthz` | [`Health`] |
//! | `POST /binaries` | [`Uploaded`] |
//! | `GET /binaries/{id}` | [`BinaryDescription`] |
//! | `POST /binaries/{id}` | [`Created`] |
//! | `GET /machines/{id}` | [`MachineDescription`] |
//! | `GET /federation` | [`crate::federation::FederationDescription`] |
//! | any error | [`ErrorBody`] |
//!
//! Activations answer the JSON of their result; `docs/http-api.md` gives the mapping. A result
//! of WIT type `result` is a [`ResultValue`]: `{"ok": ..}` with 200, `{"err": ..}` with 422.

use crate::bls::PublicKey;
use crate::ids::{BinaryId, MachineId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// `GET /`: who the node is and what a client needs to know to use it. Only the key is
/// required when reading: nodes of other versions may say more, or less.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// The key the node's signatures verify under (`bls-sign`): on a federation member, the
    /// federation key.
    pub public_key: PublicKey,
    /// On a federation member, its own node key (which signs nothing a machine asks for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_key: Option<PublicKey>,
    /// `carol`.
    #[serde(default)]
    pub name: String,
    /// The node's version.
    #[serde(default)]
    pub version: String,
    /// How the node signs.
    #[serde(default)]
    pub signatures: SignatureScheme,
    /// The `carol:machine` WIT package the node provides ([`crate::wit::PACKAGE`]).
    #[serde(default)]
    pub wit: String,
    /// What the node accepts.
    #[serde(default)]
    pub limits: NodeLimits,
    /// How many binaries it holds.
    #[serde(default)]
    pub binaries: usize,
    /// How many machines it holds.
    #[serde(default)]
    pub machines: usize,
}

/// How a node signs, in words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureScheme {
    /// The scheme ([`crate::bls::SCHEME`]).
    pub scheme: String,
    /// The ciphersuite ([`crate::bls::DST`]).
    pub ciphersuite: String,
    /// What is signed ([`crate::bls::SIGNED_MESSAGE`]).
    pub message: String,
}

impl SignatureScheme {
    /// The scheme of Carol nodes.
    pub fn carol() -> Self {
        Self {
            scheme: crate::bls::SCHEME.to_owned(),
            ciphersuite: String::from_utf8_lossy(crate::bls::DST).into_owned(),
            message: crate::bls::SIGNED_MESSAGE.to_owned(),
        }
    }
}

/// The limits a node enforces on what clients send; zero where a node does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NodeLimits {
    /// Largest component it accepts, in bytes.
    pub max_binary_bytes: usize,
    /// Largest params of a machine, in bytes.
    pub max_params_bytes: usize,
    /// Largest activation request body, in bytes.
    pub max_request_bytes: usize,
    /// Wall-clock time of one activation, in milliseconds.
    pub activation_timeout_ms: u64,
    /// Bytes of keys and values each machine's state may hold.
    pub state_quota_bytes: u64,
}

/// `GET /healthz`: 200 while the node serves, with what it holds and does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// How many binaries it holds.
    pub binaries: usize,
    /// How many machines it holds.
    pub machines: usize,
    /// Activations now.
    pub activations: Load,
    /// How it got its binaries' machine code since it started.
    pub compiled: CompileCounts,
}

/// Activations running and waiting for a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Load {
    /// Running now.
    pub running: usize,
    /// Waiting for a turn.
    pub waiting: usize,
}

/// How a node got its binaries' machine code since it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompileCounts {
    /// Components compiled (uploads, and restarts without a usable cache entry).
    pub compiled: u64,
    /// Components loaded from the compiled-code cache instead.
    pub cache_loads: u64,
}

/// `POST /binaries`: the stored binary's id (201 when new, 200 when it was there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uploaded {
    /// SHA-256 of the component.
    pub id: BinaryId,
}

/// `POST /binaries/{id}`: the created machine (201 when new, 200 when it existed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    /// SHA-256(binary id || params).
    pub id: MachineId,
    /// Its binary.
    pub binary_id: BinaryId,
}

/// `GET /binaries/{id}`: a binary's activations and the named types they use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinaryDescription {
    /// SHA-256 of the component.
    pub id: BinaryId,
    /// Its activations, in export order.
    pub activations: Vec<ActivationDescription>,
    /// Each named type the activations use, once, in the order they are first used.
    #[serde(default)]
    pub types: Vec<TypeDescription>,
}

/// `GET /machines/{id}`: a machine: its binary, params, activations and what it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineDescription {
    /// SHA-256(binary id || params).
    pub id: MachineId,
    /// Its binary.
    pub binary_id: BinaryId,
    /// Its params.
    #[serde(with = "hex_bytes")]
    pub params: Vec<u8>,
    /// Its binary's activations, in export order.
    pub activations: Vec<ActivationDescription>,
    /// Each named type the activations use, once.
    #[serde(default)]
    pub types: Vec<TypeDescription>,
    /// The public keys of its own that it has used.
    #[serde(default)]
    pub keys: PublicKeys,
    /// Its state's size (zero from a node that does not say).
    #[serde(default)]
    pub state: StateUsage,
}

/// The public keys of its own that a machine has used; a key it never used is left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeys {
    /// Its secp256k1 key, x-only (32 bytes, BIP340).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "hex_bytes_option"
    )]
    pub secp256k1: Option<[u8; 32]>,
    /// Its own BLS12-381 key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bls: Option<PublicKey>,
}

/// How much a machine's state holds, against its quota.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateUsage {
    /// Bytes of its keys and values.
    pub bytes: u64,
    /// The most it may hold.
    pub quota: u64,
}

/// One activation: an exported function, callable at `/machines/{id}/activate/{name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivationDescription {
    /// `say` for a top-level export, `calc/mul` for `mul` of an exported interface `calc`
    /// ([`crate::names::activation_name`]).
    pub name: String,
    /// The full export name of its interface, if it belongs to one.
    pub interface: Option<String>,
    /// The function's own name.
    pub function: String,
    /// Its WIT signature: `say(message: string) -> string`.
    pub signature: String,
    /// Its parameters, in order.
    pub params: Vec<ParamDescription>,
    /// Its result type in WIT, if it returns one.
    pub result: Option<String>,
    /// The JSON Schema of the result's JSON, if it returns one.
    pub result_schema: Option<Value>,
    /// The WIT definition of each named type it uses, by name.
    #[serde(default)]
    pub types: BTreeMap<String, String>,
    /// Its doc comment (Markdown), where the component carries it.
    pub docs: Option<String>,
}

/// One parameter of an activation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamDescription {
    /// Its WIT (kebab-case) name.
    pub name: String,
    /// Its WIT type.
    #[serde(rename = "type")]
    pub ty: String,
    /// The JSON Schema of its JSON, self-contained.
    pub schema: Value,
}

/// A named type: a record, variant, enum or flags type that the component exports by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeDescription {
    /// Its name, as signatures spell it: the WIT name, or `interface.name` when another
    /// named type has the same WIT name.
    pub name: String,
    /// What kind of type it is.
    pub kind: TypeKind,
    /// Its WIT definition: `record point { x: s32, y: s32 }`.
    pub definition: String,
    /// Its doc comment (Markdown), where the component carries it.
    pub docs: Option<String>,
    /// Its fields, cases or flags, in order.
    pub members: Vec<MemberDescription>,
    /// The JSON Schema of its JSON, self-contained.
    pub schema: Value,
}

/// The kinds of named type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TypeKind {
    /// `record`: fields.
    Record,
    /// `variant`: cases, each with or without a payload.
    Variant,
    /// `enum`: cases without payloads.
    Enum,
    /// `flags`: a set of flags.
    Flags,
}

/// A field of a record, a case of a variant or enum, or a flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberDescription {
    /// Its WIT name.
    pub name: String,
    /// Its type: a field's, or a variant case's payload; `None` for cases without payload
    /// and for flags.
    #[serde(rename = "type")]
    pub ty: Option<String>,
    /// Its doc comment (Markdown), where the component carries it.
    pub docs: Option<String>,
}

/// The JSON of a value of a WIT `result` type, such as an activation's answer: its `ok` or its
/// `err` case, with the payload's JSON (`null` without payload).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultValue {
    /// `{"ok": payload}`.
    Ok(Value),
    /// `{"err": payload}`.
    Err(Value),
}

/// The body of every error answer: what was wrong and what to do, and fields that help a
/// client act on it (`parameter`, `activations`, `limit`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The explanation.
    pub error: String,
    /// Further fields, which depend on the error.
    #[serde(flatten)]
    pub details: Map<String, Value>,
}

/// `Vec<u8>` as lowercase hex text.
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        hex::decode(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// `Option<[u8; 32]>` as lowercase hex text.
mod hex_bytes_option {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        bytes: &Option<[u8; 32]>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => serializer.serialize_str(&hex::encode(bytes)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<[u8; 32]>, D::Error> {
        let Some(text) = Option::<String>::deserialize(deserializer)? else {
            return Ok(None);
        };
        let mut bytes = [0; 32];
        hex::decode_to_slice(text, &mut bytes).map_err(serde::de::Error::custom)?;
        Ok(Some(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_machine_description_reads_back_as_written() {
        let key = crate::bls::SecretKey::key_gen(&[7; 32]).public_key();
        let binary = BinaryId::of(b"component");
        let description = MachineDescription {
            id: MachineId::of(&binary, b"p1"),
            binary_id: binary,
            params: b"p1".to_vec(),
            activations: vec![ActivationDescription {
                name: "say".into(),
                interface: None,
                function: "say".into(),
                signature: "say(message: string) -> string".into(),
                params: vec![ParamDescription {
                    name: "message".into(),
                    ty: "string".into(),
                    schema: json!({"type": "string"}),
                }],
                result: Some("string".into()),
                result_schema: Some(json!({"type": "string"})),
                types: BTreeMap::new(),
                docs: Some("Says.".into()),
            }],
            types: Vec::new(),
            keys: PublicKeys {
                secp256k1: Some([0xab; 32]),
                bls: Some(key),
            },
            state: StateUsage { bytes: 3, quota: 9 },
        };
        let json = serde_json::to_value(&description).unwrap();
        assert_eq!(json["params"], "7031");
        assert_eq!(json["keys"]["secp256k1"], "ab".repeat(32));
        assert_eq!(json["keys"]["bls"], key.to_string());
        assert_eq!(json["activations"][0]["params"][0]["type"], "string");
        let back: MachineDescription = serde_json::from_value(json).unwrap();
        assert_eq!(back, description);
        let unused = serde_json::to_value(PublicKeys::default()).unwrap();
        assert_eq!(unused, json!({}));
        // A node of another version may say less: what a client needs is still read.
        let key_only: NodeInfo =
            serde_json::from_value(json!({"public_key": key.to_string()})).unwrap();
        assert_eq!(key_only.public_key, key);
    }

    #[test]
    fn results_are_their_case_and_payload() {
        let err: ResultValue = serde_json::from_value(json!({"err": {"too-early": "x"}})).unwrap();
        assert_eq!(err, ResultValue::Err(json!({"too-early": "x"})));
        assert_eq!(
            serde_json::to_value(ResultValue::Ok(Value::Null)).unwrap(),
            json!({"ok": null})
        );
        assert!(serde_json::from_value::<ResultValue>(json!({"error": "no"})).is_err());
    }

    #[test]
    fn error_bodies_keep_their_fields() {
        let body: ErrorBody =
            serde_json::from_value(json!({"error": "no", "parameter": "v"})).unwrap();
        assert_eq!(body.error, "no");
        assert_eq!(body.details["parameter"], "v");
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"error": "no", "parameter": "v"})
        );
    }
}
