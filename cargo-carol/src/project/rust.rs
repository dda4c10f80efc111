//! Rust machine crates: finding them with `cargo metadata` and building them with `cargo build`.

use super::language::Language;
use anyhow::{Context, bail};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The compilation target of machines.
const TARGET: &str = "wasm32-wasip2";

/// A machine crate.
pub(super) struct Package {
    pub(super) name: String,
    manifest_path: PathBuf,
    pub(super) target_directory: PathBuf,
}

impl Package {
    pub(super) fn dir(&self) -> &Path {
        self.manifest_path
            .parent()
            .expect("a manifest path has a parent")
    }
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// The packages of a Cargo workspace, as `cargo metadata` tells them.
pub(super) struct Workspace {
    packages: Vec<Value>,
    target_directory: PathBuf,
}

impl Workspace {
    /// The workspace of the current directory.
    pub(super) fn read() -> anyhow::Result<Self> {
        Self::read_in(None)
    }

    /// The workspace of the manifest `manifest`, or of the current directory.
    fn read_in(manifest: Option<&Path>) -> anyhow::Result<Self> {
        let mut command = cargo();
        command.args(["metadata", "--format-version", "1", "--no-deps"]);
        if let Some(manifest) = manifest {
            command.arg("--manifest-path").arg(manifest);
        }
        let output = command
            .stderr(Stdio::inherit())
            .output()
            .context("cannot run `cargo metadata`: is cargo installed?")?;
        if !output.status.success() {
            bail!(
                "`cargo metadata` failed: run `cargo carol` inside a Cargo project or a Python \
                 or JavaScript machine project, or pass -p with a project's directory"
            );
        }
        let mut metadata: Value = serde_json::from_slice(&output.stdout)
            .context("`cargo metadata` printed something that is not JSON")?;
        let target_directory =
            PathBuf::from(metadata["target_directory"].as_str().unwrap_or("target"));
        let packages = match metadata["packages"].take() {
            Value::Array(packages) => packages,
            _ => Vec::new(),
        };
        Ok(Self {
            packages,
            target_directory,
        })
    }

    /// The names of the workspace's machine crates and of the script projects beside them.
    pub(super) fn machines(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .packages
            .iter()
            .filter(|p| is_machine(p))
            .filter_map(|p| p["name"].as_str().map(str::to_owned))
            .collect();
        for parent in self.machine_parents() {
            let Ok(entries) = std::fs::read_dir(&parent) else {
                continue;
            };
            for entry in entries.flatten() {
                if matches!(
                    Language::of(&entry.path()),
                    Ok(Some(Language::Python | Language::Javascript))
                ) {
                    names.push(entry.file_name().to_string_lossy().into_owned());
                }
            }
        }
        names.sort();
        if names.is_empty() {
            names.push("none".into());
        }
        names
    }

    /// The directories holding the workspace's machine crates (`examples/`).
    fn machine_parents(&self) -> Vec<PathBuf> {
        let mut parents: Vec<PathBuf> = self
            .packages
            .iter()
            .filter(|p| is_machine(p))
            .filter_map(|p| Some(manifest_dir(p)?.parent()?.to_owned()))
            .collect();
        parents.sort();
        parents.dedup();
        parents
    }

    /// The Python or JavaScript project called `name` beside the workspace's machine crates.
    pub(super) fn script_beside(&self, name: &str) -> anyhow::Result<Option<(PathBuf, Language)>> {
        for parent in self.machine_parents() {
            let dir = parent.join(name);
            match Language::of(&dir)? {
                Some(language @ (Language::Python | Language::Javascript)) => {
                    return Ok(Some((dir, language)));
                }
                Some(Language::Rust) | None => {}
            }
        }
        Ok(None)
    }

    /// The machine crate named `name`, if the workspace has a package of that name.
    pub(super) fn package(&self, name: &str) -> anyhow::Result<Option<Package>> {
        // The original prototype's examples were spelled with underscores (`bitmex_oracle`).
        let same = |n: &str| n.replace('_', "-") == name.replace('_', "-");
        self.packages
            .iter()
            .find(|p| p["name"].as_str().is_some_and(same))
            .map(|p| self.machine(p))
            .transpose()
    }

    /// The machine crate whose directory holds `dir`, the innermost one.
    pub(super) fn package_of(&self, dir: &Path) -> anyhow::Result<Package> {
        let package = self
            .packages
            .iter()
            .filter(|p| manifest_dir(p).is_some_and(|d| dir.starts_with(d)))
            .max_by_key(|p| p["manifest_path"].as_str().map_or(0, str::len))
            .with_context(|| {
                format!(
                    "the current directory is in no machine project: pass -p PACKAGE or a \
                     project's directory (machines here: {})",
                    self.machines().join(", ")
                )
            })?;
        self.machine(package)
    }

    fn machine(&self, package: &Value) -> anyhow::Result<Package> {
        let name = package["name"].as_str().unwrap_or_default().to_owned();
        if !is_machine(package) {
            bail!(
                "package `{name}` is not a machine crate: its [lib] needs crate-type = \
                 [\"cdylib\"] (machines here: {})",
                self.machines().join(", ")
            );
        }
        Ok(Package {
            name,
            manifest_path: PathBuf::from(package["manifest_path"].as_str().unwrap_or_default()),
            target_directory: self.target_directory.clone(),
        })
    }
}

/// The machine crate whose manifest is in `dir`.
pub(super) fn package_in(dir: &Path) -> anyhow::Result<Package> {
    let dir = dir
        .canonicalize()
        .with_context(|| format!("cannot read {}", dir.display()))?;
    let workspace = Workspace::read_in(Some(&dir.join("Cargo.toml")))?;
    let package = workspace
        .packages
        .iter()
        .find(|p| manifest_dir(p) == Some(dir.as_path()))
        .with_context(|| format!("{} holds no package", dir.display()))?;
    workspace.machine(package)
}

fn manifest_dir(package: &Value) -> Option<&Path> {
    Path::new(package["manifest_path"].as_str()?).parent()
}

/// Whether a package is a machine crate: a `cdylib`, which is what becomes a component.
fn is_machine(package: &Value) -> bool {
    package["targets"].as_array().is_some_and(|targets| {
        targets.iter().any(|t| {
            t["crate_types"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "cdylib"))
        })
    })
}

/// Installs the wasm32-wasip2 target with rustup when the toolchain lacks it: rustup adds the
/// targets of `rust-toolchain.toml` only when it installs the toolchain itself.
fn ensure_target(dir: &Path, quiet: bool) -> anyhow::Result<()> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc)
        .args(["--print", "sysroot"])
        .current_dir(dir)
        .output()
        .context("cannot run `rustc`")?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    if sysroot.join("lib").join("rustlib").join(TARGET).is_dir() {
        return Ok(());
    }
    if !quiet {
        eprintln!("  Installing the {TARGET} target (rustup target add {TARGET})");
    }
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(if quiet { Stdio::null() } else { Stdio::inherit() })
        .status()
        .with_context(|| format!("the {TARGET} target is missing and rustup is not available to add it: install it for your Rust toolchain"))?;
    if !status.success() {
        bail!("`rustup target add {TARGET}` failed");
    }
    Ok(())
}

/// Runs `cargo build --release --target wasm32-wasip2` and returns the `.wasm` it produced.
pub(super) fn compile(package: &Package, quiet: bool) -> anyhow::Result<PathBuf> {
    ensure_target(package.dir(), quiet)?;
    let mut command = cargo();
    command
        .args([
            "build",
            "--release",
            "--target",
            TARGET,
            "--message-format=json-render-diagnostics",
            "--manifest-path",
        ])
        .arg(&package.manifest_path)
        .args(["-p", &package.name])
        .stdout(Stdio::piped())
        .stderr(if quiet {
            Stdio::piped()
        } else {
            Stdio::inherit()
        });
    if quiet {
        command.arg("--quiet");
    }
    let output = command.output().context("cannot run `cargo build`")?;
    if !output.status.success() {
        if quiet {
            eprint!("{}", String::from_utf8_lossy(&output.stderr));
        }
        bail!(
            "`cargo build --release --target {TARGET} -p {}` failed (see above)",
            package.name
        );
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter(|message| {
            message["target"]["crate_types"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "cdylib"))
        })
        .filter_map(|message| message["filenames"].as_array().cloned())
        .flatten()
        .filter_map(|file| file.as_str().map(PathBuf::from))
        .rfind(|file| file.extension().is_some_and(|e| e == "wasm"))
        .with_context(|| format!("`cargo build` produced no .wasm for `{}`", package.name))
}
