//! Everything a node is configured with.

use crate::admission::ConcurrencyLimits;
use crate::fetch::FetchLimits;
use crate::imports::{DEFAULT_NONCE_RECORDS, DEFAULT_QUOTA_BYTES};
use crate::policy::OutboundPolicy;
use crate::runtime::Limits;
use carol_core::bls::SecretKey;
use std::path::PathBuf;
use std::time::Duration;

/// Everything a node is configured with.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The key the node signs with.
    pub key: SecretKey,
    /// Which destinations machines may fetch from.
    pub policy: OutboundPolicy,
    /// Bounds on machines' outbound HTTP.
    pub fetch: FetchLimits,
    /// Bounds on each activation.
    pub limits: Limits,
    /// Largest component a client may upload, in bytes.
    pub max_binary_bytes: usize,
    /// Largest params a machine may be created with, in bytes.
    pub max_params_bytes: usize,
    /// Largest activation request body, in bytes.
    pub max_request_bytes: usize,
    /// Where binaries, machines and compiled code are kept; `None` keeps them in memory only.
    pub data_dir: Option<PathBuf>,
    /// Activations running and waiting at once.
    pub concurrency: ConcurrencyLimits,
    /// Bytes of keys and values each machine's state may hold.
    pub state_quota_bytes: u64,
    /// Bytes of keys and values all machines' state may hold together.
    pub state_total_quota_bytes: u64,
    /// Bytes the stored binaries and their compiled code may take together.
    pub binaries_quota_bytes: u64,
    /// Records of committed nonces that signed each machine may have.
    pub max_nonces_per_machine: u64,
    /// Who may use the HTTP API from a browser.
    pub http: HttpAccess,
    /// Who may upload, create machines and run activations.
    pub access: crate::access::Access,
    /// How often each client may upload, create machines and run activations.
    pub rates: crate::rates::RateLimits,
    /// Bounds on compiling uploads.
    pub compiles: crate::compiles::CompileLimits,
    /// The PostgreSQL database this node shares with the other nodes of its group, if it is
    /// one of a group; else everything is in the data directory.
    pub shared_store: Option<SharedStore>,
    /// The federation file of the federation this node is a member of, if it is one.
    pub federation: Option<PathBuf>,
    /// How long the federation's key generation may take before the node gives up (and
    /// keeps nothing).
    pub keygen_timeout: Duration,
}

/// Which `Host` names the node answers for, and which web origins' pages may call it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpAccess {
    /// Host names answered besides IP addresses and `localhost`, lowercase
    /// (`oracle.example.com`).
    pub hosts: Vec<String>,
    /// Origins (`https://app.example.com`) whose pages may call the API, with CORS.
    pub allowed_origins: Vec<String>,
}

impl HttpAccess {
    /// Whether the node answers a request whose `Host` header is `host` (`name` or `name:port`):
    /// for an IP address, `localhost`, or a listed name. A page from another site can make a
    /// browser send any name that resolves to the node (DNS rebinding), never an address or
    /// `localhost` it did not load the page from.
    pub fn answers_for(&self, host: &str) -> bool {
        let name = match host.strip_prefix('[') {
            Some(bracketed) => {
                return bracketed
                    .split_once(']')
                    .is_some_and(|(ip, _)| ip.parse::<std::net::Ipv6Addr>().is_ok());
            }
            None => host.rsplit_once(':').map_or(host, |(name, _)| name),
        };
        let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
        name.parse::<std::net::Ipv4Addr>().is_ok()
            || name == "localhost"
            || self.hosts.contains(&name)
    }

    /// Whether pages of `origin` may call the API.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|allowed| allowed == origin)
    }
}

/// The publicly known development key's seed: signatures made with it prove nothing.
const DEVELOPMENT_KEY_SEED: &[u8] = b"carol development key: never use for anything real";

impl NodeConfig {
    /// A configuration signing with `key` and default limits and policy.
    pub fn with_key(key: SecretKey) -> Self {
        Self {
            key,
            policy: OutboundPolicy::default(),
            fetch: FetchLimits::default(),
            limits: Limits::default(),
            max_binary_bytes: 64 * 1024 * 1024,
            max_params_bytes: 64 * 1024,
            max_request_bytes: 4 * 1024 * 1024,
            data_dir: None,
            concurrency: ConcurrencyLimits::default(),
            state_quota_bytes: DEFAULT_QUOTA_BYTES,
            state_total_quota_bytes: 4 << 30,
            binaries_quota_bytes: 8 << 30,
            max_nonces_per_machine: DEFAULT_NONCE_RECORDS,
            http: HttpAccess::default(),
            access: crate::access::Access::default(),
            rates: crate::rates::RateLimits::default(),
            compiles: crate::compiles::CompileLimits::default(),
            shared_store: None,
            federation: None,
            keygen_timeout: Duration::from_secs(600),
        }
    }

    /// A configuration with the publicly known development key, for local development only.
    pub fn development() -> Self {
        use sha2::Digest;
        let seed = sha2::Sha256::digest(DEVELOPMENT_KEY_SEED);
        Self::with_key(
            SecretKey::from_le_bytes_reduced(&seed)
                .expect("the development seed reduces to a non-zero scalar"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_answered_are_addresses_localhost_and_listed_names() {
        let access = HttpAccess {
            hosts: vec!["oracle.example.com".into()],
            ..HttpAccess::default()
        };
        for host in [
            "127.0.0.1:8000",
            "127.0.0.1",
            "10.1.2.3:80",
            "[::1]:8000",
            "[::1]",
            "localhost:8000",
            "LOCALHOST",
            "localhost.",
            "oracle.example.com",
            "Oracle.Example.com:443",
        ] {
            assert!(access.answers_for(host), "{host}");
        }
        for host in [
            "rebind.evil.example",
            "rebind.evil.example:8000",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "[nope]:80",
            "example.com",
            "",
        ] {
            assert!(!access.answers_for(host), "{host}");
        }
    }
}

/// The connection string of a shared PostgreSQL database. It may hold a password, so its
/// `Debug` shows none of it.
#[derive(Clone, PartialEq, Eq)]
pub struct SharedStore(pub String);

impl std::fmt::Debug for SharedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedStore(..)")
    }
}
