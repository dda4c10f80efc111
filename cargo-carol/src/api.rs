//! `cargo carol api`.

use crate::outln;
use crate::source::Source;
use anyhow::Context;
use carol_core::api::{BinaryDescription, TypeDescription, TypeKind};
use carol_host::runtime::{Loader, Machine};
use std::sync::Arc;

/// Arguments of `cargo carol api`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    source: Source,
    /// Print the JSON description the node serves at `GET /binaries/{id}`.
    #[arg(long, conflicts_with = "openapi")]
    json: bool,
    /// Print the OpenAPI 3.1 document a node serves at `GET /machines/{id}/openapi.json`
    /// for the machine of this binary and `--params`.
    #[arg(long)]
    openapi: bool,
    /// The machine's params, as hex, for `--openapi` (default: empty).
    #[arg(long, value_name = "HEX", default_value = "", requires = "openapi")]
    params: String,
}

/// Lists the activations of a machine, then the definitions of its named types.
pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let (path, bytes) = args.source.load(quiet)?;
    let binary = Loader::checking()?
        .load(&bytes)
        .with_context(|| format!("{} cannot run on a Carol node", path.display()))?;
    if args.openapi {
        let params = hex::decode(args.params.trim())
            .context("--params must be hex, e.g. --params 7b7d for `{}`")?;
        let machine = Machine::new(Arc::new(binary), params);
        outln!(
            "{}",
            serde_json::to_string_pretty(&carol_host::openapi::document(&machine))?
        );
        return Ok(());
    }
    let description = binary.description();
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&description)?);
        return Ok(());
    }
    print_listing(&description);
    Ok(())
}

/// Each activation's signature with its docs indented below it; then, after a blank line,
/// each named type as WIT defines it, docs as `///` comments.
fn print_listing(description: &BinaryDescription) {
    for activation in &description.activations {
        outln!("{}", activation.signature);
        for line in activation.docs.iter().flat_map(|docs| docs.lines()) {
            outln!("    {line}");
        }
    }
    for ty in &description.types {
        outln!();
        print_type(ty);
    }
}

fn print_type(ty: &TypeDescription) {
    let doc_lines = |indent: &str, docs: &Option<String>| {
        for line in docs.iter().flat_map(|docs| docs.lines()) {
            outln!("{indent}/// {line}");
        }
    };
    doc_lines("", &ty.docs);
    let keyword = match ty.kind {
        TypeKind::Record => "record",
        TypeKind::Variant => "variant",
        TypeKind::Enum => "enum",
        TypeKind::Flags => "flags",
    };
    outln!("{keyword} {} {{", ty.name);
    for member in &ty.members {
        doc_lines("  ", &member.docs);
        match (&member.ty, ty.kind) {
            (Some(field), TypeKind::Record) => outln!("  {}: {field},", member.name),
            (Some(payload), _) => outln!("  {}({payload}),", member.name),
            (None, _) => outln!("  {},", member.name),
        }
    }
    outln!("}}");
}
