//! JavaScript machines: `app.js` built with componentize-js, the `carol-guest.js` helpers
//! beside it.
//!
//! componentize-js loads the module, and the modules it imports by relative path, from the
//! module's directory while it builds; so the project is copied into the build's own directory
//! with the helpers added, and built from there.

use super::stage::copy_project;
use super::tools::Tool;
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The helpers JavaScript machines import from `./carol-guest.js` (guest-bindings/javascript).
const HELPERS: &str = include_str!("../../../guest-bindings/javascript/carol-guest.js");
/// Their name beside the app.
const HELPERS_FILE: &str = "carol-guest.js";

/// Builds the component of the JavaScript project in `dir`, world `world`, in the directory
/// `scratch`, and returns its path.
pub(super) fn compile(
    dir: &Path,
    world: &str,
    scratch: &Path,
    quiet: bool,
) -> anyhow::Result<PathBuf> {
    let componentize_js = Tool::ComponentizeJs.ensure(quiet)?;
    let out = scratch.join("component.wasm");
    let staged = scratch.join("src");
    copy_project(dir, &staged, HELPERS_FILE)?;
    std::fs::write(staged.join(HELPERS_FILE), HELPERS)
        .with_context(|| format!("cannot write {}", staged.display()))?;
    check_syntax(dir, &staged)?;
    if !quiet {
        eprintln!("   Compiling {} with componentize-js", dir.display());
    }
    let output = Command::new(&componentize_js)
        .arg(staged.join("app.js"))
        .arg("--wit")
        .arg(dir.join("wit"))
        .args(["--world-name", world, "--out"])
        .arg(&out)
        // wasi:http is not a node's: machines fetch through carol:machine/http-fetch.
        .args(["--disable", "http", "fetch-event"])
        .current_dir(scratch)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {}", componentize_js.display()))?;
    if !output.status.success() {
        let told = [&output.stdout, &output.stderr]
            .map(|text| String::from_utf8_lossy(text).trim().to_owned())
            .into_iter()
            .filter(|text| !text.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        bail!("componentize-js could not build {}:\n{told}", dir.display());
    }
    Ok(out)
}

/// Checks the syntax of `app.js` with Node.js, whose errors show the line and what is wrong
/// there, where componentize-js says only that parsing failed. Node.js reads `.mjs` files as
/// ES modules, so it checks a copy named so.
fn check_syntax(dir: &Path, staged: &Path) -> anyhow::Result<()> {
    let copy = staged.join("app.syntax-check.mjs");
    std::fs::copy(staged.join("app.js"), &copy)
        .with_context(|| format!("cannot write {}", copy.display()))?;
    let output = Command::new("node")
        .arg("--check")
        .arg(&copy)
        .stdin(Stdio::null())
        .output();
    std::fs::remove_file(&copy).ok();
    match output {
        Ok(output) if !output.status.success() => {
            let app = dir.join("app.js");
            let stderr = String::from_utf8_lossy(&output.stderr)
                .replace(&copy.display().to_string(), &app.display().to_string());
            // Node.js's own frames and version say nothing about the machine's code.
            let told: Vec<&str> = stderr
                .lines()
                .filter(|line| !line.trim().is_empty())
                .filter(|line| !line.starts_with("    at ") && !line.starts_with("Node.js v"))
                .collect();
            bail!(
                "componentize-js could not build {}: {} is not valid JavaScript:\n{}",
                dir.display(),
                app.display(),
                told.join("\n")
            )
        }
        // Without Node.js componentize-js cannot run either, and says so.
        _ => Ok(()),
    }
}
