//! `carol:machine/bls-sign`: signatures by the node, bound to the machine that asked.

use super::context::MachineContext;
use crate::bindings::carol::machine::bls_sign::Host;

/// Longest message signed where the activation runs; a longer one is hashed on a blocking
/// thread, so that no message, whatever its size, holds a worker thread other requests need
/// (64 KiB hash in well under a tenth of a millisecond).
const INLINE_SIGN_BYTES: usize = 64 * 1024;

/// Runs `sign`, over a message of `len` bytes, here or on a blocking thread.
pub(super) async fn sign_off_worker<T: Send + 'static>(
    len: usize,
    sign: impl FnOnce() -> T + Send + 'static,
) -> T {
    if len <= INLINE_SIGN_BYTES {
        sign()
    } else {
        tokio::task::spawn_blocking(sign)
            .await
            .expect("signing does not panic")
    }
}

impl Host for MachineContext {
    fn public_key(&mut self) -> wasmtime::Result<Vec<u8>> {
        if let Some(member) = self.services.federation()
            && !member.is_ready()
        {
            return Err(wasmtime::Error::msg(
                "this node is a federation member whose federation key is not made yet: it has \
                 no key to give",
            ));
        }
        Ok(self.services.public_key().to_bytes().to_vec())
    }

    async fn sign(&mut self, message: Vec<u8>) -> wasmtime::Result<Vec<u8>> {
        if let Some(member) = self.services.federation() {
            let mut signed = Vec::with_capacity(32 + message.len());
            signed.extend_from_slice(self.machine.as_bytes());
            signed.extend_from_slice(&message);
            // Answer before the activation's own time is up, so that the client hears why.
            let margin = (self.deadline - tokio::time::Instant::now()) / 10;
            let signature = member
                .sign(&signed, self.deadline - margin)
                .await
                .map_err(wasmtime::Error::new)?;
            return Ok(signature.to_bytes().to_vec());
        }
        let services = self.services.clone();
        let machine = self.machine;
        Ok(sign_off_worker(message.len(), move || {
            services
                .key
                .sign_for_machine(&machine, &message)
                .to_bytes()
                .to_vec()
        })
        .await)
    }
}
