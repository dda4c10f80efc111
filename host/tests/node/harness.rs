//! Building the test guests, starting nodes on loopback, and talking to them over HTTP.

use carol_host::{Node, NodeConfig};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// The test guests and the examples the tests run, built once per test run.
const GUESTS: &[&str] = &[
    "all-types",
    "bad-import",
    "resource-export",
    "hostile",
    "hostile-docs",
    "stateful",
    "legacy-0-1-0",
    "named-types",
    "twin-interfaces",
    "bitmex-oracle",
    "counter",
    "dlc-oracle",
];

/// The component of a test guest (`all-types`, `bad-import`, `resource-export`, `hostile`,
/// `hostile-docs`, `stateful`, `legacy-0-1-0`, `named-types`, `twin-interfaces`) or example (`bitmex-oracle`,
/// `counter`, `dlc-oracle`).
pub fn guest(name: &str) -> Vec<u8> {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        // rustup adds the toolchain file's targets only when it installs the toolchain itself.
        let _ = Command::new("rustup")
            .current_dir(&root)
            .args(["target", "add", "wasm32-wasip2"])
            .status();
        let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        command
            .current_dir(&root)
            .args(["build", "--release", "--target", "wasm32-wasip2"]);
        for guest in GUESTS {
            command.args(["-p", guest]);
        }
        let status = command
            .status()
            .expect("running cargo to build the test guests");
        assert!(status.success(), "building the test guests failed");
        let target =
            std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
        target.join("wasm32-wasip2").join("release")
    });
    let path = dir.join(format!("{}.wasm", name.replace('-', "_")));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// A node serving on a free loopback port, with its own runtime.
pub struct TestNode {
    pub url: String,
    pub node: Node,
    _runtime: tokio::runtime::Runtime,
}

impl TestNode {
    /// Starts a node with `config`.
    pub fn start(config: NodeConfig) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let node = Node::new(config).unwrap();
        runtime.spawn(carol_host::routes::serve(node.clone(), listener));
        Self {
            url,
            node,
            _runtime: runtime,
        }
    }

    /// `GET path`: status and JSON body.
    pub fn get(&self, path: &str) -> (u16, Value) {
        answer(agent().get(&format!("{}{path}", self.url)).call())
    }

    /// `POST path` with raw bytes, as `application/octet-stream`.
    pub fn post_bytes(&self, path: &str, body: &[u8]) -> (u16, Value) {
        answer(
            agent()
                .post(&format!("{}{path}", self.url))
                .header("content-type", "application/octet-stream")
                .send(body),
        )
    }

    /// `POST path` with a JSON body.
    pub fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        answer(agent().post(&format!("{}{path}", self.url)).send_json(body))
    }

    /// Uploads a component and creates its machine with `params`; returns (binary id, machine id).
    pub fn machine(&self, component: &[u8], params: &[u8]) -> (String, String) {
        let (status, body) = self.post_bytes("/binaries", component);
        assert!(
            status == 201 || status == 200,
            "upload answered {status}: {body}"
        );
        let binary = body["id"].as_str().unwrap().to_owned();
        let (status, body) = self.post_bytes(&format!("/binaries/{binary}"), params);
        assert!(
            status == 201 || status == 200,
            "create answered {status}: {body}"
        );
        (binary, body["id"].as_str().unwrap().to_owned())
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Value) {
    let mut response = response.expect("the node answers");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("status {status}: body is not JSON ({e}): {text}"));
    (status, json)
}

/// The node most tests share: loopback fetches allowed, a short activation time limit, and
/// the all-types machine with params `p1`.
pub struct Shared {
    pub node: TestNode,
    pub binary: String,
    pub machine: String,
}

/// Hosts that all reach this machine: the usual, the numeric and the IPv6 spellings of
/// loopback, `0.0.0.0` among them.
pub const LOOPBACK_SPELLINGS: [&str; 8] = [
    "127.0.0.1",
    "127.1.2.3",
    "localhost",
    "[::1]",
    "0.0.0.0",
    "2130706433",
    "0x7f.1",
    "[::ffff:127.0.0.1]",
];

/// Activation time limit of the shared node.
pub const SHARED_TIMEOUT: Duration = Duration::from_secs(2);

pub fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let mut config = NodeConfig::development();
        config.policy.allow_loopback = true;
        config.limits.activation_timeout = SHARED_TIMEOUT;
        let node = TestNode::start(config);
        let (binary, machine) = node.machine(&guest("all-types"), b"p1");
        Shared {
            node,
            binary,
            machine,
        }
    })
}

impl Shared {
    /// `GET /machines/{id}/activate/{name}?query`.
    pub fn get(&self, name: &str, query: &[(&str, &str)]) -> (u16, Value) {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        self.node.get(&format!(
            "/machines/{}/activate/{name}?{query}",
            self.machine
        ))
    }

    /// `POST /machines/{id}/activate/{name}` with a JSON body.
    pub fn post(&self, name: &str, body: &Value) -> (u16, Value) {
        self.node
            .post_json(&format!("/machines/{}/activate/{name}", self.machine), body)
    }

    /// `POST /machines/{id}/activate/{name}` with a body as written (JSON that `Value` cannot
    /// hold as is, such as integers beyond 64 bits).
    pub fn post_raw(&self, name: &str, body: &[u8]) -> (u16, Value) {
        self.node
            .post_bytes(&format!("/machines/{}/activate/{name}", self.machine), body)
    }
}

/// Serves `app` on a free loopback port from a thread of its own; returns its base URL.
pub fn serve_locally(app: axum::Router) -> String {
    serve_on("127.0.0.1:0", app)
}

/// Serves `app` on `address` from a thread of its own; returns its base URL.
pub fn serve_on(address: &str, app: axum::Router) -> String {
    let listener = std::net::TcpListener::bind(address).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    url
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
