//! The price: the composite index tick of the maturity minute, fetched as the bitmex-oracle
//! example does.

use crate::{OracleError, UpstreamFailure};
use carol_guest::http_fetch;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Where prices come from when the params do not say.
pub(crate) const DEFAULT_API_BASE: &str = "https://www.bitmex.com";
/// The BitMEX request is the one of the bitmex-oracle example (docs/oracle.md).
const COMPOSITE_INDEX_PATH: &str = "/api/v1/instrument/compositeIndex";
const COLUMNS: &str = "symbol,reference,timestamp,lastPrice";
const COMPOSITE_REFERENCE: &str = "BMI";
pub(crate) const MAX_SYMBOL_BYTES: usize = 100;
const MAX_ERROR_CHARS: usize = 300;

/// The UTC date and time of `unix_time`, which every u32 has.
pub(crate) fn minute_of(unix_time: u32) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(i64::from(unix_time)).expect("u32 times are in range")
}

/// `2023-04-16T12:30:00Z`.
pub(crate) fn rfc3339(minute: &OffsetDateTime) -> String {
    format!(
        "{}T{:02}:{:02}:00Z",
        date(minute),
        minute.hour(),
        minute.minute()
    )
}

/// `2023-04-16`, as BitMEX's `timestamp.date` filter takes it.
pub(crate) fn date(minute: &OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        minute.year(),
        u8::from(minute.month()),
        minute.day()
    )
}

pub(crate) struct Source<'a> {
    /// Base URL without a trailing slash.
    pub(crate) api_base: &'a str,
}

/// BitMEX's table filter: the composite tick at second 0 of the minute (docs/oracle.md).
#[derive(Serialize)]
pub(crate) struct Filter<'a> {
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
pub(crate) struct Tick {
    symbol: String,
    reference: String,
    timestamp: String,
    last_price: Option<f64>,
}

#[derive(Deserialize)]
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
pub(crate) struct ErrorDetail {
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
    pub(crate) fn price_at(
        &self,
        symbol: &str,
        minute: &OffsetDateTime,
    ) -> Result<u64, OracleError> {
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
pub(crate) fn error_message(body: &[u8]) -> String {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(parsed) => parsed.error.message,
        Err(_) => String::from_utf8_lossy(body)
            .chars()
            .take(MAX_ERROR_CHARS)
            .collect(),
    }
}
