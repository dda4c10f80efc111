//! `cargo carol new`: a machine crate that builds as it stands.

use crate::outln;
use crate::project;
use anyhow::{Context, bail};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

/// Arguments of `cargo carol new`.
#[derive(clap::Args)]
pub struct Args {
    /// Where to create the crate; its last component is the package name (e.g. `my-oracle`).
    path: PathBuf,
    /// The `carol-guest` crate (guest-bindings) to depend on [default: the one this
    /// `cargo carol` was built from].
    #[arg(long, value_name = "DIR")]
    carol_guest: Option<PathBuf>,
}

/// The guest-bindings crate next to this one in the Carol repository.
const CAROL_GUEST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../guest-bindings");

/// The dependency versions the Carol repository is tested with; a new crate that is its own
/// workspace starts from them, so it builds with the crates already downloaded.
const LOCKFILE: &str = include_str!("../../Cargo.lock");

/// Creates the crate and prints its directory.
pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let name = args
        .path
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("{} does not end in a crate name", args.path.display()))?
        .to_owned();
    check_name(&name)?;
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

/// Package names that are also valid WIT names: lowercase words of letters and digits, each
/// starting with a letter, joined by `-` or `_`.
fn check_name(name: &str) -> anyhow::Result<()> {
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
