//! Every bad input gets a clear JSON error naming what was wrong, and the node loses nothing.

use crate::harness::{SHARED_TIMEOUT, TestNode, guest, shared};
use carol_host::NodeConfig;
use serde_json::{Value, json};

fn error_text(body: &Value) -> &str {
    body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no `error` field in {body}"))
}

/// Asserts a 400 whose message contains every one of `needles`.
fn assert_400(answer: (u16, Value), needles: &[&str]) {
    let (status, body) = answer;
    assert_eq!(status, 400, "{body}");
    let text = error_text(&body);
    for needle in needles {
        assert!(text.contains(needle), "{text:?} should mention {needle:?}");
    }
}

#[test]
fn uploads_that_are_not_machines_are_refused_and_nothing_is_stored() {
    let node = TestNode::start(NodeConfig::development());
    let cases: [(&[u8], &str); 5] = [
        (b"hello", "not a WebAssembly component"),
        (b"", "not a WebAssembly component"),
        (b"\0asm\x01\0\0\0", "core WebAssembly module"),
        (&guest("bad-import"), "test:bad-import/unknown"),
        (&guest("resource-export"), "resource"),
    ];
    for (bytes, needle) in cases {
        assert_400(node.post_bytes("/binaries", bytes), &[needle]);
    }
    let resource = node.post_bytes("/binaries", &guest("resource-export")).1;
    assert!(error_text(&resource).contains("counters/"), "{resource}");
    assert_eq!(node.get("/").1["binaries"], json!(0));
    // A truncated component is refused too, and the node still takes the whole one.
    let whole = guest("all-types");
    assert_400(
        node.post_bytes("/binaries", &whole[..whole.len() / 2]),
        &["invalid component"],
    );
    assert_eq!(node.post_bytes("/binaries", &whole).0, 201);
}

#[test]
fn missing_extra_repeated_and_ill_typed_arguments() {
    let s = shared();
    assert_400(s.get("echo-u8", &[]), &["missing argument `v`", "u8"]);
    assert_400(
        s.post("add", &json!({"a": 1})),
        &["missing argument `b`", "u64"],
    );
    assert_400(
        s.get("echo-u8", &[("v", "1"), ("w", "2")]),
        &["unexpected argument `w`", "v: u8"],
    );
    assert_400(
        s.get("echo-u8", &[("v", "1"), ("v", "2")]),
        &["`v` is given more than once"],
    );
    assert_400(
        s.post("echo-string", &json!({"v": 5})),
        &["argument `v`", "expected string", "found number 5"],
    );
    assert_400(
        s.post("echo-string", &json!(["v"])),
        &["JSON object keyed by parameter name", "v: string"],
    );
    assert_400(s.get("echo-bool", &[("v", "yes")]), &["expected bool"]);
    assert_400(
        s.get("echo-char", &[("v", "ab")]),
        &["exactly one Unicode character"],
    );
    let (status, body) = s.get("echo-u8", &[]);
    assert_eq!((status, &body["parameter"]), (400, &json!("v")));
    // An empty body is no body; one of whitespace alone is no JSON text, nor is a form feed.
    assert_eq!(s.post_raw("nothing", b"").0, 200);
    assert_400(s.post_raw("nothing", b" \t\r\n"), &["JSON"]);
    assert_400(s.post_raw("nothing", b"\n"), &["JSON"]);
    assert_400(s.post_raw("nothing", b"\x0c"), &["JSON"]);
}

#[test]
fn out_of_range_numbers() {
    let s = shared();
    assert_400(
        s.get("echo-u8", &[("v", "256")]),
        &["expected u8 (an integer from 0 to 255)", "256"],
    );
    assert_400(s.get("echo-s8", &[("v", "-129")]), &["s8"]);
    assert_400(s.post("echo-u64", &json!({"v": -1})), &["u64"]);
    assert_400(
        s.post("echo-u64", &json!({"v": "18446744073709551616"})),
        &["u64"],
    );
    assert_400(s.post("echo-s64", &json!({"v": 9.5})), &["s64"]);
    // Whole numbers written with a fraction are integers (as in JSON Schema), but only where
    // a double is exact: past 2^53, integers must be written as plain digits.
    assert_eq!(s.post("echo-u32", &json!({"v": 1.0})), (200, json!(1)));
    // Read exactly, not to the nearest few bits (found by the OpenAPI fuzzer).
    assert_eq!(
        s.post_raw("echo-s64", br#"{"v": 2231416408412587.0}"#),
        (200, json!(2231416408412587i64))
    );
    assert_400(s.post("echo-u64", &json!({"v": 1e19})), &["u64"]);
    assert_400(
        s.post_raw("echo-s64", br#"{"v": -9223372036854775809}"#),
        &["s64"],
    );
    assert_400(s.post("echo-f32", &json!({"v": 1e300})), &["f32"]);
}

#[test]
fn wrong_shapes_unknown_fields_and_cases() {
    let s = shared();
    assert_400(
        s.post(
            "echo-record",
            &json!({"v": {"x": 1, "y": 2, "label": "a", "z": 3}}),
        ),
        &["unknown field `z`", "x, y, label"],
    );
    assert_400(
        s.post("echo-record", &json!({"v": {"x": 1, "label": "a"}})),
        &["field `y`"],
    );
    assert_400(
        s.post(
            "echo-record",
            &json!({"v": {"x": "1", "y": 2, "label": "a"}}),
        ),
        &["at `.x`", "s32"],
    );
    assert_400(
        s.post("echo-enum", &json!({"v": "purple"})),
        &["unknown case `purple`", "light-blue"],
    );
    assert_400(
        s.get("echo-enum", &[("v", "purple")]),
        &["unknown case `purple`"],
    );
    assert_400(
        s.post("echo-variant", &json!({"v": {"square": 1}})),
        &["unknown case `square`"],
    );
    assert_400(
        s.post("echo-variant", &json!({"v": "circle"})),
        &["payload"],
    );
    assert_400(
        s.post("echo-flags", &json!({"v": ["read", "fly"]})),
        &["unknown flag `fly`", "at `[1]`"],
    );
    assert_400(
        s.post("echo-tuple", &json!({"v": [1, "x"]})),
        &["tuple<u32, string, bool>"],
    );
    assert_400(
        s.post("echo-result", &json!({"v": {"maybe": 1}})),
        &["result<string, u32>"],
    );
    assert_400(s.post("echo-bytes", &json!({"v": "xyz"})), &["list<u8>"]);
    assert_400(
        s.post("echo-list", &json!({"v": ["a", 1]})),
        &["at `[1]`", "string"],
    );
    assert_400(s.get("echo-list", &[("v", "not json")]), &["JSON text"]);
    assert_400(
        s.post(
            "echo-nested",
            &json!({"v": [null, {"x": 1, "y": 2, "label": 3}]}),
        ),
        &["at `[1].label`"],
    );
}

#[test]
fn a_body_that_is_not_json() {
    let path = format!("/machines/{}/activate/echo-string", shared().machine);
    assert_400(shared().node.post_bytes(&path, b"{not json"), &["not JSON"]);
}

#[test]
fn unknown_machine_binary_activation_and_route_are_404s_listing_what_exists() {
    let node = &shared().node;
    let (status, body) = node.get(&format!("/machines/{}", "0".repeat(64)));
    assert_eq!(status, 404);
    assert!(error_text(&body).contains("no machine"));
    assert!(
        body["machines"]
            .as_array()
            .unwrap()
            .contains(&json!(shared().machine))
    );
    let (status, body) = node.get("/machines/not-an-id/activate/say");
    assert_eq!(status, 404, "{body}");
    let (status, body) = node.get(&format!("/binaries/{}", "f".repeat(64)));
    assert_eq!(status, 404);
    assert!(
        body["binaries"]
            .as_array()
            .unwrap()
            .contains(&json!(shared().binary))
    );
    let (status, body) = node.post_bytes(&format!("/binaries/{}", "f".repeat(64)), b"");
    assert_eq!(status, 404, "{body}");
    let (status, body) = shared().get("no-such-thing", &[]);
    assert_eq!(status, 404);
    assert!(error_text(&body).contains("no activation `no-such-thing`"));
    assert!(
        body["activations"]
            .as_array()
            .unwrap()
            .contains(&json!("echo-u8(v: u8) -> u8"))
    );
    let (status, body) = node.get("/nowhere");
    assert_eq!(status, 404);
    assert!(error_text(&body).contains("no route"));
    let (status, body) = node.post_bytes("/", b"");
    assert_eq!(status, 405);
    assert!(error_text(&body).contains("POST"));
}

#[test]
fn a_panic_is_a_500_with_the_message_and_the_machine_keeps_working() {
    let (status, body) = shared().get("fail", &[("message", "the answer is 42")]);
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["machine"], json!(shared().machine));
    assert_eq!(body["activation"], json!("fail"));
    assert_eq!(body["panic"], json!("the answer is 42"));
    assert!(
        error_text(&body).contains(&shared().machine)
            && error_text(&body).contains("the answer is 42"),
        "{body}"
    );
    assert_eq!(shared().get("echo-u8", &[("v", "1")]), (200, json!(1)));
}

#[test]
fn an_endless_loop_is_a_504_and_others_are_served_meanwhile() {
    let started = std::time::Instant::now();
    let spinner = std::thread::spawn(|| shared().get("spin", &[]));
    // Served while the loop runs (the loop holds one of the node's threads).
    assert_eq!(shared().get("echo-u8", &[("v", "9")]), (200, json!(9)));
    let (status, body) = spinner.join().unwrap();
    assert_eq!(status, 504, "{body}");
    assert!(
        error_text(&body).contains(&shared().machine) && error_text(&body).contains("limit"),
        "{body}"
    );
    assert_eq!(body["limit_ms"], json!(SHARED_TIMEOUT.as_millis() as u64));
    assert!(started.elapsed() >= SHARED_TIMEOUT);
}

#[test]
fn params_over_the_limit_are_413() {
    let mut config = NodeConfig::development();
    config.max_params_bytes = 4;
    let node = TestNode::start(config);
    let (status, body) = node.post_bytes("/binaries", &guest("all-types"));
    assert_eq!(status, 201);
    let path = format!("/binaries/{}", body["id"].as_str().unwrap());
    let (status, body) = node.post_bytes(&path, b"12345");
    assert_eq!(status, 413, "{body}");
    assert!(error_text(&body).contains("limit of 4 bytes"));
    assert_eq!(node.get("/").1["machines"], json!(0));
    assert_eq!(node.post_bytes(&path, b"1234").0, 201);
}
