//! Storage on a real `carol`: past `[limits] binaries_quota_bytes` an upload is refused with
//! 507 and nothing is stored; past `state_total_quota_bytes` a machine's write is refused; and
//! on a disk that really fills (a small tmpfs the test mounts), writes fail with 507 and a
//! clear error while reads and activations that write nothing keep working, and nothing stored
//! before is lost, after space comes back and after a restart.

use crate::durability::{Carol, configure, node_with, scratch};
use crate::harness::guest;
use carol_core::ids::BinaryId;
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `program`, run as root: directly when this is root, else with `sudo -n`.
fn as_root(program: &str) -> Command {
    // SAFETY: geteuid only returns the process's effective user id.
    match unsafe { libc::geteuid() } {
        0 => Command::new(program),
        _ => {
            let mut sudo = Command::new("sudo");
            sudo.args(["-n", program]);
            sudo
        }
    }
}

/// A tmpfs of `bytes` mounted at `dir` while it lives.
struct Mounted(PathBuf);

impl Mounted {
    fn new(dir: &Path, bytes: usize) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let status = as_root("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("running mount");
        assert!(
            status.success(),
            "this test mounts a small tmpfs, as root or with `sudo -n mount`: {status}"
        );
        Self(dir.to_owned())
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = as_root("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the file system of `dir` with a file, until it has no space left: the file's path.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    loop {
        match file.write(&chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(error) => {
                assert_eq!(error.raw_os_error(), Some(28), "{error}");
                break;
            }
        }
    }
    // What a single page may still take.
    for _ in 0..64 {
        if file.write(&[0u8; 512]).is_err() {
            break;
        }
    }
    path
}

fn call(node: &Carol, machine: &str, name: &str, args: Value) -> (u16, Value) {
    node.post_json(&format!("/machines/{machine}/activate/{name}"), &args)
}

fn hex(text: &str) -> String {
    ::hex::encode(text)
}

#[test]
fn on_a_full_disk_writes_fail_clearly_reads_keep_working_and_nothing_is_lost() {
    let dir = scratch("storage-full");
    let data = dir.join("data");
    let _mounted = Mounted::new(&data, 24 << 20);
    let cfg = configure(&dir, "");
    let text = std::fs::read_to_string(&cfg).unwrap().replacen(
        "data_dir = \"carol-data\"",
        &format!("data_dir = {:?}", data.to_str().unwrap()),
        1,
    );
    std::fs::write(&cfg, text).unwrap();
    let args = ["--cfg", cfg.to_str().unwrap()];
    let node = Carol::start(&dir, &args);
    let stateful = guest("stateful");
    let machine = node.machine(&stateful, b"");
    let kept = json!({"key": hex("kept"), "value": hex("before")});
    assert_eq!(
        call(&node, &machine, "put", kept),
        (200, json!({"ok": null}))
    );

    let filler = fill(&data);
    // Writes fail, saying why; nothing of them is kept.
    let other = guest("all-types");
    let (status, body) = node.post("/binaries", &other);
    assert_eq!(status, 507, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("no space left"), "{error}");
    let (status, body) = call(
        &node,
        &machine,
        "put",
        json!({"key": hex("lost"), "value": hex("x".repeat(100_000).as_str())}),
    );
    assert_eq!(status, 507, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("no space left"), "{error}");
    // Reads, and activations that write nothing, keep working.
    let get = |node: &Carol, key: &str| call(node, &machine, "get", json!({"key": hex(key)}));
    assert_eq!(get(&node, "kept"), (200, json!(hex("before"))));
    assert_eq!(get(&node, "lost"), (200, Value::Null));
    assert_eq!(node.get(&format!("/machines/{machine}")).0, 200);
    let binary = BinaryId::of(&stateful);
    assert_eq!(node.get(&format!("/binaries/{binary}")).0, 200);

    // Space back: writes work again.
    std::fs::remove_file(filler).unwrap();
    let (status, body) = node.post("/binaries", &other);
    assert_eq!(status, 201, "{body}");
    let again = json!({"key": hex("after"), "value": hex("space")});
    assert_eq!(
        call(&node, &machine, "put", again),
        (200, json!({"ok": null}))
    );

    // And after a restart everything acknowledged is there.
    drop(node);
    let node = Carol::start(&dir, &args);
    assert_eq!(get(&node, "kept"), (200, json!(hex("before"))));
    assert_eq!(get(&node, "after"), (200, json!(hex("space"))));
    assert_eq!(get(&node, "lost"), (200, Value::Null));
    let (status, _) = node.get(&format!("/binaries/{}", BinaryId::of(&other)));
    assert_eq!(status, 200);
}

#[test]
fn past_the_quotas_uploads_get_507_and_machines_writes_are_refused() {
    let dir = scratch("storage-quotas");
    let stateful = guest("stateful");
    let node = node_with(
        &dir,
        &[
            (
                "limits",
                "binaries_quota_bytes",
                &(stateful.len() * 5).to_string(),
            ),
            ("limits", "state_total_quota_bytes", "3000"),
        ],
    );
    let machine = node.machine(&stateful, b"");
    // The compiled code counts too: the second binary is past the quota.
    let other = guest("all-types");
    let (status, body) = node.post("/binaries", &other);
    assert_eq!(status, 507, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("`[limits] binaries_quota_bytes`"), "{error}");
    assert_eq!(body["quota"], json!(stateful.len() * 5), "{body}");
    assert_eq!(
        node.get(&format!("/binaries/{}", BinaryId::of(&other))).0,
        404
    );

    // Machines' state together: a second machine's write past the total is refused.
    let put = |machine: &str, key: &str, bytes: usize| {
        call(
            &node,
            machine,
            "put",
            json!({"key": hex(key), "value": hex(&"v".repeat(bytes))}),
        )
    };
    assert_eq!(put(&machine, "a", 2000), (200, json!({"ok": null})));
    let (status, body) = node.post(&format!("/binaries/{}", BinaryId::of(&stateful)), b"second");
    assert_eq!(status, 201, "{body}");
    let second = body["id"].as_str().unwrap().to_owned();
    let (status, body) = put(&second, "b", 2000);
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["err"], json!("Error::QuotaExceeded(3000)"), "{body}");
    assert_eq!(
        call(&node, &second, "get", json!({"key": hex("b")})),
        (200, Value::Null)
    );
    assert_eq!(put(&second, "b", 500), (200, json!({"ok": null})));
}
