//! `cargo carol api`.

use crate::source::Source;
use anyhow::Context;
use carol_host::{Node, NodeConfig};

/// Arguments of `cargo carol api`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    source: Source,
    /// Print the JSON description the node serves at `GET /binaries/{id}`.
    #[arg(long)]
    json: bool,
}

/// Lists the activations of a machine.
pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let (path, bytes) = args.source.load(quiet)?;
    let node = Node::new(NodeConfig::development())?;
    let (binary, _) = node
        .add_binary(&bytes)
        .with_context(|| format!("{} cannot run on a Carol node", path.display()))?;
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
