//! `carol:machine/keys`: keys of the machine's own, derived from the node's key and the machine
//! id ([`crate::machine_keys`]), and committed nonces that never sign two messages. On a
//! federation member, every key and nonce is the members' together, and signs only with `t`
//! members' partials ([`crate::federation::machine_keys`], [`crate::federation::nonces`]); no
//! member's own key ever signs for a machine.
//!
//! Which keys a machine has used is recorded (once) for `GET /machines/{id}`. A committed
//! nonce's first message is recorded, and synced to disk, before its signature leaves the node,
//! independently of the activation's state writes: a signature that may have been seen binds
//! the nonce even if the activation then traps. Those records are deleted only with the
//! database's nonce secret ([`crate::store::Store::restore`]).

use super::bls_sign::sign_off_worker;
use super::context::MachineContext;
use crate::bindings::carol::machine::keys::{Error, Host};
use crate::federation::agreement::AgreementError;
use crate::federation::exchange::TooFewAgreed;
use crate::federation::machine_keys::MachineKeyError;
use crate::federation::nonces::{NonceError, fresh_name};
use crate::federation::{Member, Ready, Secp256k1Ready};
use crate::machine_keys::MachineKeys;
use crate::store::{NonceBinding, StoreError, UsedKeys};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Longest nonce name, in bytes.
pub const MAX_NONCE_NAME_BYTES: usize = 256;
/// Records of committed nonces that signed each machine may have, unless the node is configured
/// otherwise: a million, twenty nonces an hour for over five years.
pub const DEFAULT_NONCE_RECORDS: u64 = 1_000_000;

impl MachineContext {
    fn keys(&self) -> MachineKeys {
        self.services.machine_keys(&self.machine)
    }

    /// Records that the machine used `keys`, unless that is known already.
    async fn record_used(&self, keys: UsedKeys) -> wasmtime::Result<()> {
        let store = self.services.store.clone();
        if store.used_keys(&self.machine).contains(keys) {
            return Ok(());
        }
        let machine = self.machine;
        tokio::task::spawn_blocking(move || store.record_used_keys(&machine, keys))
            .await
            .expect("recording used keys does not panic")
            .map_err(|error| trap("recording which keys the machine used", error))
    }

    /// On a federation member, this member's share of the machine's own BLS key, made with the
    /// others on first use, and the deadline its signatures must meet to answer in time. When
    /// too few members take part, the activation answers as when too few sign; for any other
    /// reason, that this member cannot use the key.
    async fn members_machine_key(
        &self,
        member: &Member,
    ) -> wasmtime::Result<(Arc<Ready>, tokio::time::Instant)> {
        let deadline = self.members_deadline();
        match member.machine_key(&self.machine, deadline).await {
            Ok(ready) => Ok((ready, deadline)),
            Err(error) => {
                tracing::warn!(machine = %self.machine, %error, "the machine's own key cannot be made");
                Err(too_few(error, member))
            }
        }
    }

    /// The deadline a member's signatures must meet for the activation to answer in time.
    fn members_deadline(&self) -> tokio::time::Instant {
        let margin = (self.deadline - tokio::time::Instant::now()) / 10;
        self.deadline - margin
    }

    /// On a federation member, this member's share of the machine's own secp256k1 key (made
    /// with the others on first use), by `deadline`. When too few members take part, the
    /// activation answers as when too few sign.
    async fn members_secp256k1_key(
        &self,
        member: &Member,
        deadline: tokio::time::Instant,
    ) -> wasmtime::Result<Arc<Secp256k1Ready>> {
        member
            .machine_secp256k1_key(&self.machine, deadline)
            .await
            .map_err(|error| {
                tracing::warn!(machine = %self.machine, %error, "the machine's own secp256k1 key cannot be made");
                too_few(error, member)
            })
    }

    /// On a federation member, this member's share of the machine's nonce `name` (made with the
    /// others on first use), by `deadline`, as [`Self::members_secp256k1_key`].
    async fn members_nonce(
        &self,
        member: &Member,
        name: &[u8],
        deadline: tokio::time::Instant,
    ) -> wasmtime::Result<Arc<Secp256k1Ready>> {
        member
            .nonce(&self.machine, name, deadline)
            .await
            .map_err(|error| {
                tracing::warn!(machine = %self.machine, %error, "a nonce cannot be made");
                too_few(error, member)
            })
    }

    /// On a federation member, the BIP340 signature of `message` with the machine's key and
    /// its nonce `name`, once this member has recorded that the nonce signs `message` alone
    /// (`Err(Error::NonceUsed)` if it signed another) and, for a committed nonce, the members
    /// have decided that it signs `message` ([`crate::federation::votes`]). A fresh nonce
    /// (`fresh`: named by its message) can sign nothing else, and needs no decision.
    async fn members_bip340_sign(
        &mut self,
        member: &Member,
        name: &[u8],
        message: [u8; 32],
        fresh: bool,
    ) -> wasmtime::Result<Result<Vec<u8>, Error>> {
        self.committed_nonces_allowed()?;
        let deadline = self.members_deadline();
        let key = self.members_secp256k1_key(member, deadline).await?;
        let nonce = self.members_nonce(member, name, deadline).await?;
        self.record_used(UsedKeys::SECP256K1).await?;
        match self.bind(name, &message).await? {
            NonceBinding::Bound => {}
            NonceBinding::Used => {
                // Bound to another message by an earlier run, the one the members decided or
                // one they did not: either way other members' runs may have signed.
                self.outvoted |= !fresh;
                return Ok(Err(Error::NonceUsed));
            }
            NonceBinding::LimitReached => return Err(self.nonce_limit_reached()),
        }
        if !fresh {
            let digest = Sha256::digest(message).into();
            if let Err(refused) = member
                .agree_on_message(&self.machine, name, digest, deadline)
                .await
            {
                self.outvoted |= refused.outvoted;
                return Err(wasmtime::Error::new(refused.counts));
            }
        }
        match member
            .sign_with_nonce(&key, &nonce, &message, deadline)
            .await
        {
            Ok(signature) => Ok(Ok(signature.to_vec())),
            Err(NonceError::TooFew(too_few)) => Err(wasmtime::Error::new(too_few)),
            Err(error) => Err(wasmtime::Error::new(error)),
        }
    }

    /// Records, synced, that the machine's nonce `name` signs `message` (its SHA-256), unless
    /// it signed another.
    async fn bind(&self, name: &[u8], message: &[u8; 32]) -> wasmtime::Result<NonceBinding> {
        let store = self.services.store.clone();
        let machine = self.machine;
        let digest: [u8; 32] = Sha256::digest(message).into();
        let nonce = name.to_vec();
        let limit = self.services.quotas.nonce_records;
        tokio::task::spawn_blocking(move || store.bind_nonce(&machine, &nonce, &digest, limit))
            .await
            .expect("binding a nonce does not panic")
            .map_err(|error| {
                let name = String::from_utf8_lossy(name);
                trap(&format!("recording the use of nonce `{name}`"), error)
            })
    }

    /// Traps unless this node may commit nonces (`Services::committed_nonces_refused`).
    fn committed_nonces_allowed(&self) -> wasmtime::Result<()> {
        match self.services.committed_nonces_refused() {
            Some(why) => Err(wasmtime::Error::msg(why)),
            None => Ok(()),
        }
    }

    /// The trap of a machine that has as many nonce records as it may keep. A trap, not a
    /// `keys.error`: a new case would change the interface every uploaded machine imports.
    fn nonce_limit_reached(&self) -> wasmtime::Error {
        wasmtime::Error::msg(format!(
            "machine {} has {} committed nonces that signed, the most the node keeps for one \
             machine ([limits] max_nonces_per_machine): no new nonce can be announced or sign",
            self.machine, self.services.quotas.nonce_records
        ))
    }
}

/// What a secret the members could not make does to the activation: when too few members took
/// part, it answers as when too few sign; for any other reason, that this member cannot use it.
fn too_few(error: MachineKeyError, member: &Member) -> wasmtime::Error {
    let agreed = match &error {
        MachineKeyError::TooFewDealt { dealt, .. } => *dealt,
        MachineKeyError::Agreement(AgreementError::TooFew { reached, .. }) => *reached,
        // Decided, but a contribution did not reach this member in time.
        MachineKeyError::Key(carol_federation::machine_key::MachineKeyError::Missing(_)) => 0,
        _ => return wasmtime::Error::new(error),
    };
    wasmtime::Error::new(TooFewAgreed::new(agreed, member.file().threshold))
}

/// What a failed store write does to the activation: it traps rather than answer without the
/// record the answer depends on. The error is kept, so that a database out of reach is answered
/// as such.
fn trap(what: &str, error: StoreError) -> wasmtime::Error {
    wasmtime::Error::new(error).context(format!("{what} failed"))
}

/// The 32-byte message BIP340 signs, or the error naming the length given.
fn message32(message: &[u8]) -> Result<[u8; 32], Error> {
    message
        .try_into()
        .map_err(|_| Error::MessageLength(u32::try_from(message.len()).unwrap_or(u32::MAX)))
}

fn check_nonce_name(name: &str) -> Result<(), Error> {
    if name.is_empty() || name.len() > MAX_NONCE_NAME_BYTES {
        return Err(Error::NonceName);
    }
    Ok(())
}

impl Host for MachineContext {
    async fn secp256k1_public_key(&mut self) -> wasmtime::Result<Vec<u8>> {
        if let Some(member) = self.services.federation().cloned() {
            let deadline = self.members_deadline();
            let key = self.members_secp256k1_key(&member, deadline).await?;
            self.record_used(UsedKeys::SECP256K1).await?;
            return Ok(key.key().to_vec());
        }
        self.record_used(UsedKeys::SECP256K1).await?;
        Ok(self.keys().secp256k1_public_key().to_vec())
    }

    async fn secp256k1_sign(
        &mut self,
        message: Vec<u8>,
    ) -> wasmtime::Result<Result<Vec<u8>, Error>> {
        let message = match message32(&message) {
            Ok(message) => message,
            Err(error) => return Ok(Err(error)),
        };
        if let Some(member) = self.services.federation().cloned() {
            return self
                .members_bip340_sign(&member, &fresh_name(&message), message, true)
                .await;
        }
        self.record_used(UsedKeys::SECP256K1).await?;
        Ok(Ok(self.keys().secp256k1_sign(&message).to_vec()))
    }

    async fn bls_public_key(&mut self) -> wasmtime::Result<Vec<u8>> {
        if let Some(member) = self.services.federation().cloned() {
            let (ready, _) = self.members_machine_key(&member).await?;
            self.record_used(UsedKeys::BLS).await?;
            return Ok(ready.key.to_bytes().to_vec());
        }
        self.record_used(UsedKeys::BLS).await?;
        Ok(self.keys().bls_key().public_key().to_bytes().to_vec())
    }

    async fn bls_sign(&mut self, message: Vec<u8>) -> wasmtime::Result<Vec<u8>> {
        if let Some(member) = self.services.federation().cloned() {
            let (ready, deadline) = self.members_machine_key(&member).await?;
            self.record_used(UsedKeys::BLS).await?;
            let signature = member
                .sign_with(&ready, &message, deadline)
                .await
                .map_err(wasmtime::Error::new)?;
            return Ok(signature.to_bytes().to_vec());
        }
        self.record_used(UsedKeys::BLS).await?;
        let key = self.keys().bls_key();
        Ok(sign_off_worker(message.len(), move || {
            key.sign(&message).to_bytes().to_vec()
        })
        .await)
    }

    async fn nonce(&mut self, name: String) -> wasmtime::Result<Result<Vec<u8>, Error>> {
        if let Err(error) = check_nonce_name(&name) {
            return Ok(Err(error));
        }
        let member = self.services.federation().cloned();
        self.committed_nonces_allowed()?;
        self.record_used(UsedKeys::SECP256K1).await?;
        // A nonce that could never sign is not announced.
        let available = self
            .services
            .store
            .nonce_available(
                &self.machine,
                name.as_bytes(),
                self.services.quotas.nonce_records,
            )
            .map_err(|error| trap("reading the machine's nonce records", error))?;
        if !available {
            return Err(self.nonce_limit_reached());
        }
        if let Some(member) = member {
            let deadline = self.members_deadline();
            let nonce = self
                .members_nonce(&member, name.as_bytes(), deadline)
                .await?;
            return Ok(Ok(nonce.key().to_vec()));
        }
        Ok(Ok(self.keys().nonce_point(&name).to_vec()))
    }

    async fn sign_with_nonce(
        &mut self,
        name: String,
        message: Vec<u8>,
    ) -> wasmtime::Result<Result<Vec<u8>, Error>> {
        if let Err(error) = check_nonce_name(&name) {
            return Ok(Err(error));
        }
        let message = match message32(&message) {
            Ok(message) => message,
            Err(error) => return Ok(Err(error)),
        };
        if let Some(member) = self.services.federation().cloned() {
            return self
                .members_bip340_sign(&member, name.as_bytes(), message, false)
                .await;
        }
        self.committed_nonces_allowed()?;
        self.record_used(UsedKeys::SECP256K1).await?;
        Ok(match self.bind(name.as_bytes(), &message).await? {
            NonceBinding::Bound => Ok(self.keys().sign_with_nonce(&name, &message).to_vec()),
            NonceBinding::Used => Err(Error::NonceUsed),
            NonceBinding::LimitReached => return Err(self.nonce_limit_reached()),
        })
    }
}
