//! `cargo carol tools`: the pinned toolchains of Python and JavaScript machines.

use crate::outln;
use crate::project::tools::{Tool, cache_dir};

/// Arguments of `cargo carol tools`.
#[derive(clap::Args)]
pub struct Args {
    /// Install the tools that are missing (builds install them on first use anyway).
    #[arg(long)]
    install: bool,
}

/// Lists each tool, its pinned version, where it is and whether it is installed.
pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    if !quiet {
        eprintln!(
            "Tool cache: {} (set CAROL_TOOLS_DIR to move it)",
            cache_dir()?.display()
        );
    }
    for tool in Tool::ALL {
        if args.install {
            tool.ensure(quiet)?;
        }
        let status = if tool.installed()? {
            "installed"
        } else {
            "missing"
        };
        outln!(
            "{} {} ({} machines): {} {}",
            tool.name(),
            tool.version(),
            tool.language(),
            status,
            tool.dir()?.display()
        );
    }
    Ok(())
}
