//! What a configuration file holds.

use crate::logging::LogFormat;
use crate::node::NodeConfig;
use crate::server::Connections;
use carol_core::bls::SecretKey;
use std::net::SocketAddr;

/// Where the node listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8000";

/// The data directory unless told otherwise, relative to the configuration file's directory.
pub const DEFAULT_DATA_DIR: &str = "carol-data";

/// A configuration file, read and checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the HTTP API listens.
    pub listen: SocketAddr,
    /// How the log is written.
    pub log_format: LogFormat,
    /// Where `GET /metrics` is served when not on the HTTP API's listener.
    pub metrics_listen: Option<SocketAddr>,
    /// Bounds on the HTTP API's connections.
    pub connections: Connections,
    /// Everything the node itself is configured with.
    pub node: NodeConfig,
}

impl Config {
    /// The configuration with `key` and every other setting at its default.
    pub(super) fn with_key(key: SecretKey) -> Self {
        let mut node = NodeConfig::with_key(key);
        node.data_dir = Some(DEFAULT_DATA_DIR.into());
        Self {
            listen: DEFAULT_LISTEN.parse().expect("the default address parses"),
            metrics_listen: None,
            log_format: LogFormat::Text,
            connections: Connections::default(),
            node,
        }
    }
}
