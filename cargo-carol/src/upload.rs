//! `cargo carol upload`.

use crate::client::{Client, NodeUrl};
use crate::outln;
use crate::source::Source;

/// Arguments of `cargo carol upload`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    node: NodeUrl,
    #[command(flatten)]
    source: Source,
}

/// Uploads the component and prints its binary id, checked against its SHA-256.
pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let client = Client::new(&args.node)?;
    let (path, bytes) = args.source.load(quiet)?;
    if !quiet {
        eprintln!(
            "   Uploading {} ({} bytes) to {}",
            path.display(),
            bytes.len(),
            client.base()
        );
    }
    let id = client.upload(&bytes)?;
    if quiet {
        outln!("{id}");
    } else {
        outln!("binary id   {id}");
        outln!("binary      {}/binaries/{id}", client.base());
    }
    Ok(())
}
