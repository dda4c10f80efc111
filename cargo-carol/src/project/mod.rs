//! Machine projects: finding one, building it into a component with its WIT doc comments, and
//! checking the component against what a node provides.
//!
//! A project is a Rust machine crate (`rust`), or a directory holding `app.py` (`python`, built
//! with componentize-py) or `app.js` (`javascript`, built with componentize-js) beside its
//! `wit/`. Whatever the language, the component ends up in `target/carol/NAME.wasm`.

mod docs;
mod javascript;
mod language;
mod python;
mod rust;
mod stage;
pub mod tools;

pub use language::Language;

use anyhow::{Context, bail};
use carol_host::runtime::Loader;
use std::path::{Path, PathBuf};

/// A Python or JavaScript machine project.
struct Script {
    language: Language,
    name: String,
    dir: PathBuf,
}

impl Script {
    /// The project in `dir`, of `language` (a script language), named after the directory.
    fn at(dir: &Path, language: Language) -> anyhow::Result<Self> {
        let dir = dir
            .canonicalize()
            .with_context(|| format!("cannot read {}", dir.display()))?;
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .with_context(|| format!("{} has no name to give the machine", dir.display()))?
            .to_owned();
        check_name(&name)?;
        Ok(Self {
            language,
            name,
            dir,
        })
    }
}

/// Builds the machine named or found by `requested` and returns the path of its component,
/// with doc comments embedded and checked against what a node provides.
///
/// `requested` is a project directory, a Cargo package of the workspace, or the directory name
/// of a Python or JavaScript project beside the workspace's machine crates; none means the
/// project holding the current directory.
pub fn build(requested: Option<&str>, quiet: bool) -> anyhow::Result<PathBuf> {
    match locate(requested)? {
        Located::Rust(package) => {
            let wit_dir = package.dir().join("wit");
            ensure_carol_wit(&wit_dir)?;
            let compiled = rust::compile(&package, quiet)?;
            let out_dir = package.target_directory.join("carol");
            finish(&package.name, &compiled, &wit_dir, &out_dir, quiet)
        }
        Located::Script(script) => {
            let wit_dir = script.dir.join("wit");
            if !wit_dir.is_dir() {
                bail!(
                    "{} has no wit/ directory: a {} machine declares its world in wit/world.wit \
                     (`cargo carol new --lang {} NAME` makes a project that has one)",
                    script.dir.display(),
                    script.language.label(),
                    script.language.label().to_lowercase(),
                );
            }
            ensure_carol_wit(&wit_dir)?;
            let world = docs::world_name(&wit_dir, &script.name)?;
            let out_dir = script.dir.join("target").join("carol");
            let scratch = stage::Scratch::new(&out_dir)?;
            let compiled = match script.language {
                Language::Python => python::compile(&script.dir, &world, scratch.path(), quiet),
                Language::Javascript => {
                    javascript::compile(&script.dir, &world, scratch.path(), quiet)
                }
                Language::Rust => unreachable!("a script project is in Python or JavaScript"),
            };
            // Finished before the scratch directory, which holds the compiled file, goes.
            compiled.and_then(|compiled| finish(&script.name, &compiled, &wit_dir, &out_dir, quiet))
        }
    }
}

/// Where a requested project is.
enum Located {
    Rust(rust::Package),
    Script(Script),
}

fn locate(requested: Option<&str>) -> anyhow::Result<Located> {
    let script_or_crate = |dir: &Path| -> anyhow::Result<Option<Located>> {
        Ok(match Language::of(dir)? {
            Some(Language::Rust) => Some(Located::Rust(rust::package_in(dir)?)),
            Some(language) => Some(Located::Script(Script::at(dir, language)?)),
            None => None,
        })
    };
    match requested {
        Some(path) if Path::new(path).is_dir() => {
            script_or_crate(Path::new(path))?.with_context(|| {
                format!(
                    "{path} is a directory but no machine project: it needs app.py (Python), \
                     app.js (JavaScript) or Cargo.toml (Rust)"
                )
            })
        }
        Some(name) => {
            let workspace = rust::Workspace::read()?;
            if let Some(package) = workspace.package(name)? {
                return Ok(Located::Rust(package));
            }
            if let Some((dir, language)) = workspace.script_beside(name)? {
                return Ok(Located::Script(Script::at(&dir, language)?));
            }
            bail!(
                "no machine `{name}` in this workspace (neither a package nor a Python or \
                 JavaScript project beside its machine crates); machines here: {}. Or pass the \
                 project's directory",
                workspace.machines().join(", ")
            )
        }
        None => {
            let cwd = std::env::current_dir()?;
            // The project is the nearest directory up with an app file or a manifest; a
            // Cargo package is then found as cargo finds it, from its manifest up.
            for dir in cwd.ancestors() {
                match Language::of(dir)? {
                    Some(Language::Rust) => break,
                    Some(language) => return Ok(Located::Script(Script::at(dir, language)?)),
                    None => {}
                }
            }
            Ok(Located::Rust(rust::Workspace::read()?.package_of(&cwd)?))
        }
    }
}

/// Embeds the WIT docs of `wit_dir` into the component the toolchain wrote to `compiled`,
/// checks it as a node would, and writes it to `out_dir/NAME.wasm`.
fn finish(
    name: &str,
    compiled: &Path,
    wit_dir: &Path,
    out_dir: &Path,
    quiet: bool,
) -> anyhow::Result<PathBuf> {
    let bytes =
        std::fs::read(compiled).with_context(|| format!("cannot read {}", compiled.display()))?;
    let docs = if wit_dir.is_dir() {
        docs::wit_docs(wit_dir)?
    } else {
        Default::default()
    };
    let component = docs.embed(&bytes);
    Loader::checking()?
        .load(&component)
        .with_context(|| format!("`{name}` built, but a Carol node would refuse it"))?;

    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let path = out_dir.join(format!("{name}.wasm"));
    // Written whole, then renamed into place: a command reading the component while another
    // builds it (two `cargo carol` at once) reads the old one or the new one, never half.
    let staging = out_dir.join(format!(".{name}.wasm.{}", std::process::id()));
    std::fs::write(&staging, &component)
        .and_then(|()| std::fs::rename(&staging, &path))
        .with_context(|| format!("cannot write {}", path.display()))?;
    if !quiet {
        eprintln!(
            "    Machine `{name}` built: {} ({} bytes)",
            path.display(),
            component.len()
        );
    }
    Ok(path)
}

/// Writes the `carol:machine` WIT into `wit/deps/carol-machine/` if the project has a `wit/`
/// directory without it, so that `include carol:machine/machine@0.1.1` resolves. Written whole
/// and renamed into place, so that a build running at the same time reads all of it or none.
pub fn ensure_carol_wit(wit_dir: &Path) -> anyhow::Result<()> {
    let dep = wit_dir.join("deps").join("carol-machine");
    let file = dep.join("machine.wit");
    if !wit_dir.is_dir() || file.exists() || (dep.exists() && !dep.is_dir()) {
        return Ok(());
    }
    std::fs::create_dir_all(&dep).with_context(|| format!("cannot create {}", dep.display()))?;
    let staging = dep.join(format!(".machine.wit.{}", std::process::id()));
    std::fs::write(&staging, carol_core::wit::TEXT)
        .and_then(|()| std::fs::rename(&staging, &file))
        .with_context(|| format!("cannot write {}", file.display()))
}

/// Machine names that are also valid WIT names: lowercase words of letters and digits, each
/// starting with a letter, joined by `-` or `_`.
pub fn check_name(name: &str) -> anyhow::Result<()> {
    let valid = name.split(['-', '_']).all(|word| {
        word.starts_with(|c: char| c.is_ascii_lowercase())
            && word
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    });
    if !valid {
        bail!(
            "`{name}` cannot name a machine: use lowercase words of letters and digits, each \
             starting with a letter, joined by `-` (e.g. `price-oracle`)"
        );
    }
    Ok(())
}
