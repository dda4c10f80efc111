//! What a node is asked to do: store binaries, create machines, run activations.

use super::Node;
use super::errors::{ActivateError, AddError, CreateError};
use crate::admission::Busy;
use crate::metrics::Outcome;
use crate::runtime::{ActivationError, Binary, Machine, Ran};
use crate::store::CompiledCode;
use carol_core::ids::BinaryId;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::SemaphorePermit;
use wasmtime::component::Val;

impl Node {
    /// Compiles and checks a component and stores it, with its compiled code, before it is
    /// served; returns it and whether it is new. Compiling and syncing to disk take a while:
    /// call this off the async executor.
    /// This compiles at once, whatever else compiles: a node serving clients uses
    /// [`Node::upload`], which keeps within `[compiles]`.
    pub fn add_binary(&self, bytes: &[u8]) -> Result<(Arc<Binary>, bool), AddError> {
        let id = BinaryId::of(bytes);
        if let Some(existing) = self.registry().binary(&id) {
            return Ok((existing, false));
        }
        self.refuse_removed(&id)?;
        let (binary, code) = self.compile(bytes)?;
        self.keep_binary(bytes, binary, code)
    }

    /// Compiles and checks an uploaded component within the node's bounds on compiles
    /// (`[compiles]`: a turn, a queue, a time and a memory budget), and stores it, with its
    /// compiled code, before it is served; returns it and whether it is new.
    pub async fn upload(&self, bytes: Arc<Vec<u8>>) -> Result<(Arc<Binary>, bool), AddError> {
        let id = BinaryId::of(&bytes);
        if let Some(existing) = self.registry().binary(&id) {
            return Ok((existing, false));
        }
        self.refuse_removed(&id)?;
        // Past the quota already with the component alone: refused before it compiles.
        self.within_binaries_quota(bytes.len() as u64)?;
        let here = self.clone();
        let (compiled, took) = self
            .compiles()
            .compile(
                bytes.clone(),
                self.config().limits.memory_bytes,
                |code| self.runtime().loader().deserialize(code),
                move |bytes| here.runtime().loader().compile(bytes),
            )
            .await?;
        let component = compiled?;
        self.metrics().compiled(took);
        let node = self.clone();
        tokio::task::spawn_blocking(move || {
            let loader = node.runtime().loader();
            let binary = loader.prepare(&bytes, &component)?;
            let code = loader.serialize(&component);
            node.keep_binary(&bytes, binary, code)
        })
        .await
        .map_err(|panicked| {
            crate::runtime::LoadError::Invalid(format!("checking the component failed: {panicked}"))
        })?
    }

    /// Stores a compiled binary and its code, then serves it, unless it is served already (a
    /// concurrent upload of the same component). Syncs to disk.
    fn keep_binary(
        &self,
        bytes: &[u8],
        binary: Binary,
        code: Option<Vec<u8>>,
    ) -> Result<(Arc<Binary>, bool), AddError> {
        let registry = self.registry();
        if let Some(existing) = registry.binary(&binary.id()) {
            return Ok((existing, false));
        }
        let needs = (bytes.len() + code.as_ref().map_or(0, Vec::len)) as u64;
        self.reserve_binary_bytes(needs)?;
        let key = self.runtime().loader().cache_key(&binary.id());
        let put = self.store().put_binary(
            &binary.id(),
            bytes,
            code.as_deref().map(|code| (&key, code)),
        );
        if let Err(error) = put {
            self.release_binary_bytes(needs);
            return Err(error.into());
        }
        // In a data directory the code is a file now: serve the engine's mapping of it rather
        // than the copy the compile produced, so that the code is held once, by the page cache.
        // The file was written and synced just now, from this very code: it is mapped without
        // being read back to check it.
        let loader = self.runtime().loader();
        let binary = match code.as_ref().and(self.store().compiled_file(&key)) {
            Some(path) => loader
                .cached(&CompiledCode::File(path))
                .and_then(|component| loader.prepare(bytes, &component).ok())
                .unwrap_or(binary),
            None => binary,
        };
        self.metrics().uploaded();
        Ok((registry.insert_binary(binary), true))
    }

    /// Refuses binary `id` if the operator removed it.
    fn refuse_removed(&self, id: &BinaryId) -> Result<(), AddError> {
        match self.removal(id.as_bytes()) {
            Some(removal) => Err(AddError::Removed {
                id: *id,
                reason: removal.reason,
            }),
            None => Ok(()),
        }
    }

    /// Counts `needs` more bytes of binaries against `[limits] binaries_quota_bytes`, or
    /// refuses.
    fn reserve_binary_bytes(&self, needs: u64) -> Result<(), AddError> {
        let quota = self.config().binaries_quota_bytes;
        let held = &self.inner.binaries_bytes;
        held.fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
            used.checked_add(needs).filter(|&total| total <= quota)
        })
        .map(|_| ())
        .map_err(|used| AddError::Quota { quota, used, needs })
    }

    /// Whether `needs` more bytes of binaries would fit the quota now, counting nothing.
    fn within_binaries_quota(&self, needs: u64) -> Result<(), AddError> {
        let quota = self.config().binaries_quota_bytes;
        let used = self.inner.binaries_bytes.load(Ordering::Acquire);
        match used.checked_add(needs).is_some_and(|total| total <= quota) {
            true => Ok(()),
            false => Err(AddError::Quota { quota, used, needs }),
        }
    }

    fn release_binary_bytes(&self, bytes: u64) {
        self.inner.binaries_bytes.fetch_sub(bytes, Ordering::AcqRel);
    }

    /// Creates the machine of a stored binary with `params` and stores it before it is
    /// served; returns it and whether it is new. Syncing to disk takes a while: call this off
    /// the async executor.
    pub fn create_machine(
        &self,
        binary: &BinaryId,
        params: Vec<u8>,
    ) -> Result<(Machine, bool), CreateError> {
        let limit = self.config().max_params_bytes;
        if params.len() > limit {
            return Err(CreateError::ParamsTooLarge {
                size: params.len(),
                limit,
            });
        }
        let registry = self.registry();
        let removed = |what: String, id: &[u8; 32]| {
            self.removal(id).map(|removal| CreateError::Removed {
                what,
                reason: removal.reason,
            })
        };
        let Some(binary) = registry.binary(binary) else {
            return Err(removed(format!("binary {binary}"), binary.as_bytes())
                .unwrap_or(CreateError::UnknownBinary(*binary)));
        };
        let machine = Machine::new(binary, params);
        if let Some(existing) = registry.machine(&machine.id()) {
            return Ok((existing, false));
        }
        if let Some(refused) = removed(format!("machine {}", machine.id()), machine.id().as_bytes())
        {
            return Err(refused);
        }
        self.store()
            .put_machine(&machine.id(), &machine.binary_id(), machine.params())?;
        self.metrics().created();
        Ok((registry.insert_machine(machine), true))
    }

    /// Runs activation `index` of `machine` with `args` once the admission turnstile lets it,
    /// in a fresh instance; returns its result, `None` for a function without one.
    pub async fn activate(
        &self,
        machine: &Machine,
        index: usize,
        args: &[Val],
    ) -> Result<Option<Val>, ActivateError> {
        let turn = self.admit().await?;
        Ok(turn.activate(machine, index, args).await?)
    }

    /// Waits for a turn to run an activation. Convert its arguments and its result while
    /// holding it, as the HTTP routes do: the concurrency limit then bounds the memory those
    /// take, not only the instances.
    pub async fn admit(&self) -> Result<Turn<'_>, Busy> {
        let permit = self.admission().enter().await.inspect_err(|_| {
            self.metrics()
                .activation(Outcome::Refused, std::time::Duration::ZERO)
        })?;
        Ok(Turn {
            node: self,
            _permit: permit,
        })
    }
}

/// A turn to run one activation on a node, from [`Node::admit`]; the next waiting activation
/// gets its turn when this is dropped.
pub struct Turn<'a> {
    node: &'a Node,
    _permit: SemaphorePermit<'a>,
}

impl Turn<'_> {
    /// Runs activation `index` of `machine` with `args` in a fresh instance; returns its
    /// result, `None` for a function without one.
    pub async fn activate(
        &self,
        machine: &Machine,
        index: usize,
        args: &[Val],
    ) -> Result<Option<Val>, ActivationError> {
        self.run(machine, index, args).await.result
    }

    /// Like [`Turn::activate`], with what the node learnt of the run beside its result.
    pub async fn run(&self, machine: &Machine, index: usize, args: &[Val]) -> Ran {
        let started = std::time::Instant::now();
        let ran = self.node.runtime().run(machine, index, args).await;
        let outcome = match &ran.result {
            Ok(Some(Val::Result(Err(_)))) => Outcome::Err,
            Ok(_) => Outcome::Ok,
            Err(ActivationError::Trap { .. }) => Outcome::Trap,
            Err(ActivationError::Timeout { .. }) => Outcome::Timeout,
            Err(ActivationError::MemoryLimit { .. }) => Outcome::Memory,
            Err(_) => Outcome::Failed,
        };
        let took = started.elapsed();
        self.node.metrics().activation(outcome, took);
        tracing::debug!(
            machine = %machine.id(),
            activation = machine.binary().activations()[index].name,
            outcome = outcome.as_str(),
            micros = took.as_micros() as u64,
            "activation finished"
        );
        ran
    }
}
