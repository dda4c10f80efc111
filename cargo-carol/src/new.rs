//! `cargo carol new`: a machine project, in Rust, Python or JavaScript, that builds as it
//! stands.

use crate::outln;
use crate::project::{self, Language};
use anyhow::{Context, bail};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

/// Arguments of `cargo carol new`.
#[derive(clap::Args)]
pub struct Args {
    /// Where to create the project; its last component is the machine's name (e.g.
    /// `my-oracle`).
    path: PathBuf,
    /// The language of the machine.
    #[arg(long, value_enum, default_value = "rust")]
    lang: Language,
    /// For Rust: the `carol-guest` crate (guest-bindings) to depend on [default: the one this
    /// `cargo carol` was built from].
    #[arg(long, value_name = "DIR")]
    carol_guest: Option<PathBuf>,
}

/// The guest-bindings crate next to this one in the Carol repository.
const CAROL_GUEST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../guest-bindings");

/// The dependency versions the Carol repository is tested with; a new crate that is its own
/// workspace starts from them, so it builds with the crates already downloaded.
const LOCKFILE: &str = include_str!("../../Cargo.lock");

/// Creates the project and prints its directory.
pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let name = args
        .path
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("{} does not end in a machine name", args.path.display()))?
        .to_owned();
    project::check_name(&name)?;
    if args.path.exists()
        && std::fs::read_dir(&args.path)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        bail!(
            "{} already exists and is not empty: pick another path",
            args.path.display()
        );
    }
    if args.lang != Language::Rust {
        return new_script(&args.path, &name, args.lang, quiet);
    }
    let guest = args
        .carol_guest
        .unwrap_or_else(|| PathBuf::from(CAROL_GUEST));
    let guest = guest.canonicalize().with_context(|| {
        format!(
            "cannot find the carol-guest crate at {}: pass --carol-guest DIR (the guest-bindings directory of a Carol checkout)",
            guest.display()
        )
    })?;
    std::fs::create_dir_all(args.path.join("src"))
        .with_context(|| format!("cannot create {}", args.path.display()))?;
    let dir = args.path.canonicalize()?;
    let wit_name = name.replace('_', "-");
    let dependency = relative(&dir, &guest);
    write(&dir.join("Cargo.toml"), &manifest(&name, &dependency))?;
    write(&dir.join("src/lib.rs"), &LIB.replace("{world}", &wit_name))?;
    std::fs::create_dir_all(dir.join("wit"))?;
    write(
        &dir.join("wit/world.wit"),
        &WORLD.replace("{world}", &wit_name),
    )?;
    project::ensure_carol_wit(&dir.join("wit"))?;

    let standalone = !in_workspace(&dir)?;
    if standalone {
        // Outside a workspace that lists it, the crate is a workspace of its own.
        let manifest = dir.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest)?;
        write(&manifest, &format!("{text}\n[workspace]\n"))?;
        write(&dir.join("Cargo.lock"), LOCKFILE)?;
        write(&dir.join(".gitignore"), "/target\n")?;
    }
    if quiet {
        outln!("{}", dir.display());
    } else {
        eprintln!(
            "     Created machine crate `{name}` in {}{}",
            dir.display(),
            if standalone {
                " (its own workspace)"
            } else {
                " (a member of the enclosing workspace)"
            }
        );
        eprintln!("Build it with: cd {} && cargo carol build", dir.display());
        eprintln!("Run it with:   cd {} && cargo carol run", dir.display());
        outln!("{}", dir.display());
    }
    Ok(())
}

/// Whether cargo sees `dir` as a member of an enclosing workspace. Cargo refuses a package
/// that sits under a workspace without being one of its members, so ask it.
fn in_workspace(dir: &Path) -> anyhow::Result<bool> {
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["locate-project", "--workspace", "--message-format", "plain"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .context("cannot run `cargo locate-project`: is cargo installed?")?;
    if !output.status.success() {
        return Ok(false);
    }
    let root = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    Ok(root != dir.join("Cargo.toml"))
}

/// `to` relative to `from` when they share a root, else `to` itself; both absolute.
fn relative(from: &Path, to: &Path) -> String {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let path = if common <= 1 {
        to.iter().collect::<PathBuf>()
    } else {
        std::iter::repeat_n(Component::ParentDir, from.len() - common)
            .chain(to[common..].iter().copied())
            .collect()
    };
    path.to_string_lossy().replace('\\', "/")
}

/// Creates a Python or JavaScript project: its world, its app file and a `.gitignore`.
fn new_script(path: &Path, name: &str, language: Language, quiet: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(path.join("wit"))
        .with_context(|| format!("cannot create {}", path.display()))?;
    let dir = path.canonicalize()?;
    let wit_name = name.replace('_', "-");
    write(
        &dir.join("wit/world.wit"),
        &WORLD.replace("{world}", &wit_name),
    )?;
    project::ensure_carol_wit(&dir.join("wit"))?;
    let app = match language {
        Language::Python => PYTHON_APP,
        Language::Javascript => JAVASCRIPT_APP,
        Language::Rust => unreachable!("a Rust machine is a crate"),
    };
    write(&dir.join(language.app_file()), app)?;
    // componentize-py compiles the app's modules into `__pycache__` beside them as it builds.
    let ignored = match language {
        Language::Python => "/target\n__pycache__/\n",
        Language::Javascript | Language::Rust => "/target\n",
    };
    write(&dir.join(".gitignore"), ignored)?;
    if !quiet {
        eprintln!(
            "     Created {} machine `{name}` in {}",
            language.label(),
            dir.display()
        );
        eprintln!("Build it with: cd {} && cargo carol build", dir.display());
        eprintln!("Run it with:   cd {} && cargo carol run", dir.display());
    }
    outln!("{}", dir.display());
    Ok(())
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

fn manifest(name: &str, carol_guest: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

# A machine is a component: `cargo carol build` compiles this crate for wasm32-wasip2.
[lib]
crate-type = ["cdylib"]

[dependencies]
carol-guest = {{ path = "{carol_guest}" }}
"#
    )
}

const WORLD: &str = r#"package local:{world};

/// A Carol machine. Every function this world exports is an activation: the node serves it
/// over HTTP at /machines/MACHINE_ID/activate/NAME, with its arguments and result as JSON.
world {world} {
  /// The node's services: bls-sign, http-fetch, identity.
  include carol:machine/machine@0.1.1;

  /// A greeting signed by the node, bound to this machine.
  record greeting {
    /// The text.
    text: string,
    /// The node's BLS signature over machine id || text (check it with `cargo carol verify`).
    signature: list<u8>,
  }

  /// Greets `name`, and has the node sign the greeting.
  export greet: func(name: string) -> greeting;
}
"#;

const LIB: &str = r#"//! A Carol machine. Its activations are the functions its world (`wit/world.wit`) exports.

carol_guest::generate!({ world: "{world}" });

struct Machine;

impl Guest for Machine {
    fn greet(name: String) -> Greeting {
        let text = format!("hello {name}");
        let signature = carol_guest::sign(text.as_bytes());
        Greeting { text, signature }
    }
}

export!(Machine);
"#;

const PYTHON_APP: &str = r#""""A Carol machine. Its activations are the functions its world (`wit/world.wit`) exports.

componentize-py generates `wit_world` from the world; `carol_guest` holds Carol's helpers.
"""

import carol_guest
import wit_world


class WitWorld(wit_world.WitWorld):
    def greet(self, name: str) -> wit_world.Greeting:
        """Greets `name`, and has the node sign the greeting."""
        text = f"hello {name}"
        return wit_world.Greeting(text=text, signature=carol_guest.sign(text.encode()))
"#;

const JAVASCRIPT_APP: &str = r#"// A Carol machine. Its activations are the functions its world (`wit/world.wit`) exports,
// which this module exports under their names in camelCase.

import { sign } from './carol-guest.js';

/** Greets `name`, and has the node sign the greeting. */
export function greet(name) {
  const text = `hello ${name}`;
  return { text, signature: sign(text) };
}
"#;
