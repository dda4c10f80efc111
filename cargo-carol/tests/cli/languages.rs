//! Machines in Python and JavaScript, as their authors make them: `cargo carol new --lang`,
//! `cargo carol build`, uploaded to a real node and activated over HTTP, answering and signing
//! as Rust machines do.

use crate::harness::{CarolNode, bls_verifies, cargo_carol, cargo_carol_in, failure, root, stdout};
use crate::node::{config_gen, scratch};
use crate::workflow::price_source;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Builds the project `project` (a directory under the repository) with `cargo carol build`,
/// once per test run, and returns its component.
fn built(project: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, Arc<OnceLock<PathBuf>>>>> = OnceLock::new();
    let cell = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(project.to_owned())
        .or_default()
        .clone();
    cell.get_or_init(|| PathBuf::from(stdout(&cargo_carol(&["-q", "build", "-p", project])).trim()))
        .clone()
}

/// A node of its own, from `carol config-gen`, reaching loopback.
fn node(name: &str) -> CarolNode {
    let cfg = scratch(name).join("carol.toml");
    config_gen(&cfg);
    CarolNode::start(&["--cfg", cfg.to_str().unwrap(), "--allow-loopback"])
}

/// Uploads `component` and creates its machine with `params` (hex) through `cargo carol`.
fn create(node: &CarolNode, component: &Path, params: &str) -> String {
    stdout(&cargo_carol(&[
        "-q",
        "create",
        "--carol-url",
        &node.url,
        "--binary",
        component.to_str().unwrap(),
        "--params",
        params,
    ]))
    .trim()
    .to_owned()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// `POST` JSON `args` to activation `name` of `machine`: the status and the JSON answer.
fn call(node: &CarolNode, machine: &str, name: &str, args: Value) -> (u16, Value) {
    let mut response = agent()
        .post(format!("{}/machines/{machine}/activate/{name}", node.url))
        .send_json(&args)
        .expect("the node answers");
    let status = response.status().as_u16();
    (status, response.body_mut().read_json().unwrap())
}

fn get(url: &str) -> (u16, Value) {
    let mut response = agent().get(url).call().expect("the node answers");
    let status = response.status().as_u16();
    (status, response.body_mut().read_json().unwrap())
}

fn public_key(node: &CarolNode) -> Vec<u8> {
    hex::decode(
        get(&format!("{}/", node.url)).1["public_key"]
            .as_str()
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn hello_in_python_and_javascript_answers_as_in_rust_with_nothing_extra_listed() {
    let node = node("languages-hello");
    let machines: Vec<(&str, String)> = [
        ("hello-world", built("hello-world")),
        ("hello-python", built("examples/hello-python")),
        ("hello-javascript", built("examples/hello-javascript")),
    ]
    .into_iter()
    .map(|(name, component)| (name, create(&node, &component, "")))
    .collect();
    for (name, machine) in &machines {
        assert_eq!(
            call(&node, machine, "say", json!({"message": "wörld ✓"})),
            (200, json!("hello wörld ✓")),
            "{name}"
        );
        let (status, answer) = get(&format!(
            "{}/machines/{machine}/activate/say?message=query",
            node.url
        ));
        assert_eq!((status, answer), (200, json!("hello query")), "{name}");
        // The same listing, docs and OpenAPI as the Rust machine: componentize-py's `init` is
        // no activation.
        let (_, description) = get(&format!("{}/machines/{machine}", node.url));
        let names: Vec<&str> = description["activations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["say"], "{name}: {description}");
        assert_eq!(
            description["activations"][0]["docs"],
            json!("Answers `hello <message>`."),
            "{name}"
        );
        let (_, openapi) = get(&format!("{}/machines/{machine}/openapi.json", node.url));
        let paths: Vec<&String> = openapi["paths"].as_object().unwrap().keys().collect();
        assert_eq!(paths.len(), 1, "{name}: {paths:?}");
        assert!(paths[0].ends_with("/activate/say"), "{name}: {paths:?}");
        let (status, body) = call(&node, machine, "exports/init", json!({}));
        assert_eq!(status, 404, "{name}: {body}");
    }
    let api = stdout(&cargo_carol(&["api", "-p", "hello-python"]));
    assert_eq!(
        api,
        "say(message: string) -> string\n    Answers `hello <message>`.\n"
    );
}

/// One test machine per language, on one node: values of every shape, the node's services.
#[test]
fn typed_values_and_services_in_python_and_javascript() {
    let node = node("languages-typed");
    let key = public_key(&node);
    for language in ["python", "javascript"] {
        let machine = create(
            &node,
            &built(&format!("cargo-carol/tests/guests/lang-check-{language}")),
            "",
        );
        let call = |name: &str, args: Value| call(&node, &machine, name, args);
        // Records with options, in a list.
        assert_eq!(
            call(
                "sum",
                json!({"points": [
                    {"x": 1, "y": -2, "label": "a"},
                    {"x": -30, "y": 4, "label": null},
                    {"x": 5, "y": 6, "label": "c"},
                ]})
            ),
            (200, json!({"x": -24, "y": 8, "label": "a+c"})),
            "{language}"
        );
        assert_eq!(
            call("sum", json!({"points": []})),
            (200, json!({"x": 0, "y": 0, "label": null})),
            "{language}"
        );
        // Results with variants, at the edges of s64.
        assert_eq!(
            call("divide", json!({"n": -7, "d": 2})),
            (200, json!({"ok": -3})),
            "{language}"
        );
        assert_eq!(
            call("divide", json!({"n": i64::MIN, "d": -1})),
            (422, json!({"err": {"overflow": i64::MIN}})),
            "{language}"
        );
        assert_eq!(
            call("divide", json!({"n": 1, "d": 0})),
            (422, json!({"err": "by-zero"})),
            "{language}"
        );
        // Bytes, options and tuples.
        assert_eq!(
            call("reverse", json!({"data": "010203", "count": 2})),
            (200, json!(["0201", 2])),
            "{language}"
        );
        assert_eq!(
            call("reverse", json!({"data": "010203", "count": null})),
            (200, json!(["030201", 3])),
            "{language}"
        );
        // A signature by the node over machine id || message, checked independently.
        let (status, signature) = call("sign", json!({"message": "00ff"}));
        assert_eq!(status, 200, "{language}: {signature}");
        let mut signed = hex::decode(&machine).unwrap();
        signed.extend_from_slice(&[0x00, 0xff]);
        let signature = hex::decode(signature.as_str().unwrap()).unwrap();
        assert!(bls_verifies(&key, &signed, &signature), "{language}");
        assert!(
            !bls_verifies(&key, b"something else", &signature),
            "{language}"
        );
        // Outbound HTTP through the node's helpers, and its errors by their WIT cases.
        let (status, body) = call(
            "fetch-text",
            json!({"url": format!("{}/healthz", node.url)}),
        );
        assert_eq!(status, 200, "{language}: {body}");
        let health: Value = serde_json::from_str(body["ok"].as_str().unwrap()).unwrap();
        assert_eq!(health["status"], "ok", "{language}");
        let (status, body) = call("fetch-text", json!({"url": "ftp://example.invalid/"}));
        assert_eq!(status, 422, "{language}: {body}");
        assert!(
            body["err"].as_str().unwrap().starts_with("invalid-url: "),
            "{language}: {body}"
        );
        // A bad argument is refused before the machine runs, as for any machine.
        let (status, body) = call("divide", json!({"n": "seven", "d": 2}));
        assert_eq!(status, 400, "{language}: {body}");
    }
}

/// A machine that traps, loops or allocates without bound gets, in each language, the answer a
/// Rust machine gets; and the node goes on serving.
#[test]
fn misbehaving_in_python_and_javascript_meets_the_limits_as_in_rust() {
    let dir = scratch("languages-limits");
    let cfg = dir.join("carol.toml");
    config_gen(&cfg);
    // Small limits, so that misbehaving takes little time; still room for an interpreter.
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text = text
        .replace(
            "activation_timeout_ms = 30000",
            "activation_timeout_ms = 3000",
        )
        .replace("memory_bytes = 268435456", "memory_bytes = 134217728");
    std::fs::write(&cfg, text).unwrap();
    let node = CarolNode::start(&["--cfg", cfg.to_str().unwrap()]);
    let rust = create(&node, &built("hostile"), "");
    let answers = |machine: &str| {
        let mut answers = Vec::new();
        for (name, args) in [
            ("spin", json!({})),
            ("allocate", json!({"megabytes": 1000})),
            ("allocate", json!({"megabytes": 4})),
            ("echo", json!({"message": "still here"})),
        ] {
            let (status, body) = call(&node, machine, name, args);
            // The same answer, but for the machine it names.
            let body = body.to_string().replace(machine, "MACHINE");
            answers.push((name, status, body));
        }
        answers
    };
    let expected = answers(&rust);
    assert_eq!(expected[0].1, 504, "{expected:?}");
    assert_eq!(expected[1].1, 500, "{expected:?}");
    for language in ["python", "javascript"] {
        let machine = create(
            &node,
            &built(&format!("cargo-carol/tests/guests/lang-check-{language}")),
            "",
        );
        let mut got = answers(&machine);
        // What the machine computes over 4 MiB differs (a checksum in Rust, a page count here).
        assert_eq!(got[2].1, 200, "{language}: {got:?}");
        got[2] = expected[2].clone();
        assert_eq!(got, expected, "{language}");
        // An uncaught exception is a trap, as a Rust panic is: a 500 naming the activation,
        // with what the machine printed.
        let (status, body) = call(&node, &machine, "fail", json!({"message": "final words 7"}));
        assert_eq!(status, 500, "{language}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains("`fail`"),
            "{language}: {body}"
        );
        assert!(
            body["panic"].as_str().unwrap().contains("final words 7"),
            "{language}: {body}"
        );
        assert_eq!(
            call(&node, &machine, "echo", json!({"message": "after"})),
            (200, json!("after")),
            "{language}"
        );
    }
}

#[test]
fn the_python_oracle_answers_and_signs_as_the_rust_one() {
    let (_source, params) = price_source();
    let node = node("languages-oracle");
    let key = public_key(&node);
    let rust = create(&node, &built("bitmex-oracle"), &params);
    let python = create(&node, &built("examples/bitmex-oracle-python"), &params);
    let asked = [
        (
            "attest-to-price-at-minute",
            json!({"time": "2023-04-16T12:30:42Z", "symbol": ".BXBT"}),
        ),
        (
            "attest-to-price-at-minute",
            json!({"time": "2023-04-16T14:30:59.999+02:00", "symbol": ".BXBT"}),
        ),
        (
            "bit-decompose-attest-to-price-at-minute",
            json!({"time": "2023-04-16T12:30:00Z", "symbol": ".BXBT", "n-bits": 20}),
        ),
        (
            "bit-decompose-attest-to-price-at-minute",
            json!({"time": "2023-04-16T12:30:00Z", "symbol": ".BXBT", "n-bits": 4}),
        ),
        ("price-source", json!({})),
        (
            "bit-decompose-attest-to-price-at-minute",
            json!({"time": "2023-04-16T12:30:00Z", "symbol": ".BXBT", "n-bits": 0}),
        ),
        (
            "attest-to-price-at-minute",
            json!({"time": "2023-04-16T12:30:00Z", "symbol": ""}),
        ),
        (
            "attest-to-price-at-minute",
            json!({"time": "9999-12-31T23:59:00-01:00", "symbol": ".BXBT"}),
        ),
        (
            "attest-to-price-at-minute",
            json!({"time": "2023-04-16T12:30:00Z", "symbol": ".NOSUCH"}),
        ),
        // RFC 3339 as the Rust machine's parser reads it: another separator, a leap second at
        // the end of a month and nowhere else, lowercase letters, a fraction, no offset.
        (
            "attest-to-price-at-minute",
            json!({"time": "2023-04-16 12:30:42Z", "symbol": ".BXBT"}),
        ),
        (
            "attest-to-price-at-minute",
            json!({"time": "2016-12-31t23:59:60.5z", "symbol": ".BXBT"}),
        ),
        (
            "attest-to-price-at-minute",
            json!({"time": "2016-12-30T23:59:60Z", "symbol": ".BXBT"}),
        ),
        (
            "attest-to-price-at-minute",
            json!({"time": "2024-02-30T12:00:00Z", "symbol": ".BXBT"}),
        ),
        (
            "attest-to-price-at-minute",
            json!({"time": "2023-04-16T12:30:42", "symbol": ".BXBT"}),
        ),
        (
            "attest-to-price-at-minute",
            json!({"time": "2023-04-16T12:30:42+24:00", "symbol": ".BXBT"}),
        ),
    ];
    for (name, args) in asked {
        let (rust_status, mut rust_answer) = call(&node, &rust, name, args.clone());
        let (python_status, mut python_answer) = call(&node, &python, name, args.clone());
        assert_eq!(python_status, rust_status, "{name} {args}: {python_answer}");
        // Bad times are refused alike, in the parser's own words after the same start.
        if let Some(refused) = rust_answer["err"]["bad-input"].as_str()
            && refused.contains("is not an RFC 3339 time")
        {
            let python_refused = python_answer["err"]["bad-input"].as_str().unwrap();
            assert!(
                refused.starts_with(python_refused),
                "{refused} / {python_refused}"
            );
            continue;
        }
        // The signatures differ, being bound to different machines; each verifies over its own
        // machine id and the same documented message.
        verify_and_remove_signatures(&key, &rust, name, &args, &mut rust_answer);
        verify_and_remove_signatures(&key, &python, name, &args, &mut python_answer);
        assert_eq!(python_answer, rust_answer, "{name} {args}");
    }
    // Params that name the source twice are refused by both, as the machine id commits to them.
    let twice = hex::encode(r#"{"api_base":"http://127.0.0.1:1","api_base":"http://127.0.0.1:2"}"#);
    let rust_twice = create(&node, &built("bitmex-oracle"), &twice);
    let python_twice = create(&node, &built("examples/bitmex-oracle-python"), &twice);
    for machine in [&rust_twice, &python_twice] {
        let (status, answer) = call(&node, machine, "price-source", json!({}));
        assert_eq!(status, 422, "{answer}");
        assert!(
            answer["err"]["bad-params"]
                .as_str()
                .unwrap()
                .contains("duplicate field"),
            "{answer}"
        );
    }
    // Bad inputs are refused alike, by their case, with the same words but for the parser's.
    let args = json!({"time": "16 April 2023", "symbol": ".BXBT"});
    let (status, rust_answer) = call(&node, &rust, "attest-to-price-at-minute", args.clone());
    let (_, python_answer) = call(&node, &python, "attest-to-price-at-minute", args);
    assert_eq!(status, 422);
    let prefix = "`16 April 2023` is not an RFC 3339 time such as 2023-04-16T12:30:00Z";
    for answer in [&rust_answer, &python_answer] {
        assert!(
            answer["err"]["bad-input"]
                .as_str()
                .unwrap()
                .starts_with(prefix),
            "{answer}"
        );
    }
}

/// Checks the signatures in an oracle's answer against the documented messages, for `machine`,
/// and replaces them with `null`.
fn verify_and_remove_signatures(
    key: &[u8],
    machine: &str,
    name: &str,
    args: &Value,
    answer: &mut Value,
) {
    let Some(ok) = answer.get_mut("ok").filter(|ok| ok.is_object()) else {
        return;
    };
    let symbol = args["symbol"].as_str().unwrap();
    let unix_time = ok["unix-time"].as_i64().unwrap();
    let event = |tag: &[u8]| {
        let mut message = hex::decode(machine).unwrap();
        message.extend_from_slice(tag);
        message.extend_from_slice(&u32::try_from(symbol.len()).unwrap().to_be_bytes());
        message.extend_from_slice(symbol.as_bytes());
        message.extend_from_slice(&unix_time.to_be_bytes());
        message
    };
    let check = |signed: Vec<u8>, signature: &mut Value| {
        let bytes = hex::decode(signature.as_str().unwrap()).unwrap();
        assert!(bls_verifies(key, &signed, &bytes), "{name} by {machine}");
        *signature = Value::Null;
    };
    if name == "attest-to-price-at-minute" {
        let mut signed = event(b"carol-bitmex-oracle/price/v1");
        signed.extend_from_slice(&ok["price"].as_u64().unwrap().to_be_bytes());
        check(signed, &mut ok["signature"]);
    } else {
        let n_bits = u8::try_from(ok["n-bits"].as_u64().unwrap()).unwrap();
        let start = event(b"carol-bitmex-oracle/bit/v1");
        for (index, bit) in ok["bits"].as_array_mut().unwrap().iter_mut().enumerate() {
            let mut signed = start.clone();
            let value = bit["value"].as_bool().unwrap();
            signed.extend_from_slice(&[n_bits, u8::try_from(index).unwrap(), u8::from(value)]);
            check(signed, &mut bit["signature"]);
        }
    }
}

#[test]
fn new_python_and_javascript_projects_build_and_run_as_they_stand() {
    let dir = scratch("languages-new");
    for language in ["python", "javascript"] {
        let name = format!("greeter-{language}");
        let project = dir.join(&name);
        stdout(&cargo_carol_in(
            &dir,
            &["new", "--lang", language, project.to_str().unwrap()],
            &[],
        ));
        let app = if language == "python" {
            "app.py"
        } else {
            "app.js"
        };
        assert!(project.join(app).is_file(), "{language}");
        assert!(project.join("wit/deps/carol-machine/machine.wit").is_file());
        let world = std::fs::read_to_string(project.join("wit/world.wit")).unwrap();
        assert!(world.contains(&format!("world {name} {{")), "{world}");
        // Built in its own directory, as its author would, without naming it.
        let path = PathBuf::from(stdout(&cargo_carol_in(&project, &["-q", "build"], &[])).trim());
        assert_eq!(
            path,
            project
                .canonicalize()
                .unwrap()
                .join(format!("target/carol/{name}.wasm"))
        );
        let api = stdout(&cargo_carol_in(&project, &["api"], &[]));
        assert_eq!(
            api,
            "greet(name: string) -> greeting\n    Greets `name`, and has the node sign the greeting.\n\n\
             /// A greeting signed by the node, bound to this machine.\nrecord greeting {\n  /// The text.\n  text: string,\n  /// The node's BLS signature over machine id || text (check it with `cargo carol verify`).\n  signature: list<u8>,\n}\n",
            "{language}"
        );
        let node = node(&format!("languages-new-{language}"));
        let machine = create(&node, &path, "");
        let (status, greeting) = call(&node, &machine, "greet", json!({"name": "ada"}));
        assert_eq!(status, 200, "{greeting}");
        assert_eq!(greeting["text"], "hello ada");
        let mut signed = hex::decode(&machine).unwrap();
        signed.extend_from_slice(b"hello ada");
        let signature = hex::decode(greeting["signature"].as_str().unwrap()).unwrap();
        assert!(bls_verifies(&public_key(&node), &signed, &signature));
    }
}

#[test]
fn python_and_javascript_mistakes_are_clear_errors() {
    let dir = scratch("languages-mistakes");
    // A syntax error: the tool's own words, naming the file.
    for (language, app, code) in [
        ("python", "app.py", "def broken(:\n"),
        ("javascript", "app.js", "export function broken( {\n"),
    ] {
        let project = dir.join(format!("broken-{language}"));
        stdout(&cargo_carol_in(
            &dir,
            &["new", "--lang", language, project.to_str().unwrap()],
            &[],
        ));
        std::fs::write(project.join(app), code).unwrap();
        let stderr = failure(&cargo_carol_in(&project, &["build"], &[]));
        assert!(stderr.contains("could not build"), "{language}: {stderr}");
        assert!(
            stderr.contains(app) && stderr.contains("SyntaxError"),
            "{language}: {stderr}"
        );
        assert!(!stderr.contains("Stack backtrace"), "{language}: {stderr}");
        assert!(
            !project
                .join(format!("target/carol/broken-{language}.wasm"))
                .exists()
        );
    }
    // A directory that could be read two ways, and a file in the way of the helpers.
    let project = dir.join("two-ways");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("app.py"), "").unwrap();
    std::fs::write(project.join("app.js"), "").unwrap();
    let stderr = failure(&cargo_carol_in(&project, &["build"], &[]));
    assert!(stderr.contains("holds app.py and app.js"), "{stderr}");
    let project = dir.join("broken-javascript");
    std::fs::write(
        project.join("app.js"),
        "export function greet(name) { return name; }\n",
    )
    .unwrap();
    std::fs::write(project.join("carol-guest.js"), "// mine\n").unwrap();
    let stderr = failure(&cargo_carol_in(&project, &["build"], &[]));
    assert!(
        stderr.contains("carol-guest.js, the name of Carol's helpers"),
        "{stderr}"
    );
    // A project without its world.
    let project = dir.join("no-wit");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("app.py"), "").unwrap();
    let stderr = failure(&cargo_carol_in(&project, &["build"], &[]));
    assert!(stderr.contains("no wit/ directory"), "{stderr}");
    // A directory that is no project, and a name that is none.
    let stderr = failure(&cargo_carol(&["build", "-p", "docs"]));
    assert!(stderr.contains("no machine project"), "{stderr}");
    let stderr = failure(&cargo_carol(&["build", "-p", "no-such-machine"]));
    assert!(
        stderr.contains("no machine `no-such-machine`") && stderr.contains("hello-python"),
        "{stderr}"
    );
    // A language the build does not know.
    let stderr = failure(&cargo_carol_in(&dir, &["new", "--lang", "cobol", "x"], &[]));
    assert!(
        stderr.contains("python") && stderr.contains("javascript"),
        "{stderr}"
    );
}

#[test]
fn a_javascript_machine_that_imports_wasi_http_is_refused_with_the_way_out() {
    // componentize-js's default build serves wasi:http; `cargo carol build` leaves it out, and
    // a node refuses a component that imports it, saying why.
    let componentize_js =
        crate::harness::tool_dir("componentize-js").join("node_modules/.bin/componentize-js");
    let dir = scratch("languages-wasi-http");
    let out = dir.join("with-http.wasm");
    let project = root().join("examples/hello-javascript");
    let status = std::process::Command::new(componentize_js)
        .arg(project.join("app.js"))
        .arg("--wit")
        .arg(project.join("wit"))
        .args(["--world-name", "hello-world", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let node = node("languages-wasi-http-node");
    let mut response = agent()
        .post(format!("{}/binaries", node.url))
        .header("content-type", "application/wasm")
        .send(&std::fs::read(&out).unwrap()[..])
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.body_mut().read_json().unwrap();
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("wasi:http")
            && error.contains("carol:machine/http-fetch")
            && error.contains("cargo carol build"),
        "{error}"
    );
    assert_eq!(get(&format!("{}/", node.url)).1["binaries"], 0);
}
