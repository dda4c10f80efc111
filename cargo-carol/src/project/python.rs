//! Python machines: `app.py` built with componentize-py from a copy of the project, the
//! `carol_guest` helpers on its Python path.

use super::stage::copy_project;
use super::tools::Tool;
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The helpers Python machines import as `carol_guest` (guest-bindings/python).
const HELPERS: &str = include_str!("../../../guest-bindings/python/carol_guest.py");
/// Their module's file name, on the Python path.
const HELPERS_FILE: &str = "carol_guest.py";

/// Builds the component of the Python project in `dir`, world `world`, in the directory
/// `scratch`, and returns its path.
pub(super) fn compile(
    dir: &Path,
    world: &str,
    scratch: &Path,
    quiet: bool,
) -> anyhow::Result<PathBuf> {
    let componentize_py = Tool::ComponentizePy.ensure(quiet)?;
    let out = scratch.join("component.wasm");
    let sources = scratch.join("src");
    copy_project(dir, &sources, HELPERS_FILE)?;
    let helpers = scratch.join("python-helpers");
    std::fs::create_dir_all(&helpers)
        .with_context(|| format!("cannot create {}", helpers.display()))?;
    std::fs::write(helpers.join(HELPERS_FILE), HELPERS)
        .with_context(|| format!("cannot write {}", helpers.display()))?;
    if !quiet {
        eprintln!("   Compiling {} with componentize-py", dir.display());
    }
    let output = Command::new(&componentize_py)
        .arg("--wit-path")
        .arg(dir.join("wit"))
        .args(["--world", world, "componentize", "app", "--python-path"])
        .arg(&sources)
        .arg("--python-path")
        .arg(&helpers)
        .arg("--output")
        .arg(&out)
        .current_dir(scratch)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {}", componentize_py.display()))?;
    if !output.status.success() {
        bail!(
            "componentize-py could not build {}:\n{}",
            dir.display(),
            error_text(&output.stderr)
        );
    }
    Ok(out)
}

/// What componentize-py said about a failed build: the app's error, without the traceback of
/// componentize-py itself before it, nor the causes and Rust backtrace it appends.
fn error_text(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let start = text
        .find("AssertionError: ")
        .map_or(0, |i| i + "AssertionError: ".len());
    let text = &text[start..];
    let end = ["\n\nCaused by:", "\nStack backtrace:"]
        .iter()
        .filter_map(|marker| text.find(marker))
        .min()
        .unwrap_or(text.len());
    text[..end].trim_end().to_owned()
}
