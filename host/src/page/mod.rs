//! The HTML pages a browser gets: the node's (`GET /`) and a machine's (`GET /machines/{id}`,
//! `GET /machines/{id}/http/`), with a form per activation that runs it over `fetch`.
//!
//! Everything a component names (activations, parameters, cases, flags, doc comments, type
//! text) is untrusted. It is HTML-escaped wherever it becomes text or an attribute value, and
//! what the page's script needs goes into a JSON data block with `<`, `>` and `&` escaped, so
//! no string can end the block. The style and the script are the node's own constants, allowed
//! by their SHA-256 in the Content-Security-Policy ([`content_security_policy`]): markup that
//! got past the escaping could still load and run nothing.

use crate::values::{Activation, Param, TypeDesc};
use axum::http::{HeaderMap, header};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::fmt::{self, Write};
use std::sync::LazyLock;

/// The pages' one stylesheet, inlined.
const STYLE: &str = include_str!("page.css");
/// The pages' one script, inlined: fills in the origin and runs the activation forms.
const SCRIPT: &str = include_str!("page.js");

/// The Content-Security-Policy of the pages: nothing external, no inline code but the page's
/// own style and script (by hash), `fetch` to this node only, and no framing.
pub fn content_security_policy() -> &'static str {
    static POLICY: LazyLock<String> = LazyLock::new(|| {
        format!(
            "default-src 'none'; style-src '{}'; script-src '{}'; connect-src 'self'; \
             img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
            sha256_source(STYLE),
            sha256_source(SCRIPT)
        )
    });
    &POLICY
}

/// A CSP hash source, `sha256-<base64>`, for an inline element with exactly `text` inside.
fn sha256_source(text: &str) -> String {
    format!("sha256-{}", base64(&Sha256::digest(text.as_bytes())))
}

/// Standard base64 with padding, which CSP hashes are written in.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Whether a request's `Accept` header prefers HTML over JSON, as browsers' navigations do
/// (`text/html,…,*/*;q=0.8`). No header, `*/*` alone, `application/json` or a tie keep JSON,
/// so API clients see no change.
pub fn prefers_html(headers: &HeaderMap) -> bool {
    let mut html = 0.0f32;
    let mut json = 0.0f32;
    let ranges = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','));
    for range in ranges {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|part| {
                let (key, value) = part.split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("q")
                    .then(|| value.trim().parse::<f32>().ok())?
            })
            .next()
            .unwrap_or(1.0);
        match media.as_str() {
            "text/html" | "text/*" => html = html.max(quality),
            "application/json" | "application/*" | "*/*" => json = json.max(quality),
            _ => {}
        }
    }
    html > json
}

/// Text made safe for HTML text content and quoted attribute values.
struct Escaped<'a>(&'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..at])?;
            f.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

/// JSON for a `<script type="application/json">` block: `<`, `>` and `&` only occur inside
/// JSON strings, where their `\u` escapes mean the same, and without them nothing in the data
/// can close the element or open a comment.
fn script_json(value: &Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The document up to the start of the body's content.
fn head(out: &mut String, title: &str) -> fmt::Result {
    write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"icon\" href=\"data:,\"><title>{}</title><style>{STYLE}</style></head><body>",
        Escaped(title)
    )
}

/// The script and the end of the document.
fn tail(out: &mut String) -> fmt::Result {
    writeln!(out, "<script>{SCRIPT}</script></body></html>")
}

/// Renders with a writer that cannot fail: `fmt::Write` for `String` never errors.
fn render(write: impl FnOnce(&mut String) -> fmt::Result) -> String {
    let mut out = String::new();
    write(&mut out).expect("writing to a String does not fail");
    out
}

/// What a machine's page shows.
pub struct MachinePage<'a> {
    /// The machine id, hex.
    pub machine_id: &'a str,
    /// Its binary's id, hex.
    pub binary_id: &'a str,
    /// Its params.
    pub params: &'a [u8],
    /// The node's public key, hex.
    pub public_key: &'a str,
    /// The public keys of its own the machine has used: name and hex.
    pub machine_keys: &'a [(&'a str, String)],
    /// Bytes its state holds and its quota; `None` if the store could not say.
    pub state: Option<(u64, u64)>,
    /// Its activations, in export order.
    pub activations: &'a [Activation],
}

impl MachinePage<'_> {
    /// The page's HTML.
    pub fn render(&self) -> String {
        render(|out| self.write(out))
    }

    fn write(&self, out: &mut String) -> fmt::Result {
        let id = Escaped(self.machine_id);
        let binary = Escaped(self.binary_id);
        head(out, &format!("Carol machine {}", self.machine_id))?;
        write!(
            out,
            "<nav><a href=\"/\">node</a> · <a href=\"/machines/{id}/openapi.json\">OpenAPI</a> · \
             <a href=\"/binaries/{binary}\">activations as JSON</a></nav>\
             <h1>Machine <code id=\"machine-id\">{id}</code></h1><dl class=\"facts\">\
             <dt>binary</dt><dd><code id=\"binary-id\">{binary}</code></dd><dt>params</dt><dd>"
        )?;
        if self.params.is_empty() {
            out.push_str("<code id=\"params-hex\"></code><span class=\"muted\">(empty)</span>");
        } else {
            write!(
                out,
                "<code id=\"params-hex\">{}</code>",
                hex::encode(self.params)
            )?;
        }
        if let Some(text) = printable(self.params) {
            write!(
                out,
                "<br><span class=\"muted\">as text:</span> <code id=\"params-text\">{}</code>",
                Escaped(text)
            )?;
        }
        write!(
            out,
            "</dd><dt>node public key</dt><dd><code id=\"public-key\">{}</code></dd>",
            Escaped(self.public_key)
        )?;
        for (name, key) in self.machine_keys {
            write!(
                out,
                "<dt>machine's {name} key</dt><dd><code id=\"machine-key-{name}\">{}</code></dd>",
                Escaped(key)
            )?;
        }
        if let Some((bytes, quota)) = self.state {
            write!(
                out,
                "<dt>state</dt><dd id=\"state\">{bytes} of {quota} bytes</dd>"
            )?;
        }
        write!(
            out,
            "</dl><noscript><p>The forms below run activations with JavaScript; without it, use the \
             routes directly.</p></noscript><h2>Activations</h2><ul class=\"toc\">"
        )?;
        for activation in self.activations {
            let name = Escaped(&activation.name);
            write!(
                out,
                "<li><a href=\"#activation-{name}\"><code>{name}</code></a></li>"
            )?;
        }
        out.push_str("</ul>");
        for (index, activation) in self.activations.iter().enumerate() {
            write_activation(out, index, activation)?;
        }
        let data = json!({
            "machine": self.machine_id,
            "activations": self.activations.iter().map(script_spec).collect::<Vec<_>>(),
        });
        write!(
            out,
            "<script type=\"application/json\" id=\"carol-activations\">{}</script>",
            script_json(&data)
        )?;
        tail(out)
    }
}

/// Params as text, when they are UTF-8 without control characters other than line breaks
/// and tabs.
fn printable(params: &[u8]) -> Option<&str> {
    std::str::from_utf8(params).ok().filter(|text| {
        !text.is_empty()
            && text
                .chars()
                .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
    })
}

/// How the form edits one parameter, and how the script turns the control into JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    /// A checkbox: `true` or `false`.
    Bool,
    /// A number input with the type's range: a JSON number.
    Int,
    /// `s64` and `u64`: a text input of digits, sent as a digit string to keep every digit.
    Int64,
    /// A number input with any step: a JSON number.
    Float,
    /// A text input for one character: a JSON string.
    Char,
    /// A text input: a JSON string.
    String,
    /// `list<u8>`: a text input of hex, sent as a hex string.
    Hex,
    /// A select of the cases: the case name.
    Enum,
    /// A checkbox per flag: the array of the checked ones.
    Flags,
    /// A textarea of JSON, sent as written.
    Json,
}

impl Kind {
    fn of(ty: &TypeDesc) -> Self {
        match ty {
            TypeDesc::Bool => Self::Bool,
            TypeDesc::S8
            | TypeDesc::U8
            | TypeDesc::S16
            | TypeDesc::U16
            | TypeDesc::S32
            | TypeDesc::U32 => Self::Int,
            TypeDesc::S64 | TypeDesc::U64 => Self::Int64,
            TypeDesc::F32 | TypeDesc::F64 => Self::Float,
            TypeDesc::Char => Self::Char,
            TypeDesc::String => Self::String,
            TypeDesc::List(inner) if **inner == TypeDesc::U8 => Self::Hex,
            TypeDesc::Enum { .. } => Self::Enum,
            TypeDesc::Flags { .. } => Self::Flags,
            _ => Self::Json,
        }
    }
}

/// A parameter as the form shows it: whether it is an `option` with a "set" toggle, and the
/// type of the control. `option<option<T>>` is edited as JSON as a whole, since one toggle
/// cannot tell its two kinds of none apart.
fn form_type(ty: &TypeDesc) -> (bool, &TypeDesc) {
    match ty {
        TypeDesc::Option(inner) if !matches!(**inner, TypeDesc::Option(_)) => (true, inner),
        ty => (false, ty),
    }
}

/// What the script needs of an activation: its name and how to encode each parameter.
fn script_spec(activation: &Activation) -> Value {
    let params: Vec<Value> = activation
        .params
        .iter()
        .map(|param| {
            let (optional, ty) = form_type(&param.ty);
            json!({ "name": param.name, "kind": Kind::of(ty), "optional": optional })
        })
        .collect();
    json!({ "name": activation.name, "params": params })
}

fn write_activation(out: &mut String, index: usize, activation: &Activation) -> fmt::Result {
    let name = Escaped(&activation.name);
    write!(
        out,
        "<section class=\"activation\" id=\"activation-{name}\"><h3>{name}</h3>\
         <code class=\"signature\">{}</code>",
        Escaped(&activation.signature())
    )?;
    let named = activation.named_types();
    if !named.is_empty() {
        out.push_str("<ul class=\"types\">");
        for definition in named.values() {
            write!(out, "<li><code>{}</code></li>", Escaped(definition))?;
        }
        out.push_str("</ul>");
    }
    write!(
        out,
        "<div class=\"docs\">{}</div>\
         <form class=\"activation-form\" data-activation=\"{name}\" novalidate>",
        Escaped(activation.docs.as_deref().unwrap_or_default())
    )?;
    for (position, param) in activation.params.iter().enumerate() {
        write_param(out, &format!("a{index}-{position}"), param)?;
    }
    out.push_str(
        "<div class=\"run\"><button type=\"submit\">Run</button>\
         <output class=\"status\"></output></div>\
         <pre class=\"result\"></pre><pre class=\"curl\"></pre></form></section>",
    );
    Ok(())
}

/// One parameter's label and control; `id` is unique in the page.
fn write_param(out: &mut String, id: &str, param: &Param) -> fmt::Result {
    let (optional, ty) = form_type(&param.ty);
    let kind = Kind::of(ty);
    let name = Escaped(&param.name);
    let type_text = Escaped(&param.ty.to_string());
    if kind == Kind::Flags {
        write!(
            out,
            "<fieldset class=\"param\"><legend>{name} <code class=\"type\">{type_text}</code></legend>"
        )?;
    } else {
        write!(
            out,
            "<div class=\"param\"><label for=\"{id}\">{name} <code class=\"type\">{type_text}</code></label>"
        )?;
    }
    if optional {
        write!(
            out,
            "<label class=\"set\"><input type=\"checkbox\" name=\"{name}.set\"> set \
             <span class=\"muted\">(else <code>null</code>)</span></label>"
        )?;
    }
    // An unset option's control starts disabled; the script enables it with the toggle.
    let disabled = if optional { " disabled" } else { "" };
    let common = format!("id=\"{id}\" name=\"{name}\"{disabled}");
    match kind {
        Kind::Bool => write!(out, "<input type=\"checkbox\" {common}>")?,
        Kind::Int => {
            let (min, max) = ty.int_range().expect("an integer type");
            write!(
                out,
                "<input type=\"number\" {common} min=\"{min}\" max=\"{max}\" step=\"1\" \
                 placeholder=\"{min} to {max}\">"
            )?;
        }
        Kind::Int64 => {
            let (pattern, mode) = if *ty == TypeDesc::S64 {
                ("-?[0-9]{1,19}", "text")
            } else {
                ("[0-9]{1,20}", "numeric")
            };
            let (min, max) = ty.int_range().expect("an integer type");
            write!(
                out,
                "<input type=\"text\" {common} pattern=\"{pattern}\" inputmode=\"{mode}\" \
                 autocomplete=\"off\" spellcheck=\"false\" placeholder=\"{min} to {max}\">"
            )?;
        }
        Kind::Float => {
            let range = if *ty == TypeDesc::F32 {
                " min=\"-3.4028234663852886e38\" max=\"3.4028234663852886e38\""
            } else {
                ""
            };
            write!(
                out,
                "<input type=\"number\" {common} step=\"any\"{range} placeholder=\"0.5\">"
            )?;
        }
        Kind::Char => write!(
            out,
            "<input type=\"text\" {common} maxlength=\"2\" pattern=\".\" autocomplete=\"off\" \
             placeholder=\"one character\">"
        )?,
        Kind::String => write!(out, "<input type=\"text\" {common} autocomplete=\"off\">")?,
        Kind::Hex => write!(
            out,
            "<input type=\"text\" {common} pattern=\"[0-9a-fA-F\\s]*\" autocomplete=\"off\" \
             spellcheck=\"false\" placeholder=\"hex bytes, e.g. 68656c6c6f\">"
        )?,
        Kind::Enum => {
            write!(out, "<select {common}>")?;
            if let TypeDesc::Enum { cases, .. } = ty {
                for case in cases {
                    let case = Escaped(case);
                    write!(out, "<option value=\"{case}\">{case}</option>")?;
                }
            }
            out.push_str("</select>");
        }
        Kind::Flags => {
            if let TypeDesc::Flags { flags, .. } = ty {
                for flag in flags {
                    let flag = Escaped(flag);
                    write!(
                        out,
                        "<label class=\"flag\"><input type=\"checkbox\" name=\"{name}\" \
                         value=\"{flag}\"{disabled}> {flag}</label>"
                    )?;
                }
            }
        }
        Kind::Json => {
            let example = serde_json::to_string_pretty(&example(ty)).unwrap_or_default();
            let rows = example.lines().count().clamp(2, 12);
            write!(
                out,
                "<textarea {common} rows=\"{rows}\" spellcheck=\"false\" autocomplete=\"off\" \
                 autocapitalize=\"off\">{}</textarea><p class=\"hint\">JSON: {}</p>",
                Escaped(&example),
                json_hint(ty)
            )?;
        }
    }
    out.push_str(if kind == Kind::Flags {
        "</fieldset>"
    } else {
        "</div>"
    });
    Ok(())
}

/// How a type edited as JSON is written, in a few words (fixed text, nothing from the
/// component).
fn json_hint(ty: &TypeDesc) -> &'static str {
    match ty {
        TypeDesc::Record { .. } => "an object keyed by field name",
        TypeDesc::Variant { .. } => {
            "<code>{\"case\": payload}</code>, or <code>\"case\"</code> without payload"
        }
        TypeDesc::Result { .. } => "<code>{\"ok\": …}</code> or <code>{\"err\": …}</code>",
        TypeDesc::Option(_) => "<code>null</code> or the value",
        TypeDesc::List(_) | TypeDesc::Tuple(_) => "an array",
        _ => "the value",
    }
}

/// A value of the right shape to start editing from: zeros, empty strings, the first case.
fn example(ty: &TypeDesc) -> Value {
    match ty {
        TypeDesc::Bool => Value::Bool(false),
        TypeDesc::F32 | TypeDesc::F64 => json!(0.0),
        TypeDesc::Char => json!("a"),
        TypeDesc::String => json!(""),
        TypeDesc::List(inner) if **inner == TypeDesc::U8 => json!(""),
        TypeDesc::List(inner) => json!([example(inner)]),
        TypeDesc::Tuple(items) => items.iter().map(example).collect(),
        TypeDesc::Record { fields, .. } => Value::Object(
            fields
                .iter()
                .map(|(name, ty)| (name.clone(), example(ty)))
                .collect::<Map<_, _>>(),
        ),
        TypeDesc::Variant { cases, .. } => match cases.first() {
            Some((case, Some(payload))) => json!({ case: example(payload) }),
            Some((case, None)) => json!(case),
            None => Value::Null,
        },
        TypeDesc::Enum { cases, .. } => cases.first().map_or(Value::Null, |case| json!(case)),
        TypeDesc::Flags { flags, .. } => flags.iter().take(1).map(|flag| json!(flag)).collect(),
        TypeDesc::Option(inner) => example(inner),
        TypeDesc::Result { ok, .. } => json!({ "ok": ok.as_deref().map_or(Value::Null, example) }),
        _ => json!(0),
    }
}

/// What the node's page shows.
pub struct NodePage<'a> {
    /// The node's public key, hex.
    pub public_key: &'a str,
    /// The node's version.
    pub version: &'a str,
    /// The node's URL as the request reached it (`http://host`), for the command lines; the
    /// script replaces it with the browser's origin.
    pub origin: &'a str,
    /// How many binaries it holds.
    pub binaries: usize,
    /// How many machines it holds.
    pub machines: usize,
    /// Ids of (at most 100 of) its machines.
    pub machine_ids: &'a [String],
}

impl NodePage<'_> {
    /// The page's HTML.
    pub fn render(&self) -> String {
        render(|out| self.write(out))
    }

    fn write(&self, out: &mut String) -> fmt::Result {
        let origin = format!("<span class=\"origin\">{}</span>", Escaped(self.origin));
        head(out, "Carol node")?;
        write!(
            out,
            "<h1>Carol node</h1><p>A programmable third party: it runs WebAssembly machines and \
             signs what they attest with its key.</p><dl class=\"facts\">\
             <dt>public key</dt><dd><code id=\"public-key\">{}</code></dd>\
             <dt>version</dt><dd><code id=\"version\">{}</code></dd>\
             <dt>WIT package</dt><dd><code>{wit}</code></dd>\
             <dt>binaries</dt><dd>{}</dd><dt>machines</dt><dd>{}</dd></dl>\
             <h2>Upload a machine</h2><p>Build the component, upload it, then create a machine \
             from it with its params (hex); the last line prints the machine id.</p>\
             <pre>wasm=$(cargo carol build -p my-machine)\n\
             binary_id=$(cargo carol -q upload --carol-url {origin} --binary \"$wasm\")\n\
             cargo carol -q create --carol-url {origin} --binary-id \"$binary_id\" --params 68656c6c6f</pre>\
             <p>Or with curl: the upload answers <code>{{\"id\": binary id}}</code>, the \
             creation <code>{{\"id\": machine id, \"binary_id\": …}}</code> with the body as \
             params.</p>\
             <pre>curl --data-binary @\"$wasm\" {origin}/binaries\n\
             printf hello | curl --data-binary @- {origin}/binaries/$binary_id</pre>\
             <p>This page as JSON: <code>curl {origin}/</code></p><h2>Machines</h2>",
            Escaped(self.public_key),
            Escaped(self.version),
            self.binaries,
            self.machines,
            wit = crate::WIT_PACKAGE,
        )?;
        if self.machine_ids.is_empty() {
            out.push_str("<p class=\"muted\">None yet.</p>");
        } else {
            out.push_str("<ul id=\"machines\">");
            for id in self.machine_ids {
                let id = Escaped(id);
                write!(
                    out,
                    "<li><a href=\"/machines/{id}\"><code>{id}</code></a></li>"
                )?;
            }
            out.push_str("</ul>");
            if self.machines > self.machine_ids.len() {
                write!(
                    out,
                    "<p class=\"muted\">and {} more.</p>",
                    self.machines - self.machine_ids.len()
                )?;
            }
        }
        tail(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(name: &str, ty: TypeDesc) -> Param {
        Param {
            name: name.into(),
            ty,
        }
    }

    fn activation(name: &str, params: Vec<Param>, docs: Option<&str>) -> Activation {
        Activation {
            name: name.into(),
            interface: None,
            function: name.into(),
            params,
            result: None,
            docs: docs.map(Into::into),
        }
    }

    fn page(activations: &[Activation], params: &[u8]) -> String {
        MachinePage {
            machine_id: "ab12",
            binary_id: "cd34",
            params,
            public_key: "ef56",
            machine_keys: &[],
            state: Some((0, 16)),
            activations,
        }
        .render()
    }

    #[test]
    fn machine_page_shows_the_machines_keys_and_state() {
        let page = MachinePage {
            machine_id: "ab12",
            binary_id: "cd34",
            params: b"",
            public_key: "ef56",
            machine_keys: &[("bls", "a1b2".to_owned())],
            state: Some((104, 10_000)),
            activations: &[],
        }
        .render();
        assert!(
            page.contains("<code id=\"machine-key-bls\">a1b2</code>"),
            "{page}"
        );
        assert!(!page.contains("machine-key-secp256k1"), "{page}");
        assert!(page.contains("104 of 10000 bytes"), "{page}");
    }

    /// The text of the page's JSON data block, and the data it holds.
    fn data_block(page: &str) -> (&str, Value) {
        let open = "<script type=\"application/json\" id=\"carol-activations\">";
        let start = page.find(open).expect("a data block") + open.len();
        let text = &page[start..start + page[start..].find("</script>").unwrap()];
        (
            text,
            serde_json::from_str(text).expect("the data block is JSON"),
        )
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
    fn escaping_covers_text_and_attributes() {
        assert_eq!(
            Escaped(r#"<a href="x" title='y'>&</a>"#).to_string(),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(Escaped("plain ü").to_string(), "plain ü");
        assert_eq!(
            script_json(&json!({"a": "</script><!--&"})),
            r#"{"a":"\u003c/script\u003e\u003c!--\u0026"}"#
        );
    }

    #[test]
    fn a_hostile_component_injects_nothing() {
        let script = "<script>alert(1)</script>";
        let hostile = activation(
            &format!("x{script}\"'"),
            vec![
                param(
                    &format!("p\"><img src=x onerror=alert(1)>{script}"),
                    TypeDesc::String,
                ),
                param(
                    "e",
                    TypeDesc::Enum {
                        name: Some(format!("n{script}")),
                        cases: vec!["</script><script>alert(2)</script>".into()],
                    },
                ),
                param(
                    "f",
                    TypeDesc::Flags {
                        name: None,
                        flags: vec![format!("f\"{script}")],
                    },
                ),
                param(
                    "r",
                    TypeDesc::Record {
                        name: None,
                        fields: vec![(format!("</textarea>{script}"), TypeDesc::String)],
                    },
                ),
            ],
            Some(&format!("{script} and </script> and <!-- and ]]>")),
        );
        let html = page(std::slice::from_ref(&hostile), script.as_bytes());
        assert!(!html.contains("alert(1)</script>"), "{html}");
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("</textarea><script"), "{html}");
        assert!(!html.contains("<!--"), "{html}");
        // Exactly the page's own two script elements, each closed once.
        assert_eq!(html.matches("<script").count(), 2, "{html}");
        assert_eq!(html.matches("</script>").count(), 2, "{html}");
        assert!(html.contains(&format!("<script>{SCRIPT}</script>")));
        // The escaped text still reads as the component wrote it.
        assert!(html.contains(
            "<div class=\"docs\">&lt;script&gt;alert(1)&lt;/script&gt; and &lt;/script&gt; and \
             &lt;!-- and ]]&gt;</div>"
        ));
        let (text, data) = data_block(&html);
        assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'));
        assert_eq!(data["activations"][0]["name"], json!(hostile.name));
        assert_eq!(
            data["activations"][0]["params"][0]["name"],
            json!(hostile.params[0].name)
        );
    }

    #[test]
    fn each_type_gets_its_control() {
        let types = [
            ("b", TypeDesc::Bool),
            ("small", TypeDesc::S8),
            ("word", TypeDesc::U32),
            ("big", TypeDesc::U64),
            ("signed-big", TypeDesc::S64),
            ("x", TypeDesc::F64),
            ("c", TypeDesc::Char),
            ("s", TypeDesc::String),
            ("bytes", TypeDesc::List(Box::new(TypeDesc::U8))),
            (
                "color",
                TypeDesc::Enum {
                    name: None,
                    cases: vec!["red".into(), "light-blue".into()],
                },
            ),
            (
                "perms",
                TypeDesc::Flags {
                    name: None,
                    flags: vec!["read".into(), "write".into()],
                },
            ),
            ("maybe", TypeDesc::Option(Box::new(TypeDesc::U64))),
            (
                "point",
                TypeDesc::Record {
                    name: Some("point".into()),
                    fields: vec![
                        ("x".into(), TypeDesc::S32),
                        ("label".into(), TypeDesc::String),
                    ],
                },
            ),
            (
                "nested",
                TypeDesc::Option(Box::new(TypeDesc::Option(Box::new(TypeDesc::U8)))),
            ),
        ];
        let all = activation(
            "calc/all",
            types.iter().map(|(n, t)| param(n, t.clone())).collect(),
            Some("Line one.\n  Line two."),
        );
        let html = page(std::slice::from_ref(&all), b"");
        assert!(html.contains(
            "<section class=\"activation\" id=\"activation-calc/all\"><h3>calc/all</h3>"
        ));
        assert!(html.contains("<form class=\"activation-form\" data-activation=\"calc/all\""));
        assert!(html.contains("<div class=\"docs\">Line one.\n  Line two.</div>"));
        assert!(html.contains("<li><code>record point { x: s32, label: string }</code></li>"));
        assert!(tag_with(&html, "name=\"b\"").contains("type=\"checkbox\""));
        let small = tag_with(&html, "name=\"small\"");
        assert!(
            small.contains("type=\"number\"")
                && small.contains("min=\"-128\" max=\"127\" step=\"1\"")
        );
        assert!(tag_with(&html, "name=\"word\"").contains("max=\"4294967295\""));
        let big = tag_with(&html, "name=\"big\"");
        assert!(big.contains("type=\"text\"") && big.contains("pattern=\"[0-9]{1,20}\""));
        assert!(tag_with(&html, "name=\"signed-big\"").contains("pattern=\"-?[0-9]{1,19}\""));
        assert!(tag_with(&html, "name=\"x\"").contains("step=\"any\""));
        assert!(tag_with(&html, "name=\"c\"").contains("maxlength=\"2\""));
        assert!(tag_with(&html, "name=\"s\"").contains("type=\"text\""));
        assert!(tag_with(&html, "name=\"bytes\"").contains("pattern=\"[0-9a-fA-F\\s]*\""));
        assert!(tag_with(&html, "name=\"color\"").starts_with("<select"));
        assert!(html.contains("<option value=\"light-blue\">light-blue</option>"));
        assert!(tag_with(&html, "value=\"write\"").contains("name=\"perms\""));
        assert!(tag_with(&html, "name=\"maybe.set\"").contains("type=\"checkbox\""));
        let maybe = tag_with(&html, "name=\"maybe\"");
        assert!(maybe.contains("type=\"text\"") && maybe.contains(" disabled"));
        let point = tag_with(&html, "name=\"point\"");
        assert!(point.starts_with("<textarea"));
        assert!(
            html.contains(
                ">{\n  &quot;x&quot;: 0,\n  &quot;label&quot;: &quot;&quot;\n}</textarea>"
            )
        );
        // option<option<T>> is edited as JSON, without a toggle.
        assert!(tag_with(&html, "name=\"nested\"").starts_with("<textarea"));
        assert!(!html.contains("name=\"nested.set\""));
        let (_, data) = data_block(&html);
        let kinds: Vec<(&str, &str, bool)> = data["activations"][0]["params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap(),
                    p["kind"].as_str().unwrap(),
                    p["optional"].as_bool().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("b", "bool", false),
                ("small", "int", false),
                ("word", "int", false),
                ("big", "int64", false),
                ("signed-big", "int64", false),
                ("x", "float", false),
                ("c", "char", false),
                ("s", "string", false),
                ("bytes", "hex", false),
                ("color", "enum", false),
                ("perms", "flags", false),
                ("maybe", "int64", true),
                ("point", "json", false),
                ("nested", "json", false),
            ]
        );
    }

    #[test]
    fn examples_have_the_shape_of_their_type() {
        let shape = TypeDesc::Variant {
            name: None,
            cases: vec![
                ("circle".into(), Some(TypeDesc::F64)),
                ("empty".into(), None),
            ],
        };
        assert_eq!(example(&shape), json!({"circle": 0.0}));
        let list = TypeDesc::List(Box::new(TypeDesc::Tuple(vec![
            TypeDesc::U32,
            TypeDesc::Char,
        ])));
        assert_eq!(example(&list), json!([[0, "a"]]));
        let result = TypeDesc::Result {
            ok: None,
            err: Some(Box::new(TypeDesc::String)),
        };
        assert_eq!(example(&result), json!({"ok": null}));
    }

    #[test]
    fn params_show_as_text_when_printable() {
        let html = page(&[], b"p1");
        assert!(html.contains("<code id=\"params-hex\">7031</code>"));
        assert!(html.contains("<code id=\"params-text\">p1</code>"));
        assert!(!page(&[], b"\x00\xff").contains("params-text"));
        assert!(page(&[], b"").contains("(empty)"));
    }

    #[test]
    fn browsers_get_html_and_api_clients_json() {
        let accept = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT, value.parse().unwrap());
            prefers_html(&headers)
        };
        assert!(!prefers_html(&HeaderMap::new()));
        assert!(accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
        ));
        assert!(accept("text/html"));
        assert!(!accept("*/*"));
        assert!(!accept("application/json"));
        assert!(!accept("application/json, text/html"));
        assert!(!accept("text/html;q=0.5, application/json"));
        assert!(accept("application/json;Q=0.4, text/html"));
        assert!(!accept("text/html;q=0"));
    }

    #[test]
    fn the_policy_allows_exactly_the_pages_own_style_and_script() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        let policy = content_security_policy();
        assert!(policy.starts_with("default-src 'none';"));
        assert!(policy.contains(&format!("script-src '{}'", sha256_source(SCRIPT))));
        assert!(policy.contains(&format!("style-src '{}'", sha256_source(STYLE))));
        assert!(policy.contains("connect-src 'self'"));
        let node = NodePage {
            public_key: "ef56",
            version: "1.0",
            origin: "http://h\"<x>",
            binaries: 1,
            machines: 101,
            machine_ids: &["ab12".into()],
        }
        .render();
        assert!(node.contains(&format!("<style>{STYLE}</style>")));
        assert!(node.contains(&format!("<script>{SCRIPT}</script>")));
        assert!(node.contains("<code id=\"public-key\">ef56</code>"));
        assert!(node.contains("<a href=\"/machines/ab12\">"));
        assert!(node.contains("and 100 more"));
        assert!(node.contains("<span class=\"origin\">http://h&quot;&lt;x&gt;</span>/binaries"));
    }
}
