//! Machines' state through real activations: what one activation writes the next reads, writes
//! of activations that trap or time out vanish, concurrent read-modify-writes lose nothing,
//! machines never see each other's state, and the quota and size limits refuse with clear
//! errors and write nothing.

use crate::harness::{TestNode, guest};
use carol_host::NodeConfig;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

/// A machine of the `stateful` test guest.
pub struct Stateful<'a> {
    pub node: &'a TestNode,
    pub id: String,
}

impl<'a> Stateful<'a> {
    /// Creates the machine with `params` on `node`.
    pub fn create(node: &'a TestNode, params: &[u8]) -> Self {
        let (_, id) = node.machine(&guest("stateful"), params);
        Self { node, id }
    }

    /// `POST /machines/{id}/activate/{name}` with `args`.
    pub fn call(&self, name: &str, args: Value) -> (u16, Value) {
        self.node
            .post_json(&format!("/machines/{}/activate/{name}", self.id), &args)
    }

    /// The answer of an activation that must succeed.
    pub fn ok(&self, name: &str, args: Value) -> Value {
        let (status, body) = self.call(name, args);
        assert_eq!(status, 200, "{name}: {body}");
        body
    }

    pub fn put(&self, key: &[u8], value: &[u8]) {
        let answer = self.ok(
            "put",
            json!({"key": hex::encode(key), "value": hex::encode(value)}),
        );
        assert_eq!(answer, json!({"ok": null}));
    }

    /// The value under `key`, in hex, or `null`.
    pub fn get(&self, key: &[u8]) -> Value {
        self.ok("get", json!({"key": hex::encode(key)}))
    }

    /// Keys with `prefix` after `start_after`, as text.
    pub fn list(&self, prefix: &str, start_after: Option<&str>, limit: u32) -> Vec<String> {
        let answer = self.ok(
            "list-keys",
            json!({
                "prefix": hex::encode(prefix),
                "start-after": start_after.map(hex::encode),
                "limit": limit,
            }),
        );
        keys_text(&answer)
    }

    /// The `state` field of `GET /machines/{id}`.
    pub fn usage(&self) -> Value {
        let (status, body) = self.node.get(&format!("/machines/{}", self.id));
        assert_eq!(status, 200, "{body}");
        body["state"].clone()
    }
}

/// A JSON list of hex keys as text.
fn keys_text(answer: &Value) -> Vec<String> {
    answer
        .as_array()
        .unwrap()
        .iter()
        .map(|key| String::from_utf8(hex::decode(key.as_str().unwrap()).unwrap()).unwrap())
        .collect()
}

fn short_timeout_node() -> TestNode {
    let mut config = NodeConfig::development();
    config.limits.activation_timeout = Duration::from_secs(1);
    TestNode::start(config)
}

#[test]
fn what_an_activation_writes_later_activations_read_list_and_delete() {
    let node = TestNode::start(NodeConfig::development());
    let machine = Stateful::create(&node, b"");
    assert_eq!(machine.get(b"a"), Value::Null);
    assert_eq!(
        machine.usage(),
        json!({"bytes": 0, "quota": 16 * 1024 * 1024})
    );
    for key in ["b/2", "a", "b/1", "b/3", "c"] {
        machine.put(key.as_bytes(), key.to_uppercase().as_bytes());
    }
    assert_eq!(machine.get(b"b/1"), json!(hex::encode("B/1")));
    machine.put(b"a", b"replaced");
    assert_eq!(machine.get(b"a"), json!(hex::encode("replaced")));
    // Keys and values, byte for byte: a=replaced, b/1..b/3 (3+3 each), c=C.
    assert_eq!(machine.usage()["bytes"], json!(1 + 8 + 3 * 6 + 2));

    assert_eq!(machine.list("", None, 100), ["a", "b/1", "b/2", "b/3", "c"]);
    assert_eq!(machine.list("b/", None, 100), ["b/1", "b/2", "b/3"]);
    // Pages: pass the last key of one to get the next.
    assert_eq!(machine.list("b/", None, 2), ["b/1", "b/2"]);
    assert_eq!(machine.list("b/", Some("b/2"), 2), ["b/3"]);
    assert_eq!(machine.list("", Some("b"), 2), ["b/1", "b/2"]);
    assert!(machine.list("d", None, 100).is_empty());
    assert!(machine.list("b/", None, 0).is_empty());

    assert_eq!(
        machine.ok("delete", json!({"key": hex::encode("b/2")})),
        json!(true)
    );
    assert_eq!(
        machine.ok("delete", json!({"key": hex::encode("b/2")})),
        json!(false)
    );
    assert_eq!(machine.get(b"b/2"), Value::Null);
    assert_eq!(machine.list("b/", None, 100), ["b/1", "b/3"]);
    assert_eq!(machine.usage()["bytes"], json!(1 + 8 + 2 * 6 + 2));

    // Within one activation, its own deletions and additions are what it lists.
    let listed = machine.ok(
        "edit-then-list",
        json!({
            "deleted": [hex::encode("b/1")],
            "added": [hex::encode("b/0"), hex::encode("b/4")],
            "prefix": hex::encode("b/"),
            "limit": 2,
        }),
    );
    assert_eq!(keys_text(&listed), ["b/0", "b/3"]);
    assert_eq!(machine.list("b/", None, 100), ["b/0", "b/3", "b/4"]);
}

#[test]
fn a_trap_or_a_timeout_discards_every_write_of_the_activation() {
    let node = short_timeout_node();
    let machine = Stateful::create(&node, b"");
    machine.put(b"k", b"before");
    let usage = machine.usage();

    let args = json!({"key": hex::encode("k"), "value": hex::encode("after")});
    let (status, body) = machine.call("put-then-trap", args.clone());
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["panic"], "trapping after writing", "{body}");
    assert_eq!(machine.get(b"k"), json!(hex::encode("before")));

    let (status, body) = machine.call("put-then-spin", args.clone());
    assert_eq!(status, 504, "{body}");
    assert_eq!(machine.get(b"k"), json!(hex::encode("before")));
    let other = json!({"key": hex::encode("other"), "value": hex::encode("x")});
    assert_eq!(machine.call("put-then-trap", other.clone()).0, 500);
    assert_eq!(machine.call("put-then-spin", other).0, 504);
    assert_eq!(machine.get(b"other"), Value::Null);
    assert_eq!(machine.list("", None, 10), ["k"]);
    assert_eq!(machine.usage(), usage);

    // The machine's state lock went with the activations that held it.
    machine.put(b"k", b"later");
    assert_eq!(machine.get(b"k"), json!(hex::encode("later")));
}

#[test]
fn thousands_of_concurrent_increments_lose_no_update() {
    const THREADS: usize = 16;
    const PER_THREAD: usize = 125;
    let node = TestNode::start(NodeConfig::development());
    let machine = Stateful::create(&node, b"");
    let args = json!({"key": hex::encode("counter")});
    let counts: Vec<u64> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                scope.spawn(|| {
                    (0..PER_THREAD)
                        .map(|_| machine.ok("increment", args.clone()).as_u64().unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap())
            .collect()
    });
    let total = (THREADS * PER_THREAD) as u64;
    // Serializable: each increment saw every earlier one, so each count was handed out once.
    let distinct: BTreeSet<u64> = counts.iter().copied().collect();
    assert_eq!(distinct, (1..=total).collect::<BTreeSet<u64>>());
    assert_eq!(
        machine.get(b"counter"),
        json!(hex::encode(total.to_le_bytes()))
    );
}

#[test]
fn machines_never_see_each_others_state() {
    let node = TestNode::start(NodeConfig::development());
    let one = Stateful::create(&node, b"one");
    let two = Stateful::create(&node, b"two");
    assert_ne!(one.id, two.id);
    one.put(b"shared-name", b"one's");
    assert_eq!(two.get(b"shared-name"), Value::Null);
    assert!(two.list("", None, 100).is_empty());
    assert_eq!(two.usage()["bytes"], 0);
    two.put(b"shared-name", b"two's");
    assert_eq!(one.get(b"shared-name"), json!(hex::encode("one's")));
    assert_eq!(two.get(b"shared-name"), json!(hex::encode("two's")));
    assert_eq!(
        two.ok("delete", json!({"key": hex::encode("shared-name")})),
        json!(true)
    );
    assert_eq!(one.get(b"shared-name"), json!(hex::encode("one's")));

    // Creating the same binary with the same params again is the same machine, state included.
    let again = Stateful::create(&node, b"one");
    assert_eq!(again.id, one.id);
    assert_eq!(again.get(b"shared-name"), json!(hex::encode("one's")));
}

#[test]
fn the_quota_and_size_limits_refuse_clearly_and_write_nothing() {
    let mut config = NodeConfig::development();
    config.state_quota_bytes = 10_000;
    let node = TestNode::start(config);
    let machine = Stateful::create(&node, b"");
    machine.put(b"keep", &[7; 100]);
    assert_eq!(machine.usage(), json!({"bytes": 104, "quota": 10_000}));

    let pair = |key: &str, len: usize| json!([hex::encode(key), hex::encode(vec![1u8; len])]);
    let (status, body) = machine.call(
        "put-all",
        json!({"pairs": [pair("fits", 5_000), pair("too-much", 5_000)]}),
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(body, json!({"err": [1, "Error::QuotaExceeded(10000)"]}));
    // The refused write left nothing; the activation returned, so its other write stands.
    assert_eq!(machine.get(b"too-much"), Value::Null);
    assert_eq!(machine.get(b"keep"), json!(hex::encode([7; 100])));
    assert_eq!(machine.usage()["bytes"], 104 + 4 + 5_000);

    // Replacing a value with a larger one counts only the difference; a write that does not
    // grow the state is always allowed.
    let (status, body) = machine.call("put-all", json!({"pairs": [pair("fits", 9_900)]}));
    assert_eq!(
        body,
        json!({"err": [0, "Error::QuotaExceeded(10000)"]}),
        "{status}"
    );
    machine.put(b"fits", &[1; 4_000]);
    assert_eq!(machine.usage()["bytes"], 104 + 4 + 4_000);
    machine.put(b"fits", &[2; 10_000 - 104 - 4]);
    assert_eq!(machine.usage()["bytes"], 10_000);
    machine.put(b"fits", &[3; 10]);
    assert_eq!(machine.usage()["bytes"], 104 + 4 + 10);

    let refused = |key: Vec<u8>, value: Vec<u8>| {
        let (status, body) = machine.call(
            "put",
            json!({"key": hex::encode(&key), "value": hex::encode(&value)}),
        );
        assert_eq!(status, 422, "{body}");
        body["err"].as_str().unwrap().to_owned()
    };
    assert_eq!(
        refused(vec![b'k'; 1025], vec![]),
        "Error::KeyTooLarge(1024)"
    );
    assert_eq!(
        refused(b"v".to_vec(), vec![0; 1024 * 1024 + 1]),
        "Error::ValueTooLarge(1048576)"
    );
    assert_eq!(machine.list("", None, 10), ["fits", "keep"]);
}

#[test]
fn the_counter_example_counts_and_keeps_ten_entries() {
    let node = TestNode::start(NodeConfig::development());
    let (_, id) = node.machine(&guest("counter"), b"");
    let call = |name: &str, args: Value| {
        let (status, body) = node.post_json(&format!("/machines/{id}/activate/{name}"), &args);
        assert_eq!(status, 200, "{name}: {body}");
        body
    };
    assert_eq!(call("count", json!({})), 0);
    for i in 1..=12u64 {
        assert_eq!(call("increment", json!({"note": format!("n{i}")})), i);
    }
    assert_eq!(call("count", json!({})), 12);
    let history = call("history", json!({}));
    let numbers: Vec<u64> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, (3..=12).collect::<Vec<u64>>());
    assert_eq!(history[9]["note"], "n12");
    assert!(history[9]["unix-time"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(call("reset", json!({})), 12);
    assert_eq!(call("count", json!({})), 0);
    assert_eq!(call("history", json!({})), json!([]));
}

#[test]
fn a_set_and_delete_loop_leaves_nothing_pending_and_too_many_writes_trap() {
    let node = TestNode::start(NodeConfig::development());
    let machine = Stateful::create(&node, b"churn");
    // Twice as many keys as one activation may write, each stored and deleted again: none of
    // them is a write the activation must keep, so none counts.
    let count = 2 * carol_host::imports::MAX_PENDING_WRITES;
    let (status, body) = machine.call("churn", json!({"prefix": "6b", "count": count}));
    assert_eq!((status, &body), (200, &Value::Null));
    assert_eq!(machine.list("", None, 10), ["k"]);
    assert_eq!(machine.usage()["bytes"], 1);

    // Distinct keys that are kept: one past the limit traps, and nothing is written.
    let pairs: Vec<Value> = (0..=carol_host::imports::MAX_PENDING_WRITES as u32)
        .map(|i| json!([hex::encode(i.to_be_bytes()), ""]))
        .collect();
    let (status, body) = machine.call("put-all", json!({"pairs": pairs}));
    assert_eq!(status, 500, "{body}");
    let error = body["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("more than 10000 keys") && error.contains("nothing it wrote is kept"),
        "{body}"
    );
    assert_eq!(machine.list("", None, 10), ["k"]);
    assert_eq!(machine.usage()["bytes"], 1);
    // Exactly the limit is fine.
    let (status, body) = machine.call("put-all", json!({"pairs": &pairs[1..]}));
    assert_eq!((status, &body), (200, &json!({"ok": null})));
    assert_eq!(
        machine.usage()["bytes"],
        1 + 4 * carol_host::imports::MAX_PENDING_WRITES
    );
}
