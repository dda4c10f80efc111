//! Machine crates: finding them with `cargo metadata`, building them with `cargo build`, and
//! giving the component its WIT doc comments.

use anyhow::{Context, bail};
use carol_core::doc_section::{Docs, TypeDocs};
use carol_core::names::activation_name;
use carol_host::runtime::Loader;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The compilation target of machines.
const TARGET: &str = "wasm32-wasip2";

/// A machine crate.
struct Package {
    name: String,
    manifest_path: PathBuf,
    target_directory: PathBuf,
}

impl Package {
    fn dir(&self) -> &Path {
        self.manifest_path
            .parent()
            .expect("a manifest path has a parent")
    }
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Finds the package named `requested`, or the one whose directory holds the current directory.
fn find_package(requested: Option<&str>) -> anyhow::Result<Package> {
    let output = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run `cargo metadata`: is cargo installed?")?;
    if !output.status.success() {
        bail!("`cargo metadata` failed: run `cargo carol` inside a Cargo project");
    }
    let metadata: Value = serde_json::from_slice(&output.stdout)
        .context("`cargo metadata` printed something that is not JSON")?;
    let target_directory = PathBuf::from(metadata["target_directory"].as_str().unwrap_or("target"));
    let packages = metadata["packages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let is_machine = |p: &Value| {
        p["targets"].as_array().is_some_and(|targets| {
            targets.iter().any(|t| {
                t["crate_types"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "cdylib"))
            })
        })
    };
    let machines: Vec<&str> = packages
        .iter()
        .filter(|p| is_machine(p))
        .filter_map(|p| p["name"].as_str())
        .collect();
    let package = match requested {
        Some(name) => packages
            .iter()
            // The original prototype's examples were spelled with underscores (`bitmex_oracle`).
            .find(|p| {
                p["name"]
                    .as_str()
                    .is_some_and(|n| n.replace('_', "-") == name.replace('_', "-"))
            })
            .with_context(|| {
                format!(
                    "no package `{name}` in this workspace; machine crates here: {}",
                    list(&machines)
                )
            })?,
        None => {
            let cwd = std::env::current_dir()?;
            packages
                .iter()
                .filter(|p| p["manifest_path"].as_str().and_then(|m| Path::new(m).parent()).is_some_and(|dir| cwd.starts_with(dir)))
                .max_by_key(|p| p["manifest_path"].as_str().map_or(0, str::len))
                .with_context(|| format!("the current directory is in no package: pass -p PACKAGE (machine crates here: {})", list(&machines)))?
        }
    };
    let name = package["name"].as_str().unwrap_or_default().to_owned();
    if !is_machine(package) {
        bail!(
            "package `{name}` is not a machine crate: its [lib] needs crate-type = [\"cdylib\"] (machine crates here: {})",
            list(&machines)
        );
    }
    Ok(Package {
        name,
        manifest_path: PathBuf::from(package["manifest_path"].as_str().unwrap_or_default()),
        target_directory,
    })
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// Builds a machine crate and returns the path of its component, with doc comments embedded
/// and checked against what a node provides.
pub fn build(requested: Option<&str>, quiet: bool) -> anyhow::Result<PathBuf> {
    let package = find_package(requested)?;
    let wit_dir = package.dir().join("wit");
    ensure_carol_wit(&wit_dir)?;
    let compiled = compile(&package, quiet)?;
    let bytes =
        std::fs::read(&compiled).with_context(|| format!("cannot read {}", compiled.display()))?;
    let docs = if wit_dir.is_dir() {
        wit_docs(&wit_dir)?
    } else {
        Docs::default()
    };
    let component = docs.embed(&bytes);

    Loader::checking()?
        .load(&component)
        .with_context(|| format!("`{}` built, but a Carol node would refuse it", package.name))?;

    let out_dir = package.target_directory.join("carol");
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let path = out_dir.join(format!("{}.wasm", package.name));
    // Written whole, then renamed into place: a command reading the component while another
    // builds it (two `cargo carol` at once) reads the old one or the new one, never half.
    let staging = out_dir.join(format!(".{}.wasm.{}", package.name, std::process::id()));
    std::fs::write(&staging, &component)
        .and_then(|()| std::fs::rename(&staging, &path))
        .with_context(|| format!("cannot write {}", path.display()))?;
    if !quiet {
        eprintln!(
            "    Machine `{}` built: {} ({} bytes)",
            package.name,
            path.display(),
            component.len()
        );
    }
    Ok(path)
}

/// Writes the `carol:machine` WIT into `wit/deps/carol-machine/` if the crate has a `wit/`
/// directory without it, so that `include carol:machine/machine@0.1.1` resolves.
pub fn ensure_carol_wit(wit_dir: &Path) -> anyhow::Result<()> {
    let dep = wit_dir.join("deps").join("carol-machine");
    if !wit_dir.is_dir() || dep.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(&dep).with_context(|| format!("cannot create {}", dep.display()))?;
    std::fs::write(dep.join("machine.wit"), carol_core::wit::TEXT)
        .with_context(|| format!("cannot write {}", dep.display()))
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
fn compile(package: &Package, quiet: bool) -> anyhow::Result<PathBuf> {
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

/// The doc comments of the exports of the worlds in `wit_dir`'s package, and of the named
/// types of the worlds and of their exported interfaces (`carol_core::doc_section`).
fn wit_docs(wit_dir: &Path) -> anyhow::Result<Docs> {
    use wit_parser::{Resolve, WorldItem, WorldKey};
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_path(wit_dir)
        .with_context(|| format!("cannot read the WIT in {}", wit_dir.display()))?;
    let mut docs = Docs {
        version: 1,
        ..Docs::default()
    };
    for world in resolve.packages[package].worlds.values() {
        let world = &resolve.worlds[*world];
        docs.world = docs.world.or_else(|| world.docs.contents.clone());
        for item in world.imports.values() {
            if let WorldItem::Type { id, .. } = item {
                add_type_docs(&mut docs, &resolve, None, *id);
            }
        }
        for (key, item) in &world.exports {
            match item {
                WorldItem::Function(function) => {
                    if let Some(text) = &function.docs.contents {
                        docs.activations
                            .entry(function.name.clone())
                            .or_insert_with(|| text.trim().to_owned());
                    }
                }
                WorldItem::Interface { id, .. } => {
                    let interface = &resolve.interfaces[*id];
                    let short = match key {
                        WorldKey::Name(name) => name.clone(),
                        WorldKey::Interface(_) => interface.name.clone().unwrap_or_default(),
                    };
                    for (name, function) in &interface.functions {
                        if let Some(text) = &function.docs.contents {
                            docs.activations
                                .entry(activation_name(Some(&short), name))
                                .or_insert_with(|| text.trim().to_owned());
                        }
                    }
                    for id in interface.types.values() {
                        add_type_docs(&mut docs, &resolve, Some(&short), *id);
                    }
                }
                WorldItem::Type { id, .. } => add_type_docs(&mut docs, &resolve, None, *id),
            }
        }
    }
    Ok(docs)
}

/// Adds the docs of the named type `id`, of the interface `short` or of the world, and of its
/// fields, cases or flags.
fn add_type_docs(
    docs: &mut Docs,
    resolve: &wit_parser::Resolve,
    short: Option<&str>,
    id: wit_parser::TypeId,
) {
    use wit_parser::TypeDefKind;
    let ty = &resolve.types[id];
    let Some(name) = &ty.name else {
        return;
    };
    let text = |docs: &wit_parser::Docs| docs.contents.as_deref().map(|t| t.trim().to_owned());
    let members: Vec<(&str, Option<String>)> = match &ty.kind {
        TypeDefKind::Record(record) => record
            .fields
            .iter()
            .map(|f| (f.name.as_str(), text(&f.docs)))
            .collect(),
        TypeDefKind::Variant(variant) => variant
            .cases
            .iter()
            .map(|c| (c.name.as_str(), text(&c.docs)))
            .collect(),
        TypeDefKind::Enum(cases) => cases
            .cases
            .iter()
            .map(|c| (c.name.as_str(), text(&c.docs)))
            .collect(),
        TypeDefKind::Flags(flags) => flags
            .flags
            .iter()
            .map(|f| (f.name.as_str(), text(&f.docs)))
            .collect(),
        _ => Vec::new(),
    };
    let type_docs = TypeDocs {
        docs: text(&ty.docs),
        members: members
            .into_iter()
            .filter_map(|(name, docs)| Some((name.to_owned(), docs?)))
            .collect(),
    };
    if type_docs == TypeDocs::default() {
        return;
    }
    // Types are named in the docs as activations are.
    docs.types
        .entry(activation_name(short, name))
        .or_insert(type_docs);
}
