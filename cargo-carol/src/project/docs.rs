//! What a project's WIT says that the component does not: the doc comments of its exports and
//! types, and which world it builds.

use anyhow::{Context, bail};
use carol_core::doc_section::{Docs, TypeDocs};
use carol_core::names::activation_name;
use std::path::Path;

/// The world a Python or JavaScript project builds: the only world of the package in
/// `wit_dir`, or the one named like the project (`_` read as `-`, as WIT names have it) when
/// there are several.
pub(super) fn world_name(wit_dir: &Path, project: &str) -> anyhow::Result<String> {
    let project = project.replace('_', "-");
    let project = project.as_str();
    let mut resolve = wit_parser::Resolve::default();
    let (package, _) = resolve
        .push_path(wit_dir)
        .with_context(|| format!("cannot read the WIT in {}", wit_dir.display()))?;
    let worlds: Vec<&str> = resolve.packages[package]
        .worlds
        .keys()
        .map(String::as_str)
        .collect();
    match worlds[..] {
        [world] => Ok(world.to_owned()),
        _ if worlds.contains(&project) => Ok(project.to_owned()),
        [] => bail!(
            "the WIT in {} declares no world: declare the machine's world there",
            wit_dir.display()
        ),
        _ => bail!(
            "the WIT in {} declares several worlds ({}) and none is named `{project}`: keep one, \
             or name the machine's world after its directory",
            wit_dir.display(),
            worlds.join(", ")
        ),
    }
}

/// The doc comments of the exports of the worlds in `wit_dir`'s package, and of the named
/// types of the worlds and of their exported interfaces (`carol_core::doc_section`).
pub(super) fn wit_docs(wit_dir: &Path) -> anyhow::Result<Docs> {
    use wit_parser::{Resolve, WorldItem, WorldKey};
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_path(wit_dir)
        .with_context(|| format!("cannot read the WIT in {}", wit_dir.display()))?;
    let mut docs = Docs {
        version: 1,
        ..Docs::default()
    };
    for world in resolve.packages[package].worlds.values() {
        let world = &resolve.worlds[*world];
        docs.world = docs.world.or_else(|| world.docs.contents.clone());
        for item in world.imports.values() {
            if let WorldItem::Type { id, .. } = item {
                add_type_docs(&mut docs, &resolve, None, *id);
            }
        }
        for (key, item) in &world.exports {
            match item {
                WorldItem::Function(function) => {
                    if let Some(text) = &function.docs.contents {
                        docs.activations
                            .entry(function.name.clone())
                            .or_insert_with(|| text.trim().to_owned());
                    }
                }
                WorldItem::Interface { id, .. } => {
                    let interface = &resolve.interfaces[*id];
                    let short = match key {
                        WorldKey::Name(name) => name.clone(),
                        WorldKey::Interface(_) => interface.name.clone().unwrap_or_default(),
                    };
                    for (name, function) in &interface.functions {
                        if let Some(text) = &function.docs.contents {
                            docs.activations
                                .entry(activation_name(Some(&short), name))
                                .or_insert_with(|| text.trim().to_owned());
                        }
                    }
                    for id in interface.types.values() {
                        add_type_docs(&mut docs, &resolve, Some(&short), *id);
                    }
                }
                WorldItem::Type { id, .. } => add_type_docs(&mut docs, &resolve, None, *id),
            }
        }
    }
    Ok(docs)
}

/// Adds the docs of the named type `id`, of the interface `short` or of the world, and of its
/// fields, cases or flags.
fn add_type_docs(
    docs: &mut Docs,
    resolve: &wit_parser::Resolve,
    short: Option<&str>,
    id: wit_parser::TypeId,
) {
    use wit_parser::TypeDefKind;
    let ty = &resolve.types[id];
    let Some(name) = &ty.name else {
        return;
    };
    let text = |docs: &wit_parser::Docs| docs.contents.as_deref().map(|t| t.trim().to_owned());
    let members: Vec<(&str, Option<String>)> = match &ty.kind {
        TypeDefKind::Record(record) => record
            .fields
            .iter()
            .map(|f| (f.name.as_str(), text(&f.docs)))
            .collect(),
        TypeDefKind::Variant(variant) => variant
            .cases
            .iter()
            .map(|c| (c.name.as_str(), text(&c.docs)))
            .collect(),
        TypeDefKind::Enum(cases) => cases
            .cases
            .iter()
            .map(|c| (c.name.as_str(), text(&c.docs)))
            .collect(),
        TypeDefKind::Flags(flags) => flags
            .flags
            .iter()
            .map(|f| (f.name.as_str(), text(&f.docs)))
            .collect(),
        _ => Vec::new(),
    };
    let type_docs = TypeDocs {
        docs: text(&ty.docs),
        members: members
            .into_iter()
            .filter_map(|(name, docs)| Some((name.to_owned(), docs?)))
            .collect(),
    };
    if type_docs == TypeDocs::default() {
        return;
    }
    // Types are named in the docs as activations are.
    docs.types
        .entry(activation_name(short, name))
        .or_insert(type_docs);
}
