//! `carol`: the Carol node.

use anyhow::Context;
use carol_host::bls::SecretKey;
use carol_host::config::{Config, DEFAULT_LISTEN};
use carol_host::{Node, NodeConfig};
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A Carol node: runs uploaded machines and serves their activations over HTTP.
#[derive(Parser)]
#[command(name = "carol", version, about)]
struct Cli {
    /// The configuration file (TOML), as written by `carol config-gen`.
    #[arg(long, global = true, value_name = "FILE")]
    cfg: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a configuration file with a fresh secret key and the default settings, commented.
    ConfigGen {
        /// Replace the file if it exists (its old key is lost).
        #[arg(long)]
        force: bool,
    },
    /// Serve the HTTP API.
    Run {
        /// Where to listen [default: the configuration's `listen`, or 127.0.0.1:8000].
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
        /// Let machines fetch from loopback addresses (for local development and tests).
        #[arg(long)]
        allow_loopback: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    match start(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn start(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::ConfigGen { force } => {
            let path = cli.cfg.context(
                "say where to write the configuration: `carol config-gen --cfg carol.toml`",
            )?;
            config_gen(&path, force)
        }
        Command::Run {
            listen,
            allow_loopback,
        } => {
            carol_host::logging::init();
            run(cli.cfg.as_deref(), listen, allow_loopback).await
        }
    }
}

fn config_gen(path: &Path, force: bool) -> anyhow::Result<()> {
    let config = Config::write_new(path, force)?;
    eprintln!(
        "wrote {} (readable by you alone)\npublic key: {}\nrun the node with: carol run --cfg {}",
        path.display(),
        hex::encode(config.node.key.public_key().to_bytes()),
        path.display(),
    );
    Ok(())
}

async fn run(
    cfg: Option<&Path>,
    listen: Option<SocketAddr>,
    allow_loopback: bool,
) -> anyhow::Result<()> {
    let (mut config, configured_listen) = match cfg {
        Some(path) => {
            let config = Config::load(path)?;
            warn_if_readable_by_others(path);
            (config.node, config.listen)
        }
        None => {
            tracing::warn!(
                "no --cfg given: signing with a fresh key that lasts until this node stops; \
                 write a configuration with `carol config-gen --cfg FILE`"
            );
            let listen = DEFAULT_LISTEN.parse().expect("the default address parses");
            (NodeConfig::with_key(SecretKey::generate()), listen)
        }
    };
    config.policy.allow_loopback |= allow_loopback;
    let listen = listen.unwrap_or(configured_listen);
    let node = Node::new(config).context("cannot start the node's runtime")?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(
        url = %format!("http://{}", listener.local_addr()?),
        public_key = %hex::encode(node.public_key().to_bytes()),
        allow_loopback = node.config().policy.allow_loopback,
        "serving"
    );
    let shutdown = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    node.serve_until(listener, shutdown)
        .await
        .context("the node stopped serving")
}

/// The secret key is in the file: say so when others can read it.
fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(metadata) = std::fs::metadata(path)
            && metadata.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                file = %path.display(),
                "the configuration holds the node's secret key but others may read it: chmod 600 it"
            );
        }
    }
}
