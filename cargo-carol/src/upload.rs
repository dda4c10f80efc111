//! `cargo carol upload`.

use crate::client::{Client, NodeUrl};
use crate::outln;
use crate::source::Source;
use carol_core::ids::BinaryId;

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
    let id = upload(&client, &args.source, quiet)?;
    if quiet {
        outln!("{id}");
    } else {
        outln!("binary id   {id}");
        outln!("binary      {}/binaries/{id}", client.base());
    }
    Ok(())
}

/// Builds or reads the component, uploads it with progress on stderr, and returns its id
/// (checked against its SHA-256).
pub fn upload(client: &Client, source: &Source, quiet: bool) -> anyhow::Result<BinaryId> {
    let (path, bytes) = source.load(quiet)?;
    if !quiet {
        eprintln!(
            "   Uploading {} ({} bytes) to {}",
            path.display(),
            bytes.len(),
            client.base()
        );
    }
    client.upload(&bytes)
}
