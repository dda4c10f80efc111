//! `cargo carol build`.

use crate::outln;
use crate::project;

/// Arguments of `cargo carol build`.
#[derive(clap::Args)]
pub struct Args {
    /// The machine to build: a project directory, a package of the workspace, or a Python or
    /// JavaScript project beside its machine crates (default: the project of the current
    /// directory).
    #[arg(short, long, value_name = "PROJECT")]
    package: Option<String>,
}

/// Builds the machine and prints the component's path.
pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let path = project::build(args.package.as_deref(), quiet)?;
    outln!("{}", path.display());
    Ok(())
}
