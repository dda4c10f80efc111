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
//! carol_host::routes::serve(node, listener).await?;
//! # Ok(()) }
//! ```
//!
//! The pieces, from the outside in: [`routes`] (the HTTP API, and [`page`] and [`openapi`] for
//! browsers and tools) serve a [`Node`], which holds the [`store`] (the database), a
//! [`registry`] of live binaries and machines, the [`runtime`] (wasmtime) and the [`admission`]
//! turnstile; machines reach the node through its [`imports`] (signing with [`machine_keys`],
//! outbound HTTP through [`fetch`] within the [`policy`], their state); [`values`] is the one
//! model of WIT types and values that routes, pages, schemas and the command line share.
//! [`config`] reads the node's configuration file. What clients need (ids, signatures, the
//! API's JSON) is in `carol-core`.

pub mod access;
pub mod admission;
mod bindings;
pub mod compiles;
pub mod config;
pub mod federation;
pub mod fetch;
pub mod imports;
pub mod logging;
pub mod machine_keys;
pub mod metrics;
mod node;
pub mod openapi;
pub mod page;
pub mod policy;
pub mod rates;
pub mod registry;
pub mod routes;
pub mod runtime;
pub mod server;
pub mod store;
pub mod values;

pub use node::{ActivateError, AddError, CreateError, HttpAccess, Node, NodeConfig};
