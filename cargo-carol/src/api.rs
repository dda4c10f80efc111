//! `cargo carol api`.

use crate::outln;
use crate::source::Source;
use anyhow::Context;
use carol_host::runtime::Machine;
use carol_host::{Node, NodeConfig};

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

/// Lists the activations of a machine.
pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let (path, bytes) = args.source.load(quiet)?;
    let node = Node::new(NodeConfig::development())?;
    let (binary, _) = node
        .add_binary(&bytes)
        .with_context(|| format!("{} cannot run on a Carol node", path.display()))?;
    if args.openapi {
        let params = hex::decode(args.params.trim())
            .context("--params must be hex, e.g. --params 7b7d for `{}`")?;
        let machine = Machine::new(binary, params);
        outln!(
            "{}",
            serde_json::to_string_pretty(&carol_host::openapi::document(&machine))?
        );
        return Ok(());
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&*binary)?);
        return Ok(());
    }
    for activation in binary.activations() {
        println!("{}", activation.signature());
        for line in activation.docs.iter().flat_map(|docs| docs.lines()) {
            println!("    {line}");
        }
    }
    Ok(())
}
