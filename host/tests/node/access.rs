//! Who may use a node over HTTP: requests naming another host (DNS rebinding) and requests
//! from other sites' pages are refused, uploads must say they are bytes, allowed origins get
//! CORS answers, and nothing a refused request asked for happens.
//!
//! The requests are written by hand, with exactly the headers a browser would send.

use crate::harness::{TestNode, guest};
use carol_host::NodeConfig;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;

/// An answer: its status, headers (lowercase names) and body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{} is not JSON ({e}): {}", self.status, self.body))
    }
}

/// Sends `method path` to `node` with `headers` (a `Host` naming the node's address unless
/// they give one) and `body`, and reads the whole answer.
fn send(
    node: &TestNode,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let address = node.url.trim_start_matches("http://");
    let mut request = format!("{method} {path} HTTP/1.1\r\nconnection: close\r\n");
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        request.push_str(&format!("host: {address}\r\n"));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    let mut stream = TcpStream::connect(address).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    // Bodies of these answers are small and not chunked, but for the node's pages.
    Answer {
        status,
        headers,
        body: body.to_owned(),
    }
}

const WASM: (&str, &str) = ("content-type", "application/wasm");
const BYTES: (&str, &str) = ("content-type", "application/octet-stream");

fn counts(node: &TestNode) -> (Value, Value) {
    let (_, health) = node.get("/healthz");
    (health["binaries"].clone(), health["machines"].clone())
}

#[test]
fn a_page_of_another_site_can_neither_upload_nor_create_nor_activate() {
    let node = TestNode::start(NodeConfig::development());
    let component = guest("stateful");
    let binary = hex::encode(sha2_of(&component));
    // What the review sent: a rebound name, another site's origin, a type a page may send.
    let rebound = [
        ("host", "rebind.evil.example"),
        ("origin", "https://evil.example"),
        ("content-type", "text/plain"),
    ];
    let answer = send(&node, "POST", "/binaries", &rebound, &component);
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(
        answer.json()["error"]
            .as_str()
            .unwrap()
            .contains("does not answer for the host `rebind.evil.example`"),
        "{}",
        answer.body
    );
    // The node's own host name, but another site's page.
    let cross_site = [("origin", "https://evil.example"), WASM];
    let answer = send(&node, "POST", "/binaries", &cross_site, &component);
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(
        answer.json()["error"]
            .as_str()
            .unwrap()
            .contains("other sites")
    );
    assert_eq!(counts(&node), (json!(0), json!(0)), "nothing stored");

    // A plain GET of a state-changing activation, as an <img> of another site sends it.
    let (_, machine) = node.machine(&component, b"");
    let increment = format!(
        "/machines/{machine}/activate/increment?key={}",
        hex::encode("visits")
    );
    let image = [
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-mode", "no-cors"),
        ("sec-fetch-dest", "image"),
    ];
    assert_eq!(send(&node, "GET", &increment, &image, b"").status, 403);
    // Nor a navigation to it, from a link or a script of another site.
    let navigation = [
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-mode", "navigate"),
        ("sec-fetch-dest", "document"),
    ];
    assert_eq!(send(&node, "GET", &increment, &navigation, b"").status, 403);
    // The counter was never touched: the first increment of a client counts 1.
    assert_eq!(send(&node, "GET", &increment, &[], b"").body, "1");
    // Creating a machine of a binary the page could compute the id of: refused as well.
    let create = format!("/binaries/{binary}");
    let answer = send(&node, "POST", &create, &[("origin", "null"), BYTES], b"x");
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert_eq!(counts(&node), (json!(1), json!(1)));
}

#[test]
fn the_node_s_own_pages_links_from_elsewhere_and_clients_keep_working() {
    let node = TestNode::start(NodeConfig::development());
    let (_, machine) = node.machine(&guest("stateful"), b"");
    let own = node.url.clone();
    let path = format!("/machines/{machine}/activate/get?key=00");
    // The machine's page runs activations with fetch, from the node's own origin.
    let page_fetch = [
        ("origin", own.as_str()),
        ("sec-fetch-site", "same-origin"),
        ("sec-fetch-mode", "cors"),
    ];
    assert_eq!(send(&node, "GET", &path, &page_fetch, b"").status, 200);
    // A link on another site opens the machine's page: pages change nothing.
    let navigation = [
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-mode", "navigate"),
        ("accept", "text/html"),
    ];
    for page in [format!("/machines/{machine}"), "/".to_owned()] {
        let answer = send(&node, "GET", &page, &navigation, b"");
        assert_eq!(answer.status, 200, "{page}: {}", answer.body);
    }
    // Names the node answers for besides its address.
    for host in ["localhost", "LOCALHOST:1"] {
        assert_eq!(
            send(&node, "GET", &path, &[("host", host)], b"").status,
            200
        );
    }
    // A typed address or a bookmark.
    let typed = [("sec-fetch-site", "none"), ("sec-fetch-mode", "navigate")];
    assert_eq!(send(&node, "GET", &path, &typed, b"").status, 200);
}

#[test]
fn uploads_and_creations_say_they_are_bytes() {
    let node = TestNode::start(NodeConfig::development());
    let component = guest("stateful");
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let headers: Vec<(&str, &str)> = content_type
            .map(|t| ("content-type", t))
            .into_iter()
            .collect();
        let answer = send(&node, "POST", "/binaries", &headers, &component);
        assert_eq!(answer.status, 415, "{content_type:?}: {}", answer.body);
        assert!(
            answer.json()["error"]
                .as_str()
                .unwrap()
                .contains("Content-Type: application/wasm"),
            "{}",
            answer.body
        );
    }
    assert_eq!(counts(&node), (json!(0), json!(0)), "nothing stored");
    let answer = send(&node, "POST", "/binaries", &[WASM], &component);
    assert_eq!(answer.status, 201, "{}", answer.body);
    let binary = answer.json()["id"].as_str().unwrap().to_owned();
    let create = format!("/binaries/{binary}");
    let answer = send(
        &node,
        "POST",
        &create,
        &[("content-type", "text/plain")],
        b"p",
    );
    assert_eq!(answer.status, 415, "{}", answer.body);
    assert_eq!(counts(&node), (json!(1), json!(0)));
    let answer = send(
        &node,
        "POST",
        &create,
        &[("content-type", "application/octet-stream; x=1")],
        b"p",
    );
    assert_eq!(answer.status, 201, "{}", answer.body);
}

#[test]
fn listed_hosts_and_origins_are_answered_with_cors() {
    let mut config = NodeConfig::development();
    config.http.hosts = vec!["oracle.example.com".into()];
    config.http.allowed_origins = vec!["http://app.example:3000".into()];
    let node = TestNode::start(config);
    let (_, machine) = node.machine(&guest("stateful"), b"");
    let path = format!("/machines/{machine}/activate/get");
    let preflight = send(
        &node,
        "OPTIONS",
        &path,
        &[
            ("origin", "http://app.example:3000"),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "content-type"),
        ],
        b"",
    );
    assert_eq!(preflight.status, 204, "{}", preflight.body);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("http://app.example:3000")
    );
    assert!(
        preflight
            .header("access-control-allow-methods")
            .unwrap()
            .contains("POST")
    );
    assert_eq!(
        preflight.header("access-control-allow-headers"),
        Some("content-type, authorization")
    );
    let call = send(
        &node,
        "POST",
        &path,
        &[
            ("host", "oracle.example.com"),
            ("origin", "http://app.example:3000"),
            ("sec-fetch-site", "cross-site"),
            ("content-type", "application/json"),
        ],
        br#"{"key": "00"}"#,
    );
    assert_eq!(call.status, 200, "{}", call.body);
    assert_eq!(
        call.header("access-control-allow-origin"),
        Some("http://app.example:3000")
    );
    // Another origin, even on a listed host, is refused; its preflight too.
    let other = [
        ("host", "oracle.example.com"),
        ("origin", "http://app.example:3001"),
    ];
    assert_eq!(send(&node, "GET", &path, &other, b"").status, 403);
    assert_eq!(send(&node, "OPTIONS", &path, &other, b"").status, 403);
}

#[test]
fn every_answer_is_nosniff() {
    let node = TestNode::start(NodeConfig::development());
    for path in ["/", "/healthz", "/no/such/route"] {
        let answer = send(&node, "GET", path, &[], b"");
        assert_eq!(
            answer.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
    }
    let refused = send(&node, "GET", "/", &[("host", "elsewhere.example")], b"");
    assert_eq!(refused.header("x-content-type-options"), Some("nosniff"));
}

fn sha2_of(bytes: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).into()
}
