//! `carol:machine/keys`: keys of the machine's own, derived from the node's key and the machine
//! id ([`crate::machine_keys`]), and committed nonces that never sign two messages.
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
use crate::federation::{Member, Ready};
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

    /// Traps on a federation member, for secp256k1 signatures and committed nonces: a
    /// machine's own keys there must be used by the members together, which this version does
    /// for its BLS key and its secp256k1 public key only, and never derived from one member's
    /// key.
    fn own_keys_allowed(&self) -> wasmtime::Result<()> {
        match self.services.own_signatures_refused() {
            Some(why) => Err(wasmtime::Error::msg(format!(
                "{why}, and secp256k1 signatures with a machine's own key (carol:machine/keys) \
                 made by the members together are not available in this version yet"
            ))),
            None => Ok(()),
        }
    }

    /// On a federation member, this member's share of the machine's own BLS key, made with the
    /// others on first use, and the deadline its signatures must meet to answer in time. When
    /// too few members take part, the activation answers as when too few sign; for any other
    /// reason, that this member cannot use the key.
    async fn members_machine_key(
        &self,
        member: &Member,
    ) -> wasmtime::Result<(Arc<Ready>, tokio::time::Instant)> {
        let margin = (self.deadline - tokio::time::Instant::now()) / 10;
        let deadline = self.deadline - margin;
        match member.machine_key(&self.machine, deadline).await {
            Ok(ready) => Ok((ready, deadline)),
            Err(error) => {
                tracing::warn!(machine = %self.machine, %error, "the machine's own key cannot be made");
                let agreed = match &error {
                    MachineKeyError::TooFewDealt { dealt, .. } => *dealt,
                    MachineKeyError::Agreement(AgreementError::TooFew { reached, .. }) => *reached,
                    _ => return Err(wasmtime::Error::new(error)),
                };
                Err(wasmtime::Error::new(TooFewAgreed {
                    agreed,
                    threshold: member.file().threshold,
                }))
            }
        }
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

/// What a failed store write does to the activation: it traps rather than answer without the
/// record the answer depends on.
fn trap(what: &str, error: StoreError) -> wasmtime::Error {
    wasmtime::Error::msg(format!("{what} failed: {error}"))
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
            let key = member
                .machine_secp256k1_key(&self.machine)
                .map_err(wasmtime::Error::new)?;
            self.record_used(UsedKeys::SECP256K1).await?;
            return Ok(key.to_vec());
        }
        self.own_keys_allowed()?;
        self.record_used(UsedKeys::SECP256K1).await?;
        Ok(self.keys().secp256k1_public_key().to_vec())
    }

    async fn secp256k1_sign(
        &mut self,
        message: Vec<u8>,
    ) -> wasmtime::Result<Result<Vec<u8>, Error>> {
        self.own_keys_allowed()?;
        let message = match message32(&message) {
            Ok(message) => message,
            Err(error) => return Ok(Err(error)),
        };
        self.record_used(UsedKeys::SECP256K1).await?;
        Ok(Ok(self.keys().secp256k1_sign(&message).to_vec()))
    }

    async fn bls_public_key(&mut self) -> wasmtime::Result<Vec<u8>> {
        if let Some(member) = self.services.federation().cloned() {
            let (ready, _) = self.members_machine_key(&member).await?;
            self.record_used(UsedKeys::BLS).await?;
            return Ok(ready.key.to_bytes().to_vec());
        }
        self.own_keys_allowed()?;
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
        self.own_keys_allowed()?;
        self.record_used(UsedKeys::BLS).await?;
        let key = self.keys().bls_key();
        Ok(sign_off_worker(message.len(), move || {
            key.sign(&message).to_bytes().to_vec()
        })
        .await)
    }

    async fn nonce(&mut self, name: String) -> wasmtime::Result<Result<Vec<u8>, Error>> {
        self.own_keys_allowed()?;
        if let Err(error) = check_nonce_name(&name) {
            return Ok(Err(error));
        }
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
        Ok(Ok(self.keys().nonce_point(&name).to_vec()))
    }

    async fn sign_with_nonce(
        &mut self,
        name: String,
        message: Vec<u8>,
    ) -> wasmtime::Result<Result<Vec<u8>, Error>> {
        self.own_keys_allowed()?;
        if let Err(error) = check_nonce_name(&name) {
            return Ok(Err(error));
        }
        let message = match message32(&message) {
            Ok(message) => message,
            Err(error) => return Ok(Err(error)),
        };
        self.committed_nonces_allowed()?;
        self.record_used(UsedKeys::SECP256K1).await?;
        let store = self.services.store.clone();
        let machine = self.machine;
        let digest: [u8; 32] = Sha256::digest(message).into();
        let nonce = name.clone();
        let limit = self.services.quotas.nonce_records;
        let binding = tokio::task::spawn_blocking(move || {
            store.bind_nonce(&machine, nonce.as_bytes(), &digest, limit)
        })
        .await
        .expect("binding a nonce does not panic")
        .map_err(|error| trap(&format!("recording the use of nonce `{name}`"), error))?;
        Ok(match binding {
            NonceBinding::Bound => Ok(self.keys().sign_with_nonce(&name, &message).to_vec()),
            NonceBinding::Used => Err(Error::NonceUsed),
            NonceBinding::LimitReached => return Err(self.nonce_limit_reached()),
        })
    }
}
