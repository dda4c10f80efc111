//! Reading, checking and writing configuration files, and the reference of their settings.

use super::contents::Config;
use super::settings::{Problem, SECTIONS, Section, Setting};
use carol_core::bls::SecretKey;
use std::path::{Path, PathBuf};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Where docs/operations.md's configuration reference starts and ends.
pub const REFERENCE_START: &str = "<!-- The rows below are written by the node's settings: `CAROL_WRITE_DOCS=1 cargo test -p carol-host --lib config`. -->";
/// The end of docs/operations.md's configuration reference.
pub const REFERENCE_END: &str = "<!-- End of the settings' rows. -->";

/// Why a configuration file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error(
        "cannot read the configuration file {path} (write one with `carol config-gen --cfg {path}`)"
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or a setting is missing, unknown or has the wrong type.
    #[error("invalid configuration file {path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the line and the setting.
        message: String,
    },
    /// The file exists and overwriting was not asked for.
    #[error(
        "{0} already exists: it may hold a key that clients rely on; pass --force to overwrite it"
    )]
    Exists(PathBuf),
    /// The file could not be written.
    #[error("cannot write the configuration file {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

impl Config {
    /// Reads and checks the configuration file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Self::parse(&text).map_err(|message| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        })?;
        // Relative paths are from the configuration file's directory, wherever the node runs.
        let base = path.parent().unwrap_or(Path::new(""));
        for relative in [&mut config.node.data_dir, &mut config.node.federation] {
            if let Some(path) = relative
                && path.is_relative()
            {
                *path = base.join(&*path);
            }
        }
        Ok(config)
    }

    /// Checks the text of a configuration file; the error names the line and the setting at
    /// fault, without quoting the line (it may hold the secret key).
    pub fn parse(text: &str) -> Result<Self, String> {
        let document = DeTable::parse(text).map_err(|e| describe(text, &e))?;
        // Every setting that is not required is overwritten by the file or keeps its default;
        // the key is required, so this placeholder never survives.
        let mut config = Self::with_key(SecretKey::key_gen(&[0; 32]));
        let mut key_given = false;
        for (key, value) in document.into_inner() {
            let line = line_of(text, key.span().start);
            let name = key.into_inner();
            match SECTIONS.iter().find(|s| s.name == Some(&*name)) {
                Some(section) => {
                    let DeValue::Table(table) = value.into_inner() else {
                        return Err(format!(
                            "line {line}: `{name}` is the section [{name}], not a value"
                        ));
                    };
                    for (key, value) in table {
                        let line = line_of(text, key.span().start);
                        apply(text, &mut config, section, &key.into_inner(), value, line)?;
                    }
                }
                None if value.get_ref().is_table() => {
                    return Err(format!(
                        "line {line}: unknown section [{name}]; the sections are {}",
                        section_list()
                    ));
                }
                None => {
                    key_given |= name == "secret_key";
                    apply(text, &mut config, &SECTIONS[0], &name, value, line)?;
                }
            }
        }
        if !key_given {
            return Err(
                "secret_key: required, and missing: 64 hex characters; `carol config-gen` writes \
                 a file with a fresh one"
                    .into(),
            );
        }
        Ok(config)
    }

    /// The text of a fresh configuration file: a new random key and every other setting at its
    /// default, each explained; `data_dir` is written as given.
    pub fn generate(data_dir: &str) -> String {
        let mut config = Self::with_key(SecretKey::generate());
        config.node.data_dir = Some(data_dir.into());
        let mut out = String::from(
            "# Carol node configuration, written by `carol config-gen`.\n\
             # Run the node with `carol run --cfg FILE`. Keep this file private: whoever has\n\
             # the secret key can sign as this node.\n",
        );
        for section in SECTIONS {
            out.push('\n');
            if let Some(name) = section.name {
                comment(&mut out, section.docs);
                out.push_str(&format!("[{name}]\n"));
            }
            for (i, setting) in section.settings.iter().enumerate() {
                if section.name.is_none() && i > 0 {
                    out.push('\n');
                }
                comment(&mut out, setting.docs);
                if setting.name == "secret_key" {
                    let public = config.node.key.public_key();
                    out.push_str(&format!("# Its public key: {public}\n"));
                }
                out.push_str(&format!("{} = {}\n", setting.name, (setting.get)(&config)));
            }
        }
        out
    }

    /// The configuration reference: a Markdown table of every setting, its default and what it
    /// means, as docs/operations.md has it.
    pub fn reference() -> String {
        let defaults = Self::with_key(SecretKey::key_gen(&[0; 32]));
        let mut out = String::from("| setting | default | meaning |\n| --- | --- | --- |\n");
        for section in SECTIONS {
            for setting in section.settings {
                let name = match section.name {
                    Some(section) => format!("{section}.{}", setting.name),
                    None => setting.name.to_owned(),
                };
                let default = if setting.required {
                    "(required)".to_owned()
                } else {
                    format!("`{}`", (setting.get)(&defaults))
                };
                out.push_str(&format!("| `{name}` | {default} | {} |\n", setting.docs));
            }
        }
        out
    }

    /// Writes a fresh configuration to `path`, readable by its owner alone, with `data_dir`
    /// (relative to the file's directory); an existing file is replaced only when `overwrite`
    /// is set. Returns the checked configuration.
    pub fn write_new(path: &Path, data_dir: &str, overwrite: bool) -> Result<Self, ConfigError> {
        let text = Self::generate(data_dir);
        Self::parse(&text).expect("a generated configuration is valid");
        let write_error = |source| ConfigError::Write {
            path: path.to_owned(),
            source,
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true);
        if overwrite {
            options.create(true).truncate(true);
        } else {
            options.create_new(true);
        }
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                ConfigError::Exists(path.to_owned())
            } else {
                write_error(source)
            }
        })?;
        // `mode` applies only to files it creates: an overwritten file keeps its old permissions.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(write_error)?;
        }
        std::io::Write::write_all(&mut file, text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(write_error)?;
        Self::load(path)
    }
}

/// Applies the file's `value` of setting `name` of `section`, found at `line`.
fn apply(
    text: &str,
    config: &mut Config,
    section: &Section,
    name: &str,
    value: Spanned<DeValue<'_>>,
    line: usize,
) -> Result<(), String> {
    let path = match section.name {
        Some(section) => format!("{section}.{name}"),
        None => name.to_owned(),
    };
    let Some(setting) = section.settings.iter().find(|s| s.name == name) else {
        return Err(unknown(section, &path, line));
    };
    (setting.set)(config, value).map_err(|problem| match problem {
        Problem::Type(error) => {
            let line = error.span().map_or(line, |span| line_of(text, span.start));
            format!("line {line}, `{path}`: {}", error.message().trim_end())
        }
        Problem::Invalid { at, why } => format!("line {line}, {path}{at}: {why}"),
    })
}

fn unknown(section: &Section, path: &str, line: usize) -> String {
    let names: Vec<&str> = section.settings.iter().map(|s: &Setting| s.name).collect();
    match section.name {
        Some(name) => format!(
            "line {line}: unknown setting `{path}`; the settings of [{name}] are {}",
            names.join(", ")
        ),
        None => format!(
            "line {line}: unknown setting `{path}`; the top-level settings are {}, and the \
             sections {}",
            names.join(", "),
            section_list()
        ),
    }
}

/// `[http_fetch], [limits]`.
fn section_list() -> String {
    let sections: Vec<String> = SECTIONS
        .iter()
        .filter_map(|s| s.name.map(|n| format!("[{n}]")))
        .collect();
    sections.join(", ")
}

/// The 1-based line of byte `offset` of `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Writes `docs` as `#` comment lines of at most 80 characters.
fn comment(out: &mut String, docs: &str) {
    let mut line = String::from("#");
    for word in docs.split_whitespace() {
        if line.len() + 1 + word.len() > 80 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
}

/// Says where a TOML syntax error is and which setting it concerns, without quoting the line:
/// that line may hold the secret key.
fn describe(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim_end();
    let Some(span) = error.span() else {
        return message.to_owned();
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let setting = text
        .lines()
        .nth(line - 1)
        .and_then(|text| text.split_once('='))
        .map(|(key, _)| key.trim())
        .filter(|key| !key.is_empty() && !key.starts_with('['));
    let section = before
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix('[')?.strip_suffix(']'));
    match (setting, section) {
        (Some(key), Some(section)) => format!("line {line}, `{section}.{key}`: {message}"),
        (Some(key), None) => format!("line {line}, `{key}`: {message}"),
        _ => format!("line {line}: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DEFAULT_DATA_DIR, DEFAULT_LISTEN};
    use crate::node::NodeConfig;
    use crate::policy::Rule;
    use std::net::SocketAddr;
    use std::time::Duration;

    #[test]
    fn generated_configuration_reads_back_with_its_defaults() {
        let text = Config::generate(DEFAULT_DATA_DIR);
        let config = Config::parse(&text).unwrap();
        assert_eq!(config.listen, DEFAULT_LISTEN.parse::<SocketAddr>().unwrap());
        let defaults = NodeConfig::with_key(SecretKey::generate());
        assert_eq!(config.node.limits, defaults.limits);
        assert_eq!(config.node.fetch, defaults.fetch);
        assert_eq!(config.node.policy, defaults.policy);
        assert_eq!(config.node.concurrency, defaults.concurrency);
        assert!(text.contains(&hex::encode(config.node.key.to_bytes())));
        assert_ne!(
            Config::parse(&Config::generate(DEFAULT_DATA_DIR))
                .unwrap()
                .node
                .key
                .to_bytes(),
            config.node.key.to_bytes(),
            "every generated file has its own key"
        );
    }

    #[test]
    fn only_the_key_is_required() {
        let key = hex::encode(SecretKey::generate().to_bytes());
        let config = Config::parse(&format!(
            "secret_key = \"{key}\"\n[http_fetch]\ntimeout_ms = 1500\n"
        ))
        .unwrap();
        assert_eq!(hex::encode(config.node.key.to_bytes()), key);
        assert_eq!(config.node.fetch.timeout, Duration::from_millis(1500));
        assert!(!config.node.policy.allow_loopback);
    }

    #[test]
    fn outbound_lists_are_read() {
        let key = hex::encode(SecretKey::generate().to_bytes());
        let config = Config::parse(&format!(
            r#"secret_key = "{key}"
[http_fetch]
allow = ["10.1.2.3:8080", "*.prices.internal", "[fd00::7]:443"]
deny = ["api.example.com", "203.0.113.0/24"]
allow_only_listed = true
"#
        ))
        .unwrap();
        let policy = &config.node.policy;
        assert!(policy.allow_only_listed && !policy.allow_loopback);
        let written = |rules: &[Rule]| rules.iter().map(Rule::to_string).collect::<Vec<_>>();
        assert_eq!(
            written(&policy.allow),
            ["10.1.2.3:8080", "*.prices.internal", "[fd00::7]:443"]
        );
        assert_eq!(written(&policy.deny), ["api.example.com", "203.0.113.0/24"]);
        let to = |ip: &str, port| SocketAddr::new(ip.parse().unwrap(), port);
        assert_eq!(policy.check(None, to("10.1.2.3", 8080)), Ok(()));
        assert!(policy.check(None, to("10.1.2.3", 8081)).is_err());
        assert!(
            policy
                .check(Some("api.example.com"), to("8.8.8.8", 443))
                .is_err()
        );
    }

    #[test]
    fn bad_list_entries_are_named() {
        let key = hex::encode(SecretKey::generate().to_bytes());
        for (lists, named) in [
            (
                r#"allow = ["10.1.2.3", "example.com", "10.0.0.1/8"]"#,
                "http_fetch.allow[2]: `10.0.0.1/8`: 10.0.0.1 has bits set past the /8 prefix; \
                 the network is 10.0.0.0/8",
            ),
            (
                r#"deny = ["example.com:http"]"#,
                "http_fetch.deny[0]: `example.com:http`: the port `http` is not a number",
            ),
            (
                r#"deny = ["2130706433"]"#,
                "http_fetch.deny[0]: `2130706433`: write the address as 127.0.0.1",
            ),
            (r#"deny = [80]"#, "`http_fetch.deny`"),
            (r#"deny = "example.com""#, "`http_fetch.deny`"),
            (
                "allow_only_listed = \"yes\"",
                "`http_fetch.allow_only_listed`",
            ),
        ] {
            let text = format!("secret_key = \"{key}\"\n[http_fetch]\n{lists}\n");
            let error = Config::parse(&text).unwrap_err();
            assert!(error.contains(named), "{lists} gave {error:?}");
        }
    }

    #[test]
    fn access_settings_are_read_and_bad_ones_named() {
        let key = hex::encode(SecretKey::generate().to_bytes());
        let digest = hex::encode([7u8; 32]);
        let text = format!(
            "secret_key = \"{key}\"\n[access]\nupload = \"token\"\ntokens = [\"ci-bot:{digest}\"]\n"
        );
        let config = Config::parse(&text).unwrap();
        assert_eq!(config.node.access.upload, crate::access::Who::Token);
        assert_eq!(config.node.access.activate, crate::access::Who::Anyone);
        assert_eq!(
            config.node.access.tokens[0].entry(),
            format!("ci-bot:{digest}")
        );
        for (setting, named) in [
            (
                "upload = \"tokens\"",
                "access.upload: expected `anyone` or `token`",
            ),
            (
                "tokens = [\"alice\"]",
                "access.tokens[0]: `alice` is not NAME:SHA256",
            ),
            (
                "tokens = [\"alice:abc\"]",
                "access.tokens[0]: the part after `alice:`",
            ),
        ] {
            let text = format!("secret_key = \"{key}\"\n[access]\n{setting}\n");
            let error = Config::parse(&text).unwrap_err();
            assert!(error.contains(named), "{setting} gave {error:?}");
        }
    }

    #[test]
    fn errors_name_the_setting() {
        let key = hex::encode(SecretKey::generate().to_bytes());
        let cases = [
            ("listen = \"127.0.0.1:1\"".to_owned(), "secret_key"),
            ("secret_key = \"abc\"".to_owned(), "secret_key"),
            (
                format!("secret_key = \"{}\"", "00".repeat(32)),
                "secret_key",
            ),
            (
                format!("secret_key = \"{key}\"\nlisten = \"nowhere\""),
                "listen",
            ),
            (format!("secret_key = \"{key}\"\nlisen = \"x\""), "lisen"),
            (
                format!("secret_key = \"{key}\"\n[limits]\nmemory_bytes = \"lots\""),
                "memory_bytes",
            ),
            (
                format!("secret_key = \"{key}\"\n[limits]\nactivation_timeout_ms = 0"),
                "limits.activation_timeout_ms",
            ),
            (format!("secret_key = \"{key}\"\n[http_fetch"), "line 2"),
        ];
        for (text, named) in cases {
            let error = Config::parse(&text).unwrap_err();
            assert!(error.contains(named), "{text:?} gave {error:?}");
        }
    }

    #[test]
    fn every_error_names_its_line() {
        let key = hex::encode(SecretKey::generate().to_bytes());
        let error = Config::parse(&format!(
            "secret_key = \"{key}\"\n\n[limits]\nmax_concurrent_activations = 0\n"
        ))
        .unwrap_err();
        assert!(
            error.starts_with("line 4, limits.max_concurrent_activations: must be more than 0"),
            "{error}"
        );
        let error = Config::parse(&format!("secret_key = \"{key}\"\n[nope]\nx = 1\n")).unwrap_err();
        assert!(
            error.contains("line 2") && error.contains("[nope]"),
            "{error}"
        );
        let error = Config::parse(&format!("secret_key = \"{key}\"\nlimits = 3\n")).unwrap_err();
        assert!(
            error.contains("line 2") && error.contains("[limits]"),
            "{error}"
        );
        let error = Config::parse("").unwrap_err();
        assert!(
            error.contains("secret_key") && error.contains("required"),
            "{error}"
        );
    }

    /// The reference in docs/operations.md is the one the settings give; with
    /// `CAROL_WRITE_DOCS=1` this writes it there instead of failing.
    #[test]
    fn the_docs_reference_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/operations.md");
        let docs = std::fs::read_to_string(&path).unwrap();
        let (start, end) = (REFERENCE_START, REFERENCE_END);
        let (before, rest) = docs
            .split_once(start)
            .expect("the reference's start marker");
        let (_, after) = rest.split_once(end).expect("the reference's end marker");
        let current = format!("{before}{start}\n{}{end}{after}", Config::reference());
        if std::env::var_os("CAROL_WRITE_DOCS").is_some() {
            std::fs::write(&path, &current).unwrap();
        }
        assert!(
            docs == current,
            "docs/operations.md's configuration reference is not the settings' own: run \
             `CAROL_WRITE_DOCS=1 cargo test -p carol-host --lib config` to write it"
        );
    }

    #[test]
    fn the_generated_file_has_every_setting_commented() {
        let text = Config::generate(DEFAULT_DATA_DIR);
        for section in SECTIONS {
            if let Some(name) = section.name {
                assert!(text.contains(&format!("\n[{name}]\n")), "{name}");
            }
            for setting in section.settings {
                let line = text
                    .lines()
                    .position(|l| l.starts_with(&format!("{} = ", setting.name)))
                    .unwrap_or_else(|| panic!("{} is not in the file", setting.name));
                let above = text.lines().nth(line - 1).unwrap();
                assert!(above.starts_with("# "), "{} has no comment", setting.name);
            }
        }
    }
}
