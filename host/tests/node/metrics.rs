//! `GET /metrics` on a real `carol`: activations counted by outcome with their latencies, the
//! admission queue, compiles, uploads and machines, the store's size and outbound requests, in
//! the Prometheus text format; with `[metrics] listen`, served there and not on the API's port.

use crate::durability::node_with;
use crate::durability::{Carol, scratch};
use crate::harness::guest;
use serde_json::{Value, json};

/// The scrape at `url`: its content type and its samples, `name{labels}` to value.
pub fn scrape(url: &str) -> (String, Vec<(String, f64)>) {
    let mut response = ureq::get(url).call().unwrap();
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let text = response.body_mut().read_to_string().unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    let samples = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let (name, value) = line.rsplit_once(' ').unwrap();
            (name.to_owned(), value.parse().unwrap())
        })
        .collect();
    (kind, samples)
}

pub fn value(samples: &[(String, f64)], name: &str) -> f64 {
    samples
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no {name} in {samples:?}"))
        .1
}

fn call(node: &Carol, machine: &str, name: &str, args: Value) -> u16 {
    node.post_json(&format!("/machines/{machine}/activate/{name}"), &args)
        .0
}

#[test]
fn activations_compiles_uploads_and_outbound_requests_are_counted() {
    let dir = scratch("metrics");
    let node = node_with(
        &dir,
        &[
            ("limits", "activation_timeout_ms", "300"),
            ("limits", "memory_bytes", "16777216"),
        ],
    );
    let hostile = node.machine(&guest("hostile"), b"");
    let types = node.machine(&guest("all-types"), b"");
    for _ in 0..3 {
        assert_eq!(call(&node, &hostile, "echo", json!({"message": "hi"})), 200);
    }
    assert_eq!(
        call(&node, &types, "echo-result", json!({"v": {"err": 7}})),
        422,
        "a result's err is answered 422"
    );
    assert_eq!(
        call(
            &node,
            &hostile,
            "last-words",
            json!({"bytes": 0, "message": "bye"})
        ),
        500
    );
    assert_eq!(call(&node, &hostile, "spin", json!({})), 504);
    assert_eq!(
        call(&node, &hostile, "allocate", json!({"megabytes": 64})),
        500
    );
    // Loopback is not allowed on this node: both requests are denied before any is sent.
    let flood = json!({"url": "http://127.0.0.1:9/", "count": 2});
    assert_eq!(call(&node, &hostile, "fetch-flood", flood), 200);

    let (kind, samples) = scrape(&format!("{}/metrics", node.url));
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    let outcome = |o: &str| {
        value(
            &samples,
            &format!("carol_activations_total{{outcome=\"{o}\"}}"),
        )
    };
    assert_eq!(outcome("ok"), 4.0, "three echoes and the flood");
    assert_eq!(outcome("err"), 1.0);
    assert_eq!(outcome("trap"), 1.0);
    assert_eq!(outcome("timeout"), 1.0);
    assert_eq!(outcome("memory"), 1.0);
    assert_eq!(
        value(
            &samples,
            "carol_activation_duration_seconds_count{outcome=\"ok\"}"
        ),
        4.0
    );
    let timed_out = value(
        &samples,
        "carol_activation_duration_seconds_sum{outcome=\"timeout\"}",
    );
    assert!(
        timed_out >= 0.3,
        "the timed-out run took its whole limit: {timed_out}"
    );
    assert_eq!(
        value(
            &samples,
            "carol_outbound_requests_total{outcome=\"denied\"}"
        ),
        2.0
    );
    assert_eq!(value(&samples, "carol_compiles_total"), 2.0);
    assert_eq!(value(&samples, "carol_compile_duration_seconds_count"), 2.0);
    assert_eq!(value(&samples, "carol_uploads_total"), 2.0);
    assert_eq!(value(&samples, "carol_machine_creations_total"), 2.0);
    assert_eq!(value(&samples, "carol_binaries"), 2.0);
    assert_eq!(value(&samples, "carol_machines"), 2.0);
    assert_eq!(value(&samples, "carol_activations_running"), 0.0);
    assert_eq!(value(&samples, "carol_activations_waiting"), 0.0);
    let stored = std::fs::metadata(dir.join("carol-data/carol.redb"))
        .unwrap()
        .len();
    assert_eq!(value(&samples, "carol_store_bytes"), stored as f64);
    assert!(
        samples.iter().all(|(name, _)| !name.contains(&hostile)),
        "no machine id is a label"
    );

    // Restarted, the node loads both binaries from its cache.
    drop(node);
    let node = Carol::start(&dir, &["--cfg", dir.join("carol.toml").to_str().unwrap()]);
    let (_, samples) = scrape(&format!("{}/metrics", node.url));
    assert_eq!(value(&samples, "carol_cache_loads_total"), 2.0);
    assert_eq!(
        value(&samples, "carol_cache_load_duration_seconds_count"),
        2.0
    );
    assert_eq!(value(&samples, "carol_compiles_total"), 0.0);
}

#[test]
fn metrics_on_their_own_address_are_not_on_the_api_port() {
    let dir = scratch("metrics-listen");
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = free.local_addr().unwrap().to_string();
    drop(free);
    let node = node_with(&dir, &[("metrics", "listen", &format!("\"{address}\""))]);
    let (status, body) = node.get("/metrics");
    assert_eq!(status, 404, "{body}");
    let (_, samples) = scrape(&format!("http://{address}/metrics"));
    assert_eq!(value(&samples, "carol_machines"), 0.0);
    assert!(
        node.log()
            .iter()
            .any(|line| line.contains(&format!("http://{address}/metrics"))),
        "the node says where"
    );
}
