//! A dlcspecs oracle for Bitcoin contracts (DLCs): announces the BitMEX composite index price of
//! a symbol at a minute as an `oracle_announcement` with one committed nonce per digit, and at
//! maturity attests to it once with an `oracle_attestation`. `docs/dlc-oracle.md` documents the
//! bytes, which are those rust-dlc's `dlc-messages` reads and writes.
//!
//! What makes it an oracle one can rely on is in the node, not here: the nonces are committed
//! (`keys.nonce`), and the node refuses to let a nonce sign a second message, so even a changed
//! price source cannot get a second outcome of an event signed.

carol_guest::generate!({
    world: "dlc-oracle",
    // Announcements and attestations are kept in the machine's state as JSON.
    additional_derives: [serde::Serialize, serde::Deserialize],
});

use carol_guest::{http_fetch, keys, state};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::{SystemTime, UNIX_EPOCH};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Where prices come from when the params do not say.
const DEFAULT_API_BASE: &str = "https://www.bitmex.com";
/// The BitMEX request is the one of the bitmex-oracle example (docs/oracle.md).
const COMPOSITE_INDEX_PATH: &str = "/api/v1/instrument/compositeIndex";
const COLUMNS: &str = "symbol,reference,timestamp,lastPrice";
const COMPOSITE_REFERENCE: &str = "BMI";
const MAX_SYMBOL_BYTES: usize = 100;
const MAX_ERROR_CHARS: usize = 300;

/// Nonce names are `<event id>/<digit index>` and the node takes names of up to 256 bytes;
/// 250 leaves room for the index.
const MAX_EVENT_ID_BYTES: usize = 250;
/// Enough digits for every u64 in base 2.
const MAX_DIGITS: u16 = 64;
/// dlcspecs writes digits of bases above 10 as decimal strings; 16 covers the bases in use.
const MAX_BASE: u16 = 16;
const UNIT: &str = "usd";
const PRECISION: i32 = 0;

/// dlcspecs TLV types.
const ORACLE_ANNOUNCEMENT_TYPE: u64 = 55332;
const ORACLE_EVENT_TYPE: u64 = 55330;
const DIGIT_DECOMPOSITION_EVENT_DESCRIPTOR_TYPE: u64 = 55306;
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

// ---------------------------------------------------------------------------------------------
// dlcspecs serialization, as rust-dlc's dlc-messages 0.8 reads it.

/// The body of an `oracle_event` (without its type and length): what the announcement signs.
fn oracle_event(
    nonces: &[Vec<u8>],
    maturity: u32,
    base: u16,
    nb_digits: u16,
    event_id: &str,
) -> Vec<u8> {
    let mut descriptor = base.to_be_bytes().to_vec();
    descriptor.push(0); // is_signed: prices are never negative
    descriptor.extend(string(UNIT));
    descriptor.extend_from_slice(&PRECISION.to_be_bytes());
    descriptor.extend_from_slice(&nb_digits.to_be_bytes());

    let mut event = u16_count(nonces.len());
    for nonce in nonces {
        event.extend_from_slice(nonce);
    }
    event.extend_from_slice(&maturity.to_be_bytes());
    event.extend(tlv(DIGIT_DECOMPOSITION_EVENT_DESCRIPTOR_TYPE, &descriptor));
    event.extend(string(event_id));
    event
}

/// A TLV record: BigSize type, BigSize length, value.
fn tlv(kind: u64, value: &[u8]) -> Vec<u8> {
    let mut record = big_size(kind);
    record.extend(big_size(value.len() as u64));
    record.extend_from_slice(value);
    record
}

/// The BigSize integer of the Lightning messaging spec: one byte below 0xfd, else a marker
/// byte and the big-endian u16, u32 or u64.
fn big_size(n: u64) -> Vec<u8> {
    match n {
        0..0xfd => vec![n as u8],
        0xfd..=0xffff => [&[0xfd][..], &(n as u16).to_be_bytes()[..]].concat(),
        0x1_0000..=0xffff_ffff => [&[0xfe][..], &(n as u32).to_be_bytes()[..]].concat(),
        _ => [&[0xff][..], &n.to_be_bytes()[..]].concat(),
    }
}

/// A dlcspecs `string`: BigSize byte length, UTF-8.
fn string(text: &str) -> Vec<u8> {
    let mut bytes = big_size(text.len() as u64);
    bytes.extend_from_slice(text.as_bytes());
    bytes
}

/// The u16 count that precedes nonces, signatures and outcomes.
fn u16_count(n: usize) -> Vec<u8> {
    u16::try_from(n)
        .expect("at most 64 digits")
        .to_be_bytes()
        .to_vec()
}

/// The 32 bytes that BIP340 signs for `message` of the kind `tag`.
fn hash(how: MessageHash, tag: &str, message: &[u8]) -> Vec<u8> {
    match how {
        MessageHash::Sha256 => Sha256::digest(message).to_vec(),
        MessageHash::Tagged => {
            let tag = Sha256::digest(tag.as_bytes());
            Sha256::new()
                .chain_update(tag)
                .chain_update(tag)
                .chain_update(message)
                .finalize()
                .to_vec()
        }
    }
}

/// base^nb_digits - 1, or u64::MAX when that is larger: no price exceeds it then.
fn max_outcome(base: u16, nb_digits: u16) -> u64 {
    (0..nb_digits)
        .try_fold(1u64, |power, _| power.checked_mul(u64::from(base)))
        .map_or(u64::MAX, |power| power - 1)
}

/// The `nb_digits` digits of `value` in `base`, most significant first, leading zeros included.
fn digits(value: u64, base: u16, nb_digits: u16) -> Vec<u64> {
    let base = u64::from(base);
    let mut rest = value;
    let mut digits: Vec<u64> = (0..nb_digits)
        .map(|_| {
            let digit = rest % base;
            rest /= base;
            digit
        })
        .collect();
    digits.reverse();
    digits
}

/// The committed nonce of digit `index`; the index has no `/`, so names of different events
/// never collide.
fn nonce_name(event_id: &str, index: u16) -> String {
    format!("{event_id}/{index}")
}

// ---------------------------------------------------------------------------------------------
// State.

fn announcement_key(event_id: &str) -> Vec<u8> {
    format!("announcement/{event_id}").into_bytes()
}

fn attestation_key(event_id: &str) -> Vec<u8> {
    format!("attestation/{event_id}").into_bytes()
}

fn stored<T: for<'de> Deserialize<'de>>(key: &[u8]) -> Option<T> {
    state::get(key).map(|value| {
        serde_json::from_slice(&value).expect("the machine stores only what it can read back")
    })
}

fn store<T: Serialize>(key: &[u8], value: &T) -> Result<(), OracleError> {
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

fn signing_refused(error: keys::Error) -> OracleError {
    OracleError::SigningRefused(match error {
        keys::Error::NonceUsed => "a nonce of this event already signed another digit: an \
                                   attestation was signed but not stored, and the node never \
                                   signs a second outcome"
            .into(),
        keys::Error::MessageLength(length) => format!("a {length}-byte message instead of 32"),
        keys::Error::NonceName => "the nonce name is not 1 to 256 bytes".into(),
    })
}

// ---------------------------------------------------------------------------------------------
// Inputs and params.

fn check_event_id(event_id: &str) -> Result<(), OracleError> {
    if event_id.is_empty() || event_id.len() > MAX_EVENT_ID_BYTES {
        return Err(OracleError::BadInput(format!(
            "the event id is {} bytes long; give 1 to {MAX_EVENT_ID_BYTES}",
            event_id.len()
        )));
    }
    Ok(())
}

fn check_symbol(symbol: &str) -> Result<(), OracleError> {
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
struct RawParams {
    api_base: Option<String>,
    message_hash: Option<String>,
}

/// What the params choose.
struct Params {
    api_base: String,
    message_hash: MessageHash,
}

impl Params {
    fn read() -> Result<Self, OracleError> {
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

    fn source(&self) -> Source<'_> {
        Source {
            api_base: self.api_base.strip_suffix('/').unwrap_or(&self.api_base),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The price: the composite index tick of the maturity minute, fetched as bitmex-oracle does.

/// The UTC date and time of `unix_time`, which every u32 has.
fn minute_of(unix_time: u32) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(i64::from(unix_time)).expect("u32 times are in range")
}

/// `2023-04-16T12:30:00Z`.
fn rfc3339(minute: &OffsetDateTime) -> String {
    format!(
        "{}T{:02}:{:02}:00Z",
        date(minute),
        minute.hour(),
        minute.minute()
    )
}

/// `2023-04-16`, as BitMEX's `timestamp.date` filter takes it.
fn date(minute: &OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        minute.year(),
        u8::from(minute.month()),
        minute.day()
    )
}

struct Source<'a> {
    /// Base URL without a trailing slash.
    api_base: &'a str,
}

/// BitMEX's table filter: the composite tick at second 0 of the minute (docs/oracle.md).
#[derive(Serialize)]
struct Filter<'a> {
    symbol: &'a str,
    reference: &'a str,
    #[serde(rename = "timestamp.date")]
    date: &'a str,
    #[serde(rename = "timestamp.hh")]
    hour: u8,
    #[serde(rename = "timestamp.uu")]
    minute: u8,
    #[serde(rename = "timestamp.ss")]
    second: u8,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Tick {
    symbol: String,
    reference: String,
    timestamp: String,
    last_price: Option<f64>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    message: String,
}

impl Source<'_> {
    fn url(&self, symbol: &str, minute: &OffsetDateTime) -> String {
        let date = date(minute);
        let filter = serde_json::to_string(&Filter {
            symbol,
            reference: COMPOSITE_REFERENCE,
            date: &date,
            hour: minute.hour(),
            minute: minute.minute(),
            second: 0,
        })
        .expect("the filter serializes");
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("symbol", symbol)
            .append_pair("filter", &filter)
            .append_pair("columns", COLUMNS)
            .finish();
        format!("{}{COMPOSITE_INDEX_PATH}?{query}", self.api_base)
    }

    /// The composite index price of `symbol` at `minute`, rounded down.
    fn price_at(&self, symbol: &str, minute: &OffsetDateTime) -> Result<u64, OracleError> {
        let response = http_fetch::fetch(&http_fetch::Request {
            method: http_fetch::Method::Get,
            url: self.url(symbol, minute),
            headers: vec![("accept".into(), "application/json".into())],
            body: Vec::new(),
        })
        .map_err(|e| self.fetch_error(e))?;
        if !(200..300).contains(&response.status) {
            return Err(OracleError::UpstreamFailed(UpstreamFailure {
                status: Some(response.status),
                message: error_message(&response.body),
            }));
        }
        let ticks: Vec<Tick> = serde_json::from_slice(&response.body).map_err(|e| {
            OracleError::BadUpstreamAnswer(format!(
                "the answer is not a JSON list of compositeIndex rows: {e}"
            ))
        })?;
        let at = rfc3339(minute);
        let mut matching = Vec::new();
        for tick in ticks {
            if tick.reference != COMPOSITE_REFERENCE || tick.symbol != symbol {
                continue;
            }
            let stamp = OffsetDateTime::parse(&tick.timestamp, &Rfc3339).map_err(|e| {
                OracleError::BadUpstreamAnswer(format!(
                    "a row's timestamp `{}` is not RFC 3339: {e}",
                    tick.timestamp
                ))
            })?;
            // A source that ignores the filter must not get another row's price signed.
            if *minute <= stamp && stamp < *minute + time::Duration::SECOND {
                matching.push(tick);
            }
        }
        let [tick] = <[Tick; 1]>::try_from(matching).map_err(|matching| {
            if matching.is_empty() {
                OracleError::NoPrice(format!(
                    "no composite index price (reference {COMPOSITE_REFERENCE}) for `{symbol}` at {at}"
                ))
            } else {
                OracleError::BadUpstreamAnswer(format!(
                    "{} composite index rows for `{symbol}` at {at}, where one was expected",
                    matching.len()
                ))
            }
        })?;
        let Some(price) = tick.last_price else {
            return Err(OracleError::NoPrice(format!(
                "the composite index row for `{symbol}` at {at} has no lastPrice"
            )));
        };
        // 2^64 is exact as f64; the range also leaves out NaN and the infinities.
        if !(0.0..18_446_744_073_709_551_616.0).contains(&price) {
            return Err(OracleError::BadUpstreamAnswer(format!(
                "lastPrice {price} is not a price this oracle can attest to (0 to 2^64 - 1)"
            )));
        }
        Ok(price.floor() as u64)
    }

    fn fetch_error(&self, error: http_fetch::Error) -> OracleError {
        let api_base = self.api_base;
        let no_answer = |message: String| {
            OracleError::UpstreamFailed(UpstreamFailure {
                status: None,
                message,
            })
        };
        match error {
            http_fetch::Error::Denied(reason) => {
                OracleError::Denied(format!("the node may not contact `{api_base}`: {reason}"))
            }
            // The rest of the URL is built here, so a bad URL is a bad api_base.
            http_fetch::Error::InvalidUrl(reason) => {
                OracleError::BadParams(format!("api_base `{api_base}` is not usable: {reason}"))
            }
            http_fetch::Error::Timeout => no_answer(format!(
                "`{api_base}` did not answer within the node's time limit"
            )),
            http_fetch::Error::Connection(reason) => no_answer(reason),
            http_fetch::Error::TooLarge => no_answer(format!(
                "`{api_base}` answered with more than the node accepts"
            )),
        }
    }
}

/// The message of a BitMEX error body, else the start of the body as text.
fn error_message(body: &[u8]) -> String {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(parsed) => parsed.error.message,
        Err(_) => String::from_utf8_lossy(body)
            .chars()
            .take(MAX_ERROR_CHARS)
            .collect(),
    }
}
