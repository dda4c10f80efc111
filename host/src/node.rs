//! A node: its configuration, what it holds, and the operations its routes and tools use.

use crate::bls::{PublicKey, SecretKey};
use crate::ids::BinaryId;
use crate::imports::Services;
use crate::imports::http_fetch::{FetchLimits, HttpClient};
use crate::policy::OutboundPolicy;
use crate::runtime::{Binary, Limits, LoadError, Machine, Runtime};
use crate::store::Store;
use std::future::Future;
use std::sync::Arc;

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
        }
    }

    /// A configuration with the publicly known development key, for local development only.
    pub fn development() -> Self {
        use sha2::Digest;
        let seed: [u8; 32] = sha2::Sha256::digest(DEVELOPMENT_KEY_SEED).into();
        let mut wide = [0u8; 64];
        wide[..32].copy_from_slice(&seed);
        let scalar = bls12_381::Scalar::from_bytes_wide(&wide);
        let mut bytes = scalar.to_bytes();
        bytes.reverse();
        Self::with_key(
            SecretKey::from_bytes(&bytes)
                .expect("the development seed reduces to a non-zero scalar"),
        )
    }
}

/// A Carol node. Cloning it is cheap and shares everything.
#[derive(Clone)]
pub struct Node {
    inner: Arc<Inner>,
}

struct Inner {
    runtime: Runtime,
    store: Store,
    config: NodeConfig,
}

/// Why a machine cannot be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// The binary is not on this node.
    #[error("no binary {0} on this node: upload it first with POST /binaries")]
    UnknownBinary(BinaryId),
    /// The params are larger than the node accepts.
    #[error("params of {size} bytes exceed this node's limit of {limit} bytes")]
    ParamsTooLarge {
        /// Their size.
        size: usize,
        /// The limit.
        limit: usize,
    },
}

impl Node {
    /// A node with nothing on it yet.
    pub fn new(config: NodeConfig) -> anyhow::Result<Self> {
        let services = Services::new(
            config.key.clone(),
            HttpClient::new(config.policy.clone(), config.fetch.clone()),
        );
        let runtime = Runtime::new(services, config.limits.clone())?;
        Ok(Self {
            inner: Arc::new(Inner {
                runtime,
                store: Store::default(),
                config,
            }),
        })
    }

    /// The node's public key.
    pub fn public_key(&self) -> PublicKey {
        self.inner.runtime.services().public_key()
    }

    /// The node's configuration.
    pub fn config(&self) -> &NodeConfig {
        &self.inner.config
    }

    /// The runtime that compiles and runs machines.
    pub fn runtime(&self) -> &Runtime {
        &self.inner.runtime
    }

    /// The binaries and machines held.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Compiles and checks a component and keeps it; returns it and whether it is new.
    /// Compiling takes a while: call this off the async executor.
    pub fn add_binary(&self, bytes: &[u8]) -> Result<(Arc<Binary>, bool), LoadError> {
        if let Some(existing) = self.inner.store.binary(&BinaryId::of(bytes)) {
            return Ok((existing, false));
        }
        let binary = self.inner.runtime.load(bytes)?;
        Ok(self.inner.store.insert_binary(binary))
    }

    /// Creates the machine of a stored binary with `params`; returns it and whether it is new.
    pub fn create_machine(
        &self,
        binary: &BinaryId,
        params: Vec<u8>,
    ) -> Result<(Machine, bool), CreateError> {
        let limit = self.inner.config.max_params_bytes;
        if params.len() > limit {
            return Err(CreateError::ParamsTooLarge {
                size: params.len(),
                limit,
            });
        }
        let binary = self
            .inner
            .store
            .binary(binary)
            .ok_or(CreateError::UnknownBinary(*binary))?;
        Ok(self
            .inner
            .store
            .insert_machine(Machine::new(binary, params)))
    }

    /// Serves the HTTP API on `listener` until the process ends.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        self.serve_until(listener, std::future::pending()).await
    }

    /// Serves the HTTP API on `listener` until `shutdown` completes, then lets open requests finish.
    pub async fn serve_until(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, crate::routes::router(self))
            .with_graceful_shutdown(shutdown)
            .await
    }
}
