//! Running `cargo carol` and `carol` as a user does, and small loopback HTTP servers for them
//! to talk to.

use std::io::{BufRead, BufReader, Lines, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `cargo carol` in the repository. The first call adds the wasm32-wasip2 target if it
/// is missing, so that tests in parallel do not all install it at once.
pub fn cargo_carol(args: &[&str]) -> Output {
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

pub fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Runs `cargo carol` in `dir` with extra environment variables.
pub fn cargo_carol_in(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    cargo_carol(&["--version"]);
    Command::new(env!("CARGO_BIN_EXE_cargo-carol"))
        .arg("carol")
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(dir)
        .output()
        .expect("running cargo-carol")
}

/// The directory of the pinned tool `name` (`componentize-py`, `componentize-js`), installed
/// first if need be, as `cargo carol tools` lists it.
pub fn tool_dir(name: &str) -> PathBuf {
    let listing = stdout(&cargo_carol(&["-q", "tools", "--install"]));
    let line = listing
        .lines()
        .find(|line| line.starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("`cargo carol tools` lists no {name}: {listing}"));
    PathBuf::from(line.rsplit_once(" installed ").expect("installed").1)
}

/// The standard error of a failed command.
pub fn failure(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !output.status.success(),
        "should have failed: {}{stderr}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(
        !stderr.contains("panicked"),
        "a clear error, not a panic: {stderr}"
    );
    stderr
}

/// The node binary, `carol`.
pub fn carol() -> Command {
    workspace_binary("carol-host", "carol")
}

/// A native binary of this workspace, built once per test run.
pub fn workspace_binary(package: &'static str, binary: &'static str) -> Command {
    static BUILT: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !built.contains(&binary) {
        let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(["build", "--quiet", "-p", package, "--bin", binary])
            .current_dir(root())
            .status()
            .expect("running cargo build");
        assert!(status.success(), "building {binary} failed");
        built.push(binary);
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    Command::new(
        target
            .join("debug")
            .join(format!("{binary}{}", std::env::consts::EXE_SUFFIX)),
    )
}

/// A `carol run` process, killed when dropped, with its log collected.
pub struct CarolNode {
    pub url: String,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Drop for CarolNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl CarolNode {
    /// Starts `carol run` with `args` (on a free loopback port unless they say otherwise) and
    /// waits until it serves.
    pub fn start(args: &[&str]) -> Self {
        let mut command = carol();
        command.arg("run").args(args);
        if !args.contains(&"--listen") {
            command.args(["--listen", "127.0.0.1:0"]);
        }
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting carol");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let collected = log.clone();
        // Drain the log for the node's whole life: a full pipe would block it.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.split(" url=").nth(1) {
                    let _ = tx.send(url.split_whitespace().next().unwrap_or_default().to_owned());
                }
                collected.lock().unwrap().push(line);
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("carol did not start serving: {:#?}", log.lock().unwrap()));
        Self { url, child, log }
    }

    /// The log lines so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

/// Serves HTTP/1.1 on a free loopback port from a thread, answering every request with
/// `status` and the JSON text `answer` once it has read the request; returns its base URL.
pub fn fake_server(status: u16, answer: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    url
}

/// A `cargo carol run` child, killed when dropped. Holds its stdout open, since the node
/// keeps printing after the header.
pub struct Running(pub Child, pub Option<Lines<BufReader<ChildStdout>>>);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What `cargo carol run` prints first, before it serves.
pub struct Header {
    pub url: String,
    pub public_key: String,
    pub binary: String,
    pub machine: String,
    pub machine_url: String,
}

/// Starts `cargo carol run` with `args` and reads the header it prints.
pub fn start_run(args: &[&str], stderr: Stdio) -> (Running, Header) {
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

/// Whether `signature` is a valid BLS signature by `public_key` over `signed`, in the ciphersuite
/// the node uses (`BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_`), checked with the `bls12_381`
/// crate: an implementation independent of the node's.
pub fn bls_verifies(public_key: &[u8], signed: &[u8], signature: &[u8]) -> bool {
    use bls12_381::hash_to_curve::{ExpandMsgXmd, HashToCurve};
    use bls12_381::{G1Affine, G2Affine, G2Projective, pairing};
    const DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_";
    let public_key: [u8; 48] = public_key.try_into().expect("a 48-byte public key");
    let signature: [u8; 96] = signature.try_into().expect("a 96-byte signature");
    let public_key = G1Affine::from_compressed(&public_key).expect("a valid public key");
    let Some(signature) = Option::<G2Affine>::from(G2Affine::from_compressed(&signature)) else {
        return false;
    };
    let hashed =
        <G2Projective as HashToCurve<ExpandMsgXmd<sha2::Sha256>>>::hash_to_curve([signed], DST);
    pairing(&public_key, &G2Affine::from(hashed)) == pairing(&G1Affine::generator(), &signature)
}
