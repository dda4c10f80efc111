//! The node binary: `carol config-gen` and `carol run --cfg`.

use crate::harness::{CarolNode, carol, failure};
use carol_host::config::Config;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A fresh directory for one test's files.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes a fresh configuration with `carol config-gen`.
pub fn config_gen(path: &Path) {
    let output = carol()
        .arg("config-gen")
        .arg("--cfg")
        .arg(path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn public_key_of(cfg: &Path) -> String {
    let config = Config::load(cfg).unwrap();
    hex::encode(config.node.key.public_key().to_bytes())
}

#[test]
fn config_gen_writes_a_private_commented_file_and_never_overwrites_by_accident() {
    let dir = scratch("config-gen");
    let cfg = dir.join("carol.toml");
    config_gen(&cfg);
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(text.contains("secret_key = \"") && text.contains("listen = \"127.0.0.1:8000\""));
    assert!(text.contains("[http_fetch]") && text.contains("allow_loopback = false"));
    assert!(
        text.lines().filter(|l| l.starts_with('#')).count() > 10,
        "commented"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cfg).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Again: refused, and the key that clients may rely on is still there.
    let output = carol()
        .arg("config-gen")
        .arg("--cfg")
        .arg(&cfg)
        .output()
        .unwrap();
    let stderr = failure(&output);
    assert!(
        stderr.contains("already exists") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), text);

    // The seed's spelling, with --cfg before the command, and --force.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let output = carol()
        .arg("--cfg")
        .arg(&cfg)
        .args(["config-gen", "--force"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let replaced = std::fs::read_to_string(&cfg).unwrap();
    assert_ne!(replaced, text, "a new key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cfg).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "an overwritten file is made private too"
        );
    }
}

#[test]
fn run_serves_with_the_configured_key_and_flags_override_the_file() {
    let dir = scratch("run-cfg");
    let cfg = dir.join("carol.toml");
    config_gen(&cfg);
    let node = CarolNode::start(&["--cfg", cfg.to_str().unwrap()]);
    let root: Value = ureq::get(&format!("{}/", node.url))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert_eq!(root["public_key"].as_str().unwrap(), public_key_of(&cfg));
    let secret = hex::encode(Config::load(&cfg).unwrap().node.key.to_bytes());
    assert!(
        node.log().iter().all(|line| !line.contains(&secret)),
        "the secret key is never logged"
    );

    // One node per data directory: this one stops before the next starts.
    drop(node);

    // The listen address comes from the file unless --listen overrides it.
    let text = std::fs::read_to_string(&cfg).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        &cfg,
        text.replace("127.0.0.1:8000", &format!("127.0.0.1:{port}")),
    )
    .unwrap();
    let mut command = carol();
    let mut child = command
        .args(["run", "--cfg", cfg.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut reader = std::io::BufReader::new(child.stderr.take().unwrap());
    while !line.contains("serving") {
        line.clear();
        assert!(
            std::io::BufRead::read_line(&mut reader, &mut line).unwrap() > 0,
            "carol exited"
        );
    }
    assert!(
        line.contains(&format!("url=http://127.0.0.1:{port}")),
        "{line}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn bad_configurations_are_clear_errors_naming_the_setting() {
    let dir = scratch("bad-cfg");
    let good = dir.join("good.toml");
    config_gen(&good);
    let text = std::fs::read_to_string(&good).unwrap();
    let key_line = text.lines().find(|l| l.starts_with("secret_key")).unwrap();
    let cases = [
        ("missing.toml", None, "cannot read the configuration file"),
        (
            "no-key.toml",
            Some(text.replace(key_line, "")),
            "secret_key",
        ),
        (
            "short-key.toml",
            Some(text.replace(key_line, "secret_key = \"abcd\"")),
            "secret_key",
        ),
        (
            "listen.toml",
            Some(text.replace("127.0.0.1:8000", "somewhere")),
            "listen",
        ),
        (
            "typo.toml",
            Some(text.replace("allow_loopback", "allow_lopback")),
            "allow_lopback",
        ),
        (
            "type.toml",
            Some(text.replace("max_redirects = 5", "max_redirects = \"five\"")),
            "http_fetch.max_redirects",
        ),
        ("syntax.toml", Some(format!("{text}\n[limits")), "line"),
    ];
    for (name, contents, named) in cases {
        let path = dir.join(name);
        if let Some(contents) = &contents {
            std::fs::write(&path, contents).unwrap();
        }
        let output = carol()
            .args(["run", "--listen", "127.0.0.1:0", "--cfg"])
            .arg(&path)
            .output()
            .unwrap();
        let stderr = failure(&output);
        assert!(stderr.contains(name), "names the file: {stderr}");
        assert!(stderr.contains(named), "{name}: {stderr}");
        let secret = key_line.split('"').nth(1).unwrap();
        assert!(!stderr.contains(secret), "never echoes the key: {stderr}");
    }
    let output = carol().arg("config-gen").output().unwrap();
    assert!(failure(&output).contains("--cfg"));
}
