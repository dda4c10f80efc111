//! A dlcspecs oracle for Bitcoin contracts (DLCs): announces the BitMEX composite index price of
//! a symbol at a minute as an `oracle_announcement` with one committed nonce per digit, and at
//! maturity attests to it once with an `oracle_attestation`. `docs/dlc-oracle.md` documents the
//! bytes, which are those rust-dlc's `dlc-messages` reads and writes.
//!
//! What makes it an oracle one can rely on is in the node, not here: the nonces are committed
//! (`keys.nonce`), and the node refuses to let a nonce sign a second message, so even a changed
//! price source cannot get a second outcome of an event signed.

// The error type is the world's `oracle-error`, whose size its WIT fixes (one case carries an
// announcement); natively, with 8-byte pointers, it is over clippy's limit for `Err`.
#![allow(clippy::result_large_err)]

carol_guest::generate!({
    world: "dlc-oracle",
    // Announcements and attestations are kept in the machine's state as JSON.
    additional_derives: [serde::Serialize, serde::Deserialize],
});

mod bitmex;
mod dlcspecs;
mod inputs;
mod stored;

use bitmex::{minute_of, rfc3339};
use carol_guest::keys;
use dlcspecs::{digits, hash, max_outcome, nonce_name, oracle_event, string, tlv, u16_count};
use inputs::{Params, check_event_id, check_symbol};
use std::time::{SystemTime, UNIX_EPOCH};
use stored::{announcement_key, attestation_key, signing_refused, store, stored};

/// Nonce names are `<event id>/<digit index>` and the node takes names of up to 256 bytes;
/// 250 leaves room for the index.
pub(crate) const MAX_EVENT_ID_BYTES: usize = 250;
/// Enough digits for every u64 in base 2.
const MAX_DIGITS: u16 = 64;
/// dlcspecs writes digits of bases above 10 as decimal strings; 16 covers the bases in use.
const MAX_BASE: u16 = 16;
pub(crate) const UNIT: &str = "usd";
pub(crate) const PRECISION: i32 = 0;

/// dlcspecs TLV types.
const ORACLE_ANNOUNCEMENT_TYPE: u64 = 55332;
const ORACLE_EVENT_TYPE: u64 = 55330;
pub(crate) const DIGIT_DECOMPOSITION_EVENT_DESCRIPTOR_TYPE: u64 = 55306;
const ORACLE_ATTESTATION_TYPE: u64 = 55400;

/// The tags of dlcspecs' signing algorithm (`DLC/oracle/` and the message kind).
const ANNOUNCEMENT_TAG: &str = "DLC/oracle/announcement/v0";
const ATTESTATION_TAG: &str = "DLC/oracle/attestation/v0";

struct DlcOracle;

impl Guest for DlcOracle {
    fn announce(
        event_id: String,
        symbol: String,
        maturity: u32,
        base: u16,
        nb_digits: u16,
    ) -> Result<Announcement, OracleError> {
        check_event_id(&event_id)?;
        check_symbol(&symbol)?;
        if !maturity.is_multiple_of(60) {
            return Err(OracleError::BadInput(format!(
                "maturity {maturity} is not the start of a minute; the price is a minute's, so \
                 give a multiple of 60 such as {}",
                maturity - maturity % 60
            )));
        }
        if !(2..=MAX_BASE).contains(&base) {
            return Err(OracleError::BadInput(format!(
                "base must be 2 to {MAX_BASE}, not {base}"
            )));
        }
        if !(1..=MAX_DIGITS).contains(&nb_digits) {
            return Err(OracleError::BadInput(format!(
                "nb-digits must be 1 to {MAX_DIGITS}, not {nb_digits}"
            )));
        }
        let message_hash = Params::read()?.message_hash;
        if let Some(announced) = stored::<Announcement>(&announcement_key(&event_id)) {
            let same_terms = (&announced.symbol, announced.maturity, announced.base)
                == (&symbol, maturity, base)
                && announced.nb_digits == nb_digits;
            return if same_terms {
                Ok(announced)
            } else {
                Err(OracleError::AnnouncedDifferently(announced))
            };
        }

        let nonces = (0..nb_digits)
            .map(|index| keys::nonce(&nonce_name(&event_id, index)).map_err(signing_refused))
            .collect::<Result<Vec<_>, _>>()?;
        let event = oracle_event(&nonces, maturity, base, nb_digits, &event_id);
        let signature = keys::secp256k1_sign(&hash(message_hash, ANNOUNCEMENT_TAG, &event))
            .map_err(signing_refused)?;
        let oracle_public_key = keys::secp256k1_public_key();
        let mut body = signature.clone();
        body.extend_from_slice(&oracle_public_key);
        body.extend(tlv(ORACLE_EVENT_TYPE, &event));
        let announcement = Announcement {
            tlv: tlv(ORACLE_ANNOUNCEMENT_TYPE, &body),
            event_id,
            symbol,
            maturity,
            maturity_time: rfc3339(&minute_of(maturity)),
            base,
            nb_digits,
            unit: UNIT.into(),
            precision: PRECISION,
            max_outcome: max_outcome(base, nb_digits),
            message_hash,
            oracle_public_key,
            nonces,
            signature,
        };
        store(&announcement_key(&announcement.event_id), &announcement)?;
        Ok(announcement)
    }

    fn attest(event_id: String) -> Result<Attestation, OracleError> {
        check_event_id(&event_id)?;
        if let Some(attested) = stored::<Attestation>(&attestation_key(&event_id)) {
            return Ok(attested);
        }
        let announcement = Self::announcement(event_id)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        if now < u64::from(announcement.maturity) {
            return Err(OracleError::TooEarly(format!(
                "`{}` matures at {} (Unix time {}), {} seconds from now; ask again then",
                announcement.event_id,
                announcement.maturity_time,
                announcement.maturity,
                u64::from(announcement.maturity) - now
            )));
        }
        let params = Params::read()?;
        let minute = minute_of(announcement.maturity);
        let price = params.source().price_at(&announcement.symbol, &minute)?;
        let outcome = price.min(announcement.max_outcome);
        let outcomes: Vec<String> = digits(outcome, announcement.base, announcement.nb_digits)
            .iter()
            .map(u64::to_string)
            .collect();
        let signatures = outcomes
            .iter()
            .zip(0..)
            .map(|(digit, index)| {
                let message = hash(params.message_hash, ATTESTATION_TAG, digit.as_bytes());
                keys::sign_with_nonce(&nonce_name(&announcement.event_id, index), &message)
                    .map_err(signing_refused)
            })
            .collect::<Result<Vec<_>, _>>()?;

        let mut body = string(&announcement.event_id);
        body.extend_from_slice(&announcement.oracle_public_key);
        body.extend(u16_count(signatures.len()));
        for signature in &signatures {
            body.extend_from_slice(signature);
        }
        body.extend(u16_count(outcomes.len()));
        for digit in &outcomes {
            body.extend(string(digit));
        }
        let attestation = Attestation {
            tlv: tlv(ORACLE_ATTESTATION_TYPE, &body),
            event_id: announcement.event_id,
            symbol: announcement.symbol,
            maturity: announcement.maturity,
            price,
            outcome,
            oracle_public_key: announcement.oracle_public_key,
            outcomes,
            signatures,
        };
        store(&attestation_key(&attestation.event_id), &attestation)?;
        Ok(attestation)
    }

    fn announcement(event_id: String) -> Result<Announcement, OracleError> {
        check_event_id(&event_id)?;
        stored(&announcement_key(&event_id)).ok_or_else(|| {
            OracleError::NotAnnounced(format!(
                "no event `{event_id}` was announced by this machine; announce it first"
            ))
        })
    }

    fn oracle_public_key() -> Vec<u8> {
        keys::secp256k1_public_key()
    }
}

export!(DlcOracle);
