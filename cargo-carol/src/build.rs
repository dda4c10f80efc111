//! `cargo carol build`.

use crate::outln;
use crate::project;

/// Arguments of `cargo carol build`.
#[derive(clap::Args)]
pub struct Args {
    /// The machine crate to build (default: the one in the current directory).
    #[arg(short, long, value_name = "PACKAGE")]
    package: Option<String>,
}

/// Builds the machine and prints the component's path.
pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let path = project::build(args.package.as_deref(), quiet)?;
    outln!("{}", path.display());
    Ok(())
}
