//! The dlcspecs oracle example (`examples/dlc-oracle`) on a real node, against a mock BitMEX on
//! loopback. Announcements and attestations are read by an independent dlcspecs implementation
//! (rust-dlc's `dlc-messages`), which also validates them, and every Schnorr signature is
//! checked with libsecp256k1 (the `secp256k1` crate) against the announced key and nonces.

use crate::harness::{TestNode, guest, serve_locally};
use axum::Json;
use axum::Router;
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use carol_host::NodeConfig;
use dlc_messages::oracle_msgs::{EventDescriptor, OracleAnnouncement, OracleAttestation};
use dlc_messages::ser_impls::{read_as_tlv, write_as_tlv};
use lightning::ln::wire::Type;
use lightning::util::ser::{Readable, Writeable};
use secp256k1::schnorr::Signature;
use secp256k1::{Message, Secp256k1, XOnlyPublicKey};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// A past minute, 2023-04-16T12:30:00Z, so events mature at once.
pub(crate) const MATURITY: u32 = 1_681_648_200;
const MATURITY_TIME: &str = "2023-04-16T12:30:00Z";
/// A minute in 2096: not mature during any test run.
const FAR_FUTURE: u32 = 4_000_000_020;

// ---------------------------------------------------------------------------------------------
// A mock BitMEX whose price each test sets and changes.

/// The price each mock source answers, by the first path segment of its base URL.
static PRICES: Mutex<Option<HashMap<String, f64>>> = Mutex::new(None);
/// Prices a mock source answers one after the other, before its price: members of a federation
/// that each fetch once see different prices.
static SCRIPTS: Mutex<Option<HashMap<String, std::collections::VecDeque<f64>>>> = Mutex::new(None);
/// How many requests each mock source was sent.
static FETCHES: Mutex<Option<HashMap<String, u32>>> = Mutex::new(None);

pub(crate) fn mock() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        serve_locally(Router::new().route(
            "/{source}/api/v1/instrument/compositeIndex",
            get(composite_index),
        ))
    })
}

pub(crate) fn set_price(source: &str, price: f64) {
    PRICES
        .lock()
        .unwrap()
        .get_or_insert_default()
        .insert(source.into(), price);
}

/// Has `source` answer `prices`, one request each, before its price.
pub(crate) fn script_prices(source: &str, prices: &[f64]) {
    SCRIPTS
        .lock()
        .unwrap()
        .get_or_insert_default()
        .insert(source.into(), prices.iter().copied().collect());
}

fn fetches(source: &str) -> u32 {
    FETCHES
        .lock()
        .unwrap()
        .get_or_insert_default()
        .get(source)
        .copied()
        .unwrap_or(0)
}

/// The composite index row of the minute the filter names, at the source's current price.
async fn composite_index(Path(source): Path<String>, RawQuery(query): RawQuery) -> Response {
    *FETCHES
        .lock()
        .unwrap()
        .get_or_insert_default()
        .entry(source.clone())
        .or_default() += 1;
    let scripted = SCRIPTS
        .lock()
        .unwrap()
        .get_or_insert_default()
        .get_mut(&source)
        .and_then(|prices| prices.pop_front());
    let price = scripted.or_else(|| {
        PRICES
            .lock()
            .unwrap()
            .get_or_insert_default()
            .get(&source)
            .copied()
    });
    let Some(price) = price else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let query = query.unwrap_or_default();
    let pairs: Map<String, Value> = form_urlencoded::parse(query.as_bytes())
        .map(|(key, value)| (key.into_owned(), json!(value)))
        .collect();
    let filter: Value = serde_json::from_str(pairs["filter"].as_str().unwrap()).unwrap();
    let timestamp = format!(
        "{}T{:02}:{:02}:00.000Z",
        filter["timestamp.date"].as_str().unwrap(),
        filter["timestamp.hh"].as_u64().unwrap(),
        filter["timestamp.uu"].as_u64().unwrap()
    );
    Json(json!([{
        "timestamp": timestamp,
        "symbol": pairs["symbol"],
        "reference": "BMI",
        "lastPrice": price,
        "weight": null,
    }]))
    .into_response()
}

// ---------------------------------------------------------------------------------------------
// The node, its machines and activations.

pub(crate) struct Oracle {
    pub(crate) node: TestNode,
    pub(crate) binary: String,
}

pub(crate) fn oracle() -> &'static Oracle {
    static ORACLE: OnceLock<Oracle> = OnceLock::new();
    ORACLE.get_or_init(|| {
        let mut config = NodeConfig::development();
        config.policy.allow_loopback = true;
        let node = TestNode::start(config);
        let (binary, _) = node.machine(&guest("dlc-oracle"), b"");
        Oracle { node, binary }
    })
}

/// A machine of its own fetching from the mock source `source` at `price`, with the message
/// hashing `message_hash` (the default when `None`).
pub(crate) fn new_machine(source: &str, price: f64, message_hash: Option<&str>) -> String {
    set_price(source, price);
    let mut params = json!({"api_base": format!("{}/{source}", mock())});
    if let Some(message_hash) = message_hash {
        params["message_hash"] = json!(message_hash);
    }
    let (status, body) = oracle().node.post_bytes(
        &format!("/binaries/{}", oracle().binary),
        params.to_string().as_bytes(),
    );
    assert!(
        status == 201 || status == 200,
        "create answered {status}: {body}"
    );
    body["id"].as_str().unwrap().to_owned()
}

fn activate(machine: &str, name: &str, query: &[(&str, &str)]) -> (u16, Value) {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    oracle()
        .node
        .get(&format!("/machines/{machine}/activate/{name}?{query}"))
}

pub(crate) fn announce(
    machine: &str,
    event: &str,
    maturity: u32,
    base: u16,
    digits: u16,
) -> (u16, Value) {
    activate(
        machine,
        "announce",
        &[
            ("event-id", event),
            ("symbol", ".BXBT"),
            ("maturity", &maturity.to_string()),
            ("base", &base.to_string()),
            ("nb-digits", &digits.to_string()),
        ],
    )
}

pub(crate) fn attest(machine: &str, event: &str) -> (u16, Value) {
    activate(machine, "attest", &[("event-id", event)])
}

/// The `ok` value of a 200 answer.
fn ok(answer: (u16, Value)) -> Value {
    let (status, body) = answer;
    assert_eq!(status, 200, "{body}");
    body["ok"].clone()
}

/// Asserts a 422 `{"err": {case: payload}}` and returns the payload.
fn err(answer: (u16, Value), case: &str) -> Value {
    let (status, body) = answer;
    assert_eq!(status, 422, "{body}");
    body["err"]
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

fn bytes(hex: &Value) -> Vec<u8> {
    hex::decode(hex.as_str().expect("hex")).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Reading and checking with rust-dlc and libsecp256k1.

/// Reads a TLV of `kind` with dlc-messages: the whole of it, and written back byte for byte.
fn read_tlv<T: Readable + Type>(tlv: &[u8], kind: [u8; 3]) -> T {
    assert_eq!(tlv[..3], kind, "BigSize type");
    let mut rest = tlv;
    let value: T = read_as_tlv(&mut rest).expect("dlc-messages reads the TLV");
    assert!(rest.is_empty(), "{} bytes after the TLV", rest.len());
    let mut written = Vec::new();
    write_as_tlv(&value, &mut written).unwrap();
    assert_eq!(written, tlv, "dlc-messages writes it back the same");
    value
}

/// BigSize 55332 and 55400.
const ANNOUNCEMENT_TYPE: [u8; 3] = [0xfd, 0xd8, 0x24];
const ATTESTATION_TYPE: [u8; 3] = [0xfd, 0xd8, 0x68];

/// SHA-256 of `message`, or its BIP340 tagged hash under `tag` (dlcspecs).
fn message(message: &[u8], tag: Option<&str>) -> Message {
    let digest = match tag {
        None => Sha256::digest(message),
        Some(tag) => {
            let tag = Sha256::digest(tag.as_bytes());
            Sha256::new()
                .chain_update(tag)
                .chain_update(tag)
                .chain_update(message)
                .finalize()
        }
    };
    Message::from_digest(digest.into())
}

/// Parses an announcement answer, checks its JSON against its TLV, and (with the rust-dlc
/// hashing) has dlc-messages validate it.
pub(crate) fn check_announcement(
    answer: &Value,
    event: &str,
    maturity: u32,
    base: u16,
    digits: u16,
) -> OracleAnnouncement {
    let parsed: OracleAnnouncement = read_tlv(&bytes(&answer["tlv"]), ANNOUNCEMENT_TYPE);
    let event_of = &parsed.oracle_event;
    assert_eq!(event_of.event_id, event);
    assert_eq!(event_of.event_maturity_epoch, maturity);
    let EventDescriptor::DigitDecompositionEvent(descriptor) = &event_of.event_descriptor else {
        panic!("not a digit decomposition: {:?}", event_of.event_descriptor);
    };
    assert_eq!(
        (
            descriptor.base,
            descriptor.is_signed,
            descriptor.unit.as_str()
        ),
        (base, false, "usd")
    );
    assert_eq!((descriptor.precision, descriptor.nb_digits), (0, digits));
    assert_eq!(event_of.oracle_nonces.len(), usize::from(digits));

    assert_eq!(answer["event-id"], json!(event));
    assert_eq!(answer["symbol"], json!(".BXBT"));
    assert_eq!(answer["maturity"], json!(maturity));
    assert_eq!(answer["base"], json!(base));
    assert_eq!(answer["nb-digits"], json!(digits));
    assert_eq!(answer["unit"], json!("usd"));
    assert_eq!(answer["precision"], json!(0));
    assert_eq!(
        bytes(&answer["oracle-public-key"]),
        parsed.oracle_public_key.serialize()
    );
    assert_eq!(
        bytes(&answer["signature"]),
        parsed.announcement_signature.as_ref()
    );
    let nonces: Vec<Vec<u8>> = answer["nonces"]
        .as_array()
        .unwrap()
        .iter()
        .map(bytes)
        .collect();
    let parsed_nonces: Vec<Vec<u8>> = event_of
        .oracle_nonces
        .iter()
        .map(|nonce| nonce.serialize().to_vec())
        .collect();
    assert_eq!(nonces, parsed_nonces);
    let mut distinct = nonces.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), nonces.len(), "one nonce per digit");

    let secp = Secp256k1::verification_only();
    match answer["message-hash"].as_str().unwrap() {
        "sha256" => parsed
            .validate(&secp)
            .expect("dlc-messages validates the announcement"),
        "tagged" => secp
            .verify_schnorr(
                &parsed.announcement_signature,
                // The event's value, without its TLV type and length, as rust-dlc signs it too.
                &message(
                    &parsed.oracle_event.encode(),
                    Some("DLC/oracle/announcement/v0"),
                ),
                &parsed.oracle_public_key,
            )
            .expect("the announcement signature verifies over the tagged hash"),
        other => panic!("message-hash {other}"),
    }
    parsed
}

/// Parses an attestation answer and checks it: its JSON against its TLV, every signature with
/// libsecp256k1 (R is the announced nonce of its digit, BIP340 over the digit's hash), and,
/// with the rust-dlc hashing, dlc-messages' own validation against the announcement.
pub(crate) fn check_attestation(
    answer: &Value,
    announcement: &OracleAnnouncement,
    tag: Option<&str>,
) -> OracleAttestation {
    let parsed: OracleAttestation = read_tlv(&bytes(&answer["tlv"]), ATTESTATION_TYPE);
    assert_eq!(parsed.event_id, announcement.oracle_event.event_id);
    assert_eq!(parsed.oracle_public_key, announcement.oracle_public_key);
    assert_eq!(answer["event-id"], json!(parsed.event_id));
    assert_eq!(
        bytes(&answer["oracle-public-key"]),
        parsed.oracle_public_key.serialize()
    );
    assert_eq!(answer["outcomes"], json!(parsed.outcomes));
    let signatures: Vec<Vec<u8>> = answer["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(bytes)
        .collect();
    let parsed_signatures: Vec<Vec<u8>> = parsed
        .signatures
        .iter()
        .map(|signature| signature.as_ref().to_vec())
        .collect();
    assert_eq!(signatures, parsed_signatures);

    let nonces = &announcement.oracle_event.oracle_nonces;
    assert_eq!(parsed.signatures.len(), nonces.len());
    assert_eq!(parsed.outcomes.len(), nonces.len());
    let secp = Secp256k1::verification_only();
    for ((signature, outcome), nonce) in parsed.signatures.iter().zip(&parsed.outcomes).zip(nonces)
    {
        assert_eq!(
            XOnlyPublicKey::from_slice(&signature.as_ref()[..32]).unwrap(),
            *nonce,
            "the signature of {outcome} uses its announced nonce"
        );
        secp.verify_schnorr(
            signature,
            &message(outcome.as_bytes(), tag),
            &parsed.oracle_public_key,
        )
        .unwrap_or_else(|e| panic!("the signature of digit {outcome}: {e}"));
    }
    if tag.is_none() {
        parsed
            .validate(&secp, announcement)
            .expect("dlc-messages validates the attestation");
    }

    // The digits, most significant first, are the outcome.
    let base = u64::from(match &announcement.oracle_event.event_descriptor {
        EventDescriptor::DigitDecompositionEvent(descriptor) => descriptor.base,
        EventDescriptor::EnumEvent(_) => unreachable!(),
    });
    let outcome = parsed.outcomes.iter().fold(0u64, |value, digit| {
        let digit: u64 = digit.parse().unwrap();
        assert!(digit < base, "digit {digit} in base {base}");
        value * base + digit
    });
    assert_eq!(answer["outcome"], json!(outcome));
    parsed
}

fn signature_changed(signature: &Signature) -> Signature {
    let mut bytes = *signature.as_ref();
    bytes[63] ^= 1;
    Signature::from_slice(&bytes).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Announcements.

#[test]
fn the_announcement_is_a_dlcspecs_oracle_announcement_that_rust_dlc_validates() {
    let machine = new_machine("announce", 30264.87, None);
    let answer = ok(announce(
        &machine,
        "btcusd-2023-04-16T12:30Z",
        MATURITY,
        2,
        20,
    ));
    let parsed = check_announcement(&answer, "btcusd-2023-04-16T12:30Z", MATURITY, 2, 20);
    assert_eq!(answer["maturity-time"], json!(MATURITY_TIME));
    assert_eq!(answer["max-outcome"], json!((1u64 << 20) - 1));
    assert_eq!(answer["message-hash"], json!("sha256"));
    // docs/dlc-oracle.md's descriptor for base 2 and 20 digits.
    assert!(
        answer["tlv"]
            .as_str()
            .unwrap()
            .contains("fdd80a0d00020003757364000000000014"),
        "{}",
        answer["tlv"]
    );
    assert_eq!(
        activate(&machine, "oracle-public-key", &[]),
        (200, answer["oracle-public-key"].clone())
    );
    // The same announcement when looked up, and when announced again with the same terms.
    assert_eq!(
        ok(activate(
            &machine,
            "announcement",
            &[("event-id", "btcusd-2023-04-16T12:30Z")]
        )),
        answer
    );
    assert_eq!(
        ok(announce(
            &machine,
            "btcusd-2023-04-16T12:30Z",
            MATURITY,
            2,
            20
        )),
        answer
    );
    // A tampered signature does not validate: the check above means something.
    let mut tampered = parsed.clone();
    tampered.announcement_signature = signature_changed(&parsed.announcement_signature);
    assert!(tampered.validate(&Secp256k1::verification_only()).is_err());
    // Announcing needs no price.
    assert_eq!(fetches("announce"), 0);
}

#[test]
fn each_event_has_its_own_nonces_and_other_machines_their_own_keys() {
    let machine = new_machine("nonces", 30264.87, None);
    let one = check_announcement(
        &ok(announce(&machine, "one", MATURITY, 10, 6)),
        "one",
        MATURITY,
        10,
        6,
    );
    let two = check_announcement(
        &ok(announce(&machine, "two", MATURITY, 10, 6)),
        "two",
        MATURITY,
        10,
        6,
    );
    assert_eq!(one.oracle_public_key, two.oracle_public_key);
    for nonce in &one.oracle_event.oracle_nonces {
        assert!(!two.oracle_event.oracle_nonces.contains(nonce));
    }
    let other = new_machine("nonces-elsewhere", 30264.87, None);
    let three = check_announcement(
        &ok(announce(&other, "one", MATURITY, 10, 6)),
        "one",
        MATURITY,
        10,
        6,
    );
    assert_ne!(three.oracle_public_key, one.oracle_public_key);
    assert_ne!(
        three.oracle_event.oracle_nonces,
        one.oracle_event.oracle_nonces
    );
}

#[test]
fn an_event_id_announced_with_other_terms_is_refused_with_the_announcement_it_has() {
    let machine = new_machine("terms", 30264.87, None);
    let first = ok(announce(&machine, "event", MATURITY, 2, 16));
    for (maturity, base, digits) in [
        (MATURITY + 60, 2, 16),
        (MATURITY, 10, 16),
        (MATURITY, 2, 17),
    ] {
        let refused = err(
            announce(&machine, "event", maturity, base, digits),
            "announced-differently",
        );
        assert_eq!(refused, first);
    }
    let other_symbol = activate(
        &machine,
        "announce",
        &[
            ("event-id", "event"),
            ("symbol", ".BETH"),
            ("maturity", &MATURITY.to_string()),
            ("base", "2"),
            ("nb-digits", "16"),
        ],
    );
    assert_eq!(err(other_symbol, "announced-differently"), first);
}

#[test]
fn bad_announcements_are_refused() {
    let machine = new_machine("bad-input", 30264.87, None);
    for ((event, maturity, base, digits), needle) in [
        (("", MATURITY, 2, 8), "event id is 0 bytes"),
        ((&*"e".repeat(251), MATURITY, 2, 8), "event id is 251 bytes"),
        (("e", MATURITY + 30, 2, 8), "not the start of a minute"),
        (("e", MATURITY, 1, 8), "base must be 2 to 16, not 1"),
        (("e", MATURITY, 17, 8), "base must be 2 to 16, not 17"),
        (("e", MATURITY, 2, 0), "nb-digits must be 1 to 64, not 0"),
        (("e", MATURITY, 2, 65), "nb-digits must be 1 to 64, not 65"),
    ] {
        assert_mentions(
            &err(
                announce(&machine, event, maturity, base, digits),
                "bad-input",
            ),
            needle,
        );
    }
    assert_mentions(
        &err(attest(&machine, "never-announced"), "not-announced"),
        "announce it first",
    );
    let (status, body) = oracle().node.post_bytes(
        &format!("/binaries/{}", oracle().binary),
        br#"{"message_hash": "sha512"}"#,
    );
    assert!(status == 201 || status == 200, "{body}");
    let bad_params = body["id"].as_str().unwrap();
    assert_mentions(
        &err(announce(bad_params, "e", MATURITY, 2, 8), "bad-params"),
        "message_hash `sha512`",
    );
}

// ---------------------------------------------------------------------------------------------
// Attestations.

#[test]
fn the_attestation_signs_each_digit_with_its_announced_nonce() {
    let machine = new_machine("attest", 30264.87, None);
    let announcement = check_announcement(
        &ok(announce(&machine, "btcusd", MATURITY, 2, 20)),
        "btcusd",
        MATURITY,
        2,
        20,
    );
    let answer = ok(attest(&machine, "btcusd"));
    let parsed = check_attestation(&answer, &announcement, None);
    assert_eq!(answer["price"], json!(30264));
    assert_eq!(answer["outcome"], json!(30264));
    assert_eq!(answer["symbol"], json!(".BXBT"));
    assert_eq!(answer["maturity"], json!(MATURITY));
    let expected: Vec<String> = format!("{:020b}", 30264)
        .chars()
        .map(String::from)
        .collect();
    assert_eq!(parsed.outcomes, expected);
    // A signature over another digit does not verify.
    let secp = Secp256k1::verification_only();
    let flipped = if parsed.outcomes[19] == "0" { "1" } else { "0" };
    assert!(
        secp.verify_schnorr(
            &parsed.signatures[19],
            &message(flipped.as_bytes(), None),
            &parsed.oracle_public_key
        )
        .is_err()
    );
}

#[test]
fn asked_again_it_answers_the_same_attestation_without_fetching_even_if_the_source_changed() {
    let machine = new_machine("again", 30264.87, None);
    let announcement = check_announcement(
        &ok(announce(&machine, "once", MATURITY, 10, 6)),
        "once",
        MATURITY,
        10,
        6,
    );
    let first = ok(attest(&machine, "once"));
    check_attestation(&first, &announcement, None);
    assert_eq!(first["outcome"], json!(30264));
    assert_eq!(fetches("again"), 1);

    // The source now says something else: the event keeps its one outcome.
    set_price("again", 41000.0);
    assert_eq!(ok(attest(&machine, "once")), first);
    assert_eq!(fetches("again"), 1);
    // Its announcement cannot be made again with terms that would need new signatures either.
    err(
        announce(&machine, "once", MATURITY, 10, 7),
        "announced-differently",
    );
    assert_eq!(
        ok(announce(&machine, "once", MATURITY, 10, 6))["tlv"],
        announcement_tlv(&announcement)
    );
}

fn announcement_tlv(announcement: &OracleAnnouncement) -> Value {
    let mut tlv = Vec::new();
    write_as_tlv(announcement, &mut tlv).unwrap();
    json!(hex::encode(tlv))
}

#[test]
fn before_maturity_attestation_is_refused_and_nothing_is_fetched() {
    let machine = new_machine("early", 30264.87, None);
    ok(announce(&machine, "later", FAR_FUTURE, 2, 16));
    let refused = err(attest(&machine, "later"), "too-early");
    assert_mentions(&refused, "matures at 2096-10-02T07:07:00Z");
    assert_mentions(&refused, "ask again then");
    assert_eq!(fetches("early"), 0);
}

#[test]
fn a_price_beyond_the_digits_is_attested_as_the_largest_outcome() {
    let machine = new_machine("clamp", 30264.87, None);
    let binary = check_announcement(
        &ok(announce(&machine, "bits", MATURITY, 2, 8)),
        "bits",
        MATURITY,
        2,
        8,
    );
    let answer = ok(attest(&machine, "bits"));
    let parsed = check_attestation(&answer, &binary, None);
    assert_eq!(
        (&answer["price"], &answer["outcome"]),
        (&json!(30264), &json!(255))
    );
    assert_eq!(parsed.outcomes, vec!["1"; 8]);

    let decimal = check_announcement(
        &ok(announce(&machine, "decimal", MATURITY, 10, 3)),
        "decimal",
        MATURITY,
        10,
        3,
    );
    let answer = ok(attest(&machine, "decimal"));
    assert_eq!(
        check_attestation(&answer, &decimal, None).outcomes,
        vec!["9"; 3]
    );
    assert_eq!(answer["outcome"], json!(999));

    // Base 16: digits above 9 are signed as decimal strings.
    let hex_event = check_announcement(
        &ok(announce(&machine, "hex", MATURITY, 16, 4)),
        "hex",
        MATURITY,
        16,
        4,
    );
    let answer = ok(attest(&machine, "hex"));
    // 30264 is 0x7638.
    assert_eq!(
        check_attestation(&answer, &hex_event, None).outcomes,
        ["7", "6", "3", "8"]
    );

    // Leading zeros are signed.
    let wide = check_announcement(
        &ok(announce(&machine, "wide", MATURITY, 10, 8)),
        "wide",
        MATURITY,
        10,
        8,
    );
    let answer = ok(attest(&machine, "wide"));
    assert_eq!(
        check_attestation(&answer, &wide, None).outcomes,
        ["0", "0", "0", "3", "0", "2", "6", "4"]
    );
}

#[test]
fn with_tagged_hashes_the_signatures_verify_over_dlcspecs_tagged_messages() {
    let machine = new_machine("tagged", 30264.87, Some("tagged"));
    let answer = ok(announce(&machine, "tagged", MATURITY, 2, 16));
    assert_eq!(answer["message-hash"], json!("tagged"));
    let announcement = check_announcement(&answer, "tagged", MATURITY, 2, 16);
    // rust-dlc hashes without tags, so it does not accept these.
    assert!(
        announcement
            .validate(&Secp256k1::verification_only())
            .is_err()
    );
    let attestation = ok(attest(&machine, "tagged"));
    check_attestation(
        &attestation,
        &announcement,
        Some("DLC/oracle/attestation/v0"),
    );
    assert_eq!(attestation["outcome"], json!(30264));
}

#[test]
fn a_failed_fetch_signs_nothing_and_a_later_attestation_succeeds() {
    let machine = new_machine("flaky", 30264.87, None);
    let announcement = check_announcement(
        &ok(announce(&machine, "flaky", MATURITY, 2, 16)),
        "flaky",
        MATURITY,
        2,
        16,
    );
    PRICES
        .lock()
        .unwrap()
        .get_or_insert_default()
        .remove("flaky");
    let failed = err(attest(&machine, "flaky"), "upstream-failed");
    assert_eq!(failed["status"], json!(404));
    set_price("flaky", 30264.87);
    check_attestation(&ok(attest(&machine, "flaky")), &announcement, None);
}
