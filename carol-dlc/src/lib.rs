//! A Carol machine as the oracle of a DLC wallet built on rust-dlc: [`CarolOracle`] implements
//! `dlc-manager`'s [`dlc_manager::Oracle`] for a dlcspecs oracle machine (`examples/dlc-oracle`)
//! on one node, or on a federation of nodes that is one oracle to the wallet and `t` of `n`
//! members underneath.
//!
//! It trusts the node for nothing it can check. When it connects it checks that the machine id
//! is the one of the binary and params the party expects, that the node describes the machine
//! so, and that the oracle key the machine answers is the secp256k1 key the node holds as that
//! machine's (so that no machine can announce under a key of its author's; the key itself is the
//! node's word, or on a federation its threshold of members': pin it with
//! [`Connect::expecting_key`]). [`CarolOracle::announce`] checks an announcement is of the
//! contract's [`Terms`], the symbol included, which its signed bytes do not carry. It checks that each
//! announcement is of the event asked for, under that key, and validly signed, and that each
//! attestation signs, with the announced nonces, one digit per nonce. On a federation it asks
//! every member given and needs the federation's threshold of them to answer the same bytes;
//! members that answer differently are an error. Every failure is an [`Error`] case of its own.
//!
//! ```no_run
//! use carol_dlc::{CarolOracle, Terms};
//! use carol_core::ids::{BinaryId, MachineId};
//! use dlc_manager::Oracle;
//! use std::collections::HashMap;
//! use std::sync::Arc;
//!
//! # async fn run(binary: BinaryId, params: Vec<u8>) -> Result<(), carol_dlc::Error> {
//! let machine = MachineId::of(&binary, &params);
//! // One node; `CarolOracle::federation(&member_urls, machine)` for a federation.
//! let oracle = CarolOracle::new("https://oracle.example", machine)
//!     .expecting(binary, params)
//!     .connect()
//!     .await?;
//! // Each party announces the event on the contract's terms: the same announcement, or an error.
//! let terms = Terms {
//!     symbol: ".BXBT".into(),
//!     maturity: 1_798_761_600,
//!     base: 2,
//!     nb_digits: 20,
//! };
//! let announcement = oracle.announce("btc-usd-2027-01-01", &terms).await?;
//! // A wallet on dlc-manager takes it as any oracle, by its key.
//! let mut oracles = HashMap::new();
//! oracles.insert(oracle.get_public_key(), Arc::new(oracle));
//! # let _ = (oracles, announcement);
//! # Ok(())
//! # }
//! ```
//!
//! `dlc-manager`'s [`dlc_manager::Oracle`] is not async: its methods run the request on a
//! thread of their own, so they may be called from inside an async runtime too. The requests are
//! async ([`CarolOracle::announcement`], [`CarolOracle::attestation`]), on Tokio, each within a
//! timeout, and asked again when a node answers 503 with `Retry-After`.

mod checks;
mod client;
mod error;
mod oracle;

pub use checks::{Expected, Terms};
pub use error::Error;
pub use oracle::{CarolOracle, Connect};
