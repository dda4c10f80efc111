//! A Carol machine as the oracle of a DLC wallet built on rust-dlc: [`CarolOracle`] implements
//! `dlc-manager`'s [`dlc_manager::Oracle`] for a dlcspecs oracle machine (`examples/dlc-oracle`)
//! on one node, or on a federation of nodes that is one oracle to the wallet and `t` of `n`
//! members underneath.
//!
//! It trusts the node for nothing it can check. When it connects it checks that the machine id
//! is the one of the binary and params the party expects, that the node describes the machine
//! so, and that the oracle key the machine answers is the secp256k1 key the node holds as that
//! machine's (so that no machine can announce under a key of its author's). It checks that each
//! announcement is of the event asked for, under that key, and validly signed, and that each
//! attestation signs, with the announced nonces, one digit per nonce. On a federation it asks
//! every member given and needs the federation's threshold of them to answer the same bytes;
//! members that answer differently are an error. Every failure is an [`Error`] case of its own.
//!
//! ```no_run
//! use carol_dlc::CarolOracle;
//! use carol_core::ids::{BinaryId, MachineId};
//! use dlc_manager::Oracle;
//!
//! # async fn run(binary: BinaryId, params: Vec<u8>) -> Result<(), carol_dlc::Error> {
//! let machine = MachineId::of(&binary, &params);
//! // One node; `CarolOracle::federation(&member_urls, machine)` for a federation.
//! let oracle = CarolOracle::new("https://oracle.example", machine)
//!     .expecting(binary, params)
//!     .connect()
//!     .await?;
//! // A wallet on dlc-manager takes it as any oracle, by its key.
//! let key = oracle.get_public_key();
//! let announcement = oracle.announcement("btc-usd-2027-01-01").await?;
//! # let _ = (key, announcement);
//! # Ok(())
//! # }
//! ```
//!
//! `dlc-manager`'s [`dlc_manager::Oracle`] is not async: its methods run the request on a
//! thread of their own, so they may be called from inside an async runtime too. The requests are
//! async ([`CarolOracle::announcement`], [`CarolOracle::attestation`]), each within a timeout,
//! and asked again when a node answers 503 with `Retry-After`.

mod checks;
mod client;
mod error;
mod oracle;

pub use checks::Expected;
pub use error::Error;
pub use oracle::{CarolOracle, Connect};
