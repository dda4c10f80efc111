//! `cargo carol run`: a development node, or a development federation of several, serving one
//! machine.

use crate::activations;
use crate::outln;
use crate::source::Source;
use anyhow::Context;
use carol_core::bls::PublicKey;
use carol_core::ids::{BinaryId, MachineId};
use carol_host::config::DEFAULT_LISTEN;
use carol_host::federation::development::Development;
use carol_host::{Node, NodeConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use tokio::net::TcpListener;

/// Arguments of `cargo carol run`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    source: Source,
    /// The machine's params, as hex.
    #[arg(long, value_name = "HEX", default_value = "")]
    params: String,
    /// Where the node listens; port 0 picks a free port. A federation's members listen on
    /// this port and the ones after it.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Let the machine fetch from loopback addresses (for local price sources and tests).
    #[arg(long)]
    allow_loopback: bool,
    /// Keep binaries and machines in this directory [default: in memory, gone when stopped];
    /// a federation's members each in a folder `member-<i>` of it.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Run the machine on a development federation of N local members of which T sign
    /// together, e.g. `3-of-5`, with keys anyone can compute.
    #[arg(long, value_name = "T-of-N")]
    federation: Option<Shape>,
}

/// `T-of-N`: a federation's threshold and size.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    threshold: usize,
    members: usize,
}

impl FromStr for Shape {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let parsed = text.split_once("-of-").and_then(|(t, n)| {
            Some(Self {
                threshold: t.parse().ok()?,
                members: n.parse().ok()?,
            })
        });
        let shape = parsed.ok_or_else(|| format!("`{text}` is not T-of-N, e.g. 3-of-5"))?;
        if shape.threshold <= shape.members / 2 || shape.threshold > shape.members {
            return Err(format!(
                "a federation of {} needs a threshold from {} to {}: a majority of its members",
                shape.members,
                shape.members / 2 + 1,
                shape.members
            ));
        }
        Ok(shape)
    }
}

/// Starts a development node (or federation) with the machine and serves until Ctrl-C.
pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let params = hex::decode(args.params.trim())
        .context("--params must be hex, e.g. --params 7b7d for `{}`")?;
    let (path, bytes) = args.source.load(quiet)?;
    carol_host::logging::init(carol_host::logging::LogFormat::Text);

    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let members = args.federation.map_or(1, |shape| shape.members);
        let listeners = bind(args.listen, members).await?;
        let urls = listeners
            .iter()
            .map(|l| Ok(format!("http://{}", l.local_addr()?)))
            .collect::<std::io::Result<Vec<_>>>()?;
        let config = |index: usize| {
            let mut config = NodeConfig::development();
            config.policy.allow_loopback = args.allow_loopback;
            config.data_dir = match (&args.data_dir, args.federation) {
                (Some(dir), Some(_)) => Some(dir.join(format!("member-{index}"))),
                (dir, _) => dir.clone(),
            };
            config
        };
        let nodes = match args.federation {
            None => vec![Node::new(config(1))?],
            Some(shape) => {
                let Development { file, members } = Development::deal(shape.threshold, &urls)?;
                let mut nodes = Vec::with_capacity(members.len());
                for ((key, ready), index) in members.into_iter().zip(1..) {
                    nodes.push(Node::development_member(config(index), &file, key, ready)?);
                }
                nodes
            }
        };
        let (binary, machine, description) = put_machine(&nodes, &bytes, &params)
            .await
            .with_context(|| format!("{} cannot run on a Carol node", path.display()))?;

        let machine_url = format!("{}/machines/{machine}", urls[0]);
        let public_key: PublicKey = nodes[0].public_key();
        outln!("node        {}", urls[0]);
        outln!("public key  {public_key}");
        outln!("binary id   {binary}");
        outln!("machine id  {machine}");
        outln!("machine     {machine_url}");
        match args.federation {
            None => eprintln!(
                "note: this node signs with the publicly known development key; its signatures \
                 prove nothing"
            ),
            Some(shape) => {
                outln!("federation  {}-of-{}", shape.threshold, shape.members);
                for (url, index) in urls.iter().zip(1..) {
                    outln!("{:<12}{url}", format!("member {index}"));
                }
                outln!("federation key  {public_key}");
                eprintln!(
                    "note: these members hold development shares dealt from a publicly known \
                     seed; the federation's signatures prove nothing"
                );
            }
        }
        if !quiet {
            activations::print_urls(&machine_url, &description);
            eprintln!("Serving until Ctrl-C.");
        }
        serve(nodes, listeners).await
    })
}

/// Listeners for `count` nodes: on `listen`, and for a federation on the ports after it (each
/// on a free port if its port is 0).
async fn bind(listen: SocketAddr, count: usize) -> anyhow::Result<Vec<TcpListener>> {
    let mut listeners = Vec::with_capacity(count);
    for offset in 0..count {
        let mut address = listen;
        if listen.port() != 0 {
            let port = u16::try_from(usize::from(listen.port()) + offset)
                .ok()
                .with_context(|| format!("no port {offset} after {listen}: pick a lower one"))?;
            address.set_port(port);
        }
        let listener = carol_host::server::listen(address).with_context(|| {
            format!(
                "cannot listen on {address}: is another node running there? Pick another \
                 with --listen 127.0.0.1:PORT"
            )
        })?;
        listeners.push(listener);
    }
    Ok(listeners)
}

/// Adds the binary and creates the machine on every node (compiling on each at once).
async fn put_machine(
    nodes: &[Node],
    bytes: &[u8],
    params: &[u8],
) -> anyhow::Result<(
    BinaryId,
    MachineId,
    Vec<carol_core::api::ActivationDescription>,
)> {
    let mut tasks = Vec::with_capacity(nodes.len());
    for node in nodes {
        let (node, bytes, params) = (node.clone(), bytes.to_vec(), params.to_vec());
        tasks.push(tokio::task::spawn_blocking(move || {
            let (binary, _) = node.add_binary(&bytes)?;
            let (machine, _) = node.create_machine(&binary.id(), params)?;
            anyhow::Ok((binary, machine))
        }));
    }
    let mut made = None;
    for task in tasks {
        let (binary, machine) = task.await??;
        made.get_or_insert((binary, machine));
    }
    let (binary, machine) = made.expect("there is at least one node");
    Ok((
        binary.id(),
        machine.id(),
        binary.description().activations.clone(),
    ))
}

/// Serves each node on its listener until Ctrl-C.
async fn serve(nodes: Vec<Node>, listeners: Vec<TcpListener>) -> anyhow::Result<()> {
    let (stop, stopped) = tokio::sync::watch::channel(());
    let mut serving = tokio::task::JoinSet::new();
    for (node, listener) in nodes.into_iter().zip(listeners) {
        let mut stopped = stopped.clone();
        let shutdown = async move {
            let _ = stopped.changed().await;
        };
        serving.spawn(carol_host::routes::serve_until(node, listener, shutdown));
    }
    tokio::select! {
        // If Ctrl-C cannot be watched, serve until killed.
        Ok(()) = tokio::signal::ctrl_c() => {
            let _ = stop.send(());
        }
        Some(ended) = serving.join_next() => {
            ended?.context("a node stopped serving")?;
        }
    }
    while let Some(ended) = serving.join_next().await {
        ended?.context("a node stopped serving")?;
    }
    Ok(())
}
