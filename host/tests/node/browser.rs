//! The machines' landing pages in a real browser: headless Chromium, driven through ChromeDriver
//! with the W3C WebDriver protocol, fills in and submits the forms and reads the answers off the
//! page; a machine whose doc comments are markup gets them shown as text, not run.
//!
//! Chromium and ChromeDriver come from Debian's `chromium` and `chromium-driver`, which
//! `scripts/test` installs; without them these tests fail saying so.

use crate::harness::{TestNode, guest, shared};
use carol_core::doc_section::Docs;
use carol_host::NodeConfig;
use serde_json::{Value, json};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Chromium without a display, as root, on a machine whose only network is loopback.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    // Root, and containers without user namespaces, cannot run Chromium's sandbox.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    // Chromium's own traffic (updates, sync, field trials) would leave loopback, and on a
    // closed network it fails loudly and slowly.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    // A proxy from the environment must not see the tests' loopback traffic.
    "--no-proxy-server",
    "--window-size=1280,1024",
];

/// The key of an element reference in WebDriver's JSON.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long a form may take from the click to its answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// A headless Chromium session through a ChromeDriver of its own. Dropping it, also while a
/// failing test unwinds, ends the session and kills ChromeDriver's process group, which holds
/// the Chromium it started.
struct Browser {
    driver: Child,
    /// ChromeDriver's base URL.
    url: String,
    /// `{url}/session/{id}`, once the session exists.
    session: String,
    agent: ureq::Agent,
    /// Chromium's profile and ChromeDriver's log.
    dir: PathBuf,
}

/// An element of the page, by its WebDriver reference.
struct Element(String);

impl Element {
    /// The element as a script argument.
    fn arg(&self) -> Value {
        json!({ ELEMENT: self.0 })
    }
}

/// What a form shows once its answer is in.
#[derive(Debug)]
struct Answer {
    status: u16,
    result: Value,
    curl: String,
}

impl Browser {
    /// Starts ChromeDriver on a free loopback port and a Chromium session through it; `name`
    /// names the scratch directory.
    fn start(name: &str) -> Self {
        for tool in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(tool).is_file(),
                "{tool} is missing: run scripts/test, which installs chromium, chromedriver and \
                 the Python tools"
            );
        }
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("browser-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::fs::File::create(dir.join("chromedriver.log")).unwrap();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            // Chromium's settings and crash reports go under the scratch directory, not $HOME.
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .env("XDG_CACHE_HOME", dir.join("cache"))
            // Its own process group, so that Chromium can be killed with it by the group's id.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {CHROMEDRIVER}: {e}"));
        let mut browser = Self {
            driver,
            url: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(120)))
                .build()
                .into(),
            dir,
        };
        browser.wait_for_driver();
        let profile = browser.dir.join("profile");
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| a.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let (status, body) = browser.request(
            "POST",
            &format!("{}/session", browser.url),
            Some(&json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
                // Finding an element waits for the page's scripts to make it.
                "timeouts": {"implicit": 10_000, "pageLoad": 60_000, "script": 30_000},
            }}})),
        );
        assert_eq!(
            status,
            200,
            "ChromeDriver could not start Chromium: {body}\n{}",
            browser.log()
        );
        let id = body["value"]["sessionId"].as_str().unwrap();
        browser.session = format!("{}/session/{id}", browser.url);
        browser
    }

    /// Waits until ChromeDriver answers its status query.
    fn wait_for_driver(&mut self) {
        let started = Instant::now();
        loop {
            let ready = self
                .agent
                .get(&format!("{}/status", self.url))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_json::<Value>().ok())
                .is_some_and(|status| status["value"]["ready"] == true);
            if ready {
                return;
            }
            if let Ok(Some(exit)) = self.driver.try_wait() {
                panic!("ChromeDriver exited with {exit}:\n{}", self.log());
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "ChromeDriver did not answer within 30 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// ChromeDriver's output, which includes Chromium's.
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("chromedriver.log")).unwrap_or_default()
    }

    /// An HTTP request to ChromeDriver: status and JSON body.
    fn request(&self, method: &str, url: &str, body: Option<&Value>) -> (u16, Value) {
        let response = match (method, body) {
            ("GET", _) => self.agent.get(url).call(),
            ("DELETE", _) => self.agent.delete(url).call(),
            (_, body) => self.agent.post(url).send_json(body.unwrap_or(&json!({}))),
        };
        let mut response = response.unwrap_or_else(|e| panic!("ChromeDriver: {method} {url}: {e}"));
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_json::<Value>()
            .unwrap_or(Value::Null);
        (status, body)
    }

    /// A WebDriver command of the session; returns its `value`, panics on an error.
    fn command(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let (status, mut answer) = self.request(method, &format!("{}{path}", self.session), body);
        assert_eq!(
            status,
            200,
            "WebDriver {method} {path} {}: {}",
            body.unwrap_or(&Value::Null),
            answer["value"]
        );
        answer["value"].take()
    }

    fn open(&self, url: &str) {
        self.command("POST", "/url", Some(&json!({ "url": url })));
    }

    fn title(&self) -> String {
        self.command("GET", "/title", None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Runs `script` in the page with `args`; returns what it returns.
    fn script(&self, script: &str, args: &[Value]) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            Some(&json!({ "script": script, "args": args })),
        )
    }

    /// The first element matching `css`, within `parent` or the whole page.
    fn find(&self, parent: Option<&Element>, css: &str) -> Element {
        let path = parent.map_or_else(
            || "/element".into(),
            |p| format!("/element/{}/element", p.0),
        );
        let body = json!({ "using": "css selector", "value": css });
        let (status, answer) =
            self.request("POST", &format!("{}{path}", self.session), Some(&body));
        assert_eq!(
            status,
            200,
            "no element {css} on the page ({}); the page's text:\n{}",
            answer["value"]["message"],
            self.script("return document.body.innerText", &[])
        );
        Element(answer["value"][ELEMENT].as_str().unwrap().to_owned())
    }

    fn tag(&self, element: &Element) -> String {
        let tag = self.command("GET", &format!("/element/{}/name", element.0), None);
        tag.as_str().unwrap().to_ascii_lowercase()
    }

    /// An element's property (`checked`, `type`, `textContent`).
    fn property(&self, element: &Element, name: &str) -> Value {
        self.command(
            "GET",
            &format!("/element/{}/property/{name}", element.0),
            None,
        )
    }

    /// The element's text as the page renders it.
    fn text(&self, element: &Element) -> String {
        let text = self.command("GET", &format!("/element/{}/text", element.0), None);
        text.as_str().unwrap().to_owned()
    }

    fn click(&self, element: &Element) {
        self.command("POST", &format!("/element/{}/click", element.0), None);
    }

    /// Replaces what a text control holds by typing `text` into it.
    fn fill(&self, element: &Element, text: &str) {
        self.command("POST", &format!("/element/{}/clear", element.0), None);
        self.command(
            "POST",
            &format!("/element/{}/value", element.0),
            Some(&json!({ "text": text })),
        );
    }

    /// Clicks a checkbox until it is `checked`.
    fn check(&self, element: &Element, checked: bool) {
        if self.property(element, "checked") != json!(checked) {
            self.click(element);
        }
        assert_eq!(self.property(element, "checked"), json!(checked));
    }

    /// The section and form of activation `name`.
    fn activation(&self, name: &str) -> (Element, Element) {
        let section = self.find(
            None,
            &format!(r#"section.activation[id="activation-{name}"]"#),
        );
        let form = self.find(
            Some(&section),
            &format!(r#"form.activation-form[data-activation="{name}"]"#),
        );
        (section, form)
    }

    /// The control of parameter `param` in `form`, checked to be a `tag` element.
    fn control(&self, form: &Element, param: &str, tag: &str) -> Element {
        let control = self.find(Some(form), &format!(r#"[name="{param}"]"#));
        assert_eq!(self.tag(&control), tag, "the control of parameter {param}");
        control
    }

    /// Submits `form` with its button and waits for the answer shown in `section`.
    fn submit(&self, section: &Element, form: &Element) -> Answer {
        // The form is "done" already if it was submitted before: wait for this answer.
        self.script("arguments[0].removeAttribute('data-state')", &[form.arg()]);
        self.click(&self.find(Some(form), r#"button[type="submit"]"#));
        let started = Instant::now();
        loop {
            let state = self.script("return arguments[0].dataset.state", &[form.arg()]);
            if state == "done" {
                break;
            }
            assert!(
                started.elapsed() < ANSWER_TIMEOUT,
                "the form did not get to data-state=\"done\" (it is {state}); the section:\n{}",
                self.text(section)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let status = self.text(&self.find(Some(section), "output.status"));
        let result = self.text(&self.find(Some(section), "pre.result"));
        Answer {
            status: status
                .trim()
                .parse()
                .unwrap_or_else(|e| panic!("<output class=\"status\"> is {status:?}: {e}")),
            result: serde_json::from_str(&result)
                .unwrap_or_else(|e| panic!("<pre class=\"result\"> is not JSON ({e}): {result}")),
            curl: self.text(&self.find(Some(section), "pre.curl")),
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            // Lets ChromeDriver close Chromium; the kill below covers a driver that cannot.
            let _ = self.agent.delete(&self.session).call();
        }
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.wait();
        if std::thread::panicking() {
            eprintln!(
                "ChromeDriver's and Chromium's log: {}",
                self.dir.join("chromedriver.log").display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The landing page of `machine` on the node at `url`.
fn landing_page(url: &str, machine: &str) -> String {
    format!("{url}/machines/{machine}/http/")
}

#[test]
fn landing_page_forms_run_activations_and_show_the_answers() {
    let machine = &shared().machine;
    let browser = Browser::start("forms");
    browser.open(&landing_page(&shared().node.url, machine));

    // A record, as JSON in a textarea; markup in a string comes back as it went.
    let (section, form) = browser.activation("echo-record");
    let v = browser.control(&form, "v", "textarea");
    let point = json!({"x": 3, "y": -4, "label": "café <b>&amp;</b>"});
    browser.fill(&v, &point.to_string());
    let answer = browser.submit(&section, &form);
    assert_eq!((answer.status, &answer.result), (200, &point), "{answer:?}");
    assert!(
        answer.curl.contains("curl") && answer.curl.contains(machine.as_str()),
        "{answer:?}"
    );
    // Refused input shows the node's 400 and its error.
    browser.fill(&v, r#"{"x": 1}"#);
    let answer = browser.submit(&section, &form);
    assert_eq!(answer.status, 400, "{answer:?}");
    assert!(answer.result["error"].is_string(), "{answer:?}");

    // Scalars, in inputs.
    let (section, form) = browser.activation("calc/mul");
    browser.fill(&browser.control(&form, "a", "input"), "6");
    browser.fill(&browser.control(&form, "b", "input"), "7");
    let answer = browser.submit(&section, &form);
    assert_eq!(
        (answer.status, &answer.result),
        (200, &json!(42)),
        "{answer:?}"
    );

    // An enum, in a select.
    let (section, form) = browser.activation("echo-enum");
    let select = browser.control(&form, "v", "select");
    browser.click(&browser.find(Some(&select), r#"option[value="light-blue"]"#));
    let answer = browser.submit(&section, &form);
    assert_eq!(
        (answer.status, &answer.result),
        (200, &json!("light-blue")),
        "{answer:?}"
    );

    // A bool, as a checkbox.
    let (section, form) = browser.activation("echo-bool");
    let checkbox = browser.control(&form, "v", "input");
    assert_eq!(browser.property(&checkbox, "type"), "checkbox");
    browser.check(&checkbox, true);
    let answer = browser.submit(&section, &form);
    assert_eq!(
        (answer.status, &answer.result),
        (200, &json!(true)),
        "{answer:?}"
    );

    // Flags, a checkbox each.
    let (section, form) = browser.activation("echo-flags");
    for (flag, set) in [("read", true), ("write", false), ("exec", true)] {
        let checkbox = browser.find(Some(&form), &format!(r#"input[name="v"][value="{flag}"]"#));
        browser.check(&checkbox, set);
    }
    let answer = browser.submit(&section, &form);
    assert_eq!(
        (answer.status, &answer.result),
        (200, &json!(["read", "exec"])),
        "{answer:?}"
    );

    // An option: a checkbox for `some`, and the value's own control.
    let (section, form) = browser.activation("echo-option");
    let set = browser.find(Some(&form), r#"input[name="v.set"]"#);
    browser.check(&set, true);
    browser.fill(
        &browser.control(&form, "v", "input"),
        "18446744073709551615",
    );
    let answer = browser.submit(&section, &form);
    assert_eq!(
        (answer.status, &answer.result),
        (200, &json!(u64::MAX)),
        "{answer:?}"
    );
    browser.check(&set, false);
    let answer = browser.submit(&section, &form);
    assert_eq!(
        (answer.status, &answer.result),
        (200, &Value::Null),
        "{answer:?}"
    );

    // A result's `err` is the node's 422, shown with its body.
    let (section, form) = browser.activation("echo-result");
    browser.fill(&browser.control(&form, "v", "textarea"), r#"{"err": 7}"#);
    let answer = browser.submit(&section, &form);
    assert_eq!(
        (answer.status, &answer.result),
        (422, &json!({"err": 7})),
        "{answer:?}"
    );
}

/// The doc comments of a test guest's WIT world and top-level exports, as `cargo carol build`
/// embeds them; the harness builds guests with plain `cargo build`, which leaves them out.
/// Reads the `///` lines above `world` and each `export NAME:`, all that the guest uses.
fn wit_docs(guest: &str) -> Docs {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/guests")
        .join(guest)
        .join("wit/world.wit");
    let wit = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut docs = Docs {
        version: 1,
        ..Docs::default()
    };
    let mut comment = Vec::new();
    for line in wit.lines().map(str::trim) {
        if let Some(text) = line.strip_prefix("///") {
            comment.push(text.strip_prefix(' ').unwrap_or(text));
            continue;
        }
        let text = comment.join("\n").trim().to_owned();
        comment.clear();
        if text.is_empty() {
            continue;
        }
        if line.starts_with("world ") {
            docs.world = Some(text);
        } else if let Some(export) = line.strip_prefix("export ")
            && let Some((name, _)) = export.split_once(':')
        {
            docs.activations.insert(name.trim().to_owned(), text);
        }
    }
    docs
}

#[test]
fn doc_comments_are_shown_as_text_not_run_as_markup() {
    const SCRIPT: &str = "<script>document.title='pwned'</script>";
    const IMG: &str = "</script><img src=x onerror=alert(1)>";
    let docs = wit_docs("hostile-docs");
    let echo = &docs.activations["echo"];
    assert!(echo.contains(SCRIPT) && echo.contains(IMG), "{docs:?}");
    let node = TestNode::start(NodeConfig::development());
    let (_, machine) = node.machine(&docs.embed(&guest("hostile-docs")), b"");
    // The node carries them, so that the page has them to show.
    let (status, description) = node.get(&format!("/machines/{machine}"));
    assert_eq!(status, 200, "{description}");
    assert_eq!(description["activations"][0]["docs"], json!(echo));

    let browser = Browser::start("hostile-docs");
    browser.open(&landing_page(&node.url, &machine));
    let (section, _) = browser.activation("echo");
    let shown = browser.property(&browser.find(Some(&section), ".docs"), "textContent");
    let shown = shown.as_str().unwrap();
    assert!(shown.contains(SCRIPT) && shown.contains(IMG), "{shown}");
    assert_ne!(browser.title(), "pwned");
    let injected = browser.script(
        "return document.querySelectorAll('img[src=\"x\"]').length \
         + arguments[0].querySelectorAll('img').length",
        &[section.arg()],
    );
    assert_eq!(injected, 0, "the docs' <img> became an element");
    // Parameters named after a form's own properties (`form.elements`, `form.submit`) are
    // controls like any other.
    let (section, form) = browser.activation("form-words");
    for (param, text) in [("elements", "e"), ("submit", "s"), ("action", "a")] {
        browser.fill(&browser.control(&form, param, "input"), text);
    }
    let answer = browser.submit(&section, &form);
    assert_eq!(
        (answer.status, &answer.result),
        (200, &json!("e s a")),
        "{answer:?}"
    );
    // An alert would be open now had the `onerror` run.
    let (status, alert) = browser.request("GET", &format!("{}/alert/text", browser.session), None);
    assert_eq!(
        (status, &alert["value"]["error"]),
        (404, &json!("no such alert")),
        "{alert}"
    );
}
