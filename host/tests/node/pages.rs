//! The pages for browsers: served as HTML with a Content-Security-Policy when the `Accept`
//! header prefers HTML (and always at `/machines/{id}/http/`), the right control per parameter
//! type, and the JSON answers unchanged for API clients.

use crate::harness::shared;
use serde_json::{Value, json};

/// What browsers send when they open a page.
const BROWSER_ACCEPT: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

/// An answer: status, the headers the tests look at, and the body as text.
struct Answer {
    status: u16,
    content_type: String,
    policy: Option<String>,
    vary: Option<String>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// Checks that this is a page, with the policy that forbids anything external.
    fn assert_page(&self) {
        assert_eq!(self.status, 200, "{}", self.body);
        assert_eq!(self.content_type, "text/html; charset=utf-8");
        let policy = self.policy.as_deref().expect("a Content-Security-Policy");
        assert!(policy.starts_with("default-src 'none';"), "{policy}");
        assert!(policy.contains("connect-src 'self'"), "{policy}");
        assert!(!policy.contains("http"), "{policy}");
        assert!(self.body.starts_with("<!doctype html>"));
        assert!(
            self.body.contains(
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            )
        );
        // Self-contained: nothing loaded from elsewhere.
        for external in [
            "src=\"http",
            "href=\"http",
            "<link rel=\"stylesheet\"",
            "@import",
        ] {
            assert!(!self.body.contains(external), "{external} in the page");
        }
    }
}

/// `GET path` on the shared node with `accept` as the `Accept` header, if any.
fn get(path: &str, accept: Option<&str>) -> Answer {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut request = agent.get(&format!("{}{path}", shared().node.url));
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let mut response = request.call().expect("the node answers");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
    };
    let (content_type, policy, vary) = (
        header("content-type").unwrap_or_default(),
        header("content-security-policy"),
        header("vary"),
    );
    Answer {
        status: response.status().as_u16(),
        content_type,
        policy,
        vary,
        body: response.body_mut().read_to_string().unwrap(),
    }
}

fn machine_path() -> String {
    format!("/machines/{}", shared().machine)
}

/// The HTML of activation `name`'s section.
fn section<'a>(page: &'a str, name: &str) -> &'a str {
    let start = page
        .find(&format!(
            "<section class=\"activation\" id=\"activation-{name}\">"
        ))
        .unwrap_or_else(|| panic!("no section for {name}"));
    let end = start + page[start..].find("</section>").unwrap();
    &page[start..end]
}

/// The tag (`<…>`) around the first occurrence of `needle` in `html`.
fn tag_with<'a>(html: &'a str, needle: &str) -> &'a str {
    let at = html
        .find(needle)
        .unwrap_or_else(|| panic!("no {needle} in {html}"));
    let start = html[..at].rfind('<').unwrap();
    &html[start..at + html[at..].find('>').unwrap() + 1]
}

#[test]
fn browsers_get_the_machine_page() {
    let shared = shared();
    let key = hex::encode(shared.node.node.public_key().to_bytes());
    for path in [
        machine_path(),
        format!("{}/http/", machine_path()),
        format!("{}/http", machine_path()),
    ] {
        let page = get(&path, Some(BROWSER_ACCEPT));
        page.assert_page();
        let body = &page.body;
        assert!(
            body.contains(&format!(
                "<code id=\"machine-id\">{}</code></h1>",
                shared.machine
            )),
            "{path}"
        );
        assert!(body.contains(&format!("<code id=\"binary-id\">{}</code>", shared.binary)));
        assert!(body.contains(&format!("<code id=\"public-key\">{key}</code>")));
        assert!(body.contains("<code id=\"params-hex\">7031</code>"));
        assert!(body.contains("<code id=\"params-text\">p1</code>"));
        assert!(body.contains(&format!(
            "<a href=\"/machines/{}/openapi.json\">",
            shared.machine
        )));
        assert!(body.contains("<script type=\"application/json\" id=\"carol-activations\">"));
    }
    assert_eq!(
        get(&machine_path(), Some(BROWSER_ACCEPT)).vary.as_deref(),
        Some("accept")
    );
    // The prototype's page URL is a page whatever the client accepts.
    get(&format!("{}/http/", machine_path()), None).assert_page();
    // Activations under /http/{name} are still activations.
    let answer = get(&format!("{}/http/calc/mul?a=6&b=7", machine_path()), None);
    assert_eq!((answer.status, answer.json()), (200, json!(42)));
}

#[test]
fn api_clients_keep_their_json() {
    for accept in [None, Some("application/json"), Some("*/*")] {
        let root = get("/", accept);
        assert_eq!(root.status, 200);
        assert_eq!(root.content_type, "application/json", "{accept:?}");
        assert!(root.policy.is_none());
        assert_eq!(root.vary.as_deref(), Some("accept"));
        let root = root.json();
        assert_eq!(root["public_key"].as_str().unwrap().len(), 96, "{root}");
        assert_eq!(root["name"], json!("carol"));

        let machine = get(&machine_path(), accept);
        assert_eq!(machine.status, 200);
        assert_eq!(machine.content_type, "application/json", "{accept:?}");
        let machine = machine.json();
        assert_eq!(machine["id"], json!(shared().machine));
        assert_eq!(machine["params"], json!("7031"));
        assert_eq!(machine["activations"].as_array().unwrap().len(), 34);
    }
    // An unknown machine is the JSON 404 that lists the machines, also for browsers.
    let missing = format!("/machines/{}", "0".repeat(64));
    for path in [missing.clone(), format!("{missing}/http/")] {
        let answer = get(&path, Some(BROWSER_ACCEPT));
        assert_eq!(answer.status, 404);
        assert!(answer.json()["machines"].is_array());
    }
}

#[test]
fn browsers_get_the_node_page() {
    let shared = shared();
    let page = get("/", Some(BROWSER_ACCEPT));
    page.assert_page();
    assert_eq!(page.vary.as_deref(), Some("accept"));
    let key = hex::encode(shared.node.node.public_key().to_bytes());
    assert!(
        page.body
            .contains(&format!("<code id=\"public-key\">{key}</code>"))
    );
    assert!(page.body.contains(&format!(
        "<code id=\"version\">{}</code>",
        env!("CARGO_PKG_VERSION")
    )));
    assert!(page.body.contains(&format!(
        "<a href=\"/machines/{0}\"><code>{0}</code></a>",
        shared.machine
    )));
    for line in [
        "cargo carol -q upload",
        "cargo carol -q create",
        "curl -H 'content-type: application/wasm' --data-binary",
    ] {
        assert!(page.body.contains(line), "{line}");
    }
}

#[test]
fn each_parameter_gets_the_control_of_its_type() {
    let page = get(&machine_path(), Some(BROWSER_ACCEPT));
    page.assert_page();
    let body = &page.body;
    let machine = get(&machine_path(), None).json();
    for activation in machine["activations"].as_array().unwrap() {
        let name = activation["name"].as_str().unwrap();
        let html = section(body, name);
        assert!(html.contains(&format!("<h3>{name}</h3>")), "{name}");
        assert!(html.contains("<code class=\"signature\">"), "{name}");
        assert!(html.contains("<div class=\"docs\">"), "{name}");
        assert!(
            html.contains(&format!(
                "<form class=\"activation-form\" data-activation=\"{name}\""
            )),
            "{name}"
        );
        assert!(html.contains("<button type=\"submit\">"), "{name}");
        assert!(
            html.contains("<output class=\"status\"></output>"),
            "{name}"
        );
        assert!(html.contains("<pre class=\"result\"></pre><pre class=\"curl\"></pre>"));
        for param in activation["params"].as_array().unwrap() {
            let param = param["name"].as_str().unwrap();
            assert!(
                html.contains(&format!("name=\"{param}\"")),
                "{name}: {param}"
            );
        }
    }
    let control =
        |activation: &str, attribute: &str| tag_with(section(body, activation), attribute);
    let expect = |activation: &str, attribute: &str, wanted: &[&str]| {
        let tag = control(activation, attribute);
        for want in wanted {
            assert!(tag.contains(want), "{activation}: {want} not in {tag}");
        }
    };
    expect("echo-bool", "name=\"v\"", &["<input", "type=\"checkbox\""]);
    expect(
        "echo-s8",
        "name=\"v\"",
        &[
            "type=\"number\"",
            "min=\"-128\"",
            "max=\"127\"",
            "step=\"1\"",
        ],
    );
    expect("echo-u16", "name=\"v\"", &["min=\"0\"", "max=\"65535\""]);
    expect(
        "calc/mul",
        "name=\"a\"",
        &["type=\"number\"", "min=\"-2147483648\""],
    );
    expect("calc/mul", "name=\"b\"", &["max=\"2147483647\""]);
    expect(
        "echo-u64",
        "name=\"v\"",
        &["type=\"text\"", "pattern=\"[0-9]{1,20}\""],
    );
    expect(
        "echo-s64",
        "name=\"v\"",
        &["type=\"text\"", "pattern=\"-?[0-9]{1,19}\""],
    );
    expect(
        "echo-f32",
        "name=\"v\"",
        &["type=\"number\"", "step=\"any\""],
    );
    expect(
        "echo-f64",
        "name=\"v\"",
        &["type=\"number\"", "step=\"any\""],
    );
    expect(
        "echo-char",
        "name=\"v\"",
        &["type=\"text\"", "maxlength=\"2\""],
    );
    expect("echo-string", "name=\"v\"", &["<input", "type=\"text\""]);
    expect(
        "echo-bytes",
        "name=\"v\"",
        &["<input", "type=\"text\"", "pattern="],
    );
    expect("echo-enum", "name=\"v\"", &["<select"]);
    for case in ["red", "green", "light-blue"] {
        assert!(section(body, "echo-enum").contains(&format!("<option value=\"{case}\">")));
    }
    for flag in ["read", "write", "exec"] {
        expect(
            "echo-flags",
            &format!("value=\"{flag}\""),
            &["type=\"checkbox\"", "name=\"v\""],
        );
    }
    expect("echo-option", "name=\"v.set\"", &["type=\"checkbox\""]);
    expect(
        "echo-option",
        "name=\"v\"",
        &["type=\"text\"", "pattern=\"[0-9]{1,20}\"", "disabled"],
    );
    for json in [
        "echo-record",
        "echo-variant",
        "echo-list",
        "echo-tuple",
        "echo-result",
        "echo-nested",
    ] {
        expect(json, "name=\"v\"", &["<textarea"]);
    }
    // Textareas start with an example of the right shape, and show the WIT type.
    let record = section(body, "echo-record");
    assert!(record.contains(
        "{\n  &quot;x&quot;: 0,\n  &quot;y&quot;: 0,\n  &quot;label&quot;: &quot;&quot;\n}</textarea>"
    ));
    assert!(
        record.contains("<code class=\"type\"><a href=\"#type-point\">point</a></code>"),
        "{record}"
    );
    // The named type itself is defined once on the page, where its name links to.
    assert_eq!(body.matches("id=\"type-point\"").count(), 1);
    assert!(body.contains(
        "<code class=\"definition\">record <a href=\"#type-point\">point</a> { x: s32, y: s32, label: string }</code>"
    ));
}

#[test]
fn what_the_forms_send_is_accepted() {
    // The bodies the page's script builds: 64-bit integers as digit strings, list<u8> as hex,
    // flags as arrays, an unset option as null, JSON fields as written.
    let shared = shared();
    for (name, body, answer) in [
        (
            "echo-u64",
            json!({"v": "18446744073709551615"}),
            json!(u64::MAX),
        ),
        (
            "echo-s64",
            json!({"v": "-9223372036854775808"}),
            json!(i64::MIN),
        ),
        ("echo-bytes", json!({"v": "00ff"}), json!("00ff")),
        (
            "echo-flags",
            json!({"v": ["read", "exec"]}),
            json!(["read", "exec"]),
        ),
        ("echo-option", json!({"v": null}), json!(null)),
        ("echo-char", json!({"v": "é"}), json!("é")),
        (
            "echo-tuple",
            json!({"v": [0, "", false]}),
            json!([0, "", false]),
        ),
        ("nothing", json!({}), json!(null)),
    ] {
        assert_eq!(shared.post(name, &body), (200, answer), "{name}");
    }
}
