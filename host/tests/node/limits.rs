//! Machines that misbehave meet the node's limits: each gets a clear JSON error, and the node
//! keeps serving everyone else, during and after, losing nothing.

use crate::harness::{TestNode, guest, serve_locally};
use axum::Router;
use axum::routing::get;
use carol_host::NodeConfig;
use carol_host::admission::ConcurrencyLimits;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

const MIB: usize = 1024 * 1024;

/// A node with small limits, so that misbehaving takes little time: 1 s per activation,
/// 32 MiB of memory per instance, 5 fetches per activation.
fn small_limits() -> NodeConfig {
    let mut config = NodeConfig::development();
    config.limits.activation_timeout = Duration::from_secs(1);
    config.limits.memory_bytes = 32 * MIB;
    config.fetch.max_requests_per_activation = 5;
    config
}

/// A node with the hostile machine on it.
struct Hostile {
    node: TestNode,
    machine: String,
}

impl Hostile {
    fn start(config: NodeConfig) -> Self {
        let node = TestNode::start(config);
        let (_, machine) = node.machine(&guest("hostile"), b"");
        Self { node, machine }
    }

    /// Another machine of the same binary, with other params.
    fn another(&self, params: &[u8]) -> String {
        self.node.machine(&guest("hostile"), params).1
    }

    /// Runs activation `name` of this node's hostile machine with JSON `args`.
    fn call(&self, name: &str, args: Value) -> (u16, Value) {
        self.call_on(&self.machine, name, args)
    }

    /// Runs activation `name` of `machine` with JSON `args`.
    fn call_on(&self, machine: &str, name: &str, args: Value) -> (u16, Value) {
        self.node
            .post_json(&format!("/machines/{machine}/activate/{name}"), &args)
    }

    /// Asserts that the node is fine: a well-behaved activation answers at once, and nothing
    /// is left running or waiting.
    fn assert_healthy(&self) {
        let message = "still here ✓";
        assert_eq!(
            self.call("echo", json!({"message": message})),
            (200, json!(message))
        );
        let (status, health) = self.node.get("/healthz");
        assert_eq!(status, 200, "{health}");
        assert_eq!(health["status"], json!("ok"));
        assert_eq!(
            health["activations"],
            json!({"running": 0, "waiting": 0}),
            "{health}"
        );
        assert!(health["machines"].as_u64().unwrap() >= 1, "{health}");
    }
}

fn error_text(body: &Value) -> &str {
    body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no `error` field in {body}"))
}

/// What became of a request in flight, in the order the answers arrived.
#[derive(Debug)]
enum Arrived {
    Spin(u16, Value),
    Echo(&'static str, u16, Value),
}

#[test]
fn endless_loops_are_504s_and_everyone_else_is_served_meanwhile() {
    let mut config = small_limits();
    // Longer than the other tests' limit: the echoes must be answered well within it.
    let limit = Duration::from_secs(2);
    config.limits.activation_timeout = limit;
    let node = Hostile::start(config);
    let other = node.another(b"other");
    // More loops than the node has worker threads (2).
    let spins = 4;
    let (arrived, arrivals) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..spins {
            let arrived = arrived.clone();
            let node = &node;
            scope.spawn(move || {
                let (status, body) = node.call("spin", json!({}));
                arrived.send(Arrived::Spin(status, body)).unwrap();
            });
        }
        // Every loop has its turn and is running before anyone else asks.
        for _ in 0..1000 {
            if node.node.node.admission().load().0 == spins {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(node.node.node.admission().load(), (spins, 0));
        // Time for every loop to get from its turn into guest code.
        std::thread::sleep(Duration::from_millis(200));
        for (who, machine) in [("same machine", &node.machine), ("other machine", &other)] {
            let (status, body) = node.call_on(machine, "echo", json!({"message": who}));
            arrived.send(Arrived::Echo(who, status, body)).unwrap();
        }
    });
    drop(arrived);
    let arrivals: Vec<Arrived> = arrivals.iter().collect();
    assert_eq!(arrivals.len(), spins + 2, "{arrivals:?}");
    // Both echoes were answered while every loop was still running.
    for (arrival, who) in arrivals.iter().zip(["same machine", "other machine"]) {
        match arrival {
            Arrived::Echo(name, status, body) => {
                assert_eq!((*name, *status, body), (who, 200, &json!(who)));
            }
            Arrived::Spin(..) => panic!("a loop ended before the echoes: {arrivals:?}"),
        }
    }
    for arrival in &arrivals[2..] {
        let Arrived::Spin(status, body) = arrival else {
            unreachable!("both echoes came first")
        };
        assert_eq!(*status, 504, "{body}");
        assert_eq!(body["machine"], json!(node.machine));
        assert_eq!(body["activation"], json!("spin"));
        assert_eq!(body["limit_ms"], json!(limit.as_millis() as u64));
        let text = error_text(body);
        assert!(
            text.contains(&node.machine) && text.contains("limit"),
            "{body}"
        );
    }
    node.assert_healthy();
    assert_eq!(
        node.call_on(&other, "echo", json!({"message": "after"})),
        (200, json!("after"))
    );
}

/// The checksum `allocate(megabytes)` computes over the memory it touched.
fn allocate_checksum(megabytes: usize) -> u32 {
    (0..megabytes * MIB / 4096).fold(0u32, |sum, page| {
        sum.wrapping_mul(31).wrapping_add(u32::from(page as u8))
    })
}

/// Asserts a 500 that says the machine hit the node's 32 MiB memory limit.
fn assert_memory_limit(node: &Hostile, activation: &str, answer: (u16, Value)) {
    let (status, body) = answer;
    assert_eq!(status, 500, "{body}");
    let text = error_text(&body);
    assert!(
        text.contains("memory limit") && text.contains(&node.machine),
        "{body}"
    );
    assert_eq!(body["limit_bytes"], json!(32 * MIB));
    assert_eq!(body["machine"], json!(node.machine));
    assert_eq!(body["activation"], json!(activation));
}

#[test]
fn a_memory_bomb_hits_the_memory_limit_and_smaller_allocations_still_work() {
    let node = Hostile::start(small_limits());
    assert_memory_limit(
        &node,
        "allocate",
        node.call("allocate", json!({"megabytes": 1000})),
    );
    assert_eq!(
        node.call("allocate", json!({"megabytes": 4})),
        (200, json!(allocate_checksum(4)))
    );
    node.assert_healthy();
}

#[test]
fn a_huge_result_hits_the_memory_limit_and_a_large_one_is_returned_whole() {
    let node = Hostile::start(small_limits());
    assert_memory_limit(
        &node,
        "huge-result",
        node.call("huge-result", json!({"megabytes": 64})),
    );
    let (status, body) = node.call("huge-result", json!({"megabytes": 1}));
    assert_eq!(status, 200);
    let text = body.as_str().expect("a string");
    assert_eq!(text.len(), MIB);
    assert!(text.bytes().all(|b| b == b'x'));
    node.assert_healthy();
}

/// A local HTTP server that counts the requests to `/count` and never answers `/stall` within
/// any fetch timeout; returns its base URL and the count.
fn counting_server() -> (String, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    let app = Router::new()
        .route(
            "/count",
            get(move || async move {
                counted.fetch_add(1, Ordering::SeqCst);
                "counted"
            }),
        )
        .route(
            "/stall",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "too late"
            }),
        );
    (serve_locally(app), count)
}

#[test]
fn a_fetch_flood_is_cut_off_at_the_per_activation_limit_and_stalls_time_out() {
    let (base, count) = counting_server();
    let mut config = small_limits();
    config.policy.allow_loopback = true;
    config.limits.activation_timeout = Duration::from_secs(3);
    config.fetch.timeout = Duration::from_millis(300);
    let node = Hostile::start(config);
    let url = format!("{base}/count");

    let (status, body) = node.call("fetch-flood", json!({"url": url, "count": 20}));
    assert_eq!(status, 200, "{body}");
    let results: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(results.len(), 20);
    assert_eq!(results[..5], ["ok 200"; 5]);
    for refused in &results[5..] {
        assert!(
            refused.starts_with("Error::Denied(")
                && refused.contains("at most 5 outbound requests"),
            "{refused}"
        );
    }
    assert_eq!(count.load(Ordering::SeqCst), 5, "requests the server saw");

    // The count is per activation: the next one may fetch again.
    assert_eq!(
        node.call("fetch-flood", json!({"url": url, "count": 2})),
        (200, json!(["ok 200", "ok 200"]))
    );
    assert_eq!(count.load(Ordering::SeqCst), 7);

    // A server that never answers costs the fetch its timeout, not the activation its life.
    assert_eq!(
        node.call(
            "fetch-flood",
            json!({"url": format!("{base}/stall"), "count": 1})
        ),
        (200, json!(["Error::Timeout"]))
    );
    node.assert_healthy();
}

#[test]
fn an_output_flood_is_cut_at_the_limit_and_the_node_stays_healthy() {
    let mut config = small_limits();
    config.limits.output_bytes = MIB;
    // Ten thousand writes take a debug build on a loaded machine more than the 1 s of the other
    // tests; this one is about output, not time.
    config.limits.activation_timeout = Duration::from_secs(20);
    let node = Hostile::start(config);
    // Within the limit it is just output.
    assert_eq!(
        node.call("shout", json!({"bytes": 512 * 1024})),
        (200, json!(null))
    );
    // Past the limit the node keeps the first MiB and drops the rest; the guest's writes still
    // succeed, so the activation finishes as if nothing happened.
    assert_eq!(
        node.call("shout", json!({"bytes": 10 * MIB})),
        (200, json!(null))
    );
    // A panic after more stderr than is kept still gets its message into the answer.
    let (status, body) = node.call(
        "last-words",
        json!({"bytes": 2 * MIB, "message": "final words 7"}),
    );
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["panic"], "final words 7", "{body}");
    node.assert_healthy();
}

/// `POST` with JSON `args`; status, `Retry-After` and JSON body.
fn call_with_retry_after(url: &str, args: &Value) -> (u16, Option<String>, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent.post(url).send_json(args).expect("the node answers");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().unwrap().to_owned());
    let body = response.body_mut().read_json().unwrap();
    (status, retry_after, body)
}

#[test]
fn past_the_running_and_waiting_limits_the_node_says_it_is_busy() {
    let mut config = small_limits();
    config.limits.activation_timeout = Duration::from_secs(5);
    config.concurrency = ConcurrencyLimits {
        running: 2,
        waiting: 1,
        wait: Duration::from_millis(300),
    };
    let node = Hostile::start(config);
    let url = format!("{}/machines/{}/activate/nap", node.node.url, node.machine);
    let answers: Vec<(u16, Option<String>, Value)> = std::thread::scope(|scope| {
        let naps: Vec<_> = (0..6)
            .map(|_| scope.spawn(|| call_with_retry_after(&url, &json!({"ms": 1500}))))
            .collect();
        naps.into_iter().map(|nap| nap.join().unwrap()).collect()
    });
    let (done, busy): (Vec<_>, Vec<_>) = answers.iter().partition(|(status, ..)| *status == 200);
    // Two run, one waits too long, three find the queue full.
    assert!(!done.is_empty() && !busy.is_empty(), "{answers:?}");
    for (_, _, body) in &done {
        assert_eq!(body, &json!(1500));
    }
    for (status, retry_after, body) in &busy {
        assert_eq!(*status, 503, "{body}");
        assert_eq!(retry_after.as_deref(), Some("1"), "{body}");
        assert!(error_text(body).contains("busy"), "{body}");
    }
    assert_eq!(
        node.call("nap", json!({"ms": 10})),
        (200, json!(10)),
        "served again once the naps are over"
    );
    node.assert_healthy();
}

#[test]
fn every_activation_runs_in_a_fresh_instance() {
    let node = Hostile::start(small_limits());
    let other = node.another(b"other");
    for machine in [&node.machine, &other, &node.machine, &other] {
        assert_eq!(node.call_on(machine, "count", json!({})), (200, json!(1)));
    }
}

/// What an instance wrote is reset before the next instance in its slot runs, however
/// scattered: `scatter` writes 80 runs of pages, past the 32 runs wasmtime's reset collected per
/// scan before vendor/wasmtime's patch (and well within `keep_resident_bytes`, so that they are
/// reset in place rather than given back to the kernel).
#[test]
fn an_instance_never_sees_pages_the_one_before_it_wrote() {
    let node = Hostile::start(NodeConfig::development());
    for _ in 0..10 {
        assert_eq!(node.call("scatter", json!({})), (200, json!(0)));
    }
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..10 {
                    assert_eq!(node.call("scatter", json!({})), (200, json!(0)));
                }
            });
        }
    });
    node.assert_healthy();
}

#[test]
fn many_concurrent_clients_each_get_their_own_answer() {
    let node = Hostile::start(NodeConfig::development());
    let clients = 16;
    let calls = 200;
    let answered = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for client in 0..clients {
            let (node, answered) = (&node, &answered);
            scope.spawn(move || {
                for call in 0..calls {
                    let message = format!("client {client} call {call} ✓");
                    let answer = node.call("echo", json!({"message": message}));
                    assert_eq!(answer, (200, json!(message)));
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(answered.into_inner(), clients * calls);
    node.assert_healthy();
}

/// A node with small limits whose values may take 1 MiB: 26,214 bytes of a `list<u8>`.
fn small_values() -> NodeConfig {
    let mut config = small_limits();
    config.limits.value_bytes = MIB;
    config
}

#[test]
fn arguments_past_the_value_limit_are_413_and_the_activation_never_runs() {
    let node = Hostile::start(small_values());
    let items = MIB / carol_host::values::VALUE_BYTES;
    // One item past the limit, as hex and as an array of numbers.
    for data in [json!("ab".repeat(items + 1)), json!(vec![7; items + 1])] {
        let (status, body) = node.call("swallow", json!({ "data": data }));
        assert_eq!(status, 413, "{body}");
        assert!(
            error_text(&body).contains("max_value_bytes"),
            "the error names the setting: {body}"
        );
        assert_eq!(body["limit_bytes"], json!(MIB));
        assert_eq!(node.call("swallowed", json!({})), (200, Value::Null));
    }
    // Well within it, the activation runs.
    let (status, body) = node.call("swallow", json!({ "data": "ab".repeat(items / 2) }));
    assert_eq!((status, body), (200, json!(items / 2)));
    assert_eq!(node.call("swallowed", json!({})), (200, json!(items / 2)));
    node.assert_healthy();
}

#[test]
fn a_result_past_the_value_limit_fails_with_500_and_one_within_it_is_returned_whole() {
    let node = Hostile::start(small_values());
    let items = MIB / carol_host::values::VALUE_BYTES;
    let (status, body) = node.call("spew", json!({ "count": items + 1 }));
    assert_eq!(status, 500, "{body}");
    let text = error_text(&body);
    assert!(
        text.contains("max_value_bytes") && text.contains(&node.machine),
        "{body}"
    );
    assert_eq!(body["limit_bytes"], json!(MIB));
    assert_eq!(body["machine"], json!(node.machine));
    assert_eq!(body["activation"], json!("spew"));

    let (status, body) = node.call("spew", json!({ "count": items }));
    assert_eq!(status, 200, "{body}");
    let expected: String = (0..items).map(|i| format!("{:02x}", i as u8)).collect();
    assert_eq!(body, json!(expected));
    node.assert_healthy();
}
