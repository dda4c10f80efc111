//! Named types, read from the component: the names a component gives its types, told apart
//! where their structures are the same, and their docs from the `carol:docs` section.

use crate::harness::{TestNode, guest};
use carol_core::doc_section::{Docs, TypeDocs};
use carol_host::NodeConfig;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A node with the named-types machine, its component carrying `docs`; its binary
/// description, and the machine id.
fn named_types(docs: Option<Docs>) -> (TestNode, Value, String) {
    let node = TestNode::start(NodeConfig::development());
    let component = guest("named-types");
    let component = docs.map_or(component.clone(), |docs| docs.embed(&component));
    let (binary, machine) = node.machine(&component, b"");
    let (status, description) = node.get(&format!("/binaries/{binary}"));
    assert_eq!(status, 200, "{description}");
    (node, description, machine)
}

fn activation<'a>(description: &'a Value, name: &str) -> &'a Value {
    description["activations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {description}"))
}

fn named<'a>(description: &'a Value, name: &str) -> &'a Value {
    description["types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no type {name} in {description}"))
}

#[test]
fn types_of_one_structure_keep_their_own_names() {
    let (node, description, machine) = named_types(None);
    assert_eq!(
        activation(&description, "convert")["signature"],
        "convert(p: price, s: side, times: u32) -> amount"
    );
    assert_eq!(
        activation(&description, "mirror")["signature"],
        "mirror(a: amount) -> price"
    );
    assert_eq!(
        named(&description, "price")["definition"],
        "record price { value: u64 }"
    );
    assert_eq!(
        named(&description, "amount")["definition"],
        "record amount { value: u64 }"
    );
    // And they still carry values as their structure says.
    let (status, answer) = node.post_json(
        &format!("/machines/{machine}/activate/convert"),
        &json!({"p": {"value": 100}, "s": "sell", "times": 3}),
    );
    assert_eq!((status, answer), (200, json!({"value": 150})));
}

#[test]
fn a_name_two_scopes_share_is_qualified_by_the_interface() {
    let (_, description, _) = named_types(None);
    assert_eq!(
        activation(&description, "flip")["signature"],
        "flip(p: point) -> point"
    );
    assert_eq!(
        activation(&description, "geometry/locate")["signature"],
        "geometry/locate(p: geometry.point) -> place"
    );
    assert_eq!(
        named(&description, "point")["definition"],
        "record point { x: s32, y: s32 }"
    );
    assert_eq!(
        named(&description, "geometry.point")["definition"],
        "record geometry.point { x: f64, y: f64 }"
    );
    assert_eq!(
        named(&description, "place")["definition"],
        "variant place { at(geometry.point), nowhere }"
    );
    // A type another interface uses keeps the name of the interface that defines it.
    assert_eq!(
        activation(&description, "shapes/middle")["signature"],
        "shapes/middle(a: geometry.point, b: geometry.point) -> geometry.point"
    );
    // Each named type is listed once; an alias of a `u32` is spelled as what it is.
    let names: Vec<&str> = description["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(names.len(), unique.len(), "{names:?}");
    assert_eq!(
        unique,
        [
            "amount",
            "geometry.point",
            "place",
            "point",
            "price",
            "side"
        ]
    );
}

#[test]
fn two_types_one_name_would_serve_are_refused() {
    let node = TestNode::start(NodeConfig::development());
    let (status, body) = node.post_bytes("/binaries", &guest("twin-interfaces"));
    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("two different types are both named `point`")
            && error.contains("distinct names"),
        "{error}"
    );
    // Nothing was stored.
    assert_eq!(node.get("/healthz").1["binaries"], 0);
}

#[test]
fn type_docs_come_from_the_docs_section_and_names_from_the_component() {
    let type_docs = |docs: &str, members: &[(&str, &str)]| TypeDocs {
        docs: Some(docs.to_owned()),
        members: members
            .iter()
            .map(|(m, d)| ((*m).to_owned(), (*d).to_owned()))
            .collect(),
    };
    let docs = Docs {
        version: 1,
        types: BTreeMap::from([
            (
                "price".into(),
                type_docs("A price, *in cents*.", &[("value", "The cents.")]),
            ),
            (
                "geometry/point".into(),
                type_docs("A point of the plane.", &[("x", "Across.")]),
            ),
            // Docs of a type the component does not have name nothing.
            ("forged".into(), type_docs("A type that is not there.", &[])),
        ]),
        ..Docs::default()
    };
    let (node, description, machine) = named_types(Some(docs));
    let price = named(&description, "price");
    assert_eq!(price["docs"], "A price, *in cents*.");
    assert_eq!(
        price["members"],
        json!([{"name": "value", "type": "u64", "docs": "The cents."}])
    );
    let point = named(&description, "geometry.point");
    assert_eq!(point["docs"], "A point of the plane.");
    assert_eq!(point["members"][0]["docs"], "Across.");
    assert_eq!(named(&description, "point")["docs"], Value::Null);
    assert!(!description.to_string().contains("forged"), "{description}");

    // The OpenAPI document defines each once, with its docs, and refers to it.
    let (_, document) = node.get(&format!("/machines/{machine}/openapi.json"));
    let schemas = &document["components"]["schemas"];
    assert_eq!(schemas["price"]["description"], "A price, *in cents*.");
    assert_eq!(
        schemas["price"]["properties"]["value"]["description"],
        "The cents."
    );
    let convert = &document["paths"][format!("/machines/{machine}/activate/convert")];
    assert_eq!(
        convert["post"]["responses"]["200"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/amount"})
    );

    // The page shows each type once, its docs rendered, linked from the signatures.
    let page = ureq::get(&format!("{}/machines/{machine}/http/", node.url))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert_eq!(page.matches("id=\"type-price\"").count(), 1);
    assert!(
        page.contains("<p>A price, <em>in cents</em>.</p>"),
        "{page}"
    );
    assert!(page.contains(
        "convert(p: <a href=\"#type-price\">price</a>, s: <a href=\"#type-side\">side</a>, \
         times: u32) -&gt; <a href=\"#type-amount\">amount</a>"
    ));
}
