//! The routes: ids, descriptions, creation, and activation by every spelling.

use crate::harness::{TestNode, guest, shared};
use carol_host::NodeConfig;
use serde_json::json;
use sha2::{Digest, Sha256};

#[test]
fn ids_are_the_sha256_definitions() {
    let component = guest("all-types");
    let binary = hex::encode(Sha256::digest(&component));
    assert_eq!(shared().binary, binary);
    let mut preimage = Sha256::digest(&component).to_vec();
    preimage.extend_from_slice(b"p1");
    assert_eq!(shared().machine, hex::encode(Sha256::digest(&preimage)));
}

#[test]
fn upload_and_create_are_idempotent() {
    let node = TestNode::start(NodeConfig::development());
    let component = guest("all-types");
    let (status, first) = node.post_bytes("/binaries", &component);
    assert_eq!(status, 201, "{first}");
    let (status, again) = node.post_bytes("/binaries", &component);
    assert_eq!((status, &again), (200, &first));
    let path = format!("/binaries/{}", first["id"].as_str().unwrap());
    let (status, machine) = node.post_bytes(&path, b"");
    assert_eq!(status, 201, "{machine}");
    assert_eq!(node.post_bytes(&path, b""), (200, machine.clone()));
    // Other params, another machine.
    let (status, other) = node.post_bytes(&path, b"\x00\x01");
    assert_eq!(status, 201);
    assert_ne!(other["id"], machine["id"]);
    assert_eq!(node.get("/").1["machines"], json!(2));
}

#[test]
fn root_gives_the_public_key() {
    let (status, body) = shared().node.get("/");
    assert_eq!(status, 200);
    let key = body["public_key"].as_str().unwrap();
    assert_eq!(key, hex::encode(shared().node.node.public_key().to_bytes()));
    assert_eq!(key.len(), 96);
}

#[test]
fn binary_description_lists_every_activation_with_types() {
    let (status, body) = shared().node.get(&format!("/binaries/{}", shared().binary));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], json!(shared().binary));
    let activations = body["activations"].as_array().unwrap();
    let find = |name: &str| {
        activations
            .iter()
            .find(|a| a["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {body}"))
    };
    // World-level types keep their WIT names, read from the component; each is defined once.
    let point = "point";
    let record = find("echo-record");
    assert_eq!(record["params"][0]["name"], "v");
    assert_eq!(record["params"][0]["type"], point);
    assert_eq!(
        record["params"][0]["schema"]["required"],
        json!(["x", "y", "label"])
    );
    assert_eq!(record["result"], json!(point));
    assert_eq!(
        record["signature"],
        json!(format!("echo-record(v: {point}) -> {point}"))
    );
    assert_eq!(
        find("echo-enum")["signature"],
        json!("echo-enum(v: color) -> color")
    );
    assert_eq!(
        find("echo-result")["signature"],
        json!("echo-result(v: result<string, u32>) -> result<string, u32>")
    );
    assert_eq!(
        find("echo-nested")["signature"],
        json!("echo-nested(v: list<option<point>>) -> list<option<point>>")
    );
    let types = body["types"].as_array().unwrap();
    let names: Vec<&str> = types.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["point", "shape", "color", "perms", "identity-info"]);
    assert_eq!(
        types[0]["definition"],
        json!("record point { x: s32, y: s32, label: string }")
    );
    assert_eq!(types[0]["kind"], json!("record"));
    assert_eq!(
        types[0]["members"][1],
        json!({"name": "y", "type": "s32", "docs": null})
    );
    assert_eq!(
        types[1]["definition"],
        json!("variant shape { circle(f64), rect(point), empty }")
    );
    assert_eq!(types[0]["schema"], record["params"][0]["schema"]);
    assert_eq!(find("nothing")["result"], json!(null));
    let mul = find("calc/mul");
    assert_eq!(mul["interface"], json!("test:all-types/calc"));
    assert_eq!(mul["function"], json!("mul"));
    assert_eq!(mul["signature"], json!("calc/mul(a: s32, b: s32) -> s32"));
    assert_eq!(activations.len(), 34);
}

#[test]
fn machine_description() {
    let (status, body) = shared()
        .node
        .get(&format!("/machines/{}", shared().machine));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["binary_id"], json!(shared().binary));
    assert_eq!(body["params"], json!(hex::encode(b"p1")));
    assert!(
        body["activations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["name"] == "echo-flags")
    );
}

#[test]
fn interface_exports_are_named_interface_slash_function() {
    assert_eq!(
        shared().get("calc/mul", &[("a", "6"), ("b", "-7")]),
        (200, json!(-42))
    );
    assert_eq!(
        shared().post("calc/mul", &json!({"a": 3, "b": 4})),
        (200, json!(12))
    );
}

#[test]
fn http_route_and_snake_case_spellings() {
    let path = format!("/machines/{}/http/echo_string?v=seed", shared().machine);
    assert_eq!(shared().node.get(&path), (200, json!("seed")));
    assert_eq!(
        shared().get("bare_result", &[("fail", "false")]),
        (200, json!({"ok": null}))
    );
    let path = format!("/machines/{}/http/add", shared().machine);
    assert_eq!(
        shared().node.post_json(&path, &json!({"a": 1, "b": 2})),
        (200, json!(3))
    );
}
