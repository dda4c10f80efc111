//! The services a machine imports: signatures checked by an independent BLS implementation,
//! identity, and outbound HTTP to a local server, allowed and denied.

use crate::harness::{LOOPBACK_SPELLINGS, TestNode, bls_verifies, guest, serve_locally, shared};
use axum::Router;
use axum::extract::RawQuery;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use carol_host::NodeConfig;
use serde_json::json;
use std::sync::OnceLock;

#[test]
fn signatures_verify_independently_under_the_public_key_from_root() {
    let public_key = hex::decode(shared().node.get("/").1["public_key"].as_str().unwrap()).unwrap();
    assert_eq!(
        shared().get("public-key", &[]),
        (200, json!(hex::encode(&public_key)))
    );
    let message = b"price=30264";
    let (status, body) = shared().get("sign", &[("message", &hex::encode(message))]);
    assert_eq!(status, 200, "{body}");
    let signature = hex::decode(body.as_str().unwrap()).unwrap();
    assert_eq!(signature.len(), 96);

    let mut signed = hex::decode(&shared().machine).unwrap();
    signed.extend_from_slice(message);
    assert!(bls_verifies(&public_key, &signed, &signature));
    // Not over the message alone, and not for another machine.
    assert!(!bls_verifies(&public_key, message, &signature));
    let mut other = vec![0u8; 32];
    other.extend_from_slice(message);
    assert!(!bls_verifies(&public_key, &other, &signature));
}

#[test]
fn identity_is_the_machine_binary_and_params() {
    let (status, body) = shared().get("whoami", &[]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"machine-id": shared().machine, "binary-id": shared().binary, "params": hex::encode(b"p1")})
    );
}

#[test]
fn guest_output_does_not_disturb_the_answer() {
    assert_eq!(
        shared().get("log", &[("message", "line")]),
        (200, json!("line"))
    );
}

/// A local HTTP server for machines to fetch from; returns its base URL.
fn local_server() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let app = Router::new()
            .route("/price", get(|| async { "30264" }))
            .route(
                "/missing",
                get(|| async { (StatusCode::NOT_FOUND, "no such price") }),
            )
            .route(
                "/redirect",
                get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/price")]) }),
            )
            .route("/big", get(|| async { vec![b'x'; 9 * 1024 * 1024] }))
            // Relative redirects, resolved as RFC 3986 section 5 says.
            .route(
                "/dir/page",
                get(|RawQuery(query): RawQuery| async move {
                    match query.as_deref() {
                        None => {
                            (StatusCode::FOUND, [(header::LOCATION, "?page=2")]).into_response()
                        }
                        Some(query) => format!("/dir/page?{query}").into_response(),
                    }
                }),
            )
            .route(
                "/dir/up",
                get(|| async { (StatusCode::FOUND, [(header::LOCATION, "../price")]) }),
            );
        serve_locally(app)
    })
}

#[test]
fn fetch_from_an_allowed_local_server() {
    let base = local_server();
    assert_eq!(
        shared().get("fetch", &[("url", &format!("{base}/price"))]),
        (200, json!({"ok": [200, "30264"]}))
    );
    assert_eq!(
        shared().get("fetch", &[("url", &format!("{base}/missing"))]),
        (200, json!({"ok": [404, "no such price"]}))
    );
    assert_eq!(
        shared().get("fetch", &[("url", &format!("{base}/redirect"))]),
        (200, json!({"ok": [200, "30264"]}))
    );
    assert_eq!(
        shared().get("fetch", &[("url", &format!("{base}/dir/page"))]),
        (200, json!({"ok": [200, "/dir/page?page=2"]})),
        "a query alone keeps the path"
    );
    assert_eq!(
        shared().get("fetch", &[("url", &format!("{base}/dir/up"))]),
        (200, json!({"ok": [200, "30264"]}))
    );
    let (status, body) = shared().get("fetch", &[("url", &format!("{base}/big"))]);
    assert_eq!((status, body), (422, json!({"err": "Error::TooLarge"})));
    let (status, body) = shared().get("fetch", &[("url", "ftp://127.0.0.1/")]);
    assert_eq!(status, 422);
    assert!(
        body["err"]
            .as_str()
            .unwrap()
            .starts_with("Error::InvalidUrl"),
        "{body}"
    );
}

#[test]
fn fetch_to_loopback_is_denied_without_the_opt_in() {
    let node = TestNode::start(NodeConfig::development());
    let (_, machine) = node.machine(&guest("all-types"), b"");
    let port = local_server().rsplit(':').next().unwrap();
    for host in LOOPBACK_SPELLINGS {
        let url = format!("http://{host}:{port}/price");
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("url", &url)
            .finish();
        let (status, body) = node.get(&format!("/machines/{machine}/activate/fetch?{query}"));
        assert_eq!(status, 422, "{url}: {body}");
        let err = body["err"].as_str().unwrap();
        assert!(err.starts_with("Error::Denied("), "{url}: {err}");
        assert!(err.contains("may not reach"), "{url}: {err}");
    }
}

/// A binary built against `carol:machine@0.1.0` (before state and keys) uploads and runs: the
/// node's 0.1.1 interfaces satisfy its 0.1.0 imports.
#[test]
fn machines_built_against_the_previous_package_version_still_run() {
    let node = TestNode::start(NodeConfig::development());
    let (_, machine) = node.machine(&guest("legacy-0-1-0"), b"");
    let public_key = hex::decode(node.get("/").1["public_key"].as_str().unwrap()).unwrap();
    assert_eq!(
        node.get(&format!("/machines/{machine}/activate/public-key")),
        (200, json!(hex::encode(&public_key)))
    );
    let (status, body) = node.get(&format!("/machines/{machine}/activate/sign?message=c0ffee"));
    assert_eq!(status, 200, "{body}");
    let mut signed = hex::decode(&machine).unwrap();
    signed.extend_from_slice(&[0xc0, 0xff, 0xee]);
    assert!(bls_verifies(
        &public_key,
        &signed,
        &hex::decode(body.as_str().unwrap()).unwrap()
    ));
}
