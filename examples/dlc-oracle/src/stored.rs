//! What the machine keeps in its state: announcements and attestations, as JSON.

use crate::OracleError;
use carol_guest::{keys, state};
use serde::{Deserialize, Serialize};

pub(crate) fn announcement_key(event_id: &str) -> Vec<u8> {
    format!("announcement/{event_id}").into_bytes()
}

pub(crate) fn attestation_key(event_id: &str) -> Vec<u8> {
    format!("attestation/{event_id}").into_bytes()
}

pub(crate) fn stored<T: for<'de> Deserialize<'de>>(key: &[u8]) -> Option<T> {
    state::get(key).map(|value| {
        serde_json::from_slice(&value).expect("the machine stores only what it can read back")
    })
}

pub(crate) fn store<T: Serialize>(key: &[u8], value: &T) -> Result<(), OracleError> {
    let value = serde_json::to_vec(value).expect("records serialize");
    state::set(key, &value).map_err(|e| {
        OracleError::Storage(match e {
            state::Error::KeyTooLarge(max) => format!("the state key is over {max} bytes"),
            state::Error::ValueTooLarge(max) => format!("the record is over {max} bytes"),
            state::Error::QuotaExceeded(quota) => format!(
                "the machine's state is full (quota {quota} bytes); the node operator can raise it"
            ),
        })
    })
}

pub(crate) fn signing_refused(error: keys::Error) -> OracleError {
    OracleError::SigningRefused(match error {
        keys::Error::NonceUsed => "a nonce of this event already signed another digit: an \
                                   attestation was signed but not stored, and the node never \
                                   signs a second outcome"
            .into(),
        keys::Error::MessageLength(length) => format!("a {length}-byte message instead of 32"),
        keys::Error::NonceName => "the nonce name is not 1 to 256 bytes".into(),
    })
}
