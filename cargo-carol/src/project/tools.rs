//! The toolchains that build Python and JavaScript machines, at the versions this `cargo carol`
//! pins, installed on first use into a cache of its own: componentize-py in a Python venv,
//! componentize-js in a local npm prefix.
//!
//! The cache is `$CAROL_TOOLS_DIR`, else `$XDG_CACHE_HOME/carol/tools`, else
//! `~/.cache/carol/tools`. Each tool has a directory there per set of pins (named after their
//! SHA-256), so that versions of `cargo carol` pinning other versions never meet, holding a copy
//! of its pins written last: a directory without it (an install cut off) is installed again.
//! Installing holds a lock, so builds running at once install once. (A venv is not relocatable,
//! so it is installed where it stays.)

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A pinned toolchain.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Tool {
    /// componentize-py, from PyPI.
    ComponentizePy,
    /// componentize-js, from npm.
    ComponentizeJs,
}

/// The pin files of each tool: their names and their text, as committed in `cargo-carol/tools/`.
const PYTHON_PINS: &[(&str, &str)] = &[(
    "requirements.txt",
    include_str!("../../tools/python/requirements.txt"),
)];
const JAVASCRIPT_PINS: &[(&str, &str)] = &[
    (
        "package.json",
        include_str!("../../tools/javascript/package.json"),
    ),
    (
        "package-lock.json",
        include_str!("../../tools/javascript/package-lock.json"),
    ),
];

/// The name of the file, in a tool's directory, that says it is installed: the pins, together.
const INSTALLED: &str = "installed-pins";

impl Tool {
    /// Every tool, in the order `cargo carol tools` lists them.
    pub const ALL: [Tool; 2] = [Tool::ComponentizePy, Tool::ComponentizeJs];

    /// The tool's name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::ComponentizePy => "componentize-py",
            Self::ComponentizeJs => "componentize-js",
        }
    }

    /// The language the tool builds.
    pub const fn language(self) -> &'static str {
        match self {
            Self::ComponentizePy => "Python",
            Self::ComponentizeJs => "JavaScript",
        }
    }

    /// The pinned version, as the pin files say it.
    pub fn version(self) -> &'static str {
        match self {
            Self::ComponentizePy => PYTHON_PINS[0]
                .1
                .lines()
                .find_map(|line| line.strip_prefix("componentize-py=="))
                .unwrap_or("?"),
            Self::ComponentizeJs => JAVASCRIPT_PINS[0]
                .1
                .lines()
                .find_map(|line| {
                    let rest = line
                        .trim()
                        .strip_prefix("\"@bytecodealliance/componentize-js\"")?;
                    Some(rest.trim_start_matches([':', ' ']).trim_matches([',', '"']))
                })
                .unwrap_or("?"),
        }
    }

    fn pins(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::ComponentizePy => PYTHON_PINS,
            Self::ComponentizeJs => JAVASCRIPT_PINS,
        }
    }

    fn pins_text(self) -> String {
        self.pins().iter().map(|(_, text)| *text).collect()
    }

    /// The tool's directory in the cache, for these pins.
    pub fn dir(self) -> anyhow::Result<PathBuf> {
        use sha2::Digest;
        let name = match self {
            Self::ComponentizePy => "python",
            Self::ComponentizeJs => "javascript",
        };
        let pins = hex::encode(sha2::Sha256::digest(self.pins_text()));
        Ok(cache_dir()?.join(format!("{name}-{}", &pins[..12])))
    }

    /// The program to run, in the tool's directory.
    fn executable(self, dir: &Path) -> PathBuf {
        match self {
            Self::ComponentizePy => dir.join("venv").join("bin").join("componentize-py"),
            Self::ComponentizeJs => dir
                .join("node_modules")
                .join(".bin")
                .join("componentize-js"),
        }
    }

    /// Whether the pinned version is installed.
    pub fn installed(self) -> anyhow::Result<bool> {
        let dir = self.dir()?;
        Ok(self.is_installed_in(&dir))
    }

    fn is_installed_in(self, dir: &Path) -> bool {
        std::fs::read_to_string(dir.join(INSTALLED)).is_ok_and(|text| text == self.pins_text())
            && self.executable(dir).is_file()
    }

    /// The tool's program, installing the pinned version first if it is not there.
    pub fn ensure(self, quiet: bool) -> anyhow::Result<PathBuf> {
        let dir = self.dir()?;
        if self.is_installed_in(&dir) {
            return Ok(self.executable(&dir));
        }
        let cache = cache_dir()?;
        std::fs::create_dir_all(&cache)
            .with_context(|| format!("cannot create the tool cache {}", cache.display()))?;
        let lock_path = dir.with_extension("lock");
        let lock = std::fs::File::create(&lock_path)
            .with_context(|| format!("cannot create {}", lock_path.display()))?;
        lock.lock()
            .with_context(|| format!("cannot lock {}", lock_path.display()))?;
        // Another build may have installed it while this one waited for the lock.
        if !self.is_installed_in(&dir) {
            if !quiet {
                eprintln!(
                    "  Installing {} {} into {} (once; it builds {} machines)",
                    self.name(),
                    self.version(),
                    dir.display(),
                    self.language()
                );
            }
            self.install(&dir)?;
        }
        Ok(self.executable(&dir))
    }

    fn install(self, dir: &Path) -> anyhow::Result<()> {
        if dir.exists() {
            std::fs::remove_dir_all(dir)
                .with_context(|| format!("cannot remove the old install in {}", dir.display()))?;
        }
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for (name, text) in self.pins() {
            std::fs::write(dir.join(name), text)
                .with_context(|| format!("cannot write {}", dir.join(name).display()))?;
        }
        match self {
            Self::ComponentizePy => {
                let python = std::env::var_os("PYTHON").unwrap_or_else(|| "python3".into());
                run(
                    Command::new(&python)
                        .arg("-m")
                        .arg("venv")
                        .arg(dir.join("venv")),
                    "Python machines are built with componentize-py, which needs Python 3.10 or \
                     later with its venv module as `python3`: install them (Debian: `apt-get \
                     install python3 python3-venv`), or name another interpreter in $PYTHON",
                )?;
                run(
                    Command::new(dir.join("venv").join("bin").join("python"))
                        .args([
                            "-m",
                            "pip",
                            "install",
                            "--quiet",
                            "--disable-pip-version-check",
                        ])
                        .arg("-r")
                        .arg(dir.join("requirements.txt")),
                    "installing componentize-py with pip failed (see above): check that PyPI \
                     is reachable",
                )?;
            }
            Self::ComponentizeJs => {
                run(
                    Command::new("npm")
                        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                        .current_dir(dir),
                    "JavaScript machines are built with componentize-js, which needs Node.js 18 \
                     or later with npm: install them (Debian: `apt-get install nodejs npm`), and \
                     check that the npm registry is reachable",
                )?;
            }
        }
        std::fs::write(dir.join(INSTALLED), self.pins_text())
            .with_context(|| format!("cannot write {}", dir.join(INSTALLED).display()))
    }
}

/// Runs an install step, its output on stderr; `hint` says what to do when it fails.
fn run(command: &mut Command, hint: &str) -> anyhow::Result<()> {
    let program = command.get_program().to_string_lossy().into_owned();
    let status = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status();
    match status {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => bail!("`{program}` failed ({status}): {hint}"),
        Err(error) => bail!("cannot run `{program}` ({error}): {hint}"),
    }
}

/// The directory the tools are installed in.
pub fn cache_dir() -> anyhow::Result<PathBuf> {
    let var = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var("CAROL_TOOLS_DIR") {
        return Ok(dir);
    }
    let cache = var("XDG_CACHE_HOME")
        .or_else(|| var("HOME").map(|home| home.join(".cache")))
        .context(
            "no cache directory for the build tools: set CAROL_TOOLS_DIR (or HOME) to where \
             `cargo carol` may install them",
        )?;
    Ok(cache.join("carol").join("tools"))
}
