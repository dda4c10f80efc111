//! WIT on the pages: signatures and types spelled as WIT does, each named type linked to its
//! definition, and the definitions, each shown once with its docs.

use super::html::Escaped;
use super::markdown;
use crate::values::{NamedType, Piece};
use std::fmt::{self, Write};

/// The id of a named type's definition on a machine's page.
pub(super) fn type_anchor(name: &str) -> String {
    format!("type-{name}")
}

/// The HTML of a WIT spelling: text escaped, each named type a link to its definition.
pub(super) fn linked(spell: impl FnOnce(&mut dyn FnMut(Piece<'_>))) -> String {
    let mut out = String::new();
    spell(&mut |piece| {
        // Writing to a String cannot fail.
        let _ = match piece {
            Piece::Text(text) => write!(out, "{}", Escaped(text)),
            Piece::Name(name) => write!(
                out,
                "<a href=\"#{}\">{}</a>",
                Escaped(&type_anchor(name)),
                Escaped(name)
            ),
        };
    });
    out
}

/// Each named type: its definition, its doc comment, and each member with its own.
pub(super) fn write_types(out: &mut String, types: &[NamedType]) -> fmt::Result {
    if types.is_empty() {
        return Ok(());
    }
    out.push_str("<h2>Types</h2>");
    for named in types {
        let name = named.name();
        write!(
            out,
            "<section class=\"named-type\" id=\"{}\"><h3>{}</h3><code class=\"definition\">{}</code>",
            Escaped(&type_anchor(name)),
            Escaped(name),
            linked(|out| named.ty.spell_definition(out)),
        )?;
        if let Some(docs) = &named.docs {
            write!(out, "<div class=\"docs\">{}</div>", markdown::render(docs))?;
        }
        out.push_str("<dl class=\"members\">");
        for (member, ty) in named.ty.members() {
            write!(out, "<dt><code>{}</code>", Escaped(member))?;
            if let Some(ty) = ty {
                write!(
                    out,
                    " <code class=\"type\">{}</code>",
                    linked(|out| ty.spell(out))
                )?;
            }
            out.push_str("</dt><dd>");
            if let Some(docs) = named.member_docs.get(member) {
                out.push_str(&markdown::render(docs));
            }
            out.push_str("</dd>");
        }
        out.push_str("</dl></section>");
    }
    Ok(())
}
