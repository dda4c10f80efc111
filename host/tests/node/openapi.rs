//! `GET /machines/{id}/openapi.json` and the schemas in `GET /binaries/{id}`.

use crate::harness::shared;
use serde_json::{Value, json};

/// `schema` with every `$ref` into the document's `components/schemas` replaced by the schema
/// it names, as a validator reads it.
fn resolved(document: &Value, schema: &Value) -> Value {
    match schema {
        Value::Object(object) => match object.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let name = reference
                    .strip_prefix("#/components/schemas/")
                    .unwrap_or_else(|| panic!("a reference outside the components: {reference}"));
                resolved(document, &document["components"]["schemas"][name])
            }
            None => Value::Object(
                object
                    .iter()
                    .map(|(key, value)| (key.clone(), resolved(document, value)))
                    .collect(),
            ),
        },
        Value::Array(items) => {
            Value::Array(items.iter().map(|item| resolved(document, item)).collect())
        }
        other => other.clone(),
    }
}

#[test]
fn every_activation_is_a_get_and_a_post_operation_with_its_schemas() {
    let shared = shared();
    let (status, doc) = shared
        .node
        .get(&format!("/machines/{}/openapi.json", shared.machine));
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["version"], json!(shared.binary));
    let (_, description) = shared.node.get(&format!("/machines/{}", shared.machine));
    let activations = description["activations"].as_array().unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.len(), activations.len());
    for activation in activations {
        let name = activation["name"].as_str().unwrap();
        let path = &paths[&format!("/machines/{}/activate/{name}", shared.machine)];
        let get = &path["get"];
        let post = &path["post"];
        assert_eq!(get["summary"], activation["signature"]);
        assert_eq!(
            get["parameters"].as_array().unwrap().len(),
            activation["params"].as_array().unwrap().len()
        );
        let body = &post["requestBody"]["content"]["application/json"]["schema"];
        assert_eq!(body["type"], "object");
        for param in activation["params"].as_array().unwrap() {
            let name = param["name"].as_str().unwrap();
            assert_eq!(
                resolved(&doc, &body["properties"][name]),
                param["schema"],
                "{name}"
            );
        }
        let returns_result = activation["result"]
            .as_str()
            .is_some_and(|r| r.starts_with("result"));
        assert_eq!(
            get["responses"].get("422").is_some(),
            returns_result,
            "{name}"
        );
        for status in ["200", "400", "404", "500", "503", "504"] {
            assert!(get["responses"].get(status).is_some(), "{name} {status}");
        }
        if let Some(docs) = activation["docs"].as_str() {
            assert_eq!(get["description"], docs);
        }
    }
    let mul = &paths[&format!("/machines/{}/activate/calc/mul", shared.machine)]["get"];
    assert_eq!(mul["parameters"][0]["schema"]["maximum"], json!(i32::MAX));
    let record = &paths[&format!("/machines/{}/activate/echo-record", shared.machine)]["get"];
    let schema = &record["parameters"][0]["content"]["application/json"]["schema"];
    assert_eq!(schema, &json!({"$ref": "#/components/schemas/point"}));
    assert!(
        resolved(&doc, schema)["properties"].is_object(),
        "records travel as JSON text in a query"
    );
    // Each named type is defined once, by name.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let names: Vec<&str> = schemas.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["point", "shape", "color", "perms", "identity-info", "Error"]
    );
    assert_eq!(
        schemas["shape"]["oneOf"][1]["properties"]["rect"],
        json!({"$ref": "#/components/schemas/point"})
    );
}

#[test]
fn binary_descriptions_carry_the_schema_of_each_parameter_and_result() {
    let shared = shared();
    let (_, binary) = shared.node.get(&format!("/binaries/{}", shared.binary));
    let activation = binary["activations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "echo-u64")
        .unwrap();
    let exact = json!({"type": "integer", "minimum": 0, "maximum": 18446744073709551615u64});
    assert_eq!(activation["params"][0]["schema"], exact);
    assert_eq!(activation["result_schema"], exact);
    let flags = binary["activations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "echo-flags")
        .unwrap();
    assert_eq!(flags["params"][0]["schema"]["items"]["enum"][0], "read");
}

#[test]
fn unknown_machines_have_no_document() {
    let (status, body) = shared()
        .node
        .get(&format!("/machines/{}/openapi.json", "0".repeat(64)));
    assert_eq!(status, 404, "{body}");
}
