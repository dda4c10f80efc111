//! `cargo carol new`: the scaffold builds and runs as it stands, outside this repository and
//! inside it.

use crate::harness::{Header, cargo_carol, cargo_carol_in, failure, root, start_run, stdout};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// Builds a scaffolded crate from its own directory. Offline: the scaffold's lock file names
/// only crates this repository already fetched.
fn build(dir: &Path, target: &Path) -> String {
    let output = cargo_carol_in(
        dir,
        &["build"],
        &[
            ("CARGO_NET_OFFLINE", "true"),
            ("CARGO_TARGET_DIR", target.to_str().unwrap()),
        ],
    );
    stdout(&output).trim().to_owned()
}

fn fresh(dir: PathBuf) -> PathBuf {
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn scaffold_builds_and_runs_inside_and_outside_the_repository() {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffold-target");
    let outside = fresh(std::env::temp_dir().join(format!("carol-new-{}", std::process::id())));
    let inside = fresh(Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffold-inside"));

    let created = cargo_carol_in(&outside, &["-q", "new", "my-oracle"], &[]);
    let dir = PathBuf::from(stdout(&created).trim());
    assert_eq!(dir, outside.join("my-oracle").canonicalize().unwrap());
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "src/lib.rs",
        "wit/world.wit",
        "wit/deps/carol-machine/machine.wit",
    ] {
        assert!(dir.join(file).is_file(), "{file}");
    }
    let world = std::fs::read_to_string(dir.join("wit/world.wit")).unwrap();
    assert!(
        world.contains("include carol:machine/machine@0.1.1;"),
        "{world}"
    );
    let component = build(&dir, &target);
    assert!(component.ends_with("my-oracle.wasm"), "{component}");

    // Under this repository's workspace without being a member: its own workspace.
    let created = cargo_carol_in(&inside, &["new", "in-repo"], &[]);
    assert!(
        String::from_utf8_lossy(&created.stderr).contains("its own workspace"),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let manifest = std::fs::read_to_string(inside.join("in-repo/Cargo.toml")).unwrap();
    assert!(
        manifest.contains("path = \"../../../../guest-bindings\""),
        "{manifest}"
    );
    build(&inside.join("in-repo"), &target);

    // The documented activation, served by a node.
    let api = stdout(&cargo_carol(&["api", "--binary", &component]));
    assert!(
        api.starts_with("greet(name: string) -> greeting\n    Greets `name`"),
        "{api}"
    );
    assert!(
        api.contains("\nrecord greeting {\n  /// The text.\n  text: string,\n"),
        "{api}"
    );
    let (
        _running,
        Header {
            url,
            machine,
            public_key,
            ..
        },
    ) = start_run(&["--binary", &component], Stdio::null());
    let greeting: Value = ureq::get(&format!(
        "{url}/machines/{machine}/activate/greet?name=carol"
    ))
    .call()
    .unwrap()
    .body_mut()
    .read_json()
    .unwrap();
    assert_eq!(greeting["text"], "hello carol");
    let verified = cargo_carol(&[
        "verify",
        "--public-key",
        &public_key,
        "--machine",
        &machine,
        "--message",
        &hex::encode("hello carol"),
        "--signature",
        greeting["signature"].as_str().unwrap(),
    ]);
    stdout(&verified);
    let _ = std::fs::remove_dir_all(&outside);
}

#[test]
fn new_refuses_bad_names_and_existing_directories() {
    let dir = fresh(Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffold-refused"));
    for name in ["Bad", "9lives", "a--b", "x.y"] {
        let stderr = failure(&cargo_carol_in(&dir, &["new", name], &[]));
        assert!(stderr.contains("cannot name a machine"), "{name}: {stderr}");
    }
    std::fs::create_dir_all(dir.join("taken")).unwrap();
    std::fs::write(dir.join("taken/keep.txt"), "mine").unwrap();
    let stderr = failure(&cargo_carol_in(&dir, &["new", "taken"], &[]));
    assert!(stderr.contains("not empty"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.join("taken/keep.txt")).unwrap(),
        "mine"
    );
    assert!(root().join("Cargo.toml").is_file());
}
