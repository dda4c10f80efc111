//! A node: its configuration, what it holds, and the operations its routes and tools use.

use crate::admission::{Admission, ConcurrencyLimits};
use crate::bls::{PublicKey, SecretKey};
use crate::ids::BinaryId;
use crate::imports::Services;
use crate::imports::http_fetch::{FetchLimits, HttpClient};
use crate::policy::OutboundPolicy;
use crate::runtime::{Binary, Limits, LoadError, Machine, Runtime};
use crate::store::{Store, StoreError};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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
            state_quota_bytes: crate::imports::state::DEFAULT_QUOTA_BYTES,
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

/// A Carol node. Cloning it is cheap and shares everything.
#[derive(Clone)]
pub struct Node {
    inner: Arc<Inner>,
}

struct Inner {
    runtime: Runtime,
    store: Arc<Store>,
    admission: Admission,
    config: NodeConfig,
    stats: Stats,
}

/// What the node did since it started, for `GET /healthz`.
#[derive(Default)]
struct Stats {
    compiled: AtomicU64,
    cache_loads: AtomicU64,
}

/// Counts of what the node did since it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct NodeStats {
    /// Components compiled to machine code (uploads, and restarts without a usable cache entry).
    pub compiled: u64,
    /// Components loaded from the compiled-code cache instead.
    pub cache_loads: u64,
}

/// Why a binary cannot be added.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    /// The component cannot run on this node.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// It could not be stored.
    #[error(transparent)]
    Store(#[from] StoreError),
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
    /// It could not be stored.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Node {
    /// A node with what its data directory holds (nothing, the first time). Binaries are
    /// loaded from the compiled-code cache where it has them, else compiled again.
    pub fn new(config: NodeConfig) -> anyhow::Result<Self> {
        let store = Arc::new(Store::open(config.data_dir.as_deref())?);
        let services = Services::new(
            config.key.clone(),
            HttpClient::new(config.policy.clone(), config.fetch.clone()),
            store.clone(),
            config.state_quota_bytes,
        );
        let runtime = Runtime::new(services, config.limits.clone(), config.concurrency.running)?;
        let node = Self {
            inner: Arc::new(Inner {
                runtime,
                store,
                admission: Admission::new(config.concurrency.clone()),
                config,
                stats: Stats::default(),
            }),
        };
        node.restore()?;
        Ok(node)
    }

    /// Serves what the store holds.
    fn restore(&self) -> Result<(), StoreError> {
        let store = &self.inner.store;
        for (id, bytes) in store.stored_binaries()? {
            match self.compiled(&id, &bytes) {
                Ok(binary) => {
                    store.insert_binary(binary);
                }
                // Kept on disk: a node that provides its imports again will serve it.
                Err(error) => {
                    tracing::error!(binary = %id, %error, "a stored binary cannot run on this node; its machines are not served")
                }
            }
        }
        for (id, stored) in store.stored_machines()? {
            match store.binary(&stored.binary) {
                Some(binary) => {
                    store.insert_machine(Machine::new(binary, stored.params));
                }
                None => {
                    tracing::error!(machine = %id, binary = %stored.binary, "a stored machine's binary is not served; the machine is not either")
                }
            }
        }
        let (binaries, machines) = store.counts();
        if binaries + machines > 0 {
            tracing::info!(binaries, machines, "restored from the data directory");
        }
        Ok(())
    }

    /// A stored binary, from the compiled-code cache if it holds a usable entry, else compiled
    /// (and cached) again.
    fn compiled(&self, id: &BinaryId, bytes: &[u8]) -> Result<Binary, AddError> {
        let runtime = &self.inner.runtime;
        let store = &self.inner.store;
        let key = runtime.cache_key(id);
        // The cache only saves time: an entry that cannot be read is compiled again.
        let cached = store.compiled(&key).unwrap_or_else(|error| {
            tracing::warn!(binary = %id, %error, "cannot read the compiled-code cache");
            None
        });
        if let Some(component) = cached.and_then(|code| runtime.deserialize(&code)) {
            self.inner.stats.cache_loads.fetch_add(1, Ordering::Relaxed);
            tracing::info!(binary = %id, "loaded compiled code from the cache");
            return Ok(runtime.prepare(bytes, &component)?);
        }
        let (binary, code) = self.compile(bytes)?;
        tracing::info!(binary = %id, "compiled (no usable cache entry)");
        if let Some(code) = code {
            store.put_compiled(&key, &code)?;
        }
        Ok(binary)
    }

    /// Compiles and links a component, counting it; returns it with its serialized code for
    /// the cache.
    fn compile(&self, bytes: &[u8]) -> Result<(Binary, Option<Vec<u8>>), LoadError> {
        let runtime = &self.inner.runtime;
        let component = runtime.compile(bytes)?;
        self.inner.stats.compiled.fetch_add(1, Ordering::Relaxed);
        let binary = runtime.prepare(bytes, &component)?;
        Ok((binary, runtime.serialize(&component)))
    }

    /// What the node did since it started.
    pub fn stats(&self) -> NodeStats {
        NodeStats {
            compiled: self.inner.stats.compiled.load(Ordering::Relaxed),
            cache_loads: self.inner.stats.cache_loads.load(Ordering::Relaxed),
        }
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

    /// The turnstile activations pass to run.
    pub fn admission(&self) -> &Admission {
        &self.inner.admission
    }

    /// The binaries and machines held.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Compiles and checks a component and stores it, with its compiled code, before it is
    /// served; returns it and whether it is new. Compiling and syncing to disk take a while:
    /// call this off the async executor.
    pub fn add_binary(&self, bytes: &[u8]) -> Result<(Arc<Binary>, bool), AddError> {
        let store = &self.inner.store;
        let id = BinaryId::of(bytes);
        if let Some(existing) = store.binary(&id) {
            return Ok((existing, false));
        }
        let (binary, code) = self.compile(bytes)?;
        let key = self.inner.runtime.cache_key(&id);
        store.put_binary(&id, bytes, code.as_deref().map(|code| (&key, code)))?;
        Ok((store.insert_binary(binary), true))
    }

    /// Creates the machine of a stored binary with `params` and stores it before it is
    /// served; returns it and whether it is new. Syncing to disk takes a while: call this off
    /// the async executor.
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
        let store = &self.inner.store;
        let binary = store
            .binary(binary)
            .ok_or(CreateError::UnknownBinary(*binary))?;
        let machine = Machine::new(binary, params);
        if let Some(existing) = store.machine(&machine.id()) {
            return Ok((existing, false));
        }
        store.put_machine(&machine)?;
        Ok((store.insert_machine(machine), true))
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
