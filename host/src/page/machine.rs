//! A machine's page: what the machine is, a form per activation, and its named types.

use super::forms::{script_spec, write_param};
use super::html::{Escaped, head, render, script_json, tail};
use super::markdown;
use super::wit::{linked, type_anchor, write_types};
use crate::values::{Activation, NamedType};
use carol_core::api::{MachineDescription, StateUsage};
use serde_json::json;
use std::fmt::{self, Write};

/// What a machine's page shows.
pub struct MachinePage<'a> {
    /// The machine, as the node describes it: ids, params, the keys it used, its state.
    pub machine: &'a MachineDescription,
    /// The node's public key, hex.
    pub public_key: &'a str,
    /// Its activations, in export order, with their types for the forms.
    pub activations: &'a [Activation],
    /// The named types they use.
    pub types: &'a [NamedType],
}

impl MachinePage<'_> {
    /// The page's HTML.
    pub fn render(&self) -> String {
        render(|out| self.write(out))
    }

    fn write(&self, out: &mut String) -> fmt::Result {
        let (id, binary) = (self.machine.id, self.machine.binary_id);
        let params = &self.machine.params;
        head(out, &format!("Carol machine {id}"))?;
        write!(
            out,
            "<nav><a href=\"/\">node</a> · <a href=\"/machines/{id}/openapi.json\">OpenAPI</a> · \
             <a href=\"/binaries/{binary}\">activations as JSON</a></nav>\
             <h1>Machine <code id=\"machine-id\">{id}</code></h1><dl class=\"facts\">\
             <dt>binary</dt><dd><code id=\"binary-id\">{binary}</code></dd><dt>params</dt><dd>"
        )?;
        if params.is_empty() {
            out.push_str("<code id=\"params-hex\"></code><span class=\"muted\">(empty)</span>");
        } else {
            write!(
                out,
                "<code id=\"params-hex\">{}</code>",
                hex::encode(params)
            )?;
        }
        if let Some(text) = printable(params) {
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
        let keys = [
            ("secp256k1", self.machine.keys.secp256k1.map(hex::encode)),
            ("bls", self.machine.keys.bls.map(|key| key.to_string())),
        ];
        for (name, key) in keys {
            if let Some(key) = key {
                write!(
                    out,
                    "<dt>machine's {name} key</dt><dd><code id=\"machine-key-{name}\">{key}</code></dd>"
                )?;
            }
        }
        let StateUsage { bytes, quota } = self.machine.state;
        write!(
            out,
            "<dt>state</dt><dd id=\"state\">{bytes} of {quota} bytes</dd>"
        )?;
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
        if !self.types.is_empty() {
            out.push_str("<p class=\"muted\">Types: ");
            for (i, named) in self.types.iter().enumerate() {
                let name = Escaped(named.name());
                let separator = if i == 0 { "" } else { ", " };
                write!(
                    out,
                    "{separator}<a href=\"#{}\"><code>{name}</code></a>",
                    Escaped(&type_anchor(named.name()))
                )?;
            }
            out.push_str("</p>");
        }
        for (index, activation) in self.activations.iter().enumerate() {
            write_activation(out, index, activation)?;
        }
        write_types(out, self.types)?;
        let data = json!({
            "machine": id,
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

fn write_activation(out: &mut String, index: usize, activation: &Activation) -> fmt::Result {
    let name = Escaped(&activation.name);
    write!(
        out,
        "<section class=\"activation\" id=\"activation-{name}\"><h3>{name}</h3>\
         <code class=\"signature\">{}</code>",
        linked(|out| activation.spell_signature(out))
    )?;
    write!(
        out,
        "<div class=\"docs\">{}</div>\
         <form class=\"activation-form\" data-activation=\"{name}\" novalidate>",
        activation
            .docs
            .as_deref()
            .map(markdown::render)
            .unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::html::SCRIPT;
    use crate::values::{Param, TypeDesc};
    use carol_core::api::PublicKeys;
    use carol_core::bls::SecretKey;
    use carol_core::ids::{BinaryId, MachineId};
    use serde_json::Value;

    /// A machine with `params`, `keys` used and `bytes` of state out of 10,000.
    fn description(params: &[u8], keys: PublicKeys, bytes: u64) -> MachineDescription {
        let binary = BinaryId::of(b"component");
        MachineDescription {
            id: MachineId::of(&binary, params),
            binary_id: binary,
            params: params.to_vec(),
            activations: Vec::new(),
            types: Vec::new(),
            keys,
            state: StateUsage {
                bytes,
                quota: 10_000,
            },
        }
    }

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
        let types: Vec<NamedType> = activations
            .iter()
            .flat_map(Activation::named_types)
            .map(|ty| NamedType {
                ty: ty.clone(),
                docs: Some(format!("The type `{}`.", ty.name().unwrap())),
                member_docs: Default::default(),
            })
            .collect();
        MachinePage {
            machine: &description(params, PublicKeys::default(), 0),
            public_key: "ef56",
            activations,
            types: &types,
        }
        .render()
    }

    #[test]
    fn machine_page_shows_the_machines_keys_and_state() {
        let bls = SecretKey::key_gen(&[1; 32]).public_key();
        let keys = PublicKeys {
            secp256k1: None,
            bls: Some(bls),
        };
        let page = MachinePage {
            machine: &description(b"", keys, 104),
            public_key: "ef56",
            activations: &[],
            types: &[],
        }
        .render();
        assert!(
            page.contains(&format!("<code id=\"machine-key-bls\">{bls}</code>")),
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
        assert!(html.contains("<div class=\"docs\"><p>Line one.\nLine two.</p>\n</div>"));
        // Each named type is shown once, linked from where it is used.
        assert!(html.contains(
            "<section class=\"named-type\" id=\"type-point\"><h3>point</h3><code class=\"definition\">\
             record <a href=\"#type-point\">point</a> { x: s32, label: string }</code>\
             <div class=\"docs\"><p>The type <code>point</code>.</p>\n</div>"
        ));
        assert_eq!(html.matches("id=\"type-point\"").count(), 1);
        assert!(
            html.contains("point <code class=\"type\"><a href=\"#type-point\">point</a></code>")
        );
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
    fn params_show_as_text_when_printable() {
        let html = page(&[], b"p1");
        assert!(html.contains("<code id=\"params-hex\">7031</code>"));
        assert!(html.contains("<code id=\"params-text\">p1</code>"));
        assert!(!page(&[], b"\x00\xff").contains("params-text"));
        assert!(page(&[], b"").contains("(empty)"));
    }
}
