//! Everything a node is configured with.

use crate::admission::ConcurrencyLimits;
use crate::fetch::FetchLimits;
use crate::imports::DEFAULT_QUOTA_BYTES;
use crate::policy::OutboundPolicy;
use crate::runtime::Limits;
use carol_core::bls::SecretKey;
use std::path::PathBuf;

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
