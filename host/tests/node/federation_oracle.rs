//! The BitMEX oracle on a 3-of-5 federation of `carol` processes, against the mock BitMEX on
//! loopback: every member answers the same attestation, signed by the federation key over the
//! documented message; with two members killed it still signs, with three it answers 503 in
//! time saying how many agreed, and with the killed members restarted it signs again.

use crate::durability::scratch;
use crate::federation::{describe, form, wait_ready};
use crate::harness::{bls_verifies, guest};
use crate::oracle::{MINUTE, UNIX_TIME, mock, price_message};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[test]
fn the_bitmex_oracle_on_a_federation_attests_with_the_federation_key() {
    let root = scratch("federation-oracle");
    let (sites, file, mut nodes) = form(
        &root,
        3,
        5,
        "allow_loopback = true\nactivation_timeout_ms = 4000",
    );
    let key = describe(&nodes[0]).public_key.unwrap().to_bytes();
    let params = json!({"api_base": format!("{}/ok", mock())}).to_string();
    let machine = nodes[0].machine(&guest("bitmex-oracle"), params.as_bytes());
    let attest_to = |node: &crate::durability::Carol, symbol: &str| {
        node.get(&format!(
            "/machines/{machine}/activate/attest-to-price-at-minute?time={MINUTE}&symbol={symbol}"
        ))
    };
    let attest = |node: &crate::durability::Carol| attest_to(node, ".BXBT");

    let (status, first) = attest(&nodes[0]);
    assert_eq!(status, 200, "{first}");
    let attestation = &first["ok"];
    assert_eq!(attestation["price"], 30264, "{first}");
    let signature = hex::decode(attestation["signature"].as_str().unwrap()).unwrap();
    let mut signed = hex::decode(&machine).unwrap();
    signed.extend_from_slice(&price_message(".BXBT", UNIX_TIME, 30264));
    assert!(bls_verifies(&key, &signed, &signature));
    for node in &nodes[1..] {
        assert_eq!(attest(node), (200, first.clone()));
    }

    // Two members down: it still signs (another symbol, so a signature not made before).
    nodes.truncate(3);
    let (status, eth) = attest_to(&nodes[2], ".BETH");
    assert_eq!(status, 200, "{eth}");
    let mut signed = hex::decode(&machine).unwrap();
    signed.extend_from_slice(&price_message(".BETH", UNIX_TIME, 2093));
    let signature = hex::decode(eth["ok"]["signature"].as_str().unwrap()).unwrap();
    assert!(bls_verifies(&key, &signed, &signature));
    // Three down: 503 within the activation timeout, saying how many agreed.
    nodes.truncate(2);
    let started = Instant::now();
    let (status, body): (u16, Value) = attest_to(&nodes[1], ".HUGE");
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        (body["agreed"].clone(), body["threshold"].clone()),
        (json!(2), json!(3))
    );
    assert!(started.elapsed() < Duration::from_secs(4));

    // The killed members restarted: it signs again, with nothing lost.
    for site in &sites[2..] {
        nodes.push(site.start(Some(&file)));
    }
    wait_ready(&nodes.iter().collect::<Vec<_>>());
    let (status, huge) = attest_to(&nodes[4], ".HUGE");
    assert_eq!(status, 200, "{huge}");
    for node in &nodes {
        assert_eq!(attest_to(node, ".HUGE"), (200, huge.clone()));
        assert_eq!(attest(node), (200, first.clone()));
    }
}
