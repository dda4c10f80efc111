//! What every Carol client needs, and nothing of the node: binary and machine ids, BLS
//! signatures, the JSON of the HTTP API as types, the `carol:machine` WIT package, the
//! `carol:docs` section and how activations are named. No WebAssembly runtime, no async
//! runtime, no HTTP stack: a wallet or a verifier depends on this crate alone.
//!
//! A Carol attestation is a BLS signature by a node's key over `machine_id || message`, where
//! the machine id is SHA-256(SHA-256(component) || params). Checking one trusts the node for
//! nothing but its key: the ids are computed here from the component and params you expect.
//!
//! ```
//! use carol_core::bls::{PublicKey, Signature};
//! use carol_core::ids::{BinaryId, MachineId};
//! # let (component, params, message) = (b"\0asm...", b"{}", b"price=30264");
//! # let key = carol_core::bls::SecretKey::key_gen(&[1; 32]);
//! # let machine = MachineId::of(&BinaryId::of(component), params);
//! # let (public_key_hex, signature_hex) = (key.public_key().to_string(), key.sign_for_machine(&machine, message).to_string());
//!
//! let machine = MachineId::of(&BinaryId::of(component), params);
//! let key: PublicKey = public_key_hex.parse()?; // the node's, from `GET /` or its operator
//! let signature: Signature = signature_hex.parse()?; // from the activation's answer
//! assert!(key.verify_for_machine(&machine, message, &signature));
//! # Ok::<(), carol_core::bls::BlsError>(())
//! ```
//!
//! The modules: [`ids`] (binary and machine ids), [`bls`] (keys, signing, verifying), [`api`]
//! (the HTTP API's JSON), [`federation`] (`GET /federation` on a federation member), [`wit`] (the WIT package), [`doc_section`] (doc comments carried in a
//! component), [`names`] (activation names and their spellings).

/// Serializes a type as its `Display` text and deserializes it with its `FromStr`: ids, keys
/// and signatures are hex text in JSON.
macro_rules! serde_as_text {
    ($name:ident) => {
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

pub mod api;
pub mod bip340;
pub mod bls;
pub mod doc_section;
pub mod federation;
pub mod ids;
pub mod names;
pub mod wit;
