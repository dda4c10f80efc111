//! Binary and machine identifiers.
//!
//! A binary is named by the SHA-256 of its bytes; a machine by the SHA-256 of its binary id's
//! 32 bytes followed by its params. Both are written as 64 lowercase hex characters, and clients
//! are meant to compute them locally rather than trust a node's word for them.

use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// Why a text is not an identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a valid {kind} id: expected 64 hex characters (a SHA-256 digest)")]
pub struct IdError {
    kind: &'static str,
    text: String,
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; 32]);

        impl $name {
            /// Wraps a raw 32-byte digest.
            pub const fn from_bytes(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }

            /// The raw 32-byte digest.
            pub const fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(text: &str) -> Result<Self, IdError> {
                let mut bytes = [0u8; 32];
                match hex::decode_to_slice(text, &mut bytes) {
                    Ok(()) => Ok(Self(bytes)),
                    Err(_) => Err(IdError { kind: $kind, text: text.to_owned() }),
                }
            }
        }

        serde_as_text!($name);
    };
}

id_type!(
    /// The SHA-256 of a component's bytes.
    BinaryId,
    "binary"
);
id_type!(
    /// SHA-256(binary id || params): names a machine, a binary with its parameters.
    MachineId,
    "machine"
);

impl BinaryId {
    /// The id of a component's bytes.
    pub fn of(component: &[u8]) -> Self {
        Self(Sha256::digest(component).into())
    }
}

impl MachineId {
    /// The id of the machine made from `binary` with `params`.
    pub fn of(binary: &BinaryId, params: &[u8]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(binary.as_bytes());
        hasher.update(params);
        Self(hasher.finalize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_id_is_sha256_of_bytes() {
        // SHA-256("abc") from FIPS 180-2.
        assert_eq!(
            BinaryId::of(b"abc").to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn machine_id_hashes_binary_id_then_params() {
        let binary = BinaryId::of(b"abc");
        let mut joined = binary.as_bytes().to_vec();
        joined.extend_from_slice(b"params");
        assert_eq!(
            MachineId::of(&binary, b"params").as_bytes(),
            BinaryId::of(&joined).as_bytes()
        );
    }

    #[test]
    fn parses_and_rejects() {
        let id = BinaryId::of(b"x");
        assert_eq!(id.to_string().parse::<BinaryId>().unwrap(), id);
        assert_eq!(
            id.to_string().to_uppercase().parse::<BinaryId>().unwrap(),
            id
        );
        let err = "abc".parse::<MachineId>().unwrap_err();
        assert!(err.to_string().contains("not a valid machine id"), "{err}");
        assert!("zz".repeat(32).parse::<BinaryId>().is_err());
    }

    #[test]
    fn json_is_the_hex_text_both_ways() {
        let id = MachineId::of(&BinaryId::of(b"x"), b"p");
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<MachineId>(&json).unwrap(), id);
        let error = serde_json::from_str::<BinaryId>("\"abc\"").unwrap_err();
        assert!(
            error.to_string().contains("not a valid binary id"),
            "{error}"
        );
    }
}
