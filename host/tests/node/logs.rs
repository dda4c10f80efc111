//! `[log] format = "json"` on a real `carol`: every line is one JSON object, and what is logged
//! while serving a request carries its id (the one in `x-request-id`) and the machine's.

use crate::durability::node_with;
use crate::durability::scratch;
use crate::harness::guest;
use serde_json::{Value, json};

#[test]
fn json_lines_carry_the_request_id_and_the_machine() {
    let dir = scratch("logs-json");
    let node = node_with(&dir, &[("log", "format", "\"json\"")]);
    let machine = node.machine(&guest("hostile"), b"");
    let response = ureq::post(&format!(
        "{}/machines/{machine}/activate/last-words",
        node.url
    ))
    .config()
    .http_status_as_error(false)
    .build()
    .send_json(json!({"bytes": 0, "message": "goodbye"}))
    .unwrap();
    assert_eq!(response.status().as_u16(), 500);
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();

    let lines: Vec<Value> = node
        .log()
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    assert!(
        lines.iter().all(|line| line["timestamp"].is_string()
            && line["level"].is_string()
            && line["fields"].is_object()),
        "{lines:#?}"
    );
    let trapped = lines
        .iter()
        .find(|line| {
            line["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("activation trapped"))
        })
        .unwrap_or_else(|| panic!("no trap logged: {lines:#?}"));
    assert_eq!(trapped["span"]["id"], json!(id), "{trapped}");
    assert_eq!(trapped["fields"]["machine"], json!(machine), "{trapped}");
    assert_eq!(
        trapped["fields"]["activation"],
        json!("last-words"),
        "{trapped}"
    );
    assert_eq!(trapped["level"], json!("WARN"), "{trapped}");
}
