//! The languages a machine can be written in, and how a project of each is recognised.

use anyhow::bail;
use std::path::Path;

/// The languages a machine can be written in.
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Language {
    /// A Rust crate depending on `carol-guest`.
    Rust,
    /// A componentize-py app: `app.py` implements `wit_world.WitWorld`.
    Python,
    /// A componentize-js module: `app.js` exports the world's functions.
    #[value(alias = "js")]
    Javascript,
}

impl Language {
    /// The file that makes a directory a project of this language, and holds its code.
    pub const fn app_file(self) -> &'static str {
        match self {
            Self::Rust => "Cargo.toml",
            Self::Python => "app.py",
            Self::Javascript => "app.js",
        }
    }

    /// The language's name, as people write it.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Rust => "Rust",
            Self::Python => "Python",
            Self::Javascript => "JavaScript",
        }
    }

    /// The language of the project in `dir`, if it is one; a directory with the files of two
    /// is refused, as it could be read either way.
    pub(super) fn of(dir: &Path) -> anyhow::Result<Option<Self>> {
        let found: Vec<Self> = [Self::Python, Self::Javascript, Self::Rust]
            .into_iter()
            .filter(|language| dir.join(language.app_file()).is_file())
            .collect();
        match found[..] {
            [] => Ok(None),
            [language] => Ok(Some(language)),
            _ => bail!(
                "{} holds {}: a machine project has one of app.py (Python), app.js \
                 (JavaScript) and Cargo.toml (Rust); move the others away",
                dir.display(),
                found
                    .iter()
                    .map(|language| language.app_file())
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        }
    }
}
