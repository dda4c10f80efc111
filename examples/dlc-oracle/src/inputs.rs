//! The activations' inputs and the machine's params, checked.

use crate::bitmex::{DEFAULT_API_BASE, MAX_SYMBOL_BYTES, Source};
use crate::{MAX_EVENT_ID_BYTES, MessageHash, OracleError};
use serde::Deserialize;

pub(crate) fn check_event_id(event_id: &str) -> Result<(), OracleError> {
    if event_id.is_empty() || event_id.len() > MAX_EVENT_ID_BYTES {
        return Err(OracleError::BadInput(format!(
            "the event id is {} bytes long; give 1 to {MAX_EVENT_ID_BYTES}",
            event_id.len()
        )));
    }
    Ok(())
}

pub(crate) fn check_symbol(symbol: &str) -> Result<(), OracleError> {
    if symbol.is_empty() || symbol.len() > MAX_SYMBOL_BYTES {
        return Err(OracleError::BadInput(format!(
            "the symbol is {} bytes long; BitMEX index symbols such as `.BXBT` have 1 to \
             {MAX_SYMBOL_BYTES}",
            symbol.len()
        )));
    }
    Ok(())
}

/// The params as written: JSON with the price source and the message hashing, both optional;
/// empty params are `{}`. Unknown fields are refused rather than ignored, since the machine id
/// commits to the params and a reader would take them at their word.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawParams {
    api_base: Option<String>,
    message_hash: Option<String>,
}

/// What the params choose.
pub(crate) struct Params {
    api_base: String,
    pub(crate) message_hash: MessageHash,
}

impl Params {
    pub(crate) fn read() -> Result<Self, OracleError> {
        let params = carol_guest::params();
        let raw: RawParams = if params.is_empty() {
            RawParams::default()
        } else {
            serde_json::from_slice(&params).map_err(|e| {
                OracleError::BadParams(format!(
                    "the params must be empty or JSON {{\"api_base\": \"https://...\", \
                     \"message_hash\": \"sha256\" or \"tagged\"}}, both optional: {e}"
                ))
            })?
        };
        let api_base = raw.api_base.unwrap_or_else(|| DEFAULT_API_BASE.into());
        if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
            return Err(OracleError::BadParams(format!(
                "api_base `{api_base}` is not an http:// or https:// URL"
            )));
        }
        let message_hash = match raw.message_hash.as_deref() {
            None | Some("sha256") => MessageHash::Sha256,
            Some("tagged") => MessageHash::Tagged,
            Some(other) => {
                return Err(OracleError::BadParams(format!(
                    "message_hash `{other}` is neither `sha256` (rust-dlc) nor `tagged` (dlcspecs)"
                )));
            }
        };
        Ok(Self {
            api_base,
            message_hash,
        })
    }

    pub(crate) fn source(&self) -> Source<'_> {
        Source {
            api_base: self.api_base.strip_suffix('/').unwrap_or(&self.api_base),
        }
    }
}
