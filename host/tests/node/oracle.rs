//! The BitMEX oracle example (`examples/bitmex-oracle`) on a real node, against a mock BitMEX on
//! loopback: signatures checked by an independent BLS implementation over messages rebuilt as
//! `docs/oracle.md` describes them, the request it sends upstream, and every error it answers.

use crate::harness::{TestNode, bls_verifies, guest, serve_locally};
use axum::Json;
use axum::Router;
use axum::extract::{Path, RawQuery};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use carol_host::NodeConfig;
use serde_json::{Map, Value, json};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// The outbound time limit of the oracle node, and how long the stalling mock waits: well past it.
const FETCH_TIMEOUT: Duration = Duration::from_secs(1);
const STALL: Duration = Duration::from_secs(4);

/// The worked example of docs/oracle.md: the price message for `.BXBT` at
/// 2023-04-16T12:30:00Z (Unix time 1681648200), price 30264.
const DOC_PRICE_MESSAGE: &str = "6361726f6c2d6269746d65782d6f7261636c652f70726963652f7631\
                                 00000005\
                                 2e42584254\
                                 00000000643bea48\
                                 0000000000007638";
/// The bit message of the same event for n-bits 16, bit index 0 (the most significant), value 0.
const DOC_BIT_MESSAGE: &str = "6361726f6c2d6269746d65782d6f7261636c652f6269742f7631\
                               00000005\
                               2e42584254\
                               00000000643bea48\
                               10\
                               00\
                               00";
/// The query string of the request docs/oracle.md documents for that event.
const DOC_QUERY: &str = "symbol=.BXBT\
    &filter=%7B%22symbol%22%3A%22.BXBT%22%2C%22reference%22%3A%22BMI%22%2C\
    %22timestamp.date%22%3A%222023-04-16%22%2C%22timestamp.hh%22%3A12%2C\
    %22timestamp.uu%22%3A30%2C%22timestamp.ss%22%3A0%7D\
    &columns=symbol%2Creference%2Ctimestamp%2ClastPrice";

pub(crate) const MINUTE: &str = "2023-04-16T12:30:00Z";
pub(crate) const UNIX_TIME: i64 = 1_681_648_200;

// ---------------------------------------------------------------------------------------------
// The signed messages, rebuilt from the documented encoding.

fn event(tag: &str, symbol: &str, unix_time: i64) -> Vec<u8> {
    let mut message = tag.as_bytes().to_vec();
    message.extend_from_slice(&u32::try_from(symbol.len()).unwrap().to_be_bytes());
    message.extend_from_slice(symbol.as_bytes());
    message.extend_from_slice(&unix_time.to_be_bytes());
    message
}

pub(crate) fn price_message(symbol: &str, unix_time: i64, price: u64) -> Vec<u8> {
    let mut message = event("carol-bitmex-oracle/price/v1", symbol, unix_time);
    message.extend_from_slice(&price.to_be_bytes());
    message
}

fn bit_message(symbol: &str, unix_time: i64, n_bits: u8, index: u8, value: bool) -> Vec<u8> {
    let mut message = event("carol-bitmex-oracle/bit/v1", symbol, unix_time);
    message.extend_from_slice(&[n_bits, index, u8::from(value)]);
    message
}

/// Whether `signature` (hex) is the node's signature over `machine || message`.
fn verifies(machine: &str, message: &[u8], signature: &Value) -> bool {
    let signature = hex::decode(signature.as_str().expect("a hex signature")).unwrap();
    assert_eq!(signature.len(), 96);
    let public_key = hex::decode(oracle().node.get("/").1["public_key"].as_str().unwrap()).unwrap();
    let mut signed = hex::decode(machine).unwrap();
    signed.extend_from_slice(message);
    bls_verifies(&public_key, &signed, &signature)
}

// ---------------------------------------------------------------------------------------------
// A mock BitMEX.

/// Every query string the mock was sent.
static QUERIES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The mock's base URL. Its first path segment chooses how it behaves, so that each behaviour
/// is a machine of its own (`{"api_base": "http://127.0.0.1:PORT/ok"}`):
/// - `ok`: answers as BitMEX does, applying the filter;
/// - `unfiltered`: answers every row of the symbol, as a source that ignores the filter would;
/// - `fail`: 503 with a BitMEX error body;
/// - `stall`: answers only after the node's fetch time limit;
/// - `garbage`: 200 with an HTML page;
/// - `wrong-shape`: 200 with a JSON object instead of a list of rows.
pub(crate) fn mock() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let app = Router::new().route(
            "/{mode}/api/v1/instrument/compositeIndex",
            get(composite_index),
        );
        serve_locally(app)
    })
}

async fn composite_index(Path(mode): Path<String>, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    QUERIES.lock().unwrap().push(query.clone());
    match mode.as_str() {
        "ok" => bitmex(&query, true),
        "unfiltered" => bitmex(&query, false),
        "fail" => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": {
                "message": "The system is currently overloaded. Please try again later.",
                "name": "HTTPError"
            }})),
        )
            .into_response(),
        "stall" => {
            tokio::time::sleep(STALL).await;
            bitmex(&query, true)
        }
        "garbage" => (
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>Down for maintenance</body></html>",
        )
            .into_response(),
        "wrong-shape" => Json(json!({"data": [{"lastPrice": 30264.87}]})).into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A 400 as BitMEX sends it, saying what the mock found wrong with the request.
fn bad_request(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": {"message": message, "name": "ValidationError"}})),
    )
        .into_response()
}

/// Answers the query the way BitMEX does, after checking it is the request the oracle
/// documents: `symbol`, a JSON `filter` on symbol, reference and the timestamp fields, and
/// `columns`. With `apply_filter` off, answers every row of the symbol.
fn bitmex(query: &str, apply_filter: bool) -> Response {
    let mut pairs = Map::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if pairs.insert(key.to_string(), json!(value)).is_some() {
            return bad_request(format!("`{key}` is given more than once"));
        }
    }
    let keys: Vec<&str> = pairs.keys().map(String::as_str).collect();
    if keys != ["symbol", "filter", "columns"] {
        return bad_request(format!(
            "expected the parameters symbol, filter, columns; got {keys:?}"
        ));
    }
    let symbol = pairs["symbol"].as_str().unwrap();
    let filter: Map<String, Value> = match serde_json::from_str(pairs["filter"].as_str().unwrap()) {
        Ok(filter) => filter,
        Err(e) => return bad_request(format!("filter is not a JSON object: {e}")),
    };
    let filter_keys: Vec<&str> = filter.keys().map(String::as_str).collect();
    if filter_keys
        != [
            "symbol",
            "reference",
            "timestamp.date",
            "timestamp.hh",
            "timestamp.uu",
            "timestamp.ss",
        ]
    {
        return bad_request(format!("unexpected filter keys {filter_keys:?}"));
    }
    if filter["symbol"] != json!(symbol) || filter["reference"] != json!("BMI") {
        return bad_request(format!(
            "the filter should name symbol {symbol} and reference BMI: {filter:?}"
        ));
    }
    let (Some(date), Some(hour), Some(minute), Some(0)) = (
        filter["timestamp.date"].as_str(),
        filter["timestamp.hh"].as_u64(),
        filter["timestamp.uu"].as_u64(),
        filter["timestamp.ss"].as_u64(),
    ) else {
        return bad_request(format!(
            "the timestamp filters should be a date, an hour, a minute and second 0: {filter:?}"
        ));
    };
    let columns: Vec<&str> = pairs["columns"].as_str().unwrap().split(',').collect();
    for needed in ["symbol", "reference", "timestamp", "lastPrice"] {
        if !columns.contains(&needed) {
            return bad_request(format!("columns {columns:?} lack {needed}"));
        }
    }
    let at = format!("{date}T{hour:02}:{minute:02}:00");
    let rows: Vec<Value> = table()
        .into_iter()
        .filter(|row| row["symbol"] == json!(symbol))
        .filter(|row| {
            !apply_filter
                || (row["reference"] == json!("BMI")
                    && row["timestamp"].as_str().unwrap().starts_with(&at))
        })
        .collect();
    Json(rows).into_response()
}

/// A compositeIndex row of the shape BitMEX answers; `reference` BMI with weight null is the
/// composite index tick, the others are constituent exchanges.
fn row(timestamp: &str, symbol: &str, reference: &str, last_price: Value, weight: Value) -> Value {
    json!({
        "timestamp": timestamp,
        "symbol": symbol,
        "indexSymbol": symbol,
        "reference": reference,
        "lastPrice": last_price,
        "sourcePrice": if reference == "BMI" { Value::Null } else { last_price.clone() },
        "conversionIndex": null,
        "conversionIndexPrice": null,
        "relation": null,
        "weight": weight,
        "logged": timestamp.replace(".000Z", ".153Z"),
    })
}

/// The mock's data.
fn table() -> Vec<Value> {
    let tick = "2023-04-16T12:30:00.000Z";
    vec![
        row(
            "2023-04-16T12:29:00.000Z",
            ".BXBT",
            "BMI",
            json!(30199.99),
            Value::Null,
        ),
        row(tick, ".BXBT", "BSTP", json!(30270.5), json!(0.25)),
        row(tick, ".BXBT", "CBSE", json!(30259.12), json!(0.4)),
        row(tick, ".BXBT", "BMI", json!(30264.87), Value::Null),
        row(tick, ".BXBT", "KRAK", json!(30266), json!(0.2)),
        row(tick, ".BXBT", "GMNI", json!(30262.3), json!(0.15)),
        // The next tick, five seconds later: not the price at the minute.
        row(
            "2023-04-16T12:30:05.000Z",
            ".BXBT",
            "BMI",
            json!(30280.1),
            Value::Null,
        ),
        row(tick, ".BETH", "BMI", json!(2093.61), Value::Null),
        row(tick, ".BETH", "KRAK", json!(2094), json!(0.3)),
        // Above 2^63, to see all 64 bits and a u64 carried exactly.
        row(tick, ".HUGE", "BMI", json!(1.8e19), Value::Null),
        row(tick, ".NEG", "BMI", json!(-5.5), Value::Null),
        row(tick, ".NOLAST", "BMI", Value::Null, Value::Null),
    ]
}

// ---------------------------------------------------------------------------------------------
// The node and its machines.

/// A node that may fetch from loopback, with a short fetch time limit, and the oracle uploaded.
struct Oracle {
    node: TestNode,
    binary: String,
}

fn oracle() -> &'static Oracle {
    static ORACLE: OnceLock<Oracle> = OnceLock::new();
    ORACLE.get_or_init(|| {
        let mut config = NodeConfig::development();
        config.policy.allow_loopback = true;
        config.fetch.timeout = FETCH_TIMEOUT;
        let node = TestNode::start(config);
        let (binary, _) = node.machine(&guest("bitmex-oracle"), b"");
        Oracle { node, binary }
    })
}

impl Oracle {
    /// Creates (or finds) the oracle machine with `params`.
    fn machine(&self, params: &[u8]) -> String {
        let (status, body) = self
            .node
            .post_bytes(&format!("/binaries/{}", self.binary), params);
        assert!(
            status == 201 || status == 200,
            "create answered {status}: {body}"
        );
        body["id"].as_str().unwrap().to_owned()
    }

    /// The machine that fetches from the mock behaving as `mode`.
    fn on_mock(&self, mode: &str) -> String {
        self.machine(
            json!({"api_base": format!("{}/{mode}", mock())})
                .to_string()
                .as_bytes(),
        )
    }
}

/// `GET /machines/{machine}/activate/{name}?query` on `node`.
fn activate(node: &TestNode, machine: &str, name: &str, query: &[(&str, &str)]) -> (u16, Value) {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    node.get(&format!("/machines/{machine}/activate/{name}?{query}"))
}

fn attest(machine: &str, time: &str, symbol: &str) -> (u16, Value) {
    activate(
        &oracle().node,
        machine,
        "attest-to-price-at-minute",
        &[("time", time), ("symbol", symbol)],
    )
}

fn attest_bits(machine: &str, time: &str, symbol: &str, n_bits: &str) -> (u16, Value) {
    activate(
        &oracle().node,
        machine,
        "bit-decompose-attest-to-price-at-minute",
        &[("time", time), ("symbol", symbol), ("n-bits", n_bits)],
    )
}

/// The `ok` value of a 200 answer.
fn ok(answer: (u16, Value)) -> Value {
    let (status, body) = answer;
    assert_eq!(status, 200, "{body}");
    let object = body.as_object().unwrap();
    assert_eq!(object.len(), 1, "{body}");
    object["ok"].clone()
}

/// Asserts a 422 `{"err": {case: payload}}` and returns the payload.
fn err(answer: (u16, Value), case: &str) -> Value {
    let (status, body) = answer;
    assert_eq!(status, 422, "{body}");
    let error = body.as_object().unwrap()["err"].as_object().unwrap();
    assert_eq!(error.len(), 1, "{body}");
    error
        .get(case)
        .unwrap_or_else(|| panic!("expected {case}, got {body}"))
        .clone()
}

fn assert_mentions(text: &Value, needle: &str) {
    let text = text
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {text}"));
    assert!(text.contains(needle), "{text:?} should mention {needle:?}");
}

// ---------------------------------------------------------------------------------------------
// Attestations.

#[test]
fn the_documented_messages_are_what_this_test_rebuilds() {
    assert_eq!(
        hex::encode(price_message(".BXBT", UNIX_TIME, 30264)),
        DOC_PRICE_MESSAGE
    );
    assert_eq!(
        hex::encode(bit_message(".BXBT", UNIX_TIME, 16, 0, false)),
        DOC_BIT_MESSAGE
    );
}

#[test]
fn price_is_the_composite_tick_rounded_down_and_signed_over_the_documented_message() {
    let machine = oracle().on_mock("ok");
    let attestation = ok(attest(&machine, MINUTE, ".BXBT"));
    let signature = attestation["signature"].clone();
    assert_eq!(
        attestation,
        json!({
            "symbol": ".BXBT",
            "minute": MINUTE,
            "unix-time": UNIX_TIME,
            "price": 30264,
            "signature": signature,
        })
    );
    assert!(verifies(
        &machine,
        &price_message(".BXBT", UNIX_TIME, 30264),
        &signature
    ));
    // Not over another price, minute or symbol, and not for another machine.
    assert!(!verifies(
        &machine,
        &price_message(".BXBT", UNIX_TIME, 30265),
        &signature
    ));
    assert!(!verifies(
        &machine,
        &price_message(".BXBT", UNIX_TIME + 60, 30264),
        &signature
    ));
    assert!(!verifies(
        &machine,
        &price_message(".BETH", UNIX_TIME, 30264),
        &signature
    ));
    assert!(!verifies(
        &oracle().on_mock("unfiltered"),
        &price_message(".BXBT", UNIX_TIME, 30264),
        &signature
    ));

    let other = ok(attest(&machine, "2023-04-16T12:30:00Z", ".BETH"));
    assert_eq!(other["price"], json!(2093));
    assert!(verifies(
        &machine,
        &price_message(".BETH", UNIX_TIME, 2093),
        &other["signature"]
    ));
}

#[test]
fn the_request_upstream_is_the_documented_one() {
    let machine = oracle().on_mock("ok");
    ok(attest(&machine, MINUTE, ".BXBT"));
    let queries = QUERIES.lock().unwrap();
    assert!(
        queries.iter().any(|query| query == DOC_QUERY),
        "{DOC_QUERY} not among {queries:#?}"
    );
}

#[test]
fn time_is_truncated_to_its_minute_in_utc() {
    let machine = oracle().on_mock("ok");
    for time in [
        "2023-04-16T12:30:00Z",
        "2023-04-16T12:30:59Z",
        "2023-04-16T14:30:59+02:00",
        "2023-04-16T12:30:45.123456789Z",
        "2023-04-16T08:00:01.5-04:30",
        "2023-04-16t12:30:00z",
    ] {
        let attestation = ok(attest(&machine, time, ".BXBT"));
        assert_eq!(attestation["minute"], json!(MINUTE), "{time}");
        assert_eq!(attestation["unix-time"], json!(UNIX_TIME), "{time}");
        assert_eq!(attestation["price"], json!(30264), "{time}");
    }
    // The minute before is another event with another price.
    let before = ok(attest(&machine, "2023-04-16T12:29:59.999Z", ".BXBT"));
    assert_eq!(
        (&before["minute"], &before["price"]),
        (&json!("2023-04-16T12:29:00Z"), &json!(30199))
    );
    assert!(verifies(
        &machine,
        &price_message(".BXBT", UNIX_TIME - 60, 30199),
        &before["signature"]
    ));
}

#[test]
fn a_source_that_ignores_the_filter_still_yields_the_composite_tick_of_the_minute() {
    let machine = oracle().on_mock("unfiltered");
    let attestation = ok(attest(&machine, MINUTE, ".BXBT"));
    assert_eq!(attestation["price"], json!(30264));
    assert!(verifies(
        &machine,
        &price_message(".BXBT", UNIX_TIME, 30264),
        &attestation["signature"]
    ));
}

/// Checks a bits attestation: fields, the capped price, bit order and every bit's signature
/// (and that it does not sign the other value).
fn check_bits(machine: &str, attestation: &Value, symbol: &str, n_bits: u8, price: u64) {
    assert_eq!(attestation["symbol"], json!(symbol));
    assert_eq!(attestation["minute"], json!(MINUTE));
    assert_eq!(attestation["unix-time"], json!(UNIX_TIME));
    assert_eq!(attestation["n-bits"], json!(n_bits));
    assert_eq!(attestation["price"], json!(price));
    let bits = attestation["bits"].as_array().unwrap();
    assert_eq!(bits.len(), usize::from(n_bits));
    let mut rebuilt = 0u64;
    for (index, bit) in bits.iter().enumerate() {
        assert_eq!(bit.as_object().unwrap().len(), 2, "{bit}");
        let value = bit["value"].as_bool().unwrap();
        rebuilt = (rebuilt << 1) | u64::from(value);
        let index = u8::try_from(index).unwrap();
        assert!(
            verifies(
                machine,
                &bit_message(symbol, UNIX_TIME, n_bits, index, value),
                &bit["signature"]
            ),
            "bit {index}"
        );
        assert!(!verifies(
            machine,
            &bit_message(symbol, UNIX_TIME, n_bits, index, !value),
            &bit["signature"]
        ));
    }
    assert_eq!(
        rebuilt, price,
        "the bits, most significant first, are the price"
    );
}

#[test]
fn bits_are_signed_most_significant_first() {
    let machine = oracle().on_mock("ok");
    let attestation = ok(attest_bits(&machine, MINUTE, ".BXBT", "16"));
    check_bits(&machine, &attestation, ".BXBT", 16, 30264);
    let values: Vec<bool> = attestation["bits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|bit| bit["value"].as_bool().unwrap())
        .collect();
    let expected: Vec<bool> = "0111011000111000".chars().map(|c| c == '1').collect();
    assert_eq!(values, expected);
}

#[test]
fn the_price_is_capped_at_two_to_the_n_bits_minus_one() {
    let machine = oracle().on_mock("ok");
    check_bits(
        &machine,
        &ok(attest_bits(&machine, MINUTE, ".BXBT", "8")),
        ".BXBT",
        8,
        255,
    );
    check_bits(
        &machine,
        &ok(attest_bits(&machine, MINUTE, ".BXBT", "15")),
        ".BXBT",
        15,
        30264,
    );
    check_bits(
        &machine,
        &ok(attest_bits(&machine, MINUTE, ".BXBT", "14")),
        ".BXBT",
        14,
        16383,
    );
    check_bits(
        &machine,
        &ok(attest_bits(&machine, MINUTE, ".BXBT", "1")),
        ".BXBT",
        1,
        1,
    );
}

#[test]
fn sixty_four_bits_carry_a_price_above_two_to_the_sixty_three() {
    let machine = oracle().on_mock("ok");
    let huge = 18_000_000_000_000_000_000u64;
    let attestation = ok(attest(&machine, MINUTE, ".HUGE"));
    assert_eq!(attestation["price"].as_u64(), Some(huge));
    assert!(verifies(
        &machine,
        &price_message(".HUGE", UNIX_TIME, huge),
        &attestation["signature"]
    ));
    let bits = ok(attest_bits(&machine, MINUTE, ".HUGE", "64"));
    check_bits(&machine, &bits, ".HUGE", 64, huge);
    assert_eq!(bits["bits"][0]["value"], json!(true));
}

#[test]
fn the_seed_route_and_snake_case_spellings_work() {
    let machine = oracle().on_mock("ok");
    let (status, body) = oracle().node.get(&format!(
        "/machines/{machine}/http/attest_to_price_at_minute?time=2023-04-16T12:30:00Z&symbol=.BXBT"
    ));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ok"]["price"], json!(30264));
    assert!(verifies(
        &machine,
        &price_message(".BXBT", UNIX_TIME, 30264),
        &body["ok"]["signature"]
    ));
    let (status, body) = oracle().node.post_json(
        &format!("/machines/{machine}/http/bit_decompose_attest_to_price_at_minute"),
        &json!({"time": MINUTE, "symbol": ".BXBT", "n_bits": 16}),
    );
    assert_eq!(status, 200, "{body}");
    check_bits(&machine, &body["ok"], ".BXBT", 16, 30264);
}

#[test]
fn the_machine_lists_its_activations_and_says_where_its_prices_come_from() {
    let machine = oracle().on_mock("ok");
    let (status, body) = oracle().node.get(&format!("/machines/{machine}"));
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body["activations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "attest-to-price-at-minute",
            "bit-decompose-attest-to-price-at-minute",
            "price-source"
        ]
    );
    let source = |machine: &str| ok(activate(&oracle().node, machine, "price-source", &[]));
    assert_eq!(source(&machine), json!(format!("{}/ok", mock())));
    // A trailing slash is dropped; empty params mean BitMEX itself (nothing is fetched here).
    let slash = oracle().machine(br#"{"api_base": "http://127.0.0.1:9/"}"#);
    assert_eq!(source(&slash), json!("http://127.0.0.1:9"));
    assert_eq!(
        source(&oracle().machine(b"")),
        json!("https://www.bitmex.com")
    );
}

// ---------------------------------------------------------------------------------------------
// Errors.

#[test]
fn bad_input_is_refused_before_anything_is_fetched() {
    let machine = oracle().on_mock("ok");
    for (time, needle) in [
        ("yesterday", "not an RFC 3339 time"),
        ("2023-04-16", "not an RFC 3339 time"),
        ("2023-04-16T12:30:00", "not an RFC 3339 time"),
        ("2023-04-16 12:30", "not an RFC 3339 time"),
        ("2023-02-30T12:30:00Z", "not an RFC 3339 time"),
    ] {
        assert_mentions(&err(attest(&machine, time, ".BXBT"), "bad-input"), needle);
    }
    assert_mentions(
        &err(attest(&machine, MINUTE, ""), "bad-input"),
        "symbol is empty",
    );
    assert_mentions(
        &err(attest(&machine, MINUTE, &"X".repeat(101)), "bad-input"),
        "101 bytes",
    );
    for n_bits in ["0", "65"] {
        assert_mentions(
            &err(attest_bits(&machine, MINUTE, ".BXBT", n_bits), "bad-input"),
            &format!("not {n_bits}"),
        );
    }
    // An n-bits that is no u8 at all is the node's 400, not the machine's.
    assert_eq!(attest_bits(&machine, MINUTE, ".BXBT", "256").0, 400);
}

#[test]
fn bad_params_make_every_activation_fail() {
    for (params, needle) in [
        (&b"not json"[..], "must be empty or JSON"),
        (br#"{"api_base": 5}"#, "must be empty or JSON"),
        (br#"{"api": "http://127.0.0.1:9"}"#, "must be empty or JSON"),
        (
            br#"{"api_base": "http://127.0.0.1:9", "symbol": ".BXBT"}"#,
            "unknown field",
        ),
        (br#"{"api_base": "ftp://127.0.0.1:9"}"#, "not an http"),
        (
            br#"{"api_base": "http://127.0.0.1:9 /x"}"#,
            "api_base `http://127.0.0.1:9 /x` is not usable",
        ),
    ] {
        let machine = oracle().machine(params);
        assert_mentions(
            &err(attest(&machine, MINUTE, ".BXBT"), "bad-params"),
            needle,
        );
        // The bad URL is only found when fetching.
        if !needle.contains("not usable") {
            assert_mentions(
                &err(
                    activate(&oracle().node, &machine, "price-source", &[]),
                    "bad-params",
                ),
                needle,
            );
        }
        err(attest_bits(&machine, MINUTE, ".BXBT", "8"), "bad-params");
    }
}

#[test]
fn an_error_status_upstream_is_upstream_failed_with_that_status() {
    let machine = oracle().on_mock("fail");
    let failure = err(attest(&machine, MINUTE, ".BXBT"), "upstream-failed");
    assert_eq!(
        failure,
        json!({"status": 503, "message": "The system is currently overloaded. Please try again later."})
    );
    err(
        attest_bits(&machine, MINUTE, ".BXBT", "8"),
        "upstream-failed",
    );
}

#[test]
fn no_answer_upstream_is_upstream_failed_without_status() {
    let stalled = err(
        attest(&oracle().on_mock("stall"), MINUTE, ".BXBT"),
        "upstream-failed",
    );
    assert_eq!(stalled["status"], Value::Null, "{stalled}");
    assert_mentions(
        &stalled["message"],
        "did not answer within the node's time limit",
    );

    // A loopback port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let machine = oracle().machine(
        json!({"api_base": format!("http://127.0.0.1:{port}")})
            .to_string()
            .as_bytes(),
    );
    let refused = err(attest(&machine, MINUTE, ".BXBT"), "upstream-failed");
    assert_eq!(refused["status"], Value::Null, "{refused}");
    assert_mentions(&refused["message"], "cannot connect");
}

#[test]
fn no_composite_tick_is_no_price() {
    let machine = oracle().on_mock("ok");
    assert_mentions(
        &err(
            attest(&machine, "2023-04-16T12:31:00Z", ".BXBT"),
            "no-price",
        ),
        "no composite index price (reference BMI) for `.BXBT` at 2023-04-16T12:31:00Z",
    );
    err(attest(&machine, MINUTE, ".NOPE"), "no-price");
    err(attest_bits(&machine, MINUTE, ".NOPE", "8"), "no-price");
    assert_mentions(
        &err(attest(&machine, MINUTE, ".NOLAST"), "no-price"),
        "no lastPrice",
    );
}

#[test]
fn answers_that_make_no_sense_are_bad_upstream_answer() {
    for mode in ["garbage", "wrong-shape"] {
        assert_mentions(
            &err(
                attest(&oracle().on_mock(mode), MINUTE, ".BXBT"),
                "bad-upstream-answer",
            ),
            "not a JSON list of compositeIndex rows",
        );
    }
    assert_mentions(
        &err(
            attest(&oracle().on_mock("ok"), MINUTE, ".NEG"),
            "bad-upstream-answer",
        ),
        "lastPrice -5.5",
    );
}

#[test]
fn a_source_the_node_may_not_reach_is_denied() {
    // The default policy: no loopback. The mock is on loopback, so nothing leaves the host.
    let node = TestNode::start(NodeConfig::development());
    let params = json!({"api_base": format!("{}/ok", mock())}).to_string();
    let (_, machine) = node.machine(&guest("bitmex-oracle"), params.as_bytes());
    let denied = err(
        activate(
            &node,
            &machine,
            "attest-to-price-at-minute",
            &[("time", MINUTE), ("symbol", ".BXBT")],
        ),
        "denied",
    );
    assert_mentions(&denied, "may not contact");
    assert_mentions(&denied, "loopback");
}
