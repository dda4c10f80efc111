//! The node's page: its key, what it holds, and how to upload a machine.

use super::html::{Escaped, head, render, tail};
use std::fmt::{self, Write};

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
             <pre>curl -H 'content-type: application/wasm' --data-binary @\"$wasm\" {origin}/binaries\n\
             printf hello | curl -H 'content-type: application/octet-stream' --data-binary @- {origin}/binaries/$binary_id</pre>\
             <p>This page as JSON: <code>curl {origin}/</code></p><h2>Machines</h2>",
            Escaped(self.public_key),
            Escaped(self.version),
            self.binaries,
            self.machines,
            wit = carol_core::wit::PACKAGE,
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
    use crate::page::html::{SCRIPT, STYLE};

    #[test]
    fn the_node_page_shows_the_key_and_the_machines() {
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
