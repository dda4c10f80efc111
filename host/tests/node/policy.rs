//! The outbound policy's allow- and deny-lists, end to end. Every destination here is a loopback
//! address: nothing these tests do can reach another host, even if the policy were broken.

use crate::harness::{LOOPBACK_SPELLINGS, TestNode, guest, serve_locally};
use axum::Router;
use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::routing::get;
use carol_host::NodeConfig;
use carol_host::policy::Rule;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Starts a local HTTP server on 127.0.0.1 and returns its port. `/price` answers `30264`;
/// `/to?url=URL` redirects to URL.
fn local_server() -> u16 {
    let app = Router::new()
        .route("/price", get(|| async { "30264" }))
        .route(
            "/to",
            get(|Query(query): Query<HashMap<String, String>>| async move {
                (
                    StatusCode::FOUND,
                    [(header::LOCATION, query["url"].clone())],
                )
            }),
        );
    serve_locally(app)
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// A URL on the server at `port` that redirects to `target`.
fn redirect(port: u16, target: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("url", target)
        .finish();
    format!("http://127.0.0.1:{port}/to?{query}")
}

/// A node with the all-types machine on it, and that machine's id.
fn node_with(configure: impl FnOnce(&mut NodeConfig)) -> (TestNode, String) {
    let mut config = NodeConfig::development();
    configure(&mut config);
    let node = TestNode::start(config);
    let (_, machine) = node.machine(&guest("all-types"), b"");
    (node, machine)
}

fn rules(entries: &[String]) -> Vec<Rule> {
    entries.iter().map(|e| e.parse().unwrap()).collect()
}

/// The machine's `fetch` of `url`: status and JSON answer.
fn fetch(node: &TestNode, machine: &str, url: &str) -> (u16, Value) {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("url", url)
        .finish();
    node.get(&format!("/machines/{machine}/activate/fetch?{query}"))
}

/// Asserts that fetching `url` is `error::denied` with a reason containing `says`.
fn assert_denied(node: &TestNode, machine: &str, url: &str, says: &str) {
    let (status, body) = fetch(node, machine, url);
    assert_eq!(status, 422, "{url}: {body}");
    let err = body["err"].as_str().unwrap_or_default();
    assert!(
        err.starts_with("Error::Denied(") && err.contains(says),
        "{url}: expected a denial saying {says:?}, got {body}"
    );
}

fn assert_fetched(node: &TestNode, machine: &str, url: &str) {
    assert_eq!(
        fetch(node, machine, url),
        (200, json!({"ok": [200, "30264"]})),
        "{url}"
    );
}

#[test]
fn a_deny_rule_by_address_and_port_refuses_every_spelling_and_redirect() {
    let (denied, open) = (local_server(), local_server());
    let rule = format!("127.0.0.1:{denied}");
    let (node, machine) = node_with(|config| {
        config.policy.allow_loopback = true;
        config.policy.deny = rules(std::slice::from_ref(&rule));
    });
    let says = format!("deny rule `{rule}`");
    for host in ["127.0.0.1", "2130706433", "0x7f.1", "[::ffff:127.0.0.1]"] {
        assert_denied(
            &node,
            &machine,
            &format!("http://{host}:{denied}/price"),
            &says,
        );
    }
    // The rule names one port: the same address on another is reachable.
    assert_fetched(&node, &machine, &format!("http://127.0.0.1:{open}/price"));
    // Every redirect hop is checked, whatever the target's spelling.
    for target in [
        format!("http://127.0.0.1:{denied}/price"),
        format!("http://2130706433:{denied}/price"),
    ] {
        assert_denied(&node, &machine, &redirect(open, &target), &says);
    }
    let allowed_hop = format!("http://127.0.0.1:{open}/price");
    assert_fetched(&node, &machine, &redirect(open, &allowed_hop));
}

#[test]
fn a_deny_rule_by_host_name_refuses_the_name() {
    let port = local_server();
    let (node, machine) = node_with(|config| {
        config.policy.allow_loopback = true;
        config.policy.deny = rules(&["localhost".to_owned()]);
    });
    for host in ["localhost", "LocalHost", "localhost."] {
        assert_denied(
            &node,
            &machine,
            &format!("http://{host}:{port}/price"),
            "deny rule `localhost`",
        );
    }
    let name = format!("http://localhost:{port}/price");
    assert_denied(
        &node,
        &machine,
        &redirect(port, &name),
        "deny rule `localhost`",
    );
    // A host rule is about the name; the address it resolves to is not refused by it.
    assert_fetched(&node, &machine, &format!("http://127.0.0.1:{port}/price"));
}

#[test]
fn the_allow_list_does_not_open_loopback() {
    let port = local_server();
    let (node, machine) = node_with(|config| {
        config.policy.allow = rules(&[
            "127.0.0.0/8".to_owned(),
            "::1".to_owned(),
            "::ffff:127.0.0.0/104".to_owned(),
            "localhost".to_owned(),
            "0.0.0.0/8".to_owned(),
            format!("127.0.0.1:{port}"),
        ]);
    });
    for host in LOOPBACK_SPELLINGS {
        assert_denied(
            &node,
            &machine,
            &format!("http://{host}:{port}/price"),
            "which machines on this node may not reach",
        );
    }
}

#[test]
fn only_listed_destinations_when_the_list_is_exclusive() {
    let (listed, unlisted) = (local_server(), local_server());
    let (node, machine) = node_with(|config| {
        config.policy.allow_loopback = true;
        config.policy.allow_only_listed = true;
        config.policy.allow = rules(&[format!("127.0.0.1:{listed}")]);
    });
    assert_fetched(&node, &machine, &format!("http://127.0.0.1:{listed}/price"));
    let elsewhere = format!("http://127.0.0.1:{unlisted}/price");
    let says = format!("127.0.0.1:{unlisted} is not on this node's allow-list");
    assert_denied(&node, &machine, &elsewhere, &says);
    assert_denied(&node, &machine, &redirect(listed, &elsewhere), &says);
}
