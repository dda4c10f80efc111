//! `carol`: the Carol node.

use anyhow::Context;
use carol_host::bls::SecretKey;
use carol_host::{Node, NodeConfig};
use clap::{Parser, Subcommand};
use std::net::SocketAddr;

/// A Carol node: runs uploaded machines and serves their activations over HTTP.
#[derive(Parser)]
#[command(name = "carol", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API.
    Run {
        /// Where to listen.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8000")]
        listen: SocketAddr,
        /// Let machines fetch from loopback addresses (for local development and tests).
        #[arg(long)]
        allow_loopback: bool,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    carol_host::logging::init();
    let Command::Run {
        listen,
        allow_loopback,
    } = Cli::parse().command;
    let mut config = NodeConfig::with_key(SecretKey::generate());
    config.policy.allow_loopback = allow_loopback;
    let node = Node::new(config)?;
    tracing::warn!("signing with a fresh key that lasts until this node stops");
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(url = %format!("http://{}", listener.local_addr()?), public_key = %hex::encode(node.public_key().to_bytes()), "serving");
    let shutdown = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    node.serve_until(listener, shutdown)
        .await
        .context("the node stopped serving")
}
