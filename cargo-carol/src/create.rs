//! `cargo carol create`.

use crate::activations;
use crate::client::{Client, NodeUrl};
use crate::outln;
use crate::source::Source;
use crate::upload;
use anyhow::{Context, bail};
use carol_core::api::MachineDescription;
use carol_core::ids::BinaryId;
use std::path::PathBuf;

/// Arguments of `cargo carol create`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    node: NodeUrl,
    /// A binary already on the node (otherwise the component is uploaded first).
    #[arg(long, value_name = "ID", conflicts_with_all = ["package", "binary"])]
    binary_id: Option<BinaryId>,
    #[command(flatten)]
    source: Source,
    /// The machine's params, as hex (default: empty).
    #[arg(long, value_name = "HEX", conflicts_with = "params_file")]
    params: Option<String>,
    /// A file whose bytes are the machine's params.
    #[arg(long, value_name = "FILE")]
    params_file: Option<PathBuf>,
}

/// Creates the machine, uploading its binary first where needed, and prints its id (checked
/// against the one computed here) and URLs.
pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let client = Client::new(&args.node)?;
    let params = match (&args.params, &args.params_file) {
        (Some(hex), _) => hex::decode(hex.trim())
            .context("--params must be hex, e.g. --params 7b7d for `{}`; or pass --params-file")?,
        (None, Some(file)) => std::fs::read(file)
            .with_context(|| format!("cannot read the params file {}", file.display()))?,
        (None, None) => Vec::new(),
    };
    let binary = match args.binary_id {
        Some(id) => {
            let known = client.get(&format!("/binaries/{id}"))?;
            if known.status == 404 {
                bail!(
                    "the node has no binary {id} (404): upload it first with `cargo carol upload`, \
                     or pass --binary FILE or -p PACKAGE instead of --binary-id"
                );
            }
            id
        }
        None => upload::upload(&client, &args.source, quiet)?,
    };
    let machine = client.create(&binary, &params)?;
    if quiet {
        outln!("{machine}");
        return Ok(());
    }
    let machine_url = format!("{}/machines/{machine}", client.base());
    outln!("binary id   {binary}");
    outln!("machine id  {machine}");
    outln!("machine     {machine_url}");
    let description: MachineDescription = client
        .get(&format!("/machines/{machine}"))?
        .decode("describe the machine")?;
    activations::print_urls(&machine_url, &description.activations);
    Ok(())
}
