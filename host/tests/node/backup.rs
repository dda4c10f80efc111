//! `carol backup` and `carol restore` as an operator runs them: a copy taken while the node
//! runs is refused, a restored copy keeps its committed nonces only when the operator states it
//! is the latest, and a copy that is not a database replaces nothing.

use crate::durability::{Carol, configure, scratch};
use crate::harness::guest;
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Output};

/// `carol ARGS --cfg CFG`, run to its end.
fn carol(cfg: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_carol"))
        .args(args)
        .arg("--cfg")
        .arg(cfg)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_restored_copy_derives_new_nonces_unless_it_is_the_latest() {
    let dir = scratch("backup");
    let cfg = configure(&dir, "");
    let cfg_text = cfg.to_str().unwrap();
    let copy = dir.join("copy.redb");
    let copy_text = copy.to_str().unwrap();

    let node = Carol::start(&dir, &["--cfg", cfg_text]);
    let machine = node.machine(&guest("stateful"), b"");
    let call = |node: &Carol, query: &str| -> Value {
        let (status, body) = node.get(&format!("/machines/{machine}/activate/{query}"));
        assert!(status == 200 || status == 422, "{query}: {status} {body}");
        body
    };
    let m1 = hex::encode([1u8; 32]);
    let m2 = hex::encode([2u8; 32]);
    assert_eq!(call(&node, "put?key=6b&value=76"), json!({"ok": null}));
    let announced = call(&node, "nonce?name=event");
    let signed = call(&node, &format!("sign-with-nonce?name=event&message={m1}"));
    assert!(signed.get("ok").is_some(), "{signed}");

    // The database is in use: no copy, and nothing written.
    let refused = carol(&cfg, &["backup", "--to", copy_text]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("is the node stopped?") && !stderr(&refused).contains("panicked"),
        "{}",
        stderr(&refused)
    );
    assert!(!copy.exists());
    drop(node);

    let taken = carol(&cfg, &["backup", "--to", copy_text]);
    assert!(taken.status.success(), "{}", stderr(&taken));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the copy holds every machine's state");
    }
    let again = carol(&cfg, &["backup", "--to", copy_text]);
    assert!(
        !again.status.success() && stderr(&again).contains("exists"),
        "{}",
        stderr(&again)
    );

    // Restoring over a database needs --replace.
    let over = carol(&cfg, &["restore", "--from", copy_text]);
    assert!(
        !over.status.success() && stderr(&over).contains("--replace"),
        "{}",
        stderr(&over)
    );

    // The latest copy: the nonce and its record stand.
    let latest = carol(
        &cfg,
        &["restore", "--from", copy_text, "--replace", "--latest"],
    );
    assert!(latest.status.success(), "{}", stderr(&latest));
    let node = Carol::start(&dir, &["--cfg", cfg_text]);
    assert_eq!(call(&node, "nonce?name=event"), announced);
    assert_eq!(
        call(&node, &format!("sign-with-nonce?name=event&message={m2}")),
        json!({"err": "Error::NonceUsed"})
    );
    drop(node);

    // Any other copy: everything but the nonces comes back; the nonces derive anew, so the
    // records the copy lacks can never be signed around.
    let plain = carol(&cfg, &["restore", "--from", copy_text, "--replace"]);
    assert!(plain.status.success(), "{}", stderr(&plain));
    assert!(
        stderr(&plain).contains("fresh secret"),
        "{}",
        stderr(&plain)
    );
    let node = Carol::start(&dir, &["--cfg", cfg_text]);
    assert_eq!(call(&node, "get?key=6b"), json!("76"));
    let fresh = call(&node, "nonce?name=event");
    assert_ne!(fresh, announced);
    let resigned = call(&node, &format!("sign-with-nonce?name=event&message={m2}"));
    assert!(resigned.get("ok").is_some(), "{resigned}");
    assert_ne!(resigned["ok"], signed["ok"]);
    drop(node);

    // A file that is no database: refused, and the database in place is untouched.
    let junk = dir.join("junk.redb");
    std::fs::write(&junk, b"not a database").unwrap();
    let bad = carol(
        &cfg,
        &["restore", "--from", junk.to_str().unwrap(), "--replace"],
    );
    assert!(
        !bad.status.success() && !stderr(&bad).contains("panicked"),
        "{}",
        stderr(&bad)
    );
    let node = Carol::start(&dir, &["--cfg", cfg_text]);
    assert_eq!(call(&node, "nonce?name=event"), fresh);
    assert_eq!(call(&node, "get?key=6b"), json!("76"));
}
