//! `[rates]` on a real `carol`: past a client's rate of uploads, machine creations or
//! activations the node answers 429 with `Retry-After` and a JSON error naming the setting, and
//! stores or runs nothing; other clients keep theirs. Behind a trusted proxy the client is the
//! address its `X-Forwarded-For` or `Forwarded` names; from anyone else those headers change
//! nothing.

use crate::durability::{Carol, node_with, scratch};
use crate::harness::guest;
use crate::metrics::{scrape, value};
use carol_core::ids::{BinaryId, MachineId};
use serde_json::Value;

/// `POST path` with `body` and `headers` (a forwarding header a proxy would set, say): status,
/// `Retry-After` and JSON body.
fn post(node: &Carol, path: &str, body: &[u8], headers: &[(&str, &str)]) -> Answer {
    // Activations take JSON arguments; uploads and creations bytes.
    let kind = match path.contains("/activate/") {
        true => "application/json",
        false => "application/octet-stream",
    };
    let mut request = Carol::agent()
        .post(&format!("{}{path}", node.url))
        .header("content-type", kind);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request.send(body).unwrap();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
    let status = response.status().as_u16();
    let body = response.body_mut().read_json().unwrap();
    Answer {
        status,
        retry_after,
        body,
    }
}

#[derive(Debug)]
struct Answer {
    status: u16,
    retry_after: Option<u64>,
    body: Value,
}

/// Refused for its rate: 429, a time to retry, and an error naming the setting.
fn limited(answer: &Answer, setting: &str) {
    assert_eq!(answer.status, 429, "{answer:?}");
    let retry_after = answer.retry_after.expect("Retry-After");
    assert!((1..=61).contains(&retry_after), "{answer:?}");
    let error = answer.body["error"].as_str().unwrap();
    assert!(error.contains(&format!("`[rates] {setting}`")), "{error}");
    assert!(
        error.contains(&format!("retry after {retry_after} s")),
        "{error}"
    );
}

/// The arguments of `increment`: the key `k`.
const KEY: &[u8] = br#"{"key": "6b"}"#;

#[test]
fn past_its_rate_a_client_is_answered_429_and_nothing_is_stored_or_run() {
    let dir = scratch("rates");
    let node = node_with(
        &dir,
        &[
            ("rates", "uploads_per_minute", "2"),
            ("rates", "machines_per_minute", "2"),
            ("rates", "activations_per_second", "3"),
        ],
    );
    let (stateful, all_types) = (guest("stateful"), guest("all-types"));
    let binary = BinaryId::of(&stateful).to_string();
    for _ in 0..2 {
        assert!(matches!(
            post(&node, "/binaries", &stateful, &[]).status,
            200 | 201
        ));
    }
    // The third upload, of another component, is refused and not stored.
    let third = post(&node, "/binaries", &all_types, &[]);
    limited(&third, "uploads_per_minute");
    assert_eq!(third.body["limit"], 2);
    let refused_binary = BinaryId::of(&all_types);
    assert_eq!(node.get(&format!("/binaries/{refused_binary}")).0, 404);
    // Clients do not claim another address: a forged `X-Forwarded-For` changes nothing.
    limited(
        &post(
            &node,
            "/binaries",
            &all_types,
            &[("x-forwarded-for", "198.51.100.7")],
        ),
        "uploads_per_minute",
    );

    // Creations have a bucket of their own.
    let path = format!("/binaries/{binary}");
    for params in [b"a", b"b"] {
        assert_eq!(post(&node, &path, params, &[]).status, 201);
    }
    limited(&post(&node, &path, b"c", &[]), "machines_per_minute");
    let refused_machine = MachineId::of(&binary.parse().unwrap(), b"c");
    assert_eq!(node.get(&format!("/machines/{refused_machine}")).0, 404);

    // Activations too: three at once, then 429 and the state untouched.
    let machine = MachineId::of(&binary.parse().unwrap(), b"a").to_string();
    let increment = format!("/machines/{machine}/activate/increment");
    let statuses: Vec<u16> = (0..3)
        .map(|_| post(&node, &increment, KEY, &[]).status)
        .collect();
    assert_eq!(statuses, [200; 3]);
    let fourth = post(&node, &increment, KEY, &[]);
    limited(&fourth, "activations_per_second");
    std::thread::sleep(std::time::Duration::from_secs(fourth.retry_after.unwrap()));
    let after = post(&node, &increment, KEY, &[]);
    assert_eq!((after.status, &after.body), (200, &serde_json::json!(4)));

    let (_, samples) = scrape(&format!("{}/metrics", node.url));
    assert_eq!(
        value(&samples, "carol_rate_limited_total{kind=\"upload\"}"),
        2.0
    );
    assert_eq!(
        value(&samples, "carol_rate_limited_total{kind=\"machine\"}"),
        1.0
    );
    assert_eq!(
        value(&samples, "carol_rate_limited_total{kind=\"activation\"}"),
        1.0
    );
}

#[test]
fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket() {
    let dir = scratch("rates-proxy");
    let node = node_with(
        &dir,
        &[
            ("rates", "uploads_per_minute", "1"),
            ("rates", "trusted_proxies", "[\"127.0.0.1\"]"),
        ],
    );
    let component = guest("stateful");
    let client = |address| {
        post(
            &node,
            "/binaries",
            &component,
            &[("x-forwarded-for", address)],
        )
    };
    assert!(matches!(client("198.51.100.7").status, 200 | 201));
    limited(&client("198.51.100.7"), "uploads_per_minute");
    // A client that forged an entry before the proxy's own is the address the proxy saw.
    limited(&client("203.0.113.9, 198.51.100.7"), "uploads_per_minute");
    // A `Forwarded` of the client's own, which a proxy that sets `X-Forwarded-For` passes on,
    // is never read.
    let forged = [
        ("x-forwarded-for", "198.51.100.7"),
        ("forwarded", "for=192.0.2.99"),
    ];
    limited(
        &post(&node, "/binaries", &component, &forged),
        "uploads_per_minute",
    );
    assert!(matches!(client("198.51.100.8").status, 200 | 201));
    // Without a forwarded address, the proxy is the client: one bucket of its own.
    assert!(matches!(
        post(&node, "/binaries", &component, &[]).status,
        200 | 201
    ));
    limited(
        &post(&node, "/binaries", &component, &[]),
        "uploads_per_minute",
    );
}
