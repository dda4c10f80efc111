//! Where a command's component comes from: a file, or a package built on the spot.

use crate::project;
use anyhow::Context;
use std::path::PathBuf;

/// `-p PACKAGE` or `--binary FILE`; neither means the package in the current directory.
#[derive(clap::Args, Debug)]
pub struct Source {
    /// The machine to build: a project directory, a package of the workspace, or a Python or
    /// JavaScript project beside its machine crates (default: the project of the current
    /// directory).
    #[arg(short, long, value_name = "PROJECT", conflicts_with = "binary")]
    package: Option<String>,
    /// An already built component.
    #[arg(long, value_name = "FILE")]
    binary: Option<PathBuf>,
}

impl Source {
    /// The component's path and bytes, building the package first where needed.
    pub fn load(&self, quiet: bool) -> anyhow::Result<(PathBuf, Vec<u8>)> {
        let path = match &self.binary {
            Some(path) => path.clone(),
            None => project::build(self.package.as_deref(), quiet)?,
        };
        let bytes = std::fs::read(&path)
            .with_context(|| format!("cannot read the component {}", path.display()))?;
        Ok((path, bytes))
    }
}
