//! The node's configuration file: what `carol config-gen` writes and `carol run --cfg` reads.
//!
//! The file is TOML. Only `secret_key` is required; every other setting has the default that
//! [`NodeConfig::with_key`](crate::NodeConfig::with_key) uses, so a file written by an older version keeps working. Unknown
//! settings are refused, so a misspelt one is not silently ignored. Each setting is defined once,
//! in `settings`: that definition reads it, writes it into a fresh file with its comment, and
//! gives its row of the reference in `docs/operations.md` ([`Config::reference`]).

mod contents;
mod file;
mod settings;

pub use contents::{Config, DEFAULT_DATA_DIR, DEFAULT_LISTEN};
pub use file::{ConfigError, REFERENCE_END, REFERENCE_START};
