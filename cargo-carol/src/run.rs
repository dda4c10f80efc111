//! `cargo carol run`.

use crate::activations;
use crate::outln;
use crate::source::Source;
use anyhow::Context;
use carol_host::config::DEFAULT_LISTEN;
use carol_host::{Node, NodeConfig};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Arguments of `cargo carol run`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    source: Source,
    /// The machine's params, as hex.
    #[arg(long, value_name = "HEX", default_value = "")]
    params: String,
    /// Where the node listens; port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Let the machine fetch from loopback addresses (for local price sources and tests).
    #[arg(long)]
    allow_loopback: bool,
    /// Keep binaries and machines in this directory [default: in memory, gone when stopped].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

/// Starts a development node with the machine and serves until Ctrl-C.
pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let params = hex::decode(args.params.trim())
        .context("--params must be hex, e.g. --params 7b7d for `{}`")?;
    let (path, bytes) = args.source.load(quiet)?;
    carol_host::logging::init();

    let mut config = NodeConfig::development();
    config.policy.allow_loopback = args.allow_loopback;
    config.data_dir = args.data_dir;
    let node = Node::new(config)?;
    let (binary, _) = node
        .add_binary(&bytes)
        .with_context(|| format!("{} cannot run on a Carol node", path.display()))?;
    let (machine, _) = node.create_machine(&binary.id(), params)?;

    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}: is another node running there? Pick another with --listen 127.0.0.1:PORT", args.listen))?;
        let url = format!("http://{}", listener.local_addr()?);
        let machine_url = format!("{url}/machines/{}", machine.id());
        outln!("node        {url}");
        outln!("public key  {}", node.public_key());
        outln!("binary id   {}", binary.id());
        outln!("machine id  {}", machine.id());
        outln!("machine     {machine_url}");
        eprintln!("note: this node signs with the publicly known development key; its signatures prove nothing");
        if !quiet {
            activations::print_urls(&machine_url, &binary.description().activations);
            eprintln!("Serving until Ctrl-C.");
        }
        let shutdown = async {
            // If Ctrl-C cannot be watched, serve until killed.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        carol_host::routes::serve_until(node, listener, shutdown)
            .await
            .context("the node stopped serving")
    })
}
