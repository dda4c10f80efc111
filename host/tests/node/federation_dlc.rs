//! The dlcspecs oracle (`examples/dlc-oracle`, unchanged) on a 3-of-5 federation of `carol`
//! processes: one oracle to a wallet, t of n underneath. The announcement is the same bytes from
//! every member, its key the machine's tweak of the federation's secp256k1 key and one committed
//! nonce per digit, all made by the members together; the attestation is made with two members
//! down. Everything is read and validated by rust-dlc's `dlc-messages` and checked with
//! libsecp256k1.

use crate::dlc_oracle::{MATURITY, check_announcement, check_attestation, mock, set_price};
use crate::durability::{Carol, scratch};
use crate::federation::form;
use crate::harness::guest;
use serde_json::{Value, json};

const EVENT: &str = "btc-usd-federated";

fn announce(node: &Carol, machine: &str) -> (u16, Value) {
    node.get(&format!(
        "/machines/{machine}/activate/announce?event-id={EVENT}&symbol=.BXBT&maturity={MATURITY}\
         &base=2&nb-digits=20"
    ))
}

fn attest(node: &Carol, machine: &str) -> (u16, Value) {
    node.get(&format!(
        "/machines/{machine}/activate/attest?event-id={EVENT}"
    ))
}

#[test]
fn a_three_of_five_federation_is_one_dlc_oracle() {
    let root = scratch("federation-dlc");
    let (sites, file, mut nodes) = form(
        &root,
        3,
        5,
        "allow_loopback = true\nactivation_timeout_ms = 60000",
    );
    set_price("federated", 27_123.0);
    let params = json!({"api_base": format!("{}/federated", mock())}).to_string();
    let machine = nodes[0].machine(&guest("dlc-oracle"), params.as_bytes());

    let started = std::time::Instant::now();
    let (status, announced) = announce(&nodes[0], &machine);
    eprintln!("announced in {:?}", started.elapsed());
    for line in nodes[2]
        .log()
        .iter()
        .filter(|l| l.contains("secret") || l.contains("agree"))
    {
        eprintln!("{line}");
    }
    assert_eq!(status, 200, "{announced}");
    let announcement = check_announcement(&announced["ok"], EVENT, MATURITY, 2, 20);
    // One oracle: the same announcement from every member, under the key every member says is
    // the machine's.
    for node in &nodes[1..] {
        assert_eq!(announce(node, &machine), (200, announced.clone()));
        let (status, key) = node.get(&format!("/machines/{machine}/activate/oracle-public-key"));
        assert_eq!(status, 200, "{key}");
        assert_eq!(
            key,
            json!(hex::encode(announcement.oracle_public_key.serialize()))
        );
    }

    // A member killed with SIGKILL and started again answers the same bytes.
    drop(nodes.remove(1));
    nodes.insert(1, sites[1].start(Some(&file)));
    assert_eq!(announce(&nodes[1], &machine), (200, announced.clone()));

    // Two members down: three attest together.
    nodes.truncate(3);
    let started = std::time::Instant::now();
    let (status, attested) = attest(&nodes[2], &machine);
    eprintln!("attested in {:?}", started.elapsed());
    assert_eq!(status, 200, "{attested}");
    let attestation = check_attestation(&attested["ok"], &announcement, None);
    assert_eq!(attested["ok"]["outcome"], json!(27_123), "{attested}");
    assert_eq!(attestation.outcomes.len(), 20);
    for node in &nodes[..2] {
        assert_eq!(attest(node, &machine), (200, attested.clone()));
    }
}
