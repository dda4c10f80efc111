//! A federation's key reshared as operators reshare it: a 3-of-5 federation of `carol`
//! processes, a resharing to 3-of-4 (three members stay, two leave, one joins) proposed with
//! `carol federation propose --from`, after which the federation key, machines' own keys and
//! their signatures are the same, the new shares are not the old ones, and the leaving members
//! hold no share. A resharing that would leave a machine's key behind is refused.

use crate::durability::{Carol, scratch};
use crate::federation::{Site, carol, describe, form, stderr, wait_ready};
use crate::harness::guest;
use carol_core::bls::{PublicKey, Signature};
use carol_core::federation::MachineKeys;
use carol_host::federation::file::FederationFile;
use carol_host::federation::share::SHARE_FILE;
use carol_host::store::Store;
use std::path::Path;
use std::time::Duration;

/// Activation `name` of `machine` on `node` with `message` (hex; none if empty), answering 200:
/// its bytes.
fn call(node: &Carol, machine: &str, name: &str, message: &str) -> Vec<u8> {
    let query = match message {
        "" => String::new(),
        hex => format!("?message={hex}"),
    };
    let (status, body) = node.get(&format!("/machines/{machine}/activate/{name}{query}"));
    assert_eq!(status, 200, "{body}\n{:#?}", node.log());
    hex::decode(body.as_str().unwrap()).unwrap()
}

/// Machine `machine`'s own key on every one of `nodes`, which must all be the same.
fn machine_key_everywhere(nodes: &[&Carol], machine: &str) -> Vec<u8> {
    let key = call(nodes[0], machine, "bls-public-key", "");
    for node in nodes {
        assert_eq!(call(node, machine, "bls-public-key", ""), key);
    }
    key
}

fn propose_from(
    old: &Path,
    threshold: &str,
    members: &[String],
    out: &Path,
) -> std::process::Output {
    let mut args = vec!["federation", "propose", "--threshold", threshold];
    for url in members {
        args.extend(["--member", url.as_str()]);
    }
    args.extend([
        "--from",
        old.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    carol(&args)
}

#[test]
fn resharing_three_of_five_to_three_of_four_keeps_the_key_and_its_signatures() {
    let root = scratch("federation-resharing");
    let (mut sites, old_file, mut nodes) = form(&root, 3, 5, "activation_timeout_ms = 8000");
    let before = describe(&nodes[0]);
    let key: PublicKey = before.public_key.unwrap();
    let machine = nodes[0].machine(&guest("all-types"), b"");
    let sign =
        |node: &Carol| node.get(&format!("/machines/{machine}/activate/sign?message=c0ffee"));
    let (status, signed_before) = sign(&nodes[1]);
    assert_eq!(status, 200, "{signed_before}");
    // A machine with its own key, which every member holds a share of.
    let keyed = nodes[0].machine(&guest("stateful"), b"keyed");
    let machine_key = machine_key_everywhere(&nodes.iter().collect::<Vec<_>>(), &keyed);
    let machine_signature = call(&nodes[2], &keyed, "bls-sign", "5eed");
    assert!(crate::harness::bls_verifies(
        &machine_key,
        &[0x5e, 0xed],
        &machine_signature
    ));

    let newcomer = Site::new(&root, 6);
    let plain = newcomer.start(None);
    let urls: Vec<String> = [&sites[0], &sites[1], &sites[2], &newcomer]
        .iter()
        .map(|s| s.url())
        .collect();
    let new_file = root.join("reshared.toml");
    // Every previous member deals its share: one that is down is named.
    let down = nodes.remove(4);
    drop(down);
    let refused = propose_from(&old_file, "3", &urls, &new_file);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("member 5"),
        "{}",
        stderr(&refused)
    );
    assert!(!new_file.exists());
    nodes.push(sites[4].start(Some(&old_file)));
    wait_ready(&nodes.iter().collect::<Vec<_>>());
    let proposed = propose_from(&old_file, "3", &urls, &new_file);
    assert!(proposed.status.success(), "{}", stderr(&proposed));
    let text = std::fs::read_to_string(&new_file).unwrap();
    assert!(
        text.contains("[previous]") && text.contains(&key.to_string()),
        "{text}"
    );
    assert!(text.contains(&before.secp256k1_commitments[0]), "{text}");
    // The machine's key is carried over too.
    assert!(
        text.contains("[[previous.machine]]") && text.contains(&keyed),
        "{text}"
    );

    // Every operator restarts with the new file; the newcomer joins.
    drop(nodes);
    drop(plain);
    sites.push(newcomer);
    let mut running: Vec<Carol> = sites.iter().map(|s| s.start(Some(&new_file))).collect();
    let mut leaving = running.split_off(3);
    let joined = leaving.pop().unwrap();
    running.push(joined);
    let after = wait_ready(&running.iter().collect::<Vec<_>>());

    // The same key, from new commitments; members 4 and 5 left and hold nothing.
    for described in &after {
        assert_eq!(described.public_key, Some(key));
        assert_eq!(described.threshold, 3);
        assert_eq!(described.members.len(), 4);
        assert_eq!(described.commitments, after[0].commitments);
        // The secp256k1 key is reshared too, and stays.
        assert!(before.secp256k1_public_key.is_some());
        assert_eq!(described.secp256k1_public_key, before.secp256k1_public_key);
        assert_eq!(
            described.secp256k1_commitments,
            after[0].secp256k1_commitments
        );
    }
    assert_ne!(after[0].commitments[1..], before.commitments[1..]);
    assert_ne!(
        after[0].secp256k1_commitments[1..],
        before.secp256k1_commitments[1..]
    );
    for (node, site) in leaving.iter_mut().zip(&sites[3..5]) {
        let status = node.wait_exit(Duration::from_secs(60));
        assert!(status.is_some_and(|s| s.success()), "{:#?}", node.log());
        assert!(!site.dir.join("carol-data").join(SHARE_FILE).exists());
        let database = site
            .dir
            .join("carol-data")
            .join(carol_host::store::DATABASE_FILE);
        assert!(database.exists());
        // Nor its records of the machines' keys, which would make its old shares of them again.
        let old_session = FederationFile::load(&old_file).unwrap().session();
        let store = Store::open(Some(&site.dir.join("carol-data"))).unwrap();
        let prefix = [old_session.as_slice(), b"machine-key/bls/"].concat();
        assert_eq!(store.agreements_under(&prefix).unwrap(), Vec::new());
        assert!(
            node.log()
                .iter()
                .any(|l| l.contains("leaves the federation")),
            "{:#?}",
            node.log()
        );
    }

    // The new member copies the machine from the others when first asked to run it, and every
    // member signs as before: BLS signatures of one key are unique.
    assert_eq!(sign(&running[3]), (200, signed_before.clone()));
    for node in &running {
        assert_eq!(sign(node), (200, signed_before.clone()));
    }
    let signature: Signature = serde_json::from_value(signed_before).unwrap();
    let message = hex::decode("c0ffee").unwrap();
    let machine_id: carol_core::ids::MachineId = machine.parse().unwrap();
    assert!(key.verify_for_machine(&machine_id, &message, &signature));

    // The machine's own key stayed: its signature by the new members is the one the old made,
    // and a new member lists the key as one it holds.
    let machine_nodes: Vec<&Carol> = running.iter().collect();
    assert_eq!(machine_key_everywhere(&machine_nodes, &keyed), machine_key);
    for node in &running {
        assert_eq!(call(node, &keyed, "bls-sign", "5eed"), machine_signature);
    }
    let (status, held) = running[3].get("/federation/machine-keys");
    assert_eq!(status, 200, "{held}");
    let held: MachineKeys = serde_json::from_value(held).unwrap();
    assert_eq!(held.machines.len(), 1);
    assert_eq!(held.machines[0].machine.to_string(), keyed);
    assert_eq!(
        held.machines[0].commitments[0].to_bytes().to_vec(),
        machine_key
    );
    // Of the new polynomial, the same on every member, which a next resharing checks against.
    let listed = FederationFile::load(&new_file)
        .unwrap()
        .previous
        .unwrap()
        .machines;
    assert_ne!(
        held.machines[0].commitments[1..],
        listed[0].commitments[1..]
    );
    for node in &running {
        let (_, theirs) = node.get("/federation/machine-keys");
        let theirs: MachineKeys = serde_json::from_value(theirs).unwrap();
        assert_eq!(theirs, held);
    }

    // A restart does not reshare again.
    running.remove(3);
    running.push(sites[5].start(Some(&new_file)));
    let again = wait_ready(&running.iter().collect::<Vec<_>>());
    assert_eq!(again[3].commitments, after[0].commitments);
    assert_eq!(
        call(&running[3], &keyed, "bls-sign", "5eed"),
        machine_signature
    );
}

#[test]
fn a_resharing_replaces_a_member_gone_for_good_named_absent() {
    let root = scratch("federation-resharing-absent");
    let (sites, old_file, mut nodes) = form(&root, 3, 5, "activation_timeout_ms = 8000");
    let key: PublicKey = describe(&nodes[0]).public_key.unwrap();
    let machine = nodes[0].machine(&guest("all-types"), b"");
    let sign = |node: &Carol| node.get(&format!("/machines/{machine}/activate/sign?message=ab"));
    let (status, signed_before) = sign(&nodes[0]);
    assert_eq!(status, 200, "{signed_before}");

    // Member 5 is gone for good; the other four reshare without it, as 3-of-4.
    drop(nodes.pop());
    let urls: Vec<String> = sites[..4].iter().map(Site::url).collect();
    let new_file = root.join("without-5.toml");
    let refused = propose_from(&old_file, "3", &urls, &new_file);
    assert!(
        stderr(&refused).contains("--absent 5"),
        "{}",
        stderr(&refused)
    );
    let mut args = vec!["federation", "propose", "--threshold", "3"];
    for url in &urls {
        args.extend(["--member", url.as_str()]);
    }
    let (old, out) = (old_file.to_str().unwrap(), new_file.to_str().unwrap());
    args.extend(["--from", old, "--absent", "5", "--out", out]);
    let proposed = carol(&args);
    assert!(proposed.status.success(), "{}", stderr(&proposed));
    assert!(
        std::fs::read_to_string(&new_file)
            .unwrap()
            .contains("absent = [5]")
    );

    // A machine's key made after the proposal would be left behind: the members refuse to
    // reshare with that file, keeping their shares, and a new proposal carries it.
    let keyed = nodes[0].machine(&guest("stateful"), b"late");
    let machine_key = machine_key_everywhere(&nodes.iter().collect::<Vec<_>>(), &keyed);
    drop(nodes);
    let refused = sites[0].run_to_end(&new_file);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains(&keyed) && stderr(&refused).contains("does not list"),
        "{}",
        stderr(&refused)
    );
    let nodes: Vec<Carol> = sites[..4]
        .iter()
        .map(|s| s.start(Some(&old_file)))
        .collect();
    wait_ready(&nodes.iter().collect::<Vec<_>>());
    std::fs::remove_file(&new_file).unwrap();
    let proposed = carol(&args);
    assert!(proposed.status.success(), "{}", stderr(&proposed));
    assert!(std::fs::read_to_string(&new_file).unwrap().contains(&keyed));

    drop(nodes);
    let running: Vec<Carol> = sites[..4]
        .iter()
        .map(|s| s.start(Some(&new_file)))
        .collect();
    let after = wait_ready(&running.iter().collect::<Vec<_>>());
    assert!(
        after
            .iter()
            .all(|d| d.public_key == Some(key) && d.members.len() == 4)
    );
    for node in &running {
        assert_eq!(sign(node), (200, signed_before.clone()));
    }
    assert_eq!(
        machine_key_everywhere(&running.iter().collect::<Vec<_>>(), &keyed),
        machine_key
    );
}
