//! The `carol:docs` custom section: WIT doc comments carried inside a component.
//!
//! Compiled components lose their WIT doc comments, so `cargo carol build` stores them in a
//! top-level custom section named `carol:docs` whose content is JSON:
//!
//! ```json
//! {
//!   "version": 1,
//!   "world": "docs of the world",
//!   "activations": { "say": "docs of say", "calc/mul": "docs of mul in interface calc" },
//!   "types": {
//!     "point": { "docs": "docs of the world's record point", "members": { "x": "docs of x" } },
//!     "calc/shape": { "docs": "docs of type shape of interface calc", "members": {} }
//!   }
//! }
//! ```
//!
//! Activation names are as the node serves them (`say`, `calc/mul`); a type is named like an
//! activation: its own name for a world's type, `interface/name` for an exported interface's.
//! `members` are a record's fields, a variant's or an enum's cases, a flags type's flags.
//! Everything but `version` may be left out; a component without the section works the same,
//! without docs. The docs are only text: the types themselves, and their names, are read from
//! the component.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The custom section's name.
pub const SECTION_NAME: &str = "carol:docs";

/// The doc comments of a machine's world and activations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Docs {
    /// The format's version; 1.
    pub version: u32,
    /// The world's doc comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub world: Option<String>,
    /// Doc comments by activation name.
    #[serde(default)]
    pub activations: BTreeMap<String, String>,
    /// Doc comments of named types, by type name (`point`, `calc/shape`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub types: BTreeMap<String, TypeDocs>,
}

/// The doc comments of one named type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeDocs {
    /// The type's own doc comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs: Option<String>,
    /// Doc comments of its fields, cases or flags, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub members: BTreeMap<String, String>,
}

const HEADER_LEN: usize = 8;

impl Docs {
    /// Reads the section from a component's top level, if it is there and well-formed.
    pub fn read(component: &[u8]) -> Option<Self> {
        custom_sections(component)
            .find(|(name, _)| *name == SECTION_NAME)
            .and_then(|(_, data)| serde_json::from_slice(data).ok())
    }

    /// Returns `component` with this section in place of any earlier one.
    pub fn embed(&self, component: &[u8]) -> Vec<u8> {
        let mut out = component[..HEADER_LEN.min(component.len())].to_vec();
        for (id, section) in sections(component) {
            let is_ours =
                id == 0 && custom_section(section).is_some_and(|(name, _)| name == SECTION_NAME);
            if !is_ours {
                out.push(id);
                write_leb(&mut out, section.len());
                out.extend_from_slice(section);
            }
        }
        let data = serde_json::to_vec(self).expect("docs serialize to JSON");
        let mut payload = Vec::new();
        write_leb(&mut payload, SECTION_NAME.len());
        payload.extend_from_slice(SECTION_NAME.as_bytes());
        payload.extend_from_slice(&data);
        out.push(0);
        write_leb(&mut out, payload.len());
        out.extend_from_slice(&payload);
        out
    }
}

fn write_leb(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn read_leb(bytes: &[u8], at: &mut usize) -> Option<usize> {
    let mut value = 0usize;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The top-level sections of a WebAssembly binary, as (id, payload); stops at the first malformed one.
fn sections(binary: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let mut at = HEADER_LEN;
    std::iter::from_fn(move || {
        let id = *binary.get(at)?;
        at += 1;
        let len = read_leb(binary, &mut at)?;
        let payload = binary.get(at..at.checked_add(len)?)?;
        at += len;
        Some((id, payload))
    })
}

fn custom_section(payload: &[u8]) -> Option<(&str, &[u8])> {
    let mut at = 0;
    let len = read_leb(payload, &mut at)?;
    let name = std::str::from_utf8(payload.get(at..at.checked_add(len)?)?).ok()?;
    Some((name, &payload[at + len..]))
}

fn custom_sections(binary: &[u8]) -> impl Iterator<Item = (&str, &[u8])> {
    sections(binary)
        .filter(|(id, _)| *id == 0)
        .filter_map(|(_, payload)| custom_section(payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An empty component: the magic number and the component-model version and layer.
    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";

    #[test]
    fn embeds_reads_and_replaces() {
        let docs = Docs {
            version: 1,
            world: Some("w".into()),
            activations: BTreeMap::from([("say".into(), "Says.".into())]),
            types: BTreeMap::from([(
                "point".into(),
                TypeDocs {
                    docs: Some("A point.".into()),
                    members: BTreeMap::from([("x".into(), "Across.".into())]),
                },
            )]),
        };
        let once = docs.embed(EMPTY_COMPONENT);
        assert_eq!(Docs::read(&once), Some(docs.clone()));
        let other = Docs {
            version: 1,
            ..Docs::default()
        };
        let twice = other.embed(&once);
        assert_eq!(Docs::read(&twice), Some(other));
        assert_eq!(custom_sections(&twice).count(), 1);
        assert_eq!(Docs::read(EMPTY_COMPONENT), None);
    }

    #[test]
    fn long_sections_use_multi_byte_lengths() {
        let docs = Docs {
            version: 1,
            world: Some("x".repeat(70_000)),
            ..Docs::default()
        };
        assert_eq!(Docs::read(&docs.embed(EMPTY_COMPONENT)), Some(docs));
    }

    #[test]
    fn sections_without_type_docs_still_read() {
        let written_before_type_docs = br#"{"version":1,"activations":{"say":"Says."}}"#;
        let docs: Docs = serde_json::from_slice(written_before_type_docs).unwrap();
        assert_eq!(docs.activations["say"], "Says.");
        assert!(docs.types.is_empty());
    }
}
