//! A federation member that missed a machine (it was down when the machine was given to the
//! others) copies it from another member when asked to run it, checking what it is given: a
//! dishonest member that serves a machine or a component other than the one its id names is
//! passed over, and logged.

use crate::durability::scratch;
use crate::federation::{describe, form};
use crate::harness::{guest, serve_on};
use axum::Router;
use axum::routing::get;
use carol_core::bls::{PublicKey, Signature};
use carol_core::ids::MachineId;
use serde_json::{Value, json};

#[test]
fn a_member_that_missed_a_machine_copies_it_and_is_not_fooled_by_a_lying_member() {
    let root = scratch("federation-copies");
    let (sites, _file, mut nodes) = form(&root, 2, 3, "");
    let key: PublicKey = describe(&nodes[0]).public_key.unwrap();
    // Member 3 is down while the machine is given to members 1 and 2.
    let third = nodes.pop().unwrap();
    drop(third);
    let machine = nodes[1].machine(&guest("all-types"), b"");
    let (_, description) = nodes[1].get(&format!("/machines/{machine}"));
    let binary = description["binary_id"].as_str().unwrap().to_owned();

    // Member 1 turns dishonest: in its place, a server that describes the machine with other
    // params and serves another component under the binary's id.
    drop(nodes.remove(0));
    let mut lie = description.clone();
    lie["params"] = json!("6f74686572");
    let lie = Router::new()
        .route(
            &format!("/machines/{machine}"),
            get(move || async move { axum::Json::<Value>(lie.clone()) }),
        )
        .route(
            &format!("/binaries/{binary}/component"),
            get(|| async { b"\0asm, but not that one".to_vec() }),
        );
    serve_on(&sites[0].listen, lie);
    let third = sites[2].start(Some(&root.join("federation.toml")));
    assert_eq!(third.get(&format!("/machines/{machine}")).0, 404);

    // Asked to run it, member 3 copies the machine from member 2 and signs with it.
    let (status, body) = third.get(&format!("/machines/{machine}/activate/sign?message=c0ffee"));
    assert_eq!(status, 200, "{body}\n{:#?}", third.log());
    let signature: Signature = serde_json::from_value(body).unwrap();
    let id: MachineId = machine.parse().unwrap();
    assert!(key.verify_for_machine(&id, &hex::decode("c0ffee").unwrap(), &signature));
    assert_eq!(third.get(&format!("/machines/{machine}")).0, 200);
    // It serves the very component it copied.
    let component = ureq::get(&format!("{}/binaries/{binary}/component", third.url))
        .call()
        .unwrap()
        .body_mut()
        .read_to_vec()
        .unwrap();
    assert_eq!(component, guest("all-types"));
    let log = third.log();
    assert!(
        log.iter()
            .any(|l| l.contains("do not make its id") && l.contains("member=1")),
        "{log:#?}"
    );
    assert!(
        log.iter()
            .any(|l| l.contains("not the one its id names") && l.contains("member=1")),
        "{log:#?}"
    );
    assert!(
        log.iter()
            .any(|l| l.contains("copied a machine this member missed")),
        "{log:#?}"
    );
}
