//! A build's own directory, and the copy of a project's sources the tools build from.
//!
//! componentize-py walks every directory on its Python path, and componentize-js reads the
//! entry's directory; building from a copy keeps both out of the project's `target/`, installed
//! packages and version control, and keeps what they write (`__pycache__`) out of the project.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// What of a project's top directory is not copied: build output, installed packages, the WIT
/// (the tools read it where it is), version control, and Python's caches.
const NOT_COPIED: [&str; 6] = [
    "target",
    "node_modules",
    "wit",
    ".git",
    ".venv",
    "__pycache__",
];

/// How deep the copy goes: deeper is taken for a loop of symbolic links.
const MAX_DEPTH: usize = 32;

/// A directory of one build's own, in `out_dir`, removed when dropped.
pub(super) struct Scratch(PathBuf);

impl Scratch {
    /// A fresh directory in `out_dir`, named so that builds at once, in this process or in
    /// others (of other containers too), never share one.
    pub(super) fn new(out_dir: &Path) -> anyhow::Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |t| t.subsec_nanos());
        let dir = out_dir.join(format!(".build-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Self(dir))
    }

    pub(super) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies the project in `from` into `to` (following symbolic links), but what [`NOT_COPIED`]
/// names at its top, and refuses a project that has a file called `reserved` there: the build
/// puts Carol's helpers under that name.
pub(super) fn copy_project(from: &Path, to: &Path, reserved: &str) -> anyhow::Result<()> {
    if from.join(reserved).exists() {
        bail!(
            "{} has a file named {reserved}, the name of Carol's helpers, which the build puts \
             there: rename it",
            from.display()
        );
    }
    copy(from, to, &NOT_COPIED, 0)
}

fn copy(from: &Path, to: &Path, skip: &[&str], depth: usize) -> anyhow::Result<()> {
    if depth > MAX_DEPTH {
        bail!(
            "{} is more than {MAX_DEPTH} directories deep: is there a loop of symbolic links?",
            from.display()
        );
    }
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry?;
        let name = entry.file_name();
        if skip.iter().any(|n| name == *n) {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy(&path, &to.join(&name), &[], depth + 1)?;
        } else {
            std::fs::copy(&path, to.join(&name))
                .with_context(|| format!("cannot copy {}", path.display()))?;
        }
    }
    Ok(())
}
