//! The node's configuration file: what `carol config-gen` writes and `carol run --cfg` reads.
//!
//! The file is TOML. Only `secret_key` is required; every other setting has the default that
//! [`NodeConfig::with_key`] uses, so a file written by an older version keeps working. Unknown
//! settings are refused, so a misspelt one is not silently ignored.

use crate::bls::SecretKey;
use crate::node::NodeConfig;
use crate::policy::Rule;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the node listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8000";

/// The data directory unless told otherwise, relative to the configuration file's directory.
pub const DEFAULT_DATA_DIR: &str = "carol-data";

/// A configuration file, read and checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the HTTP API listens.
    pub listen: SocketAddr,
    /// Everything the node itself is configured with.
    pub node: NodeConfig,
}

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
        /// What is wrong, naming the setting (and, for syntax errors, the line).
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

/// The file's layout; names are the settings' names in the file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    secret_key: String,
    #[serde(default = "default_listen")]
    listen: SocketAddr,
    #[serde(default = "default_data_dir")]
    data_dir: PathBuf,
    #[serde(default)]
    http_fetch: HttpFetch,
    #[serde(default)]
    limits: LimitsSection,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct HttpFetch {
    #[serde(default)]
    allow_loopback: bool,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
    #[serde(default)]
    allow_only_listed: bool,
    timeout_ms: Option<u64>,
    max_response_bytes: Option<usize>,
    max_requests_per_activation: Option<u32>,
    max_redirects: Option<u8>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LimitsSection {
    activation_timeout_ms: Option<u64>,
    memory_bytes: Option<usize>,
    output_bytes: Option<usize>,
    max_binary_bytes: Option<usize>,
    max_params_bytes: Option<usize>,
    max_request_bytes: Option<usize>,
    max_concurrent_activations: Option<usize>,
    max_waiting_activations: Option<usize>,
    max_wait_ms: Option<u64>,
    state_quota_bytes: Option<u64>,
}

fn default_data_dir() -> PathBuf {
    DEFAULT_DATA_DIR.into()
}

fn default_listen() -> SocketAddr {
    DEFAULT_LISTEN.parse().expect("the default address parses")
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
        // A relative data directory is where the configuration file is, wherever the node runs.
        if let Some(dir) = &mut config.node.data_dir
            && dir.is_relative()
        {
            let base = path.parent().unwrap_or(Path::new(""));
            *dir = base.join(&*dir);
        }
        Ok(config)
    }

    /// Checks the text of a configuration file; the error names the setting at fault.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: File = toml::from_str(text).map_err(|e| describe(text, &e))?;
        let key = hex::decode(file.secret_key.trim())
            .ok()
            .and_then(|bytes| SecretKey::from_bytes(&bytes).ok())
            .ok_or_else(|| {
                "secret_key: expected 64 hex characters (a 32-byte big-endian BLS12-381 scalar, \
                 not zero); `carol config-gen` writes a fresh one"
                    .to_owned()
            })?;
        let mut node = NodeConfig::with_key(key);
        node.data_dir = Some(file.data_dir);
        let fetch = file.http_fetch;
        node.policy.allow_loopback = fetch.allow_loopback;
        node.policy.allow_only_listed = fetch.allow_only_listed;
        let rules = |list: &str, entries: &[String]| {
            entries
                .iter()
                .enumerate()
                .map(|(i, entry)| {
                    entry
                        .parse::<Rule>()
                        .map_err(|e| format!("http_fetch.{list}[{i}]: {e}"))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        node.policy.allow = rules("allow", &fetch.allow)?;
        node.policy.deny = rules("deny", &fetch.deny)?;
        set(
            &mut node.fetch.timeout,
            fetch.timeout_ms.map(Duration::from_millis),
        );
        set(&mut node.fetch.max_response_bytes, fetch.max_response_bytes);
        set(
            &mut node.fetch.max_requests_per_activation,
            fetch.max_requests_per_activation,
        );
        set(&mut node.fetch.max_redirects, fetch.max_redirects);
        let limits = file.limits;
        set(
            &mut node.limits.activation_timeout,
            limits.activation_timeout_ms.map(Duration::from_millis),
        );
        set(&mut node.limits.memory_bytes, limits.memory_bytes);
        set(&mut node.limits.output_bytes, limits.output_bytes);
        set(&mut node.max_binary_bytes, limits.max_binary_bytes);
        set(&mut node.max_params_bytes, limits.max_params_bytes);
        set(&mut node.max_request_bytes, limits.max_request_bytes);
        set(
            &mut node.concurrency.running,
            limits.max_concurrent_activations,
        );
        set(
            &mut node.concurrency.waiting,
            limits.max_waiting_activations,
        );
        set(
            &mut node.concurrency.wait,
            limits.max_wait_ms.map(Duration::from_millis),
        );
        set(&mut node.state_quota_bytes, limits.state_quota_bytes);
        for (name, value) in [
            ("http_fetch.timeout_ms", node.fetch.timeout.as_millis()),
            (
                "limits.activation_timeout_ms",
                node.limits.activation_timeout.as_millis(),
            ),
        ] {
            if value == 0 {
                return Err(format!("{name}: must be more than 0"));
            }
        }
        if node.concurrency.running == 0 {
            return Err("limits.max_concurrent_activations: must be more than 0".into());
        }
        Ok(Self {
            listen: file.listen,
            node,
        })
    }

    /// The text of a fresh configuration file: a new random key and every other setting at its
    /// default, each explained.
    pub fn generate(data_dir: &str) -> String {
        let node = NodeConfig::with_key(SecretKey::generate());
        let fetch = &node.fetch;
        let limits = &node.limits;
        format!(
            r#"# Carol node configuration, written by `carol config-gen`.
# Run the node with `carol run --cfg FILE`. Keep this file private: whoever has
# the secret key can sign as this node.

# The node's BLS12-381 secret key: 32 bytes, big-endian, in hex. Clients see
# its public key at GET / ({public_key}).
secret_key = "{secret_key}"

# Where the HTTP API listens; `carol run --listen ADDR` overrides it.
listen = "{listen}"

# Where binaries, machines and their compiled code are kept (a redb database,
# carol.redb). A relative path is relative to this file's directory.
data_dir = "{data_dir}"

# Outbound HTTP from machines (the http-fetch import).
[http_fetch]
# Machines may reach public unicast addresses only, unless the lists below say
# otherwise. Loopback is for local development and tests (`carol run
# --allow-loopback` turns it on too); no allow entry opens it without this.
allow_loopback = false
# Destinations machines may reach besides public addresses, such as an internal
# price server: host names ("prices.internal", "*.example.com" for subdomains),
# addresses and networks ("10.1.2.3", "10.1.0.0/16", "2001:db8::/32"), each
# optionally with a port ("10.1.2.3:8080", "[2001:db8::1]:8443"; no port or
# ":*" is any port). Host names are trusted for whatever they resolve to.
allow = []
# Destinations machines may never reach, whatever else allows them; same forms.
deny = []
# true: machines may reach only what `allow` lists, not every public address.
allow_only_listed = false
# Time for one request, redirects included, in milliseconds.
timeout_ms = {timeout_ms}
# Largest response body a machine may receive, in bytes.
max_response_bytes = {max_response_bytes}
# Requests one activation may make.
max_requests_per_activation = {max_requests}
# Redirects followed for one request.
max_redirects = {max_redirects}

# Bounds on uploads and activations.
[limits]
# Wall-clock time for one activation, in milliseconds.
activation_timeout_ms = {activation_timeout_ms}
# Linear memory one machine instance may grow to, in bytes.
memory_bytes = {memory_bytes}
# Bytes of a machine's stdout and of its stderr kept per activation.
output_bytes = {output_bytes}
# Largest component a client may upload, in bytes.
max_binary_bytes = {max_binary_bytes}
# Largest params a machine may be created with, in bytes.
max_params_bytes = {max_params_bytes}
# Largest activation request body, in bytes.
max_request_bytes = {max_request_bytes}
# Activations running at once; more wait, up to max_waiting_activations of them
# for at most max_wait_ms each, then get 503 with Retry-After.
max_concurrent_activations = {running}
max_waiting_activations = {waiting}
max_wait_ms = {wait_ms}
# Bytes of keys and values each machine's state may hold; a write past it gets
# quota-exceeded. Lowering it never deletes state, it only refuses growth.
state_quota_bytes = {state_quota_bytes}
"#,
            public_key = hex::encode(node.key.public_key().to_bytes()),
            secret_key = hex::encode(node.key.to_bytes()),
            listen = DEFAULT_LISTEN,
            data_dir = data_dir.replace('\\', "\\\\").replace('"', "\\\""),
            timeout_ms = fetch.timeout.as_millis(),
            max_response_bytes = fetch.max_response_bytes,
            max_requests = fetch.max_requests_per_activation,
            max_redirects = fetch.max_redirects,
            activation_timeout_ms = limits.activation_timeout.as_millis(),
            memory_bytes = limits.memory_bytes,
            output_bytes = limits.output_bytes,
            max_binary_bytes = node.max_binary_bytes,
            max_params_bytes = node.max_params_bytes,
            max_request_bytes = node.max_request_bytes,
            running = node.concurrency.running,
            waiting = node.concurrency.waiting,
            wait_ms = node.concurrency.wait.as_millis(),
            state_quota_bytes = node.state_quota_bytes,
        )
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

/// Says where a TOML error is and which setting it concerns, without quoting the line: that
/// line may hold the secret key.
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

fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *field = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_configuration_reads_back_with_its_defaults() {
        let text = Config::generate(DEFAULT_DATA_DIR);
        let config = Config::parse(&text).unwrap();
        assert_eq!(config.listen, default_listen());
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
}
