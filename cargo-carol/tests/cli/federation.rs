//! `cargo carol federation check` against a real 2-of-3 federation of `carol` processes, and
//! against a member that reports another key; `cargo carol run --federation`.

use crate::harness::{
    CarolNode, Header, bls_verifies, cargo_carol, carol, failure, fake_server, start_run, stdout,
};
use crate::node::{config_gen, scratch};
use serde_json::Value;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn get(url: &str) -> Value {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let text = agent
        .get(url)
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn check_agrees_with_every_member_and_refuses_a_member_with_another_key() {
    let dir = scratch("federation-check");
    let members: Vec<(String, String)> = (1..=3)
        .map(|i| {
            // Each in its own directory: a configuration's data directory is beside it.
            let member = dir.join(format!("member{i}"));
            std::fs::create_dir_all(&member).unwrap();
            let cfg = member.join("carol.toml");
            config_gen(&cfg);
            (
                cfg.to_str().unwrap().to_owned(),
                format!("127.0.0.1:{}", free_port()),
            )
        })
        .collect();
    let file = dir.join("federation.toml");
    {
        let plain: Vec<CarolNode> = members
            .iter()
            .map(|(cfg, listen)| CarolNode::start(&["--cfg", cfg, "--listen", listen]))
            .collect();
        let mut propose = carol();
        propose.args(["federation", "propose", "--threshold", "2", "--out"]);
        propose.arg(&file);
        for node in &plain {
            propose.args(["--member", &node.url]);
        }
        let output = propose.output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let file = file.to_str().unwrap();
    let nodes: Vec<CarolNode> = members
        .iter()
        .map(|(cfg, listen)| {
            CarolNode::start(&["--cfg", cfg, "--listen", listen, "--federation", file])
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !nodes
        .iter()
        .all(|n| get(&format!("{}/federation", n.url))["status"] == "ready")
    {
        assert!(
            Instant::now() < deadline,
            "{:#?}",
            nodes.iter().map(CarolNode::log).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let key = get(&format!("{}/", nodes[0].url))["public_key"]
        .as_str()
        .unwrap()
        .to_owned();

    let checked = stdout(&cargo_carol(&[
        "federation",
        "check",
        "--carol-url",
        &nodes[1].url,
    ]));
    assert!(
        checked.contains("all 3 members agree") && checked.contains(&key),
        "{checked}"
    );
    let quiet = stdout(&cargo_carol(&[
        "-q",
        "federation",
        "check",
        "--carol-url",
        &nodes[2].url,
    ]));
    assert_eq!(quiet.trim(), key);

    // A node that says it is member 1 of a federation with another key, consistent in itself:
    // the members it lists describe the real one, and the check says so.
    let mut forged = get(&format!("{}/federation", nodes[0].url));
    let poly = carol_federation::poly::SecretPoly::<carol_federation::curve::Bls>::random(2);
    let public = poly.commit();
    let hex_of = |p: &bls12_381::G1Affine| Value::String(hex::encode(p.to_compressed()));
    forged["commitments"] = public.commitments().iter().map(hex_of).collect();
    forged["public_key"] = hex_of(&public.commitments()[0]);
    for (i, member) in forged["members"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        member["public_share"] = hex_of(&public.eval(i as u32 + 1));
    }
    let fake = fake_server(200, forged.to_string());
    let refused = failure(&cargo_carol(&["federation", "check", "--carol-url", &fake]));
    assert!(
        refused.contains("member 1") && refused.contains("federation key differs"),
        "{refused}"
    );

    // A standalone node is no member.
    let dir = scratch("federation-check-standalone");
    let cfg = dir.join("carol.toml");
    config_gen(&cfg);
    let alone = CarolNode::start(&["--cfg", cfg.to_str().unwrap()]);
    let refused = failure(&cargo_carol(&[
        "federation",
        "check",
        "--carol-url",
        &alone.url,
    ]));
    assert!(refused.contains("not a federation member"), "{refused}");
}

#[test]
fn run_with_a_development_federation_signs_with_its_key_from_every_member() {
    let (
        mut running,
        Header {
            url,
            public_key,
            machine,
            ..
        },
    ) = start_run(
        &["--federation", "3-of-5", "-p", "hello-sign"],
        Stdio::null(),
    );
    let lines = running.1.as_mut().unwrap();
    let mut field = |name: &str| {
        let line = lines.next().unwrap().unwrap();
        line.strip_prefix(name)
            .unwrap_or_else(|| panic!("{line:?} should start with {name:?}"))
            .trim()
            .to_owned()
    };
    assert_eq!(field("federation"), "3-of-5");
    let members: Vec<String> = (1..=5).map(|i| field(&format!("member {i}"))).collect();
    assert_eq!(field("federation key"), public_key);
    assert_eq!(members[0], url);

    // Every member answers with the one signature of the federation key.
    let machine_bytes = hex::decode(&machine).unwrap();
    let mut signed = machine_bytes.clone();
    signed.extend_from_slice(b"hello dev");
    let signatures: Vec<Value> = members
        .iter()
        .map(|m| get(&format!("{m}/machines/{machine}/activate/sign?message=dev")))
        .collect();
    assert!(
        signatures.iter().all(|s| s == &signatures[0]),
        "{signatures:?}"
    );
    let signature = hex::decode(signatures[0].as_str().unwrap()).unwrap();
    let key = hex::decode(&public_key).unwrap();
    assert!(bls_verifies(&key, &signed, &signature));

    for m in &members {
        assert_eq!(get(&format!("{m}/federation"))["public_key"], public_key);
    }
    let checked = stdout(&cargo_carol(&[
        "federation",
        "check",
        "-q",
        "--carol-url",
        &members[3],
    ]));
    assert_eq!(checked.trim(), public_key);
}

#[test]
fn run_refuses_a_federation_without_a_majority_threshold() {
    let refused = failure(&cargo_carol(&[
        "run",
        "--federation",
        "2-of-5",
        "-p",
        "hello-world",
    ]));
    assert!(refused.contains("from 3 to 5"), "{refused}");
    let refused = failure(&cargo_carol(&[
        "run",
        "--federation",
        "three",
        "-p",
        "hello-world",
    ]));
    assert!(refused.contains("is not T-of-N"), "{refused}");
}
