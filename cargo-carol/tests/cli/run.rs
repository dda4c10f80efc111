//! `cargo carol run`.

use crate::harness::{Header, cargo_carol, start_run, stdout};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

#[test]
fn run_logs_guest_output_tagged_with_the_machine() {
    stdout(&cargo_carol(&["build", "-p", "all-types"]));
    let (mut running, Header { url, machine, .. }) =
        start_run(&["-q", "-p", "all-types"], Stdio::piped());
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = running.0.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let answer: Value = ureq::get(&format!(
        "{url}/machines/{machine}/activate/log?message=marker-7"
    ))
    .call()
    .unwrap()
    .body_mut()
    .read_json()
    .unwrap();
    assert_eq!(answer, json!("marker-7"));
    let mut seen = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(30)) {
        let done = line.contains("stderr: marker-7");
        seen.push(line);
        if done {
            break;
        }
    }
    for stream in ["stdout", "stderr"] {
        let line = seen
            .iter()
            .find(|l| l.contains(&format!("{stream}: marker-7")))
            .unwrap_or_else(|| panic!("no guest {stream} line in {seen:#?}"));
        assert!(
            line.contains(&machine) && line.contains("activation=\"log\""),
            "{line}"
        );
    }
}

#[test]
fn run_serves_the_machine_over_http() {
    stdout(&cargo_carol(&["build", "-p", "hello-world"]));
    let (_running, header) = start_run(&["-p", "hello-world"], Stdio::null());
    let Header {
        url,
        public_key,
        binary,
        machine,
        machine_url,
    } = header;
    assert_eq!(machine_url, format!("{url}/machines/{machine}"));

    let get = |path: &str| -> Value {
        ureq::get(&format!("{url}{path}"))
            .call()
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap()
    };
    assert_eq!(
        get(&format!("/machines/{machine}/activate/say?message=world")),
        json!("hello world")
    );
    assert_eq!(get("/")["public_key"], json!(public_key));
    let description = get(&format!("/binaries/{binary}"));
    assert_eq!(
        description["activations"][0]["docs"],
        json!("Answers `hello <message>`.")
    );
}

#[test]
fn api_openapi_is_the_document_the_node_serves() {
    let local: Value = serde_json::from_str(&stdout(&cargo_carol(&[
        "api",
        "-p",
        "hello-world",
        "--openapi",
        "--params",
        "7031",
    ])))
    .unwrap();
    let (_running, Header { url, machine, .. }) =
        start_run(&["-p", "hello-world", "--params", "7031"], Stdio::null());
    let served: Value = ureq::get(&format!("{url}/machines/{machine}/openapi.json"))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert_eq!(local, served);
    assert!(local["paths"][format!("/machines/{machine}/activate/say")]["post"].is_object());
}
