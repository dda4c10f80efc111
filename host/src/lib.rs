//! The Carol node: a wasmtime component host that runs *machines* and serves their typed
//! exports over HTTP.
//!
//! A machine is a WASI 0.2 component whose world includes `carol:machine/machine@0.1.1` (or
//! `@0.1.0`: components built against the older package run unchanged). Each
//! exported function is an *activation*: the node reads the component's types, turns every
//! activation into a route, converts JSON and query arguments into WIT values, runs the call in
//! a fresh instance and answers with the JSON of the result.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! use carol_host::{Node, NodeConfig};
//!
//! let node = Node::new(NodeConfig::development())?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! node.serve(listener).await?;
//! # Ok(()) }
//! ```
//!
//! The pieces, in the order a request meets them: [`routes`] (the HTTP API), [`values`] (WIT
//! values ⇄ JSON), [`runtime`] (wasmtime), [`imports`] (the services a machine imports),
//! [`store`] (binaries, machines, machines' state); [`ids`] and [`bls`] are shared with clients.

pub mod admission;
pub mod bls;
pub mod config;
pub mod doc_section;
pub mod ids;
pub mod imports;
pub mod logging;
pub mod machine_keys;
mod node;
pub mod openapi;
pub mod page;
pub mod policy;
pub mod routes;
pub mod runtime;
pub mod store;
pub mod values;

pub use node::{AddError, CreateError, Node, NodeConfig, NodeStats};

/// The name and version of the `carol:machine` WIT package this node provides.
pub const WIT_PACKAGE: &str = "carol:machine@0.1.1";

/// The text of the `carol:machine` WIT package this node provides.
pub const WIT: &str = include_str!("../../wit/machine.wit");
