//! The `carol` binary as an operator runs it: what it acknowledged survives `kill -9`, a
//! restart serves from the compiled-code cache, a cut-off upload leaves nothing, SIGTERM lets
//! requests in flight finish.

use crate::harness::{TestNode, guest};
use carol_host::NodeConfig;
use carol_host::config::Config;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A fresh directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `carol config-gen --cfg DIR/carol.toml`, with `extra` appended to the `[limits]` section.
pub fn configure(dir: &Path, limits: &str) -> PathBuf {
    let cfg = dir.join("carol.toml");
    let status = Command::new(env!("CARGO_BIN_EXE_carol"))
        .args(["config-gen", "--cfg"])
        .arg(&cfg)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text = text.replacen("[limits]\n", &format!("[limits]\n{limits}\n"), 1);
    std::fs::write(&cfg, text).unwrap();
    cfg
}

/// A node in `dir` whose settings are `settings` (section, name and value, as the file writes
/// them), the others at their defaults. The generated file is kept as it was, so that starting
/// again in `dir` with other settings changes those alone.
pub fn node_with(dir: &Path, settings: &[(&str, &str, &str)]) -> Carol {
    let (cfg, generated) = (dir.join("carol.toml"), dir.join("carol.toml.generated"));
    if !generated.exists() {
        std::fs::copy(configure(dir, ""), &generated).unwrap();
    }
    let mut text = std::fs::read_to_string(&generated).unwrap();
    for (section, name, value) in settings {
        let from = text
            .find(&format!("\n[{section}]\n"))
            .unwrap_or_else(|| panic!("no [{section}] in the generated file"));
        let at = from
            + text[from..]
                .find(&format!("\n{name} = "))
                .unwrap_or_else(|| panic!("no {name} in [{section}] of the generated file"));
        let end = at + 1 + text[at + 1..].find('\n').unwrap();
        text.replace_range(at + 1..end, &format!("{name} = {value}"));
    }
    std::fs::write(&cfg, text).unwrap();
    Carol::start(dir, &["--cfg", cfg.to_str().unwrap()])
}

/// A running `carol`, killed with SIGKILL when dropped, its log collected.
pub struct Carol {
    pub url: String,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Carol {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Carol {
    /// `carol run ARGS --listen 127.0.0.1:0` in `dir`, once it serves.
    pub fn start(dir: &Path, args: &[&str]) -> Self {
        Self::start_on(dir, args, "127.0.0.1:0")
    }

    /// `carol run ARGS --listen LISTEN` in `dir`, once it serves.
    pub fn start_on(dir: &Path, args: &[&str], listen: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_carol"))
            .arg("run")
            .args(args)
            .args(["--listen", listen])
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let lines = log.clone();
        // Drain the log for the node's whole life: a full pipe would block it.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.split(" url=").nth(1) {
                    let _ = tx.send(url.split_whitespace().next().unwrap_or("").to_owned());
                }
                // The same field in a JSON log line (`[log] format = "json"`).
                if let Some(url) = line.split("\"url\":\"").nth(1) {
                    let _ = tx.send(url.split('"').next().unwrap_or("").to_owned());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("carol did not serve: {:#?}", log.lock().unwrap()));
        Self { url, child, log }
    }

    /// Waits up to `limit` for it to end by itself; its exit status, if it did.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// What it has logged so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// A client that reads an error's answer like any other.
    pub fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into()
    }

    fn answer(response: ureq::http::Response<ureq::Body>) -> (u16, Value) {
        let status = response.status().as_u16();
        let text = response.into_body().read_to_string().unwrap();
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("answered {status} with no JSON ({e}): {text:?}"));
        (status, json)
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        Self::answer(
            Self::agent()
                .get(&format!("{}{path}", self.url))
                .call()
                .unwrap(),
        )
    }

    /// Uploads `component`, creates its machine with `params`, and returns the machine's id.
    pub fn machine(&self, component: &[u8], params: &[u8]) -> String {
        let (status, body) = self.post("/binaries", component);
        assert!(status == 201 || status == 200, "{body}");
        let binary = body["id"].as_str().unwrap().to_owned();
        let (status, body) = self.post(&format!("/binaries/{binary}"), params);
        assert!(status == 201 || status == 200, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    pub fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        Self::answer(
            Self::agent()
                .post(&format!("{}{path}", self.url))
                .send_json(body)
                .unwrap(),
        )
    }

    pub fn post(&self, path: &str, body: &[u8]) -> (u16, Value) {
        Self::answer(
            Self::agent()
                .post(&format!("{}{path}", self.url))
                .header("content-type", "application/octet-stream")
                .send(body)
                .unwrap(),
        )
    }
}

#[test]
fn what_was_acknowledged_survives_kill_9_and_restart_serves_from_the_cache() {
    let dir = scratch("durable");
    let cfg = configure(&dir, "");
    let cfg = cfg.to_str().unwrap();
    let component = guest("all-types");

    let node = Carol::start(&dir, &["--cfg", cfg]);
    let (status, body) = node.post("/binaries", &component);
    assert_eq!(status, 201, "{body}");
    let binary = body["id"].as_str().unwrap().to_owned();
    let mut machines = Vec::new();
    for params in [&b""[..], b"p1", b"\x00\xff"] {
        let (status, body) = node.post(&format!("/binaries/{binary}"), params);
        assert_eq!(status, 201, "{body}");
        machines.push(body["id"].as_str().unwrap().to_owned());
    }
    let calls = [
        "whoami",
        "calc/mul?a=6&b=7",
        "sign?message=c0ffee",
        "echo-u64?v=18446744073709551615",
    ];
    let answers = |node: &Carol| -> Vec<(u16, Value)> {
        machines
            .iter()
            .flat_map(|m| {
                calls
                    .iter()
                    .map(move |c| node.get(&format!("/machines/{m}/activate/{c}")))
            })
            .collect()
    };
    let before = answers(&node);
    assert!(
        before.iter().all(|(status, _)| *status == 200),
        "{before:?}"
    );
    let descriptions: Vec<Value> = machines
        .iter()
        .map(|m| node.get(&format!("/machines/{m}")).1)
        .chain([node.get(&format!("/binaries/{binary}")).1])
        .collect();
    assert_eq!(
        node.get("/healthz").1["compiled"],
        json!({"compiled": 1, "cache_loads": 0})
    );
    drop(node); // SIGKILL: no chance to flush anything

    let node = Carol::start(&dir, &["--cfg", cfg]);
    let (_, health) = node.get("/healthz");
    assert_eq!(health["binaries"], 1);
    assert_eq!(health["machines"], 3);
    assert_eq!(
        health["compiled"],
        json!({"compiled": 0, "cache_loads": 1}),
        "the restart loads compiled code instead of compiling"
    );
    assert!(
        node.log()
            .iter()
            .any(|l| l.contains("loaded compiled code from the cache") && l.contains(&binary)),
        "{:#?}",
        node.log()
    );
    let after: Vec<Value> = machines
        .iter()
        .map(|m| node.get(&format!("/machines/{m}")).1)
        .chain([node.get(&format!("/binaries/{binary}")).1])
        .collect();
    assert_eq!(after, descriptions, "the same binaries, machines and ids");
    assert_eq!(
        answers(&node),
        before,
        "the same activations, signatures included"
    );
    // Uploading and creating again are no-ops that say so.
    assert_eq!(node.post("/binaries", &component).0, 200);
    assert_eq!(node.post(&format!("/binaries/{binary}"), b"p1").0, 200);
}

#[test]
fn a_cut_off_upload_stores_nothing() {
    let dir = scratch("cut-off");
    let cfg = configure(&dir, "");
    let cfg = cfg.to_str().unwrap();
    let component = guest("all-types");
    let node = Carol::start(&dir, &["--cfg", cfg]);

    let address = node.url.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "POST /binaries HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/wasm\r\ncontent-length: {}\r\n\r\n",
        component.len()
    )
    .unwrap();
    stream.write_all(&component[..component.len() / 2]).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(!answer.starts_with("HTTP/1.1 20"), "{answer}");
    assert_eq!(node.get("/healthz").1["binaries"], 0);
    drop(node);

    let node = Carol::start(&dir, &["--cfg", cfg]);
    assert_eq!(
        node.get("/healthz").1["binaries"],
        0,
        "nothing half-written"
    );
    assert_eq!(node.post("/binaries", &component).0, 201);
}

/// The files of the compiled-code cache under `dir`, wherever its data directory is.
pub fn cache_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "cwasm") {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn compiled_code_is_a_private_file_that_restarts_map_and_a_damaged_one_compiles_again() {
    let dir = scratch("cache-file");
    let mut config = NodeConfig::development();
    config.data_dir = Some(dir.clone());
    let node = TestNode::start(config.clone());
    let (_, machine) = node.machine(&guest("all-types"), b"");
    let mul = format!("/machines/{machine}/activate/calc/mul?a=2&b=3");
    let files = cache_files(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let file = &files[0];
    assert_eq!(file.parent().unwrap(), dir.join("compiled"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "readable by the node's owner alone");
    }
    assert_eq!(node.get(&mul), (200, json!(6)));
    drop(node);

    let node = TestNode::start(config.clone());
    assert_eq!(
        (node.node.stats().compiled, node.node.stats().cache_loads),
        (0, 1)
    );
    assert_eq!(node.get(&mul), (200, json!(6)));
    drop(node);

    // One bit flipped in the middle of the code: never run, compiled again, replaced.
    let mut code = std::fs::read(file).unwrap();
    let middle = code.len() / 2;
    code[middle] ^= 1;
    std::fs::write(file, &code).unwrap();
    let node = TestNode::start(config.clone());
    assert_eq!(
        (node.node.stats().compiled, node.node.stats().cache_loads),
        (1, 0)
    );
    assert_eq!(node.get(&mul), (200, json!(6)));
    drop(node);
    assert_ne!(std::fs::read(file).unwrap(), code);
    // A file gone is compiled again as well.
    std::fs::remove_file(file).unwrap();
    let node = TestNode::start(config.clone());
    assert_eq!(node.node.stats().compiled, 1);
    drop(node);
    let node = TestNode::start(config);
    assert_eq!(node.node.stats().cache_loads, 1);
    assert_eq!(cache_files(&dir).len(), 1);
}

#[test]
fn a_cache_entry_the_engine_refuses_is_recompiled() {
    let dir = scratch("bad-cache");
    let mut config = NodeConfig::development();
    config.data_dir = Some(dir.clone());
    let node = TestNode::start(config.clone());
    let (binary, machine) = node.machine(&guest("all-types"), b"");
    let id = binary.parse().unwrap();
    let key = node.node.runtime().loader().cache_key(&id);
    // An entry whose checksum matches but which is not compiled code.
    node.node
        .store()
        .put_compiled(&key, b"not machine code")
        .unwrap();
    drop(node);

    let node = TestNode::start(config);
    assert_eq!(node.node.stats().compiled, 1);
    assert_eq!(node.node.stats().cache_loads, 0);
    let (status, body) = node.get(&format!("/machines/{machine}/activate/calc/mul?a=2&b=3"));
    assert_eq!((status, body), (200, json!(6)));
    drop(node);
    // The recompiled code replaced the bad entry.
    let node = TestNode::start({
        let mut config = NodeConfig::development();
        config.data_dir = Some(dir);
        config
    });
    assert_eq!(node.node.stats().cache_loads, 1);
}

#[test]
fn sigterm_lets_requests_in_flight_finish_then_exits_0() {
    let dir = scratch("sigterm");
    let cfg = configure(&dir, "");
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "activation_timeout_ms = 30000",
        "activation_timeout_ms = 1500",
    );
    std::fs::write(&cfg, text).unwrap();
    let mut node = Carol::start(&dir, &["--cfg", cfg.to_str().unwrap()]);
    let (_, machine) = {
        let (_, body) = node.post("/binaries", &guest("all-types"));
        let binary = body["id"].as_str().unwrap().to_owned();
        let (_, body) = node.post(&format!("/binaries/{binary}"), b"");
        (binary, body["id"].as_str().unwrap().to_owned())
    };
    // A request that runs until its time limit, in flight when the signal comes.
    let url = format!("{}/machines/{machine}/activate/spin", node.url);
    let in_flight =
        std::thread::spawn(move || Carol::answer(Carol::agent().get(&url).call().unwrap()));
    while node.get("/healthz").1["activations"]["running"] != 1 {
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = Command::new("kill")
        .args(["-TERM", &node.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let (status, body) = in_flight.join().unwrap();
    assert_eq!(status, 504, "the request in flight got its answer: {body}");
    let exit = node.child.wait().unwrap();
    assert_eq!(exit.code(), Some(0), "{:#?}", node.log());
    assert!(node.log().iter().any(|l| l.contains("SIGTERM")));
    assert!(std::net::TcpStream::connect(node.url.trim_start_matches("http://")).is_err());
}

#[test]
fn first_start_without_cfg_creates_its_data_directory_and_key_and_keeps_them() {
    let dir = scratch("no-cfg");
    let first = Carol::start(&dir, &[]);
    let key = first.get("/").1["public_key"].clone();
    let (_, body) = first.post("/binaries", &guest("all-types"));
    let binary = body["id"].as_str().unwrap().to_owned();
    assert!(
        first.log().iter().any(|l| l.contains("first start")),
        "it says so: {:#?}",
        first.log()
    );
    drop(first);
    let cfg = dir.join("carol-data").join("carol.toml");
    let config = Config::load(&cfg).unwrap();
    assert_eq!(
        config.node.data_dir.as_deref(),
        Some(dir.join("carol-data").join(".").as_path())
    );
    assert!(dir.join("carol-data").join("carol.redb").is_file());

    let second = Carol::start(&dir, &[]);
    assert_eq!(second.get("/").1["public_key"], key, "the same key");
    assert_eq!(second.get(&format!("/binaries/{binary}")).0, 200);
    assert!(!second.log().iter().any(|l| l.contains("first start")));
}

#[test]
fn every_line_of_an_activation_carries_its_request_id_and_no_line_the_key() {
    let dir = scratch("request-ids");
    let cfg = configure(&dir, "");
    let secret = hex::encode(Config::load(&cfg).unwrap().node.key.to_bytes());
    let node = Carol::start(&dir, &["--cfg", cfg.to_str().unwrap()]);
    let machine = node.machine(&guest("all-types"), b"");
    let response = Carol::agent()
        .get(&format!(
            "{}/machines/{machine}/activate/log?message=marker-42",
            node.url
        ))
        .call()
        .unwrap();
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let mut lines = Vec::new();
    for _ in 0..500 {
        lines = node
            .log()
            .into_iter()
            .filter(|l| l.contains("marker-42"))
            .collect();
        if lines.len() == 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(lines.len(), 2, "{:#?}", node.log());
    for line in &lines {
        assert!(line.contains(&format!("request{{id={id} ")), "{line}");
        assert!(line.contains(&machine), "{line}");
    }
    assert!(node.log().iter().all(|l| !l.contains(&secret)));
}

#[test]
fn a_second_node_on_the_same_data_directory_is_refused_clearly() {
    let dir = scratch("two-nodes");
    let cfg = configure(&dir, "");
    let _first = Carol::start(&dir, &["--cfg", cfg.to_str().unwrap()]);
    let output = Command::new(env!("CARGO_BIN_EXE_carol"))
        .args(["run", "--listen", "127.0.0.1:0", "--cfg"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("another node")
            && stderr.contains("carol.redb")
            && !stderr.contains("panicked"),
        "{stderr}"
    );
}

#[test]
fn state_keys_and_nonce_records_survive_kill_9() {
    let dir = scratch("state");
    let cfg = configure(&dir, "");
    let cfg = cfg.to_str().unwrap();
    let node = Carol::start(&dir, &["--cfg", cfg]);
    let machine = node.machine(&guest("stateful"), b"");
    let call = |node: &Carol, query: &str| {
        let (status, body) = node.get(&format!("/machines/{machine}/activate/{query}"));
        assert!(status == 200 || status == 422, "{query}: {status} {body}");
        body
    };
    let m1 = hex::encode([1u8; 32]);
    let m2 = hex::encode([2u8; 32]);
    assert_eq!(call(&node, "put?key=6b&value=76"), json!({"ok": null}));
    for _ in 0..3 {
        call(&node, "increment?key=63");
    }
    let public_keys = |node: &Carol| (call(node, "secp-public-key"), call(node, "bls-public-key"));
    let keys = public_keys(&node);
    let signature = call(&node, &format!("sign-with-nonce?name=event&message={m1}"));
    assert!(signature.get("ok").is_some(), "{signature}");
    let (status, _) = node.get(&format!(
        "/machines/{machine}/activate/sign-with-nonce-then-trap?name=trapped&message={m1}"
    ));
    assert_eq!(status, 500);
    let description = node.get(&format!("/machines/{machine}")).1;
    assert_eq!(description["state"]["bytes"], 1 + 1 + 1 + 8);
    drop(node); // SIGKILL

    let node = Carol::start(&dir, &["--cfg", cfg]);
    assert_eq!(node.get(&format!("/machines/{machine}")).1, description);
    assert_eq!(call(&node, "get?key=6b"), json!("76"));
    assert_eq!(call(&node, "increment?key=63"), json!(4));
    assert_eq!(public_keys(&node), keys, "the same keys, derived again");
    assert_eq!(
        call(&node, &format!("sign-with-nonce?name=event&message={m1}")),
        signature
    );
    for name in ["event", "trapped"] {
        assert_eq!(
            call(&node, &format!("sign-with-nonce?name={name}&message={m2}")),
            json!({"err": "Error::NonceUsed"}),
            "{name} stays bound across the restart"
        );
    }
}

/// The database holds every machine's state and the nonce records: its owner alone reads it,
/// also when it existed before with other permissions.
#[cfg(unix)]
#[test]
fn the_database_is_readable_by_its_owner_alone() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("private-database");
    let mut config = NodeConfig::development();
    config.data_dir = Some(dir.clone());
    let file = dir.join(carol_host::store::DATABASE_FILE);
    let mode = || std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    drop(TestNode::start(config.clone()));
    assert_eq!(mode(), 0o600);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    drop(TestNode::start(config));
    assert_eq!(mode(), 0o600);
}
