//! `[compiles]` on a real `carol`: an upload whose compile passes its time or memory budget is
//! refused, naming the setting, with nothing stored; many large uploads at once are compiled
//! one at a time behind a bounded queue and a bound on the bytes in flight (503 with
//! `Retry-After` past them, nothing stored), while the node keeps answering activations.

use crate::durability::{Carol, node_with, scratch};
use crate::harness::guest;
use carol_core::ids::BinaryId;
use serde_json::Value;

/// `POST /binaries` with `component`: status, `Retry-After` and JSON body.
fn upload(url: &str, component: &[u8]) -> (u16, Option<String>, Value) {
    let mut response = Carol::agent()
        .post(&format!("{url}/binaries"))
        .header("content-type", "application/wasm")
        .send(component)
        .unwrap();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let status = response.status().as_u16();
    (
        status,
        retry_after,
        response.body_mut().read_json().unwrap(),
    )
}

/// `component` with a custom section of `padding` bytes appended: another component, with
/// another id, as large as wanted, that compiles as the original does.
fn padded(component: &[u8], padding: usize, tag: u32) -> Vec<u8> {
    use wasm_encoder::Section;
    let mut padded = component.to_vec();
    wasm_encoder::CustomSection {
        name: format!("padding-{tag}").into(),
        data: vec![0x5a; padding].into(),
    }
    .append_to(&mut padded);
    padded
}

fn stored(node: &Carol, component: &[u8]) -> bool {
    let (status, _) = node.get(&format!("/binaries/{}", BinaryId::of(component)));
    status == 200
}

#[test]
fn a_compile_past_its_time_or_memory_budget_is_refused_and_nothing_is_stored() {
    let dir = scratch("compiles-budgets");
    let component = guest("all-types");
    let node = node_with(&dir, &[("compiles", "timeout_ms", "1")]);
    let (status, _, body) = upload(&node.url, &component);
    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("took longer than this node allows (1 ms, `[compiles] timeout_ms`)"),
        "{error}"
    );
    assert!(!stored(&node, &component));
    drop(node);

    let node = node_with(&dir, &[("compiles", "memory_bytes", "16777216")]);
    let (status, _, body) = upload(&node.url, &component);
    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains(
            "needed more memory than this node allows (16777216 bytes, `[compiles] memory_bytes`)"
        ),
        "{error}"
    );
    assert!(!stored(&node, &component));
    drop(node);

    // Within the default budgets it compiles, and runs.
    let node = node_with(&dir, &[]);
    let machine = node.machine(&component, b"");
    let (status, body) = node.get(&format!("/machines/{machine}/activate/calc/mul?a=6&b=7"));
    assert_eq!((status, body), (200, serde_json::json!(42)));
}

#[test]
fn many_large_uploads_at_once_are_bounded_and_activations_keep_being_answered() {
    const UPLOADS: usize = 12;
    const MIB: usize = 1 << 20;
    let dir = scratch("compiles-many");
    let node = node_with(
        &dir,
        &[
            ("compiles", "concurrent", "1"),
            ("compiles", "queue", "2"),
            (
                "compiles",
                "upload_bytes_in_flight",
                &(40 * MIB).to_string(),
            ),
        ],
    );
    let machine = node.machine(&guest("all-types"), b"");
    let base = guest("dlc-oracle");
    let components: Vec<Vec<u8>> = (0..UPLOADS as u32)
        .map(|tag| padded(&base, 8 * MIB, tag))
        .collect();
    let url = node.url.clone();
    let (answers, activations) = std::thread::scope(|scope| {
        let uploads: Vec<_> = components
            .iter()
            .map(|component| scope.spawn(|| upload(&url, component)))
            .collect();
        let mut activations = Vec::new();
        while !uploads.iter().all(|u| u.is_finished()) {
            activations.push(node.get(&format!("/machines/{machine}/activate/calc/mul?a=6&b=7")));
        }
        let answers: Vec<_> = uploads.into_iter().map(|u| u.join().unwrap()).collect();
        (answers, activations)
    });
    assert!(!activations.is_empty());
    for answer in &activations {
        assert_eq!(answer, &(200, serde_json::json!(42)));
    }
    let mut refused = 0;
    for ((status, retry_after, body), component) in answers.iter().zip(&components) {
        match status {
            201 => assert!(stored(&node, component), "{body}"),
            503 => {
                refused += 1;
                assert_eq!(retry_after.as_deref(), Some("1"), "{body}");
                let error = body["error"].as_str().unwrap();
                assert!(
                    error.contains("`[compiles] concurrent`, `queue`")
                        || error.contains("`[compiles] upload_bytes_in_flight`"),
                    "{error}"
                );
                assert!(!stored(&node, component), "{body}");
            }
            _ => panic!("{status}: {body}"),
        }
    }
    // At most four fit in 40 MiB, and at most three in the turn and queue.
    assert!(refused >= UPLOADS - 4, "{answers:?}");
    // Refused ones upload once the others are done.
    for component in &components {
        let (status, _, body) = upload(&node.url, component);
        assert!(matches!(status, 200 | 201), "{body}");
    }
}
