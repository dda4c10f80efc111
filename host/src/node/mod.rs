//! A node, without HTTP: what it holds, and the operations its routes, tools and benchmarks use.
//!
//! [`Node`] owns the database ([`Store`]: ids and bytes), the registry of the live binaries and
//! machines compiled from it, the runtime and the admission turnstile. Serving it over HTTP is
//! `crate::routes`' job.

mod copies;
mod describe;
mod errors;
mod group;
mod node_config;
mod operations;
mod removals;

pub use errors::{ActivateError, AddError, CreateError};
pub use node_config::{HttpAccess, NodeConfig, SharedStore};
pub use operations::Turn;
pub use removals::{RemoveError, Removed};

use crate::admission::Admission;
use crate::compiles::Compiles;
use crate::federation::file::FederationFile;
use crate::federation::{Member, Reach, Ready, Secp256k1Ready};
use crate::fetch::HttpClient;
use crate::imports::{Quotas, Services};
use crate::metrics::Metrics;
use crate::rates::Rates;
use crate::registry::Registry;
use crate::runtime::{Binary, Machine, Runtime};
use crate::store::{CompiledCode, Store, StoreError};
use carol_core::api::CompileCounts;
use carol_core::bls::{PublicKey, SecretKey};
use carol_core::ids::BinaryId;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A Carol node. Cloning it is cheap and shares everything.
#[derive(Clone)]
pub struct Node {
    inner: Arc<Inner>,
}

struct Inner {
    runtime: Runtime,
    store: Arc<Store>,
    registry: Registry,
    admission: Admission,
    config: NodeConfig,
    federation: Option<Arc<Member>>,
    rates: Rates,
    compiles: Compiles,
    /// Bytes the stored binaries and their compiled code take, against the quota.
    binaries_bytes: std::sync::atomic::AtomicU64,
}

impl Node {
    /// A node with what its data directory holds (nothing, the first time). Binaries are
    /// loaded from the compiled-code cache where it has them, else compiled again.
    pub fn new(config: NodeConfig) -> anyhow::Result<Self> {
        // A member's agreements are serialized by a lock of its process alone.
        if config.federation.is_some() && config.shared_store.is_some() {
            anyhow::bail!(
                "a federation member cannot share a PostgreSQL store (`[store] postgres`) with \
                 other nodes yet: run each member as one node with its own data directory"
            );
        }
        let store = Arc::new(match &config.shared_store {
            Some(shared) => Store::open_shared(
                config.data_dir.as_deref(),
                &shared.0,
                &config.key.public_key().to_bytes(),
            )?,
            None => Store::open(config.data_dir.as_deref())?,
        });
        let metrics = Arc::new(Metrics::default());
        if store.nonce_secret().is_none() {
            tracing::warn!(
                "this database was made before committed nonces had a secret of their own: they \
                 derive from the node's key alone, so another database with this key derives \
                 the same ones. To give it a secret (announcements made so far become \
                 unattestable): stop the node, `carol backup --to FILE`, then \
                 `carol restore --from FILE --replace` (docs/operations.md)"
            );
        }
        let federation = match &config.federation {
            Some(path) => {
                let file = FederationFile::load(path)?;
                let member = Member::open(
                    file,
                    path.clone(),
                    &config.key,
                    config.data_dir.as_deref(),
                    Self::reach(&config),
                    store.clone(),
                    metrics.clone(),
                )?;
                Some(member)
            }
            None => None,
        };
        Self::assemble(config, store, federation, metrics)
    }

    /// A member of the development federation of `file`, with its node key `key` and its
    /// share `ready` (one of
    /// [`Development::members`](crate::federation::development::Development::members)); `config`'s key and federation file are
    /// not used.
    pub fn development_member(
        mut config: NodeConfig,
        file: &FederationFile,
        key: SecretKey,
        ready: (Ready, Secp256k1Ready),
    ) -> anyhow::Result<Self> {
        config.federation = None;
        config.key = key;
        let store = Arc::new(Store::open(config.data_dir.as_deref())?);
        let reach = Self::reach(&config);
        let metrics = Arc::new(Metrics::default());
        let member = Member::development(
            file.clone(),
            &config.key,
            ready,
            reach,
            store.clone(),
            metrics.clone(),
        )?;
        Self::assemble(config, store, Some(member), metrics)
    }

    /// How far a member's requests to the others go: what it passes on may take an
    /// activation's whole time, and then some; a component it copies is bounded like an upload.
    fn reach(config: &NodeConfig) -> Reach {
        Reach {
            forward_timeout: config.limits.activation_timeout + Duration::from_secs(5),
            component_bytes: config.max_binary_bytes,
        }
    }

    fn assemble(
        config: NodeConfig,
        store: Arc<Store>,
        federation: Option<Member>,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let federation = federation.map(Arc::new);
        let development = config.key.to_bytes() == NodeConfig::development().key.to_bytes()
            || federation.as_ref().is_some_and(|m| m.is_development());
        let services = Services::new(
            config.key.clone(),
            development,
            HttpClient::new(config.policy.clone(), config.fetch.clone()),
            store.clone(),
            Quotas {
                state_bytes: config.state_quota_bytes,
                nonce_records: config.max_nonces_per_machine,
                state_total_bytes: config.state_total_quota_bytes,
            },
            metrics,
        );
        let services = match &federation {
            Some(member) => services.in_federation(member.clone()),
            None => services,
        };
        let runtime = Runtime::new(services, config.limits.clone(), config.concurrency.running)?;
        let members = federation.iter().flat_map(|m| m.member_addresses());
        let rates = Rates::new(&config.rates, members);
        let compiles = Compiles::new(config.compiles.clone());
        let node = Self {
            inner: Arc::new(Inner {
                runtime,
                store,
                registry: Registry::default(),
                admission: Admission::new(config.concurrency.clone()),
                config,
                federation,
                rates,
                compiles,
                binaries_bytes: 0.into(),
            }),
        };
        // Read before the restore, which may compile for a while: a removal meanwhile is
        // followed afterwards.
        let removals_seen = node.store().group_latest_removal()?;
        node.restore()?;
        node.follow_group_removals(removals_seen);
        // Counted once what the restore compiled again is stored too.
        let held = node.store().binaries_bytes()?;
        node.inner
            .binaries_bytes
            .store(held, std::sync::atomic::Ordering::Release);
        Ok(node)
    }

    /// Serves what the store holds.
    fn restore(&self) -> Result<(), StoreError> {
        let (store, registry) = (&self.inner.store, &self.inner.registry);
        let binaries = store.stored_binaries()?;
        let loader = self.inner.runtime.loader();
        let keys: Vec<[u8; 32]> = binaries
            .iter()
            .map(|(id, _)| loader.cache_key(id))
            .collect();
        store.retain_compiled(&keys)?;
        for (id, bytes) in binaries {
            match self.compiled(&id, &bytes) {
                Ok(binary) => {
                    registry.insert_binary(binary);
                }
                // Kept on disk: a node that provides its imports again will serve it.
                Err(error) => {
                    tracing::error!(binary = %id, %error, "a stored binary cannot run on this node; its machines are not served")
                }
            }
        }
        for (id, stored) in store.stored_machines()? {
            match registry.binary(&stored.binary) {
                Some(binary) => {
                    registry.insert_machine(Machine::new(binary, stored.params));
                }
                None => {
                    tracing::error!(machine = %id, binary = %stored.binary, "a stored machine's binary is not served; the machine is not either")
                }
            }
        }
        let (binaries, machines) = registry.counts();
        if binaries + machines > 0 {
            tracing::info!(binaries, machines, "restored from the data directory");
        }
        Ok(())
    }

    /// A stored binary, from the compiled-code cache if it holds a usable entry, else compiled
    /// (and cached) again.
    fn compiled(&self, id: &BinaryId, bytes: &[u8]) -> Result<Binary, AddError> {
        let loader = self.inner.runtime.loader();
        let store = &self.inner.store;
        let key = loader.cache_key(id);
        // The cache only saves time: an entry that cannot be read is compiled again.
        let cached = store.compiled(&key).unwrap_or_else(|error| {
            tracing::warn!(binary = %id, %error, "cannot read the compiled-code cache");
            None
        });
        let started = Instant::now();
        if let Some(code) = cached
            && let Some(component) = loader.cached(&code)
        {
            self.metrics().cache_loaded(started.elapsed());
            tracing::info!(binary = %id, "loaded compiled code from the cache");
            // An entry an earlier node kept in the database moves to a file, to be mapped.
            if let CompiledCode::Bytes(code) = &code
                && store.is_durable()
                && let Err(error) = store.put_compiled(&key, code)
            {
                tracing::warn!(binary = %id, %error, "cannot move the compiled code to a file");
            }
            return Ok(loader.prepare(bytes, &component)?);
        }
        let (binary, code) = self.compile(bytes)?;
        tracing::info!(binary = %id, "compiled (no usable cache entry)");
        // The cache only saves time: a binary whose code cannot be cached (a full disk) is
        // served all the same.
        if let Some(code) = code
            && let Err(error) = store.put_compiled(&key, &code)
        {
            tracing::warn!(binary = %id, %error, "cannot cache the compiled code");
        }
        Ok(binary)
    }

    /// Compiles and links a component, counting it; returns it with its serialized code for
    /// the cache.
    fn compile(
        &self,
        bytes: &[u8],
    ) -> Result<(Binary, Option<Vec<u8>>), crate::runtime::LoadError> {
        let loader = self.inner.runtime.loader();
        let started = Instant::now();
        let component = loader.compile(bytes)?;
        self.metrics().compiled(started.elapsed());
        let binary = loader.prepare(bytes, &component)?;
        Ok((binary, loader.serialize(&component)))
    }

    /// How the node got its binaries' machine code since it started.
    pub fn stats(&self) -> CompileCounts {
        let (compiled, cache_loads) = self.metrics().compile_counts();
        CompileCounts {
            compiled,
            cache_loads,
        }
    }

    /// Its bounds on compiling uploads.
    pub fn compiles(&self) -> &Compiles {
        &self.inner.compiles
    }

    /// Its clients' rate limits.
    pub fn rates(&self) -> &Rates {
        &self.inner.rates
    }

    /// What the node counts, for `GET /metrics`.
    pub fn metrics(&self) -> &Metrics {
        self.inner.runtime.services().metrics()
    }

    /// The node's public key.
    pub fn public_key(&self) -> PublicKey {
        self.inner.runtime.services().public_key()
    }

    /// The node's own key, which on a federation member signs only its protocol messages.
    pub fn node_key(&self) -> PublicKey {
        self.inner.config.key.public_key()
    }

    /// The federation this node is a member of, if it is one.
    pub fn federation(&self) -> Option<&Arc<Member>> {
        self.inner.federation.as_ref()
    }

    /// The node's configuration.
    pub fn config(&self) -> &NodeConfig {
        &self.inner.config
    }

    /// The runtime that compiles and runs machines.
    pub fn runtime(&self) -> &Runtime {
        &self.inner.runtime
    }

    /// The node's database.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The binaries and machines the node serves.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// The turnstile activations pass to run.
    pub fn admission(&self) -> &Admission {
        &self.inner.admission
    }
}
