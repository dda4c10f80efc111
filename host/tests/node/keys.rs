//! Machines' own keys through real activations: sizes and errors, signatures checked by
//! independent implementations (libsecp256k1, `bls12_381`), keys that differ per machine and per
//! node, committed nonces that sign one message only, and the keys `GET /machines/{id}` lists.

use crate::harness::{TestNode, bls_verifies};
use crate::state::Stateful;
use carol_core::bls::SecretKey;
use carol_host::NodeConfig;
use serde_json::{Value, json};

/// Whether `signature` is a valid BIP340 signature of `message` by the x-only `public_key`,
/// checked with libsecp256k1.
pub fn schnorr_verifies(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    use secp256k1::{Message, Secp256k1, XOnlyPublicKey, schnorr};
    let secp = Secp256k1::verification_only();
    let public_key = XOnlyPublicKey::from_slice(public_key).expect("a valid x-only public key");
    let Ok(signature) = schnorr::Signature::from_slice(signature) else {
        return false;
    };
    let message = Message::from_digest(message.try_into().expect("a 32-byte message"));
    secp.verify_schnorr(&signature, &message, &public_key)
        .is_ok()
}

fn bytes(value: &Value) -> Vec<u8> {
    hex::decode(value.as_str().expect("hex")).unwrap()
}

/// The bytes of an `{"ok": hex}` answer.
fn ok_bytes(value: &Value) -> Vec<u8> {
    bytes(&value["ok"])
}

/// The public keys of a machine, secp256k1 then BLS.
fn public_keys(machine: &Stateful) -> (Vec<u8>, Vec<u8>) {
    (
        bytes(&machine.ok("secp-public-key", json!({}))),
        bytes(&machine.ok("bls-public-key", json!({}))),
    )
}

#[test]
fn keys_have_their_sizes_and_signatures_verify_independently() {
    let node = TestNode::start(NodeConfig::development());
    let machine = Stateful::create(&node, b"");
    let (secp, bls) = public_keys(&machine);
    assert_eq!((secp.len(), bls.len()), (32, 48));

    let message = [0x42; 32];
    let signature = ok_bytes(&machine.ok("secp-sign", json!({"message": hex::encode(message)})));
    assert_eq!(signature.len(), 64);
    assert!(schnorr_verifies(&secp, &message, &signature));
    assert!(!schnorr_verifies(&secp, &[0x43; 32], &signature));

    // The machine's BLS key signs the message alone, in the node's ciphersuite.
    let signature = bytes(&machine.ok("bls-sign", json!({"message": hex::encode("price=30264")})));
    assert_eq!(signature.len(), 96);
    assert!(bls_verifies(&bls, b"price=30264", &signature));
    let node_key = bytes(&node.get("/").1["public_key"]);
    assert_ne!(bls, node_key);
    assert!(!bls_verifies(&node_key, b"price=30264", &signature));
    let mut bound = hex::decode(&machine.id).unwrap();
    bound.extend_from_slice(b"price=30264");
    assert!(!bls_verifies(&bls, &bound, &signature));
}

#[test]
fn wrong_message_lengths_and_nonce_names_are_refused() {
    let node = TestNode::start(NodeConfig::development());
    let machine = Stateful::create(&node, b"");
    let refused = |name: &str, args: Value| {
        let (status, body) = machine.call(name, args);
        assert_eq!(status, 422, "{name}: {body}");
        body["err"].as_str().unwrap().to_owned()
    };
    for len in [0, 31, 33, 64] {
        let message = hex::encode(vec![1u8; len]);
        assert_eq!(
            refused("secp-sign", json!({"message": message})),
            format!("Error::MessageLength({len})")
        );
        assert_eq!(
            refused("sign-with-nonce", json!({"name": "n", "message": message})),
            format!("Error::MessageLength({len})")
        );
    }
    let too_long = "n".repeat(257);
    for name in ["", too_long.as_str()] {
        assert_eq!(refused("nonce", json!({"name": name})), "Error::NonceName");
        assert_eq!(
            refused(
                "sign-with-nonce",
                json!({"name": name, "message": hex::encode([0; 32])})
            ),
            "Error::NonceName"
        );
    }
    let longest = "é".repeat(128);
    assert_eq!(
        ok_bytes(&machine.ok("nonce", json!({"name": longest}))).len(),
        32
    );
    // A refused message bound nothing: the nonce still signs the first message it is given.
    let signed = machine.ok(
        "sign-with-nonce",
        json!({"name": "n", "message": hex::encode([9; 32])}),
    );
    assert_eq!(ok_bytes(&signed).len(), 64);
}

#[test]
fn keys_differ_per_machine_and_per_node_and_need_nothing_stored() {
    let node = TestNode::start(NodeConfig::development());
    let one = Stateful::create(&node, b"one");
    let two = Stateful::create(&node, b"two");
    let keys_one = public_keys(&one);
    let keys_two = public_keys(&two);
    assert_ne!(keys_one.0, keys_two.0);
    assert_ne!(keys_one.1, keys_two.1);
    let nonce = |machine: &Stateful| ok_bytes(&machine.ok("nonce", json!({"name": "event"})));
    assert_ne!(nonce(&one), nonce(&two));
    assert_eq!(nonce(&one), nonce(&one));

    // Another node with the same key and no data: the same machine has the same keys, but its
    // committed nonces are another database's, so they differ.
    let same_key = TestNode::start(NodeConfig::development());
    let again = Stateful::create(&same_key, b"one");
    assert_eq!(again.id, one.id);
    assert_eq!(public_keys(&again), keys_one);
    assert_ne!(nonce(&again), nonce(&one));

    // Another node key: the same machine id, other keys.
    let other_key = TestNode::start(NodeConfig::with_key(SecretKey::generate()));
    let elsewhere = Stateful::create(&other_key, b"one");
    assert_eq!(elsewhere.id, one.id);
    let keys_elsewhere = public_keys(&elsewhere);
    assert_ne!(keys_elsewhere.0, keys_one.0);
    assert_ne!(keys_elsewhere.1, keys_one.1);
}

#[test]
fn a_node_without_a_database_refuses_committed_nonces_unless_its_key_is_public() {
    // A real key and nothing on disk: the record of what a nonce signed would die with the
    // process, so the node refuses to commit nonces at all, and says why.
    let node = TestNode::start(NodeConfig::with_key(SecretKey::generate()));
    let machine = Stateful::create(&node, b"volatile");
    for (name, args) in [
        ("nonce", json!({"name": "event"})),
        (
            "sign-with-nonce",
            json!({"name": "event", "message": hex::encode([1; 32])}),
        ),
    ] {
        let (status, body) = machine.call(name, args);
        assert_eq!(status, 500, "{name}: {body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("no durable record") && error.contains("data directory"),
            "{name}: {body}"
        );
    }
    // Its other keys work.
    assert_eq!(public_keys(&machine).0.len(), 32);
}

#[test]
fn a_committed_nonce_signs_one_message_only() {
    let node = TestNode::start(NodeConfig::development());
    let machine = Stateful::create(&node, b"");
    let (public_key, _) = public_keys(&machine);
    let sign = |name: &str, message: [u8; 32]| {
        machine
            .call(
                "sign-with-nonce",
                json!({"name": name, "message": hex::encode(message)}),
            )
            .1
    };
    let nonce = ok_bytes(&machine.ok("nonce", json!({"name": "price/2025-01-01"})));
    let signature = ok_bytes(&sign("price/2025-01-01", [1; 32]));
    assert_eq!(signature[..32], nonce[..], "R is the committed nonce");
    assert!(schnorr_verifies(&public_key, &[1; 32], &signature));
    // The same message again: the same signature.
    assert_eq!(ok_bytes(&sign("price/2025-01-01", [1; 32])), signature);
    // Another message: refused, however often asked.
    for _ in 0..2 {
        assert_eq!(
            sign("price/2025-01-01", [2; 32]),
            json!({"err": "Error::NonceUsed"})
        );
    }
    // Other nonces are unaffected.
    let other = ok_bytes(&sign("price/2025-01-02", [2; 32]));
    assert!(schnorr_verifies(&public_key, &[2; 32], &other));

    // A signature that may have left the node binds its nonce, even if the activation traps.
    let (status, body) = machine.call(
        "sign-with-nonce-then-trap",
        json!({"name": "trapped", "message": hex::encode([3; 32])}),
    );
    assert_eq!(status, 500, "{body}");
    assert_eq!(sign("trapped", [4; 32]), json!({"err": "Error::NonceUsed"}));
    assert!(sign("trapped", [3; 32]).get("ok").is_some());

    // Racing for one nonce with different messages: exactly one message wins.
    let answers: Vec<Value> = std::thread::scope(|scope| {
        let racers: Vec<_> = (0..8u8)
            .map(|i| scope.spawn(move || sign("raced", [i; 32])))
            .collect();
        racers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let winners: Vec<usize> = (0..answers.len())
        .filter(|&i| answers[i].get("ok").is_some())
        .collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    for (i, answer) in answers.iter().enumerate() {
        if i != winners[0] {
            assert_eq!(answer, &json!({"err": "Error::NonceUsed"}));
        }
    }
}

#[test]
fn the_machine_lists_the_public_keys_it_used() {
    let node = TestNode::start(NodeConfig::development());
    let machine = Stateful::create(&node, b"");
    let keys = || node.get(&format!("/machines/{}", machine.id)).1["keys"].clone();
    assert_eq!(keys(), json!({}));
    let bls = machine.ok("bls-sign", json!({"message": "00"}));
    assert_eq!(bls.as_str().unwrap().len(), 192);
    let listed = keys();
    assert_eq!(listed.as_object().unwrap().len(), 1, "{listed}");
    let (secp, bls) = public_keys(&machine);
    assert_eq!(listed, json!({"bls": hex::encode(&bls)}));
    assert_eq!(
        keys(),
        json!({"secp256k1": hex::encode(&secp), "bls": hex::encode(&bls)})
    );

    let other = Stateful::create(&node, b"other");
    other.ok("nonce", json!({"name": "n"}));
    let listed = node.get(&format!("/machines/{}", other.id)).1["keys"].clone();
    let secp = bytes(&other.ok("secp-public-key", json!({})));
    assert_eq!(listed, json!({"secp256k1": hex::encode(secp)}));
}

#[test]
fn nonce_records_are_counted_and_limited_per_machine() {
    let mut config = NodeConfig::development();
    config.max_nonces_per_machine = 2;
    let node = TestNode::start(config);
    let machine = Stateful::create(&node, b"counted");
    let other = Stateful::create(&node, b"another");
    let sign = |machine: &Stateful, name: &str, byte: u8| {
        machine.call(
            "sign-with-nonce",
            json!({"name": name, "message": hex::encode([byte; 32])}),
        )
    };
    assert_eq!(sign(&machine, "a", 1).0, 200);
    assert_eq!(sign(&machine, "b", 1).0, 200);
    let (status, body) = sign(&machine, "c", 1);
    assert_eq!(status, 500, "{body}");
    let error = body["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("max_nonces_per_machine") && error.contains("2 committed nonces"),
        "{body}"
    );
    // Nor is a nonce announced that could never sign.
    let (status, body) = machine.call("nonce", json!({"name": "c"}));
    assert_eq!(status, 500, "{body}");
    // The nonces that signed still work as before: the same message again, nothing else.
    assert_eq!(machine.call("nonce", json!({"name": "a"})).0, 200);
    assert_eq!(sign(&machine, "a", 1).0, 200);
    assert_eq!(sign(&machine, "b", 2).1, json!({"err": "Error::NonceUsed"}));
    // The limit is the machine's own.
    assert_eq!(sign(&other, "c", 1).0, 200);
}
