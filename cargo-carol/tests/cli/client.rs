//! `cargo carol upload | create | call | verify` against a real node, and against a node that
//! lies about ids.

use crate::harness::{CarolNode, cargo_carol, failure, fake_server, stdout};
use crate::node::{config_gen, scratch};
use carol_core::ids::{BinaryId, MachineId};
use serde_json::{Value, json};

/// A node of its own for a test (a process outlives statics, so none is shared), from a
/// generated configuration.
fn node(test: &str) -> CarolNode {
    let cfg = scratch(test).join("carol.toml");
    config_gen(&cfg);
    CarolNode::start(&["--cfg", cfg.to_str().unwrap()])
}

/// The all-types test guest, built, and its bytes.
fn all_types() -> (String, Vec<u8>) {
    let path = stdout(&cargo_carol(&["-q", "build", "-p", "all-types"]))
        .trim()
        .to_owned();
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

/// `cargo carol -q create` of all-types with `params` (hex) on the node at `url`; the
/// machine id.
fn machine(url: &str, params: &str) -> String {
    let output = cargo_carol(&[
        "-q",
        "create",
        "--carol-url",
        url,
        "-p",
        "all-types",
        "--params",
        params,
    ]);
    stdout(&output).trim().to_owned()
}

#[test]
fn upload_prints_the_binary_id_it_computed_and_the_node_agrees() {
    let (path, bytes) = all_types();
    let node = node("upload_prints_the_binary_id_it_computed_and_the_node_agrees");
    let url = &node.url;
    let output = cargo_carol(&["-q", "upload", "--carol-url", url, "--binary", &path]);
    let id = stdout(&output);
    assert_eq!(
        id,
        format!("{}\n", BinaryId::of(&bytes)),
        "ids alone with -q"
    );
    assert!(output.stderr.is_empty(), "nothing else with -q");

    // Without -q: labelled lines on stdout, progress on stderr; uploading again is fine.
    let output = cargo_carol(&["upload", "--carol-url", url, "-p", "all-types"]);
    let text = stdout(&output);
    assert!(
        text.contains(&format!("binary id   {}", BinaryId::of(&bytes))),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("Uploading"));
    let described: Value = ureq::get(&format!("{url}/binaries/{}", BinaryId::of(&bytes)))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert!(described["activations"].as_array().unwrap().len() > 20);
}

#[test]
fn create_checks_the_machine_id_and_prints_its_urls() {
    let (_, bytes) = all_types();
    let binary = BinaryId::of(&bytes);
    let node = node("create_checks_the_machine_id_and_prints_its_urls");
    let url = &node.url;
    // From a package: uploads first.
    let id = machine(url, "7031");
    assert_eq!(id, MachineId::of(&binary, b"p1").to_string());

    // From a binary id, with params from a file; the output lists the activation URLs.
    let params = scratch("params").join("params.json");
    std::fs::write(&params, br#"{"api_base": "x"}"#).unwrap();
    let output = cargo_carol(&[
        "create",
        "--carol-url",
        url,
        "--binary-id",
        &binary.to_string(),
        "--params-file",
        params.to_str().unwrap(),
    ]);
    let text = stdout(&output);
    let expected = MachineId::of(&binary, br#"{"api_base": "x"}"#);
    assert!(text.contains(&format!("machine id  {expected}")), "{text}");
    assert!(
        text.contains(&format!("machine     {url}/machines/{expected}")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{url}/machines/{expected}/activate/calc/mul?a=<s32>&b=<s32>"
        )),
        "{text}"
    );

    // Empty params are the default, as in the seed's `create --binary-id`.
    let output = cargo_carol(&[
        "-q",
        "create",
        "--carol-url",
        url,
        "--binary-id",
        &binary.to_string(),
    ]);
    assert_eq!(
        stdout(&output).trim(),
        MachineId::of(&binary, b"").to_string()
    );
}

#[test]
fn create_and_upload_errors_are_clear() {
    let node = node("create_and_upload_errors_are_clear");
    let url = &node.url;
    let unknown = BinaryId::of(b"not uploaded").to_string();
    let stderr = failure(&cargo_carol(&[
        "create",
        "--carol-url",
        url,
        "--binary-id",
        &unknown,
    ]));
    assert!(
        stderr.contains("404") && stderr.contains("cargo carol upload"),
        "{stderr}"
    );
    let stderr = failure(&cargo_carol(&[
        "create",
        "--carol-url",
        url,
        "--binary-id",
        "xyz",
    ]));
    assert!(stderr.contains("not a valid binary id"), "{stderr}");
    let stderr = failure(&cargo_carol(&[
        "create",
        "--carol-url",
        url,
        "-p",
        "all-types",
        "--params",
        "zz",
    ]));
    assert!(stderr.contains("--params must be hex"), "{stderr}");
    let stderr = failure(&cargo_carol(&[
        "upload",
        "--carol-url",
        url,
        "--binary",
        "Cargo.toml",
    ]));
    assert!(stderr.contains("400"), "{stderr}");
    let stderr = failure(&cargo_carol(&[
        "upload",
        "--carol-url",
        "127.0.0.1:1",
        "--binary",
        "Cargo.toml",
    ]));
    assert!(stderr.contains("http://"), "{stderr}");
    // A port nothing listens on: a free port, released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let stderr = failure(&cargo_carol(&[
        "upload",
        "--carol-url",
        &format!("http://127.0.0.1:{port}"),
        "-p",
        "all-types",
    ]));
    assert!(stderr.contains("cannot reach the Carol node"), "{stderr}");
}

#[test]
fn ids_that_differ_from_the_local_computation_fail_loudly() {
    let (path, bytes) = all_types();
    let wrong = BinaryId::of(b"something else").to_string();
    let answer = json!({ "id": wrong }).to_string();
    let lying = fake_server(201, answer);
    let output = cargo_carol(&["-q", "upload", "--carol-url", &lying, "--binary", &path]);
    let stderr = failure(&output);
    assert!(output.stdout.is_empty(), "no id printed");
    assert!(
        stderr.contains(&wrong) && stderr.contains(&BinaryId::of(&bytes).to_string()),
        "{stderr}"
    );
    let output = cargo_carol(&[
        "-q",
        "create",
        "--carol-url",
        &lying,
        "--binary-id",
        &BinaryId::of(&bytes).to_string(),
    ]);
    assert!(failure(&output).contains("do not rely on it"));
    assert!(output.stdout.is_empty());
}

#[test]
fn call_prints_results_and_fails_on_err_results_and_http_errors() {
    let node = node("call_prints_results_and_fails_on_err_results_and_http_errors");
    let url = &node.url;
    let id = machine(url, "7031");
    let call = |args: &[&str]| {
        let mut all = vec!["call", "--carol-url", url, &id];
        all.extend_from_slice(args);
        cargo_carol(&all)
    };
    let json_of = |output: &std::process::Output| -> Value {
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)))
    };
    assert_eq!(json_of(&call(&["calc/mul", "a=6", "b=7"])), json!(42));
    assert_eq!(
        json_of(&call(&[
            "echo-record",
            r#"v={"x": 1, "y": -2, "label": "p"}"#
        ])),
        json!({"x": 1, "y": -2, "label": "p"})
    );
    assert_eq!(
        json_of(&call(&[
            "echo_u64",
            "--json",
            r#"{"v": 18446744073709551615}"#
        ])),
        json!(18446744073709551615u64)
    );
    assert_eq!(json_of(&call(&["nothing"])), Value::Null);
    let ok = call(&["echo-result", r#"v={"ok": "fine"}"#]);
    assert!(ok.status.success());
    assert_eq!(json_of(&ok), json!({"ok": "fine"}));

    // An err result is printed, and fails.
    let err = call(&["echo-result", r#"v={"err": 7}"#]);
    assert_eq!(json_of(&err), json!({"err": 7}));
    assert!(failure(&err).contains("returned an error result"));

    // HTTP errors carry the node's message.
    let stderr = failure(&call(&["calc/mul", "a=6"]));
    assert!(stderr.contains("400") && stderr.contains("`b`"), "{stderr}");
    let stderr = failure(&call(&["no-such-activation"]));
    assert!(stderr.contains("404"), "{stderr}");
    let stderr = failure(&call(&["fail", "message=boom"]));
    assert!(
        stderr.contains("500") && stderr.contains("boom"),
        "{stderr}"
    );
    let stderr = failure(&call(&["calc/mul", "a"]));
    assert!(stderr.contains("NAME=VALUE"), "{stderr}");
    let stderr = failure(&call(&["calc/mul", "--json", "[1, 2]"]));
    assert!(stderr.contains("JSON object"), "{stderr}");
}

#[test]
fn verify_accepts_the_nodes_signature_and_nothing_else() {
    let node = node("verify_accepts_the_nodes_signature_and_nothing_else");
    let url = &node.url;
    let id = machine(url, "7031");
    let message = "c0ffee";
    let output = cargo_carol(&[
        "call",
        "--carol-url",
        url,
        &id,
        "sign",
        &format!("message={message}"),
    ]);
    let signature: Value = serde_json::from_slice(&output.stdout).unwrap();
    let signature = signature.as_str().unwrap();
    let public_key: Value = ureq::get(&format!("{url}/"))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    let public_key = public_key["public_key"].as_str().unwrap();

    let verify = |key: &[&str], machine: &str, message: &str, signature: &str| {
        let mut args = vec!["verify"];
        args.extend_from_slice(key);
        args.extend_from_slice(&[
            "--machine",
            machine,
            "--message",
            message,
            "--signature",
            signature,
        ]);
        cargo_carol(&args)
    };
    let by_url = ["--carol-url", url.as_str()];
    let by_key = ["--public-key", public_key];
    assert!(stdout(&verify(&by_url, &id, message, signature)).contains("valid"));
    stdout(&verify(&by_key, &id, message, signature));
    let quiet = cargo_carol(&[
        "-q",
        "verify",
        "--public-key",
        public_key,
        "--machine",
        &id,
        "--message",
        message,
        "--signature",
        signature,
    ]);
    assert!(stdout(&quiet).is_empty());

    // Another message, another machine, another key, a damaged signature: all refused.
    let other_machine = machine(url, "7032");
    let other_key = hex::encode(
        carol_core::bls::SecretKey::generate()
            .public_key()
            .to_bytes(),
    );
    let mut damaged = signature.to_owned();
    damaged.replace_range(
        100..102,
        if &signature[100..102] == "00" {
            "01"
        } else {
            "00"
        },
    );
    for (key, machine, message, signature) in [
        (&by_key[..], id.as_str(), "c0ffef", signature),
        (&by_key[..], other_machine.as_str(), message, signature),
        (
            &["--public-key", other_key.as_str()][..],
            id.as_str(),
            message,
            signature,
        ),
        (&by_key[..], id.as_str(), message, damaged.as_str()),
    ] {
        let stderr = failure(&verify(key, machine, message, signature));
        assert!(
            stderr.contains("does NOT verify") || stderr.contains("invalid BLS signature"),
            "{stderr}"
        );
    }
    let stderr = failure(&verify(&by_key, &id, "xyz", signature));
    assert!(stderr.contains("--message must be hex"), "{stderr}");
    let stderr = failure(&cargo_carol(&[
        "verify",
        "--machine",
        &id,
        "--message",
        message,
        "--signature",
        signature,
    ]));
    assert!(
        stderr.contains("--carol-url") && stderr.contains("--public-key"),
        "{stderr}"
    );
}
