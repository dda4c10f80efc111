//! `[access]` on a real `carol`: with `upload = "token"` only holders of a listed token upload
//! binaries and create machines (401 otherwise, nothing stored), activations stay open; with
//! `activate = "token"` they need one too. Tokens come from `carol access-token`, are listed by
//! their SHA-256, and never show in the node's log.

use crate::durability::{Carol, scratch};
use crate::harness::guest;
use carol_core::ids::{BinaryId, MachineId};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// `carol access-token NAME`: the token, and the entry to list.
pub(crate) fn access_token(name: &str) -> (String, String) {
    let made = Command::new(env!("CARGO_BIN_EXE_carol"))
        .args(["access-token", name])
        .output()
        .unwrap();
    assert!(made.status.success());
    let token = String::from_utf8(made.stdout).unwrap().trim().to_owned();
    let told = String::from_utf8(made.stderr).unwrap();
    let entry = told
        .split('"')
        .find(|part| part.starts_with(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no entry in {told}"))
        .to_owned();
    (token, entry)
}

/// A node whose `[access]` settings are `settings` (name and value, as the file writes them).
fn node_with(dir: &Path, settings: &[(&str, &str)]) -> Carol {
    let settings: Vec<_> = settings
        .iter()
        .map(|(name, value)| ("access", *name, *value))
        .collect();
    crate::durability::node_with(dir, &settings)
}

/// `method path` with `body` and, if given, `Authorization: Bearer token`: status, JSON and
/// `WWW-Authenticate`.
fn send(
    node: &Carol,
    method: &str,
    path: &str,
    body: &[u8],
    token: Option<&str>,
) -> (u16, Value, Option<String>) {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let url = format!("{}{path}", node.url);
    let authorization = token.map(|t| format!("Bearer {t}"));
    let response = match method {
        "GET" => {
            let mut request = agent.get(&url);
            if let Some(a) = &authorization {
                request = request.header("authorization", a);
            }
            request.call()
        }
        _ => {
            let mut request = agent
                .post(&url)
                .header("content-type", "application/octet-stream");
            if let Some(a) = &authorization {
                request = request.header("authorization", a);
            }
            request.send(body)
        }
    };
    let mut response = response.unwrap();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap(), challenge)
}

fn refused(answer: (u16, Value, Option<String>), why: &str) {
    let (status, body, challenge) = answer;
    assert_eq!(status, 401, "{body}");
    assert!(body["error"].as_str().unwrap().contains(why), "{body}");
    assert_eq!(challenge.as_deref(), Some("Bearer realm=\"carol\""));
}

#[test]
fn only_token_holders_upload_and_create_and_activations_stay_open_unless_restricted() {
    let dir = scratch("access-tokens");
    let (token, entry) = access_token("alice");
    let (other, other_entry) = access_token("bob");
    let tokens = format!("[\"{entry}\", \"{other_entry}\"]");
    let node = node_with(&dir, &[("upload", "\"token\""), ("tokens", &tokens)]);
    let component = guest("counter");
    let binary = BinaryId::of(&component);

    refused(
        send(&node, "POST", "/binaries", &component, None),
        "send it as `Authorization: Bearer TOKEN`",
    );
    refused(
        send(&node, "POST", "/binaries", &component, Some("not-a-token")),
        "not one this node's operator lists",
    );
    let (status, _, _) = send(&node, "GET", &format!("/binaries/{binary}"), b"", None);
    assert_eq!(status, 404, "nothing was stored");
    let (status, body, _) = send(&node, "POST", "/binaries", &component, Some(&token));
    assert_eq!(status, 201, "{body}");
    let create = format!("/binaries/{binary}");
    refused(
        send(&node, "POST", &create, b"p", None),
        "upload binaries and create machines",
    );
    let machine = MachineId::of(&binary, b"p");
    let (status, _, _) = send(&node, "GET", &format!("/machines/{machine}"), b"", None);
    assert_eq!(status, 404, "no machine was created");
    let (status, body, _) = send(&node, "POST", &create, b"p", Some(&other));
    assert_eq!(status, 201, "{body}");
    // Describing and activating stay open.
    let (status, body, _) = send(&node, "GET", &format!("/machines/{machine}"), b"", None);
    assert_eq!(status, 200, "{body}");
    let activate = format!("/machines/{machine}/activate/count");
    let (status, body, _) = send(&node, "GET", &activate, b"", None);
    assert_eq!(status, 200, "{body}");
    drop(node);

    // Activations restricted too: the same data, a token needed for them.
    let restricted = [
        ("upload", "\"token\""),
        ("activate", "\"token\""),
        ("tokens", &tokens),
    ];
    let node = node_with(&dir, &restricted);
    refused(send(&node, "GET", &activate, b"", None), "run activations");
    let (status, body, _) = send(&node, "GET", &activate, b"", Some(&token));
    assert_eq!(status, 200, "{body}");
    let log = node.log().join("\n");
    for secret in [&token, &other] {
        assert!(!log.contains(secret.as_str()), "a token in the log: {log}");
    }
}
