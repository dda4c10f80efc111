//! The pages' shell: the document around the content, the one style and script with the
//! Content-Security-Policy that allows exactly them, and escaping.

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt::{self, Write};
use std::sync::LazyLock;

/// The pages' one stylesheet, inlined.
pub(super) const STYLE: &str = include_str!("page.css");
/// The pages' one script, inlined: fills in the origin and runs the activation forms.
pub(super) const SCRIPT: &str = include_str!("page.js");

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
pub(super) fn sha256_source(text: &str) -> String {
    format!("sha256-{}", base64(&Sha256::digest(text.as_bytes())))
}

/// Standard base64 with padding, which CSP hashes are written in.
pub(super) fn base64(bytes: &[u8]) -> String {
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

/// Text made safe for HTML text content and quoted attribute values.
pub(super) struct Escaped<'a>(pub(super) &'a str);

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
pub(super) fn script_json(value: &Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The document up to the start of the body's content.
pub(super) fn head(out: &mut String, title: &str) -> fmt::Result {
    write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"icon\" href=\"data:,\"><title>{}</title><style>{STYLE}</style></head><body>",
        Escaped(title)
    )
}

/// The script and the end of the document.
pub(super) fn tail(out: &mut String) -> fmt::Result {
    writeln!(out, "<script>{SCRIPT}</script></body></html>")
}

/// Renders with a writer that cannot fail: `fmt::Write` for `String` never errors.
pub(super) fn render(write: impl FnOnce(&mut String) -> fmt::Result) -> String {
    let mut out = String::new();
    write(&mut out).expect("writing to a String does not fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    }
}
