//! Removals on a real `carol`: a holder of an `[access] admin_tokens` token removes a machine,
//! or a binary with its machines; afterwards their routes answer 410 Gone with the reason, the
//! same component or machine cannot come back, other machines are untouched, and all of it
//! holds after a restart. Without an admin token nobody removes anything.

use crate::durability::{Carol, cache_files, node_with, scratch};
use crate::harness::guest;
use crate::tokens::access_token;
use carol_core::ids::BinaryId;
use serde_json::{Value, json};

/// `DELETE path` with `body` and, if given, `Authorization: Bearer token`: status and JSON.
pub fn delete(node: &Carol, path: &str, body: &Value, token: Option<&str>) -> (u16, Value) {
    let mut request = Carol::agent()
        .delete(&format!("{}{path}", node.url))
        .force_send_body()
        .header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", &format!("Bearer {token}"));
    }
    let mut response = request.send(body.to_string()).unwrap();
    let status = response.status().as_u16();
    (status, response.body_mut().read_json().unwrap())
}

pub fn gone((status, body): (u16, Value), reason: &str) {
    assert_eq!(status, 410, "{body}");
    assert_eq!(body["reason"], json!(reason), "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("was removed by this node's operator"),
        "{error}"
    );
}

#[test]
fn an_admin_removes_machines_and_binaries_which_answer_410_for_good() {
    let dir = scratch("removals");
    let (admin, entry) = access_token("ops");
    let node = node_with(
        &dir,
        &[("access", "admin_tokens", &format!("[\"{entry}\"]"))],
    );
    let stateful = guest("stateful");
    let binary = BinaryId::of(&stateful).to_string();
    let kept = node.machine(&stateful, b"kept");
    let doomed = node.machine(&stateful, b"doomed");
    let other = node.machine(&guest("all-types"), b"");
    let put = json!({"key": "6b", "value": "76"});
    let activate = |node: &Carol, machine: &str| {
        node.post_json(&format!("/machines/{machine}/activate/put"), &put)
    };
    assert_eq!(activate(&node, &kept).0, 200);

    // Nobody without the admin token; no removal without a reason.
    let why = json!({"reason": "phishing page"});
    let path = format!("/machines/{doomed}");
    assert_eq!(delete(&node, &path, &why, None).0, 401);
    assert_eq!(delete(&node, &path, &why, Some("not-a-token")).0, 401);
    let (status, body) = delete(&node, &path, &json!({"reason": " "}), Some(&admin));
    assert_eq!(status, 400, "{body}");
    assert_eq!(node.get(&path).0, 200);

    let (status, body) = delete(&node, &path, &why, Some(&admin));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["machines"], json!([doomed]), "{body}");
    gone(node.get(&path), "phishing page");
    gone(activate(&node, &doomed), "phishing page");
    gone(
        node.post(&format!("/binaries/{binary}"), b"doomed"),
        "phishing page",
    );
    assert_eq!(activate(&node, &kept).0, 200);

    // A binary goes with its machines; the same component cannot be uploaded again.
    let path = format!("/binaries/{binary}");
    let why = json!({"reason": "malware"});
    let (status, body) = delete(&node, &path, &why, Some(&admin));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["machines"], json!([kept]), "{body}");
    gone(node.get(&path), "malware");
    gone(node.get(&format!("/machines/{kept}")), "malware");
    gone(node.post("/binaries", &stateful), "malware");
    gone(node.post(&path, b"new"), "malware");
    let (status, body) = node.get(&format!("/machines/{other}/activate/calc/mul?a=6&b=7"));
    assert_eq!((status, body), (200, json!(42)));
    // Its compiled code went too: the cache holds all-types' alone.
    assert_eq!(cache_files(&dir).len(), 1, "{:?}", cache_files(&dir));

    // After a restart too.
    drop(node);
    let node = node_with(
        &dir,
        &[("access", "admin_tokens", &format!("[\"{entry}\"]"))],
    );
    gone(node.get(&path), "malware");
    gone(node.get(&format!("/machines/{doomed}")), "phishing page");
    gone(activate(&node, &kept), "malware");
    assert_eq!(
        node.get(&format!("/machines/{other}/activate/calc/mul?a=6&b=7")),
        (200, json!(42))
    );
    let (status, body) = node.get("/");
    assert_eq!(status, 200, "{body}");
}

#[test]
fn a_node_without_admin_tokens_lets_nobody_remove() {
    let dir = scratch("removals-none");
    let node = node_with(&dir, &[]);
    let machine = node.machine(&guest("stateful"), b"");
    let (admin, _) = access_token("ops");
    let (status, body) = delete(
        &node,
        &format!("/machines/{machine}"),
        &json!({"reason": "x"}),
        Some(&admin),
    );
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("admin_tokens"),
        "{body}"
    );
    assert_eq!(node.get(&format!("/machines/{machine}")).0, 200);
}
