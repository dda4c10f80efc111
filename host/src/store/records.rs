//! What the store answers with.

use carol_core::ids::{BinaryId, MachineId};
use serde::{Deserialize, Serialize};

/// A machine as stored: its binary and params.
pub struct StoredMachine {
    /// The machine's binary.
    pub binary: BinaryId,
    /// Its params.
    pub params: Vec<u8>,
}

/// Which of its own keys a machine has used, as bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsedKeys(pub(super) u8);

impl UsedKeys {
    /// The machine's secp256k1 key (public key, signatures, nonces).
    pub const SECP256K1: Self = Self(1);
    /// The machine's BLS12-381 key.
    pub const BLS: Self = Self(2);

    /// Whether every key of `other` is among these.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

/// What binding a nonce to a message found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceBinding {
    /// The nonce is bound to this message (now, or since earlier).
    Bound,
    /// The nonce already signed a different message.
    Used,
    /// The nonce has signed nothing, and the machine already has as many nonce records as it
    /// may keep.
    LimitReached,
}

/// The record of a removal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removal {
    /// Why, as the operator said.
    pub reason: String,
    /// When, in seconds since the Unix epoch.
    pub at: u64,
}

/// What a removal took away.
#[derive(Debug, Default)]
pub struct Freed {
    /// Bytes of binaries and their compiled code.
    pub binaries: u64,
    /// Bytes of machines' state.
    pub state: u64,
    /// The machines removed.
    pub machines: Vec<MachineId>,
}
