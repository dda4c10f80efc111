//! `cargo carol` as a user runs it: build, api and run on the repository's machine crates.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Lines};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::Once;
use std::time::Duration;

/// Runs `cargo carol` in the repository. The first call adds the wasm32-wasip2 target if it
/// is missing, so that tests in parallel do not all install it at once.
fn cargo_carol(args: &[&str]) -> Output {
    static TARGET: Once = Once::new();
    TARGET.call_once(|| {
        let output = cargo_carol_unprepared(&["build", "-p", "hello-world"]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    });
    cargo_carol_unprepared(args)
}

fn cargo_carol_unprepared(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-carol"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .expect("running cargo-carol")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn build_prints_the_path_of_a_component_with_docs() {
    let output = cargo_carol(&["carol", "build", "-p", "hello-world"]);
    let path = stdout(&output).trim().to_owned();
    assert!(path.ends_with("hello-world.wasm"), "{path}");
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..8], b"\0asm\x0d\0\x01\0", "a component");
    let docs = carol_host::doc_section::Docs::read(&bytes).expect("docs embedded");
    assert_eq!(docs.activations["say"], "Answers `hello <message>`.");
}

#[test]
fn api_lists_typed_signatures_with_docs() {
    let text = stdout(&cargo_carol(&["api", "-p", "hello-world"]));
    assert_eq!(
        text,
        "say(message: string) -> string\n    Answers `hello <message>`.\n"
    );
    let json: Value = serde_json::from_str(&stdout(&cargo_carol(&[
        "api",
        "-p",
        "hello-world",
        "--json",
    ])))
    .unwrap();
    assert_eq!(
        json["activations"][0]["signature"],
        json!("say(message: string) -> string")
    );
    assert_eq!(
        json["activations"][0]["docs"],
        json!("Answers `hello <message>`.")
    );
    assert_eq!(json["id"].as_str().unwrap().len(), 64);
}

#[test]
fn api_of_interface_exports() {
    let text = stdout(&cargo_carol(&["-q", "api", "-p", "all-types"]));
    assert!(
        text.contains("calc/mul(a: s32, b: s32) -> s32\n    Multiplies two numbers.\n"),
        "{text}"
    );
    assert!(text.contains("nothing()\n    Returns nothing.\n"), "{text}");
}

#[test]
fn unknown_packages_and_files_are_clear_errors() {
    let output = cargo_carol(&["build", "-p", "no-such-machine"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no package `no-such-machine`") && stderr.contains("hello-world"),
        "{stderr}"
    );
    let output = cargo_carol(&["build", "-p", "carol-host"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a machine crate"));
    let output = cargo_carol(&["api", "--binary", "no/such/file.wasm"]);
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("cannot read the component no/such/file.wasm")
    );
}

/// A `cargo carol run` child, killed when dropped. Holds its stdout open, since the node
/// keeps printing after the header.
struct Running(Child, Option<Lines<BufReader<ChildStdout>>>);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What `cargo carol run` prints first, before it serves.
struct Header {
    url: String,
    public_key: String,
    binary: String,
    machine: String,
    machine_url: String,
}

/// Starts `cargo carol run` with `args` and reads the header it prints.
fn start_run(args: &[&str], stderr: Stdio) -> (Running, Header) {
    let child = Command::new(env!("CARGO_BIN_EXE_cargo-carol"))
        .args(["carol", "run", "--listen", "127.0.0.1:0"])
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut running = Running(child, None);
    let mut lines = BufReader::new(running.0.stdout.take().unwrap()).lines();
    let mut field = |name: &str| {
        let line = lines.next().expect("run prints its URLs").unwrap();
        line.strip_prefix(name)
            .unwrap_or_else(|| panic!("{line:?} should start with {name:?}"))
            .trim()
            .to_owned()
    };
    let header = Header {
        url: field("node"),
        public_key: field("public key"),
        binary: field("binary id"),
        machine: field("machine id"),
        machine_url: field("machine"),
    };
    running.1 = Some(lines);
    (running, header)
}

#[test]
fn build_refuses_what_a_node_would_refuse() {
    let output = cargo_carol(&["build", "-p", "bad-import"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("a Carol node would refuse it"), "{stderr}");
    assert!(stderr.contains("test:bad-import/unknown"), "{stderr}");
    let output = cargo_carol(&["build", "-p", "resource-export"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("resource"));
}

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
