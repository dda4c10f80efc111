//! `cargo carol build` and `api`.

use crate::harness::{cargo_carol, stdout};
use serde_json::{Value, json};

#[test]
fn build_prints_the_path_of_a_component_with_docs() {
    let output = cargo_carol(&["carol", "build", "-p", "hello-world"]);
    let path = stdout(&output).trim().to_owned();
    assert!(path.ends_with("hello-world.wasm"), "{path}");
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..8], b"\0asm\x0d\0\x01\0", "a component");
    let docs = carol_core::doc_section::Docs::read(&bytes).expect("docs embedded");
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
        stderr.contains("no machine `no-such-machine`") && stderr.contains("hello-world"),
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
fn api_shows_named_signatures_then_each_type_once_with_its_docs() {
    let text = stdout(&cargo_carol(&["-q", "api", "-p", "dlc-oracle"]));
    assert!(
        text.starts_with(
            "announce(event-id: string, symbol: string, maturity: u32, base: u16, nb-digits: u16) \
             -> result<announcement, oracle-error>\n"
        ),
        "{text}"
    );
    assert!(text.contains("\nattest(event-id: string) -> result<attestation, oracle-error>\n"));
    // After the activations, each named type as WIT defines it, once, with its docs.
    let definitions = &text[text.find("\n\n").expect("a blank line before the types")..];
    assert!(definitions.contains(
        "\n/// An announced event: the dlcspecs `oracle_announcement` and, readably, what it says.\n\
         record announcement {\n  /// The `oracle_announcement` TLV (type 55332)"
    ));
    assert!(definitions.contains("\n  announced-differently(announcement),\n"));
    assert!(definitions.contains("\nenum message-hash {\n"));
    assert_eq!(definitions.matches("record announcement {").count(), 1);

    // Docs of an interface's types and of fields come from the WIT too.
    let text = stdout(&cargo_carol(&["-q", "api", "-p", "named-types"]));
    assert!(
        text.contains("geometry/locate(p: geometry.point) -> place\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "/// A point of the plane.\nrecord geometry.point {\n  /// Across.\n  x: f64,\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("record price {\n  /// The cents.\n  value: u64,\n}\n"),
        "{text}"
    );
}

/// `| head -1` closes stdout after a line; here it is closed before the first: whatever it
/// prints, a command stops quietly, with success, never with a panic.
#[test]
fn a_closed_stdout_is_no_panic() {
    use std::process::{Command, Stdio};
    cargo_carol(&["--version"]);
    for args in [
        &["api", "-p", "hello-world"][..],
        &["-q", "api", "-p", "dlc-oracle"],
        &["api", "-p", "dlc-oracle", "--json"],
        &["api", "-p", "dlc-oracle", "--openapi"],
        &["build", "-p", "hello-world"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cargo-carol"))
            .args(args)
            .current_dir(crate::harness::root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
