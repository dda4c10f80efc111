//! The wasmtime side of the node: components compiled and checked into [`Binary`]s (their
//! imports linked, their exports read into activations and named types), machines, and
//! activations run each in a fresh instance.
//!
//! [`Loader::checking`] compiles and checks a component without a node: no epoch thread, no
//! database, an instance pool of one slot, as `cargo carol build` and `api` need.

mod activate;
mod binary;
mod engine;
mod exports;
mod host_state;
mod limits;
mod loader;
mod machine;
mod output;
mod type_names;

pub use activate::{ActivationError, Ran, Runtime};
pub use binary::{Binary, LoadError};
pub use limits::Limits;
pub use loader::Loader;
pub use machine::Machine;
