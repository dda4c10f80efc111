//! An oracle for Bitcoin contracts (DLCs): fetches the BitMEX composite index price of a symbol
//! at a minute and has the node sign it, bound to this machine. `docs/oracle.md` documents the
//! request sent upstream and the exact bytes signed, so that parties can rebuild and verify them.

carol_guest::generate!({ world: "bitmex-oracle" });

use carol_guest::http_fetch;
use serde::{Deserialize, Serialize};
// `time` with only its `parsing` feature: a strict RFC 3339 parser (offsets, fractional seconds,
// calendar validity) that a hand-written one would have to get right again, for little code.
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Where prices come from when the machine's params are empty.
const DEFAULT_API_BASE: &str = "https://www.bitmex.com";
/// The endpoint, under the api base, that lists an index's ticks and those of its constituents.
const COMPOSITE_INDEX_PATH: &str = "/api/v1/instrument/compositeIndex";
/// The columns asked for: those the oracle reads. BitMEX may send more.
const COLUMNS: &str = "symbol,reference,timestamp,lastPrice";
/// BitMEX's `reference` of the composite index tick itself; the table's other rows are the
/// constituent exchanges' prices.
const COMPOSITE_REFERENCE: &str = "BMI";
/// Longer than any BitMEX index symbol; keeps signed messages small.
const MAX_SYMBOL_BYTES: usize = 100;
/// How much of an upstream error body is passed on.
const MAX_ERROR_CHARS: usize = 300;

/// Domain separation of the two kinds of signed messages (docs/oracle.md).
const PRICE_TAG: &[u8] = b"carol-bitmex-oracle/price/v1";
const BIT_TAG: &[u8] = b"carol-bitmex-oracle/bit/v1";

struct BitmexOracle;

impl Guest for BitmexOracle {
    fn attest_to_price_at_minute(
        time: String,
        symbol: String,
    ) -> Result<PriceAttestation, OracleError> {
        let minute = Minute::parse(&time)?;
        check_symbol(&symbol)?;
        let price = Source::from_params()?.price_at(&symbol, &minute)?;
        let signature = carol_guest::sign(&price_message(&symbol, minute.unix_time, price));
        Ok(PriceAttestation {
            minute: minute.rfc3339(),
            unix_time: minute.unix_time,
            symbol,
            price,
            signature,
        })
    }

    fn bit_decompose_attest_to_price_at_minute(
        time: String,
        symbol: String,
        n_bits: u8,
    ) -> Result<BitsAttestation, OracleError> {
        let minute = Minute::parse(&time)?;
        check_symbol(&symbol)?;
        if !(1..=64).contains(&n_bits) {
            return Err(OracleError::BadInput(format!(
                "n-bits must be 1 to 64, not {n_bits}"
            )));
        }
        let price = Source::from_params()?.price_at(&symbol, &minute)?;
        // 2^n - 1 without overflowing at n = 64.
        let price = price.min(u64::MAX >> (64 - n_bits));
        let bits = (0..n_bits)
            .map(|index| {
                let value = (price >> (n_bits - 1 - index)) & 1 == 1;
                let message = bit_message(&symbol, minute.unix_time, n_bits, index, value);
                BitAttestation {
                    value,
                    signature: carol_guest::sign(&message),
                }
            })
            .collect();
        Ok(BitsAttestation {
            minute: minute.rfc3339(),
            unix_time: minute.unix_time,
            symbol,
            n_bits,
            price,
            bits,
        })
    }

    fn price_source() -> Result<String, OracleError> {
        Source::from_params().map(|source| source.api_base)
    }
}

export!(BitmexOracle);

/// The price message: what `attest-to-price-at-minute` signs.
fn price_message(symbol: &str, unix_time: i64, price: u64) -> Vec<u8> {
    let mut message = event(PRICE_TAG, symbol, unix_time);
    message.extend_from_slice(&price.to_be_bytes());
    message
}

/// The bit message: what `bit-decompose-attest-to-price-at-minute` signs for each bit; `index`
/// 0 is the most significant bit.
fn bit_message(symbol: &str, unix_time: i64, n_bits: u8, index: u8, value: bool) -> Vec<u8> {
    let mut message = event(BIT_TAG, symbol, unix_time);
    message.extend_from_slice(&[n_bits, index, u8::from(value)]);
    message
}

/// The start both messages share: tag, length-prefixed symbol, minute.
fn event(tag: &[u8], symbol: &str, unix_time: i64) -> Vec<u8> {
    let length = u32::try_from(symbol.len()).expect("symbols are checked to be short");
    let mut message = tag.to_vec();
    message.extend_from_slice(&length.to_be_bytes());
    message.extend_from_slice(symbol.as_bytes());
    message.extend_from_slice(&unix_time.to_be_bytes());
    message
}

fn check_symbol(symbol: &str) -> Result<(), OracleError> {
    if symbol.is_empty() {
        return Err(OracleError::BadInput(
            "the symbol is empty; BitMEX index symbols look like `.BXBT`".into(),
        ));
    }
    if symbol.len() > MAX_SYMBOL_BYTES {
        return Err(OracleError::BadInput(format!(
            "the symbol is {} bytes long; index symbols have at most {MAX_SYMBOL_BYTES}",
            symbol.len()
        )));
    }
    Ok(())
}

/// A minute in UTC.
struct Minute {
    /// Seconds since the Unix epoch, a multiple of 60.
    unix_time: i64,
    /// The same instant, with zero seconds.
    utc: OffsetDateTime,
}

impl Minute {
    /// Reads an RFC 3339 time and truncates it to its minute in UTC.
    fn parse(text: &str) -> Result<Self, OracleError> {
        let parsed = OffsetDateTime::parse(text, &Rfc3339).map_err(|e| {
            OracleError::BadInput(format!(
                "`{text}` is not an RFC 3339 time such as 2023-04-16T12:30:00Z: {e}"
            ))
        })?;
        let out_of_range =
            || OracleError::BadInput(format!("`{text}` is outside the years 0000 to 9999 in UTC"));
        let utc = parsed
            .checked_to_offset(UtcOffset::UTC)
            .ok_or_else(out_of_range)?;
        if !(0..=9999).contains(&utc.year()) {
            return Err(out_of_range());
        }
        let utc = utc
            .replace_second(0)
            .and_then(|t| t.replace_nanosecond(0))
            .expect("zero is a valid second and nanosecond");
        Ok(Self {
            unix_time: utc.unix_timestamp(),
            utc,
        })
    }

    /// `2023-04-16T12:30:00Z`.
    fn rfc3339(&self) -> String {
        format!(
            "{}T{:02}:{:02}:00Z",
            self.date(),
            self.utc.hour(),
            self.utc.minute()
        )
    }

    /// `2023-04-16`, as BitMEX's `timestamp.date` filter takes it.
    fn date(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}",
            self.utc.year(),
            u8::from(self.utc.month()),
            self.utc.day()
        )
    }

    /// Whether `instant` falls in the first second of this minute, which is what the request's
    /// filter selects.
    fn first_second_contains(&self, instant: OffsetDateTime) -> bool {
        let start = self.utc;
        start <= instant && instant < start + time::Duration::SECOND
    }
}

/// Where this machine fetches prices from, as its params say.
struct Source {
    /// Base URL without a trailing slash, e.g. `https://www.bitmex.com`.
    api_base: String,
}

/// The params: JSON naming the price source. Unknown fields are refused rather than ignored,
/// since the machine id commits to the params and a reader would take them at their word.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    api_base: String,
}

/// BitMEX's generic table filter (JSON, equality on each field): the composite index tick
/// itself rather than its constituents, narrowed with BitMEX's timestamp filters to the first
/// second of the minute (UTC), when the index ticks.
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

/// A row of the compositeIndex table; the other columns are not needed.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Tick {
    symbol: String,
    reference: String,
    timestamp: String,
    last_price: Option<f64>,
}

/// The error body BitMEX sends with a non-2xx status.
#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    message: String,
}

impl Source {
    fn from_params() -> Result<Self, OracleError> {
        let params = carol_guest::params();
        if params.is_empty() {
            return Ok(Self {
                api_base: DEFAULT_API_BASE.into(),
            });
        }
        let params: Params = serde_json::from_slice(&params).map_err(|e| {
            OracleError::BadParams(format!(
                "the params must be empty or JSON {{\"api_base\": \"https://...\"}}: {e}"
            ))
        })?;
        let api_base = params.api_base;
        if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
            return Err(OracleError::BadParams(format!(
                "api_base `{api_base}` is not an http:// or https:// URL"
            )));
        }
        Ok(Self {
            api_base: api_base.strip_suffix('/').unwrap_or(&api_base).to_owned(),
        })
    }

    /// The URL of the request for `symbol` at `minute` (docs/oracle.md).
    fn url(&self, symbol: &str, minute: &Minute) -> String {
        let date = minute.date();
        let filter = serde_json::to_string(&Filter {
            symbol,
            reference: COMPOSITE_REFERENCE,
            date: &date,
            hour: minute.utc.hour(),
            minute: minute.utc.minute(),
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
    fn price_at(&self, symbol: &str, minute: &Minute) -> Result<u64, OracleError> {
        let url = self.url(symbol, minute);
        let response = http_fetch::fetch(&http_fetch::Request {
            method: http_fetch::Method::Get,
            url,
            headers: vec![("accept".into(), "application/json".into())],
            body: Vec::new(),
        })
        .map_err(|e| fetch_error(e, &self.api_base))?;
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
        let mut matching = Vec::new();
        for tick in ticks {
            if tick.reference != COMPOSITE_REFERENCE || tick.symbol != symbol {
                continue;
            }
            let at = OffsetDateTime::parse(&tick.timestamp, &Rfc3339).map_err(|e| {
                OracleError::BadUpstreamAnswer(format!(
                    "a row's timestamp `{}` is not RFC 3339: {e}",
                    tick.timestamp
                ))
            })?;
            // The filter already asks for this row; checking again keeps a source that ignores
            // the filter from getting another row's price signed.
            if minute.first_second_contains(at) {
                matching.push(tick);
            }
        }
        let tick = match matching.len() {
            0 => {
                return Err(OracleError::NoPrice(format!(
                    "no composite index price (reference {COMPOSITE_REFERENCE}) for `{symbol}` at {}",
                    minute.rfc3339()
                )));
            }
            1 => matching.remove(0),
            n => {
                return Err(OracleError::BadUpstreamAnswer(format!(
                    "{n} composite index rows for `{symbol}` at {}, where one was expected",
                    minute.rfc3339()
                )));
            }
        };
        let Some(price) = tick.last_price else {
            return Err(OracleError::NoPrice(format!(
                "the composite index row for `{symbol}` at {} has no lastPrice",
                minute.rfc3339()
            )));
        };
        // Every u64 is below 2^64, which as f64 is exactly 18446744073709551616.0; the range
        // also leaves out NaN and the infinities.
        if !(0.0..18_446_744_073_709_551_616.0).contains(&price) {
            return Err(OracleError::BadUpstreamAnswer(format!(
                "lastPrice {price} is not a price this oracle can attest to (0 to 2^64 - 1)"
            )));
        }
        // In range, so the conversion is exact after flooring.
        Ok(price.floor() as u64)
    }
}

/// What a failed fetch means for the caller.
fn fetch_error(error: http_fetch::Error, api_base: &str) -> OracleError {
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
