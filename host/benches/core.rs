//! Micro-benchmarks of the costs under every activation: JSON ⇄ WIT values, BLS signing and
//! verifying, a federation member's threshold signing, and a whole activation (admission, fresh instance from the pre-linked component,
//! call, answer: what the HTTP route runs) of the hello-world machine and of a machine that
//! signs.
//!
//! `cargo bench -p carol-host --bench core`. The machines are built for wasm32-wasip2 first.

use carol_core::bls::SecretKey;
use carol_core::ids::MachineId;
use carol_host::values::{TypeDesc, from_json, to_json};
use carol_host::{Node, NodeConfig};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;

fn json_values(c: &mut Criterion) {
    let point = TypeDesc::Record {
        name: Some("point".into()),
        fields: vec![
            ("x".into(), TypeDesc::S32),
            ("y".into(), TypeDesc::S32),
            ("label".into(), TypeDesc::String),
        ],
    };
    let small = json!({"x": 1, "y": -2, "label": "here"});
    let strings = TypeDesc::List(Box::new(TypeDesc::String));
    let large = json!((0..10_000).map(|i| format!("item {i}")).collect::<Vec<_>>());
    let bytes = TypeDesc::List(Box::new(TypeDesc::U8));
    let blob = json!(hex::encode(vec![0xa5u8; 64 * 1024]));

    let mut group = c.benchmark_group("json");
    for (name, ty, value) in [
        ("record", &point, &small),
        ("10k strings", &strings, &large),
        ("64 KiB bytes", &bytes, &blob),
    ] {
        let val = from_json(ty, value).unwrap();
        group.bench_function(format!("{name} from JSON"), |b| {
            b.iter(|| from_json(black_box(ty), black_box(value)).unwrap())
        });
        group.bench_function(format!("{name} to JSON"), |b| {
            b.iter(|| to_json(black_box(ty), black_box(&val)))
        });
    }
    group.finish();
}

fn bls(c: &mut Criterion) {
    let key = SecretKey::generate();
    let public = key.public_key();
    let machine = MachineId::from_bytes([7; 32]);
    let message = b"carol-bitmex-oracle/price/v1 .BXBT 1681648200 30264";
    let signature = key.sign_for_machine(&machine, message);
    let mut group = c.benchmark_group("bls");
    group.bench_function("sign", |b| {
        b.iter(|| key.sign_for_machine(black_box(&machine), black_box(message)))
    });
    group.bench_function("verify", |b| {
        b.iter(|| public.verify_for_machine(black_box(&machine), black_box(message), &signature))
    });
    group.finish();
}

/// What each member of a federation does per signature: sign with its share, check that a
/// partial is in G2's subgroup (once per signature, on the combination), combine three partials
/// of a 3-of-5 key, and, only when a combination fails, check one partial under its public share.
fn threshold(c: &mut Criterion) {
    use carol_federation::poly::SecretPoly;
    use carol_federation::threshold::{Share, combine};
    let poly = SecretPoly::random(3);
    let public = poly.commit();
    let shares: Vec<Share> = (1..=5).map(|i| Share::new(i, poly.eval(i))).collect();
    let message = b"carol-bitmex-oracle/price/v1 .BXBT 1681648200 30264";
    let partials: Vec<_> = shares[..3].iter().map(|s| s.sign(message)).collect();
    let compressed = SecretKey::generate().sign(message).to_bytes();
    let mut group = c.benchmark_group("threshold");
    group.bench_function("partial sign", |b| {
        b.iter(|| shares[0].sign(black_box(message)))
    });
    group.bench_function("subgroup check", |b| {
        b.iter(|| carol_core::bls::Signature::from_bytes(black_box(&compressed)))
    });
    group.bench_function("combine 3 of 5", |b| {
        b.iter(|| combine(3, black_box(&partials)).unwrap())
    });
    group.bench_function("check a partial", |b| {
        b.iter(|| partials[0].verify(black_box(&public), black_box(message)))
    });
    group.finish();
}

/// Builds the machines the activation benchmarks run and returns the components' directory.
fn components() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(&root)
        .args(["build", "--quiet", "--release", "--target", "wasm32-wasip2"])
        .args(["-p", "hello-world", "-p", "all-types"])
        .status()
        .expect("running cargo");
    assert!(status.success(), "building the benchmark machines failed");
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("wasm32-wasip2/release")
}

fn activations(c: &mut Criterion) {
    let dir = components();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let node = Node::new(NodeConfig::development()).unwrap();
    let mut group = c.benchmark_group("activation");
    for (file, activation, args) in [
        ("hello_world.wasm", "say", json!({"message": "world"})),
        ("all_types.wasm", "sign", json!({"message": "c0ffee"})),
    ] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let (binary, _) = node.add_binary(&bytes).unwrap();
        let (machine, _) = node.create_machine(&binary.id(), Vec::new()).unwrap();
        let index = binary.find(activation).unwrap();
        let args = binary.activations()[index].args_from_json(&args).unwrap();
        group.bench_function(activation, |b| {
            b.iter(|| {
                runtime
                    .block_on(node.activate(&machine, index, black_box(&args)))
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, json_values, bls, threshold, activations);
criterion_main!(benches);
