//! Nodes on a PostgreSQL store (`[store] postgres`): each test makes a database cluster of its
//! own (`initdb` in a temporary directory, listening on a loopback port) and stops it.

use crate::durability::{Carol, node_with, scratch};
use crate::harness::guest;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A PostgreSQL server of one test's own, stopped when dropped.
pub struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
}

impl Postgres {
    /// `initdb` and start a server on a free loopback port, trusting local connections of
    /// user `carol`. Run as root, the server runs as the `postgres` user (it refuses root).
    pub fn start(name: &str) -> Self {
        let bin = postgres_bin();
        let data = std::env::temp_dir().join(format!("carol-pg-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data).unwrap();
        if is_root() {
            run(Command::new("chown").args(["postgres:postgres"]).arg(&data));
        }
        run(as_server(&bin.join("initdb"))
            .args([
                "-U",
                "carol",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-instructions",
                "-D",
            ])
            .arg(data.join("cluster")));
        let server = Self {
            bin,
            data,
            port: crate::federation::free_port(),
        };
        server.resume();
        server
    }

    /// The connection string of its database `postgres`.
    pub fn url(&self) -> String {
        format!("postgresql://carol@127.0.0.1:{}/postgres", self.port)
    }

    /// The answer of `psql` to `sql`, one line per row.
    pub fn query(&self, sql: &str) -> String {
        let output = Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-A",
                "-t",
                "-h",
                "127.0.0.1",
                "-U",
                "carol",
                "-d",
                "postgres",
                "-p",
            ])
            .arg(self.port.to_string())
            .args(["-c", sql])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Stops the server at once, as a crash would (`immediate`).
    pub fn stop(&self) {
        run(as_server(&self.bin.join("pg_ctl"))
            .args(["stop", "-m", "immediate", "-D"])
            .arg(self.data.join("cluster")));
    }

    /// Starts it again on the same port, waiting until it accepts connections.
    pub fn resume(&self) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories={}",
            self.port,
            self.data.display()
        );
        run(as_server(&self.bin.join("pg_ctl"))
            .args(["start", "-w", "-t", "60", "-l"])
            .arg(self.data.join("server.log"))
            .args(["-o", &options, "-D"])
            .arg(self.data.join("cluster")));
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = as_server(&self.bin.join("pg_ctl"))
            .args(["stop", "-m", "immediate", "-D"])
            .arg(self.data.join("cluster"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// Where PostgreSQL's server programs are: `$CAROL_TEST_POSTGRES` (scripts/test sets it), else
/// the newest `/usr/lib/postgresql/*/bin`.
fn postgres_bin() -> PathBuf {
    if let Some(dir) = std::env::var_os("CAROL_TEST_POSTGRES") {
        return dir.into();
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    found.sort_by_key(|bin| {
        let version = bin.parent().and_then(Path::file_name);
        version.and_then(|v| v.to_str()?.parse::<u32>().ok())
    });
    found.pop().expect(
        "PostgreSQL's server programs are missing: run the tests with scripts/test, which \
         installs them (Debian's `postgresql`)",
    )
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// `program`, as the `postgres` user when run as root.
fn as_server(program: &Path) -> Command {
    match is_root() {
        true => {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        }
        false => Command::new(program),
    }
}

fn run(command: &mut Command) {
    let output = command.stdin(Stdio::null()).output().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A node on `db` in `dir`.
fn node_on(dir: &Path, db: &Postgres) -> Carol {
    node_with(dir, &[("store", "postgres", &format!("\"{}\"", db.url()))])
}

#[test]
fn what_a_node_stored_in_postgres_is_served_by_a_node_with_an_empty_data_directory() {
    let db = Postgres::start("served");
    let first_dir = scratch("shared-first");
    let first = node_on(&first_dir, &db);
    let machine = first.machine(&guest("stateful"), b"");
    let increment = format!("/machines/{machine}/activate/increment?key=6b");
    for count in 1..=3 {
        assert_eq!(first.get(&increment), (200, json!(count)));
    }
    // Killed, and another node of the group (its key) with nothing in its data directory:
    // binaries, machines and state came from the database; its compiled code is its own.
    drop(first);
    let dir = scratch("shared-second");
    std::fs::copy(
        first_dir.join("carol.toml.generated"),
        dir.join("carol.toml.generated"),
    )
    .unwrap();
    let second = node_on(&dir, &db);
    assert_eq!(second.get(&increment), (200, json!(4)));
    let (status, body) = second.get(&format!("/machines/{machine}"));
    assert_eq!(status, 200, "{body}");
}

/// The database stopped: activations that need it answer 503 saying so, with `Retry-After`,
/// and keep nothing; the others go on; once it is back the node reconnects by itself and
/// nothing acknowledged was lost.
#[test]
fn with_the_database_down_only_activations_that_need_it_fail_and_the_node_reconnects() {
    let db = Postgres::start("outage");
    let node = node_on(&scratch("shared-outage"), &db);
    let counter = node.machine(&guest("stateful"), b"");
    let stateless = node.machine(&guest("all-types"), b"");
    let increment = format!("/machines/{counter}/activate/increment?key=6b");
    let multiply = format!("/machines/{stateless}/activate/calc/mul?a=6&b=7");
    assert_eq!(node.get(&increment), (200, json!(1)));
    assert_eq!(node.get(&multiply), (200, json!(42)));

    db.stop();
    for _ in 0..3 {
        let (status, body) = node.get(&increment);
        assert_eq!(status, 503, "{body}");
        let error = body["error"].as_str().unwrap();
        assert!(error.contains("database"), "{error}");
        assert!(
            !error.contains("carol@"),
            "no credentials in errors: {error}"
        );
        assert_eq!(node.get(&multiply), (200, json!(42)));
    }
    // An upload is refused likewise, and stores nothing.
    let hostile = guest("hostile");
    let (status, body) = node.post("/binaries", &hostile);
    assert_eq!(status, 503, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("database"),
        "{body}"
    );

    db.resume();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let answer = loop {
        let (status, body) = node.get(&increment);
        if status != 503 || std::time::Instant::now() > deadline {
            break (status, body);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    // One increment before the outage, none during it.
    assert_eq!(answer, (200, json!(2)));
    let binary = carol_core::ids::BinaryId::of(&hostile);
    assert_eq!(node.get(&format!("/binaries/{binary}")).0, 404);
}

/// `n` nodes on `db` with one node key, as a group's nodes are configured, each in a data
/// directory of its own; `prepare` runs on the first before the others start, so that they
/// find what it stored when they start.
fn group(name: &str, db: &Postgres, n: usize, prepare: impl FnOnce(&Carol)) -> Vec<Carol> {
    let first_dir = scratch(&format!("{name}-1"));
    let first = node_on(&first_dir, db);
    prepare(&first);
    let generated = first_dir.join("carol.toml.generated");
    let mut nodes = vec![first];
    for i in 2..=n {
        let dir = scratch(&format!("{name}-{i}"));
        std::fs::copy(&generated, dir.join("carol.toml.generated")).unwrap();
        nodes.push(node_on(&dir, db));
    }
    nodes
}

/// Activations of one machine that use its state, spread over three nodes at once, are
/// serializable: each saw the count the one before it left, none was lost.
#[test]
fn increments_spread_over_three_nodes_lose_no_update() {
    let db = Postgres::start("increments");
    let machine = std::sync::OnceLock::new();
    let nodes = group("shared-increments", &db, 3, |first| {
        machine.set(first.machine(&guest("stateful"), b"")).unwrap();
    });
    let increment = format!(
        "/machines/{}/activate/increment?key=6b",
        machine.get().unwrap()
    );
    let (clients, each) = (4, 100);
    let counts = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for node in &nodes {
            for _ in 0..clients {
                let (node, increment, counts) = (node, &increment, &counts);
                scope.spawn(move || {
                    for _ in 0..each {
                        let (status, body) = node.get(increment);
                        assert_eq!(status, 200, "{body}");
                        counts.lock().unwrap().push(body.as_u64().unwrap());
                    }
                });
            }
        }
    });
    let mut counts = counts.into_inner().unwrap();
    counts.sort_unstable();
    let total = (nodes.len() * clients * each) as u64;
    assert_eq!(counts, (1..=total).collect::<Vec<_>>());
    assert_eq!(nodes[1].get(&increment), (200, json!(total + 1)));
}

/// Eight different messages racing for one committed nonce on three nodes: exactly one is
/// signed, ever, and every node then refuses the others.
#[test]
fn of_eight_messages_racing_for_a_nonce_on_three_nodes_exactly_one_is_signed() {
    let db = Postgres::start("nonces");
    let machine = std::sync::OnceLock::new();
    let nodes = group("shared-nonces", &db, 3, |first| {
        machine.set(first.machine(&guest("stateful"), b"")).unwrap();
    });
    let machine = machine.get().unwrap();
    let sign = |node: &Carol, message: u8| {
        let message = hex::encode([message; 32]);
        node.get(&format!(
            "/machines/{machine}/activate/sign-with-nonce?name=event&message={message}"
        ))
    };
    let start = std::sync::Barrier::new(8);
    let answers: Vec<(u8, u16, serde_json::Value)> = std::thread::scope(|scope| {
        let racing: Vec<_> = (0..8u8)
            .map(|message| {
                let (node, start) = (&nodes[message as usize % nodes.len()], &start);
                scope.spawn(move || {
                    start.wait();
                    let (status, body) = sign(node, message);
                    (message, status, body)
                })
            })
            .collect();
        racing
            .into_iter()
            .map(|racer| racer.join().unwrap())
            .collect()
    });
    let signed: Vec<_> = answers
        .iter()
        .filter(|(_, status, _)| *status == 200)
        .collect();
    assert_eq!(signed.len(), 1, "{answers:?}");
    for (_, status, body) in &answers {
        assert!(*status == 200 || *status == 422, "{body}");
    }
    // Every node signs the winner again, the same signature, and refuses the others.
    let (winner, _, first) = signed[0];
    for node in &nodes {
        assert_eq!(sign(node, *winner), (200, first.clone()));
        for message in (0..8u8).filter(|m| m != winner) {
            assert_eq!(sign(node, message).0, 422);
        }
    }
}

/// What one running node of a group acknowledged, every other running node serves: the
/// machine, its page and description, its binary (for new machines too), and its state.
#[test]
fn an_upload_acknowledged_by_one_node_is_served_by_the_others() {
    let db = Postgres::start("served-by-all");
    let nodes = group("shared-served", &db, 2, |_| {});
    let (a, b) = (&nodes[0], &nodes[1]);
    let component = guest("stateful");
    let (status, body) = a.post("/binaries", &component);
    assert_eq!(status, 201, "{body}");
    let binary = body["id"].as_str().unwrap().to_owned();
    let (status, body) = a.post(&format!("/binaries/{binary}"), b"on a");
    assert_eq!(status, 201, "{body}");
    let machine = body["id"].as_str().unwrap().to_owned();

    let increment = format!("/machines/{machine}/activate/increment?key=6b");
    assert_eq!(b.get(&increment), (200, json!(1)));
    assert_eq!(a.get(&increment), (200, json!(2)));
    let (status, description) = b.get(&format!("/machines/{machine}"));
    assert_eq!(status, 200, "{description}");
    assert_eq!(description["binary_id"], json!(binary));

    // A machine created on b of the binary uploaded to a, served by a.
    let (status, body) = b.post(&format!("/binaries/{binary}"), b"on b");
    assert_eq!(status, 201, "{body}");
    let other = body["id"].as_str().unwrap();
    assert_eq!(
        a.get(&format!("/machines/{other}/activate/increment?key=6b")),
        (200, json!(1))
    );
    // Ids that no node stored are still 404 on every node.
    let unknown = "0".repeat(64);
    assert_eq!(b.get(&format!("/machines/{unknown}")).0, 404);
    assert_eq!(b.get(&format!("/binaries/{unknown}")).0, 404);
}

/// A node whose key is not the group's is refused at start, saying why and what to do: the
/// group's nodes sign as one, with one key.
#[test]
fn a_node_with_another_key_is_refused_by_the_groups_database() {
    let db = Postgres::start("other-key");
    let member = node_on(&scratch("shared-key-member"), &db);
    let dir = scratch("shared-key-stranger");
    let cfg = crate::durability::configure(&dir, "");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text = text.replacen(
        "\npostgres = \"\"\n",
        &format!("\npostgres = \"{}\"\n", db.url()),
        1,
    );
    std::fs::write(&cfg, text).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_carol"))
        .args(["run", "--listen", "127.0.0.1:0", "--cfg"])
        .arg(&cfg)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("belongs to a group of nodes whose key is")
            && stderr.contains("secret_key"),
        "{stderr}"
    );
    assert!(!stderr.contains("carol@"), "no credentials: {stderr}");
    // The group's node is unaffected.
    assert_eq!(member.get("/healthz").0, 200);
}

/// `carol store migrate --from-redb DIR` moves a single node's database into an empty shared
/// one: the group serves its machines with their state, and its committed nonces derive as
/// they did (the nonce that signed still signs that message alone). A second migration, into a
/// database that holds records, is refused and writes nothing.
#[test]
fn a_single_nodes_database_migrates_into_postgres_with_its_state_and_nonces() {
    let db = Postgres::start("migrate");
    let single_dir = scratch("shared-migrate-single");
    let single = node_with(&single_dir, &[]);
    let machine = single.machine(&guest("stateful"), b"");
    let call =
        |node: &Carol, query: &str| node.get(&format!("/machines/{machine}/activate/{query}"));
    for count in 1..=3 {
        assert_eq!(call(&single, "increment?key=6b"), (200, json!(count)));
    }
    let (m1, m2) = (hex::encode([1u8; 32]), hex::encode([2u8; 32]));
    let signed = call(&single, &format!("sign-with-nonce?name=event&message={m1}"));
    assert_eq!(signed.0, 200, "{:?}", signed.1);
    let announced = call(&single, "nonce?name=event");
    let keys = single.get(&format!("/machines/{machine}")).1["keys"].clone();
    assert!(keys.get("secp256k1").is_some(), "{keys}");
    drop(single);

    // The group's configuration: the single node's key, the shared database.
    let group_dir = scratch("shared-migrate-group");
    let generated = std::fs::read_to_string(single_dir.join("carol.toml.generated")).unwrap();
    let with_db = generated.replacen(
        "\npostgres = \"\"\n",
        &format!("\npostgres = \"{}\"\n", db.url()),
        1,
    );
    let cfg = group_dir.join("migrate.toml");
    std::fs::write(&cfg, &with_db).unwrap();
    let migrate = || {
        Command::new(env!("CARGO_BIN_EXE_carol"))
            .args(["store", "migrate", "--cfg"])
            .arg(&cfg)
            .arg("--from-redb")
            .arg(single_dir.join("carol-data"))
            .output()
            .unwrap()
    };
    let moved = migrate();
    let stderr = String::from_utf8_lossy(&moved.stderr);
    assert!(moved.status.success(), "{stderr}");
    assert!(
        stderr.contains("1 binaries, 1 machines, 1 keys of state, 1 committed-nonce records"),
        "{stderr}"
    );
    let again = migrate();
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success());
    assert!(
        stderr.contains("already holds records") && stderr.contains("nothing was written"),
        "{stderr}"
    );

    std::fs::copy(
        single_dir.join("carol.toml.generated"),
        group_dir.join("carol.toml.generated"),
    )
    .unwrap();
    let node = node_on(&group_dir, &db);
    assert_eq!(call(&node, "increment?key=6b"), (200, json!(4)));
    assert_eq!(call(&node, "nonce?name=event"), announced);
    assert_eq!(
        call(&node, &format!("sign-with-nonce?name=event&message={m1}")),
        signed
    );
    assert_eq!(
        call(&node, &format!("sign-with-nonce?name=event&message={m2}")).0,
        422
    );
    assert_eq!(node.get(&format!("/machines/{machine}")).1["keys"], keys);
    drop(node);

    // The single node's database got a fresh nonce secret: started again it announces another
    // nonce, so it can never sign a second message with the one the group holds.
    let single = node_with(&single_dir, &[]);
    assert_ne!(call(&single, "nonce?name=event"), announced);
    drop(single);
    // And its data directory is no group node's: what it holds would be ignored.
    let in_single = single_dir.join("group.toml");
    std::fs::write(&in_single, &with_db).unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_carol"))
        .args(["run", "--listen", "127.0.0.1:0", "--cfg"])
        .arg(&in_single)
        .current_dir(&single_dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("holds a single node's database"),
        "{stderr}"
    );
}

/// A node killed with `kill -9` while an activation's state writes are being committed (the
/// database shows its statements running) leaves none of them, and the machine's byte count
/// as it was.
#[test]
fn kill_9_in_the_middle_of_a_state_write_leaves_nothing_half_written() {
    let db = Postgres::start("kill-9");
    let dir = scratch("shared-kill");
    let machine = {
        let node = node_on(&dir, &db);
        node.machine(&guest("stateful"), b"")
    };
    let pairs = 2000;
    // Bytes of state the completed writes keep.
    let mut kept = 0;
    for attempt in 0..3 {
        let node = node_on(&dir, &db);
        let prefix = format!("w{attempt}-");
        let body = json!({
            "pairs": (0..pairs)
                .map(|i| json!([hex::encode(format!("{prefix}{i:05}")), hex::encode([7u8; 64])]))
                .collect::<Vec<_>>()
        });
        let url = format!("{}/machines/{machine}/activate/put-all", node.url);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                // Killed while answering, or after: either way the answer may never come.
                let _ = Carol::agent().post(&url).send_json(&body);
            });
            // Killed once its commit is writing the state rows, as the database shows.
            let writing = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'carol' \
                           AND state IN ('active', 'idle in transaction') AND (query LIKE 'DELETE FROM state WHERE%' \
                           OR query LIKE 'INSERT INTO state (%')";
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while db.query(writing).trim() == "0" {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the commit never began"
                );
            }
            drop(node);
        });
        let node = node_on(&dir, &db);
        let list = json!({"prefix": hex::encode(&prefix), "start-after": null, "limit": 1000});
        let (mut seen, mut after) = (0, None::<String>);
        loop {
            let mut query = list.clone();
            query["start-after"] = json!(after);
            let (status, keys) =
                node.post_json(&format!("/machines/{machine}/activate/list-keys"), &query);
            assert_eq!(status, 200, "{keys}");
            let keys = keys.as_array().unwrap();
            seen += keys.len();
            match keys.last() {
                Some(last) => after = Some(last.as_str().unwrap().to_owned()),
                None => break,
            }
        }
        assert_eq!(seen, 0, "attempt {attempt}: {seen} of {pairs} keys written");
        let state_bytes =
            |node: &Carol| node.get(&format!("/machines/{machine}")).1["state"]["bytes"].clone();
        assert_eq!(state_bytes(&node), json!(kept));
        // Not killed, the same writes are all kept.
        let (status, answer) =
            node.post_json(&format!("/machines/{machine}/activate/put-all"), &body);
        assert_eq!(status, 200, "{answer}");
        kept += pairs * (prefix.len() + 5 + 64);
        assert_eq!(state_bytes(&node), json!(kept));
    }
}

/// What an operator removes on one node of a group, every node stops serving within a few
/// seconds, answering 410 with the reason; no write to it is kept meanwhile.
#[test]
fn a_removal_on_one_node_holds_on_every_node_of_the_group() {
    let db = Postgres::start("removals");
    let (admin, entry) = crate::tokens::access_token("ops");
    let admins = format!("[\"{entry}\"]");
    let url = format!("\"{}\"", db.url());
    let settings = [
        ("store", "postgres", url.as_str()),
        ("access", "admin_tokens", admins.as_str()),
    ];
    let first_dir = scratch("shared-removals-1");
    let a = node_with(&first_dir, &settings);
    let second_dir = scratch("shared-removals-2");
    std::fs::copy(
        first_dir.join("carol.toml.generated"),
        second_dir.join("carol.toml.generated"),
    )
    .unwrap();
    let b = node_with(&second_dir, &settings);

    let machine = a.machine(&guest("stateful"), b"");
    let increment = format!("/machines/{machine}/activate/increment?key=6b");
    assert_eq!(b.get(&increment), (200, json!(1)));
    let why = json!({"reason": "phishing page"});
    let (status, body) =
        crate::removals::delete(&a, &format!("/machines/{machine}"), &why, Some(&admin));
    assert_eq!(status, 200, "{body}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    // Until b sees the removal, its activations still run, but none of their writes is kept.
    while b.get(&increment).0 != 410 {
        assert!(
            std::time::Instant::now() < deadline,
            "b still serves the removed machine"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    for node in [&a, &b] {
        crate::removals::gone(node.get(&increment), "phishing page");
        crate::removals::gone(node.get(&format!("/machines/{machine}")), "phishing page");
    }
}
