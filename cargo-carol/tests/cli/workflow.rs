//! The original prototype's "full workflow", in its typed form, as the README tells a user to
//! run it: a configured node, a local price source, the BitMEX oracle built, uploaded and
//! created by scripts, activated with plain HTTP, and its signature checked on the client side.

use crate::harness::{CarolNode, bls_verifies, cargo_carol, stdout, workspace_binary};
use crate::node::{config_gen, scratch};
use carol_core::ids::{BinaryId, MachineId};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

/// The local price source, killed when dropped.
pub struct PriceSource(Child);

impl Drop for PriceSource {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `price-source` on a free port; returns it and the params hex it prints.
pub fn price_source() -> (PriceSource, String) {
    let mut child = workspace_binary("price-source", "price-source")
        .arg("127.0.0.1:0")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let params = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            line.strip_prefix("params hex")
                .map(|hex| hex.trim().to_owned())
        })
        .expect("price-source prints the oracle's params");
    (PriceSource(child), params)
}

/// The documented message of a price attestation (docs/oracle.md).
fn price_message(symbol: &str, unix_time: i64, price: u64) -> Vec<u8> {
    let mut message = b"carol-bitmex-oracle/price/v1".to_vec();
    message.extend_from_slice(&u32::try_from(symbol.len()).unwrap().to_be_bytes());
    message.extend_from_slice(symbol.as_bytes());
    message.extend_from_slice(&unix_time.to_be_bytes());
    message.extend_from_slice(&price.to_be_bytes());
    message
}

/// The documented message of one bit of a bit-by-bit attestation.
fn bit_message(symbol: &str, unix_time: i64, n_bits: u8, index: u8, value: bool) -> Vec<u8> {
    let mut message = b"carol-bitmex-oracle/bit/v1".to_vec();
    message.extend_from_slice(&u32::try_from(symbol.len()).unwrap().to_be_bytes());
    message.extend_from_slice(symbol.as_bytes());
    message.extend_from_slice(&unix_time.to_be_bytes());
    message.extend_from_slice(&[n_bits, index, u8::from(value)]);
    message
}

#[test]
fn seed_full_workflow_with_the_bitmex_oracle() {
    let dir = scratch("workflow");
    let cfg = dir.join("carol.toml");
    config_gen(&cfg);
    let (_source, params) = price_source();
    let node = CarolNode::start(&["--cfg", cfg.to_str().unwrap(), "--allow-loopback"]);
    let carol_url = node.url.as_str();

    // wasm_output_file=$(cargo carol build -p bitmex-oracle)
    let wasm_output_file = stdout(&cargo_carol(&["build", "-p", "bitmex-oracle"]))
        .trim()
        .to_owned();
    let component = std::fs::read(&wasm_output_file).unwrap();
    // binary_id=$(cargo carol -q upload --carol-url "$carol_url" --binary "$wasm_output_file")
    let binary_id = stdout(&cargo_carol(&[
        "-q",
        "upload",
        "--carol-url",
        carol_url,
        "--binary",
        &wasm_output_file,
    ]))
    .trim()
    .to_owned();
    assert_eq!(binary_id, BinaryId::of(&component).to_string());
    // machine_id=$(cargo carol -q create --carol-url "$carol_url" --binary-id "$binary_id" --params ...)
    let machine_id = stdout(&cargo_carol(&[
        "-q",
        "create",
        "--carol-url",
        carol_url,
        "--binary-id",
        &binary_id,
        "--params",
        &params,
    ]))
    .trim()
    .to_owned();
    let binary: BinaryId = binary_id.parse().unwrap();
    assert_eq!(
        machine_id,
        MachineId::of(&binary, &hex::decode(&params).unwrap()).to_string()
    );
    // cargo carol api -p bitmex_oracle (the seed's spelling)
    let api = stdout(&cargo_carol(&["api", "-p", "bitmex_oracle"]));
    assert!(
        api.contains("attest-to-price-at-minute(time: string, symbol: string) -> result<"),
        "{api}"
    );
    assert!(
        api.contains("bit-decompose-attest-to-price-at-minute("),
        "{api}"
    );

    // curl -G "$carol_url/machines/$machine_id/http/attest_to_price_at_minute" -d time=... -d symbol=.BXBT
    let answer: Value = ureq::get(&format!(
        "{carol_url}/machines/{machine_id}/http/attest_to_price_at_minute?time=2023-04-16T12:30:42Z&symbol=.BXBT"
    ))
    .call()
    .unwrap()
    .body_mut()
    .read_json()
    .unwrap();
    let attestation = &answer["ok"];
    assert_eq!(attestation["minute"], "2023-04-16T12:30:00Z", "{answer}");
    assert_eq!(attestation["unix-time"], 1_681_648_200);
    let price = attestation["price"].as_u64().unwrap();
    assert!((20_000..70_000).contains(&price), "{answer}");
    let signature = attestation["signature"].as_str().unwrap();

    // The message is rebuilt here from what was asked, never taken from the node.
    let message = price_message(".BXBT", 1_681_648_200, price);
    let verify = |message: &[u8], signature: &str| {
        cargo_carol(&[
            "verify",
            "--carol-url",
            carol_url,
            "--machine",
            &machine_id,
            "--message",
            &hex::encode(message),
            "--signature",
            signature,
        ])
    };
    assert!(verify(&message, signature).status.success());
    assert!(
        !verify(&price_message(".BXBT", 1_681_648_200, price + 1), signature)
            .status
            .success()
    );

    // The public key from the configuration file, and an independent BLS implementation.
    let key = carol_host::config::Config::load(&cfg)
        .unwrap()
        .node
        .key
        .public_key();
    let verifies = |message: &[u8], signature: &str| {
        let mut signed = hex::decode(&machine_id).unwrap();
        signed.extend_from_slice(message);
        bls_verifies(&key.to_bytes(), &signed, &hex::decode(signature).unwrap())
    };
    assert!(verifies(&message, signature));

    // Bit by bit, through `cargo carol call`.
    let output = cargo_carol(&[
        "call",
        "--carol-url",
        carol_url,
        &machine_id,
        "bit-decompose-attest-to-price-at-minute",
        "time=2023-04-16T12:30:00Z",
        "symbol=.BXBT",
        "n-bits=20",
    ]);
    let answer: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let bits = &answer["ok"];
    assert_eq!(bits["price"].as_u64().unwrap(), price.min((1 << 20) - 1));
    let bits = bits["bits"].as_array().unwrap();
    assert_eq!(bits.len(), 20);
    for (index, bit) in bits.iter().enumerate() {
        let value = bit["value"].as_bool().unwrap();
        assert_eq!(value, price.min((1 << 20) - 1) >> (19 - index) & 1 == 1);
        let message = bit_message(".BXBT", 1_681_648_200, 20, index as u8, value);
        assert!(
            verifies(&message, bit["signature"].as_str().unwrap()),
            "bit {index}"
        );
    }
    let first = bit_message(
        ".BXBT",
        1_681_648_200,
        20,
        0,
        bits[0]["value"].as_bool().unwrap(),
    );
    assert!(
        verify(&first, bits[0]["signature"].as_str().unwrap())
            .status
            .success()
    );
}
