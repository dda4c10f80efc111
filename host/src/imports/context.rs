//! What the imports of every machine share, and what those of one activation work with.

use super::session::{StateLocks, StateSession};
use crate::federation::Member;
use crate::fetch::HttpClient;
use crate::machine_keys::MachineKeys;
use crate::metrics::Metrics;
use crate::store::Store;
use carol_core::bls::{PublicKey, SecretKey};
use carol_core::ids::{BinaryId, MachineId};
use std::sync::Arc;

/// What every machine on a node shares: the node's key, its outbound HTTP client, and the store
/// that holds machines' state.
pub struct Services {
    pub(super) key: SecretKey,
    /// Whether `key` is the publicly known development key, whose signatures prove nothing.
    development: bool,
    pub(super) public_key: PublicKey,
    pub(super) http: HttpClient,
    pub(super) store: Arc<Store>,
    pub(super) quotas: Quotas,
    pub(super) state_locks: StateLocks,
    /// The federation this node is a member of, if it is one: then it never signs with its own
    /// key for a machine.
    pub(super) federation: Option<Arc<Member>>,
    /// What the node counts, for `GET /metrics`.
    pub(super) metrics: Arc<Metrics>,
    /// Bytes of keys and values all machines' committed state holds.
    state_used: std::sync::atomic::AtomicU64,
}

/// What each machine may keep on the node.
#[derive(Debug, Clone, Copy)]
pub struct Quotas {
    /// Bytes of keys and values in its state.
    pub state_bytes: u64,
    /// Records of committed nonces that signed.
    pub nonce_records: u64,
    /// Bytes of keys and values in all machines' state together.
    pub state_total_bytes: u64,
}

impl Services {
    /// Services signing with `key` (`development`: the publicly known development key),
    /// fetching through `http`, and keeping machines' state and nonce records in `store`,
    /// within `quotas`, counting what they do in `metrics`.
    pub fn new(
        key: SecretKey,
        development: bool,
        http: HttpClient,
        store: Arc<Store>,
        quotas: Quotas,
        metrics: Arc<Metrics>,
    ) -> Self {
        // Counted once at start; a store that cannot say counts nothing, and fails again where
        // it matters, at the first state call.
        let state_used = store.state_total_bytes().unwrap_or_else(|error| {
            tracing::warn!(%error, "cannot count the bytes of machines' state");
            0
        });
        Self {
            public_key: key.public_key(),
            development,
            key,
            http,
            store,
            quotas,
            state_used: std::sync::atomic::AtomicU64::new(state_used),
            state_locks: StateLocks::default(),
            federation: None,
            metrics,
        }
    }

    /// Bytes of keys and values all machines' committed state holds.
    pub(super) fn state_used(&self) -> u64 {
        self.state_used.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Waits for `machine`'s state lock, as an activation that uses its state does: holding
    /// it, nothing commits to the machine's state.
    pub async fn lock_state(&self, machine: &MachineId) -> tokio::sync::OwnedMutexGuard<()> {
        self.state_locks.lock(machine).await
    }

    /// A machine's state went from `before` to `after` bytes, committed.
    pub(crate) fn state_committed(&self, before: u64, after: u64) {
        use std::sync::atomic::Ordering;
        let _ = self
            .state_used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                Some(used.saturating_add(after).saturating_sub(before))
            });
    }

    /// What the node counts, for `GET /metrics`.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The same services on a member of the federation of `member`.
    pub fn in_federation(mut self, member: Arc<Member>) -> Self {
        self.federation = Some(member);
        self
    }

    /// The key the node's signatures verify under: on a federation member, the federation
    /// key once it is made; otherwise the node's key.
    pub fn public_key(&self) -> PublicKey {
        self.federation
            .as_ref()
            .and_then(|member| member.public_key())
            .unwrap_or(self.public_key)
    }

    /// The federation this node is a member of, if it is one.
    pub(crate) fn federation(&self) -> Option<&Arc<Member>> {
        self.federation.as_ref()
    }

    /// The keys of `machine` alone, derived from the node's key and, for committed nonces, the
    /// database's nonce secret. Inside the crate: a committed nonce must sign only through the
    /// `keys` import, which binds it to its message first.
    pub(crate) fn machine_keys(&self, machine: &MachineId) -> MachineKeys {
        MachineKeys::new(&self.key, machine, self.store.nonce_secret())
    }

    /// Why committed nonces are refused on this node, if they are: its database is in memory,
    /// so the record of what each nonce signed would end with it, and the key is not the
    /// publicly known development key.
    pub(crate) fn committed_nonces_refused(&self) -> Option<&'static str> {
        (!self.store.is_durable() && !self.development).then_some(
            "this node keeps no durable record of what committed nonces signed (it has no data \
             directory), so it refuses them: run it with a data directory",
        )
    }
}

/// The state the imports of one activation work with.
pub(crate) struct MachineContext {
    pub(super) machine: MachineId,
    pub(super) binary: BinaryId,
    pub(super) params: Arc<[u8]>,
    pub(super) services: Arc<Services>,
    /// Outbound requests made so far in this activation.
    pub(super) fetches: u32,
    /// The activation's use of its machine's state, from its first state call on.
    pub(super) state: Option<StateSession>,
    /// When the activation runs out of time.
    pub(super) deadline: tokio::time::Instant,
    /// Whether a signature with a committed nonce was refused because the nonce signs another
    /// message ([`crate::runtime::Ran::outvoted`]).
    pub(super) outvoted: bool,
}

impl MachineContext {
    /// The context of an activation of `machine` (of `binary`, with `params`).
    pub(crate) fn new(
        machine: MachineId,
        binary: BinaryId,
        params: Arc<[u8]>,
        services: Arc<Services>,
        deadline: tokio::time::Instant,
    ) -> Self {
        Self {
            machine,
            binary,
            params,
            services,
            fetches: 0,
            state: None,
            deadline,
            outvoted: false,
        }
    }

    /// Whether a signature with a committed nonce was refused to this activation because the
    /// nonce signs another message.
    pub(crate) fn outvoted(&self) -> bool {
        self.outvoted
    }
}
