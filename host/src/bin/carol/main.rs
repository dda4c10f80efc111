//! `carol`: the Carol node.

mod federation;

use anyhow::Context;
use carol_host::Node;
use carol_host::config::{Config, DEFAULT_DATA_DIR};
use carol_host::store::{Restored, Store};
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

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
    /// Serve the HTTP API. Without --cfg, uses ./carol-data/carol.toml, created with a fresh
    /// key on the first start.
    Run {
        /// Where to listen [default: the configuration's `listen`].
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
        /// Let machines fetch from loopback addresses (for local development and tests).
        #[arg(long)]
        allow_loopback: bool,
        /// Run as a member of the federation this file describes (`carol federation propose`
        /// writes it) [default: the configuration's `[federation] file`].
        #[arg(long, value_name = "FILE")]
        federation: Option<PathBuf>,
    },
    /// Make an access token named NAME: prints the token (for the client) and the entry to add
    /// to `[access] tokens` (its SHA-256: the configuration never holds the token itself).
    AccessToken {
        /// What the operator calls it; logs and metrics show the name, never the token.
        name: String,
    },
    /// Form a federation of nodes that sign together.
    Federation {
        #[command(subcommand)]
        command: federation::FederationCommand,
    },
    /// Copy the node's database (binaries, machines, their state, the records of committed
    /// nonces) to FILE. Stop the node first.
    Backup {
        /// Where to write the copy; it must not exist.
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Put a copy made by `carol backup` in place of the node's database. Stop the node first.
    /// Committed nonces then derive anew, so that the copy can never sign a second message
    /// with a nonce that signed after it was taken; announcements made before can no longer be
    /// attested. docs/operations.md has the trade-off.
    Restore {
        /// The copy.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// The copy is the latest: no committed nonce signed after it was taken. Its nonces and
        /// announcements then stand.
        #[arg(long)]
        latest: bool,
        /// Replace the database if the data directory has one.
        #[arg(long)]
        replace: bool,
    },
    /// The node's database.
    Store {
        #[command(subcommand)]
        command: StoreCommand,
    },
    /// Compile the component on stdin and write its code to stdout: what a node runs to
    /// compile an upload within `[compiles]` budgets.
    #[command(hide = true)]
    CompileWorker {
        /// The most memory the compile may take.
        #[arg(long)]
        memory_bytes: u64,
        /// How large a machine's memory may grow on the node.
        #[arg(long)]
        slot_memory_bytes: usize,
    },
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Move a single node's database (its data directory DIR) into the PostgreSQL database of
    /// this configuration's `[store] postgres`, which must be empty, in one transaction: its
    /// binaries, machines, their state, the records of committed nonces (which derive as
    /// before), removals and agreements. Stop that node first; its database is left as it was.
    Migrate {
        /// The data directory of the node to move.
        #[arg(long, value_name = "DIR")]
        from_redb: PathBuf,
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
            federation,
        } => run(cli.cfg.as_deref(), listen, allow_loopback, federation).await,
        Command::Federation { command } => federation::run(command).await,
        Command::CompileWorker {
            memory_bytes,
            slot_memory_bytes,
        } => std::process::exit(carol_host::compiles::serve_worker(
            memory_bytes,
            slot_memory_bytes,
        )),
        Command::AccessToken { name } => {
            let (token, listed) = carol_host::access::Token::generate(&name)
                .map_err(|why| anyhow::anyhow!("{why}"))?;
            println!("{token}");
            eprintln!(
                "the token above is for the client (`cargo carol --token`, or CAROL_TOKEN); add \
                 its entry to the node's configuration and restart it:\n\n[access]\ntokens = \
                 [\"{}\"]",
                listed.entry()
            );
            Ok(())
        }
        Command::Store {
            command: StoreCommand::Migrate { from_redb },
        } => migrate(cli.cfg.as_deref(), from_redb).await,
        Command::Backup { to } => {
            let data_dir = data_dir(cli.cfg.as_deref())?;
            Store::backup(&data_dir, &to).with_context(|| {
                format!(
                    "cannot back up {} (is the node stopped?)",
                    data_dir.display()
                )
            })?;
            eprintln!(
                "wrote {} (readable by you alone): it holds every machine's state; keep it as \
                 private as the configuration",
                to.display()
            );
            Ok(())
        }
        Command::Restore {
            from,
            latest,
            replace,
        } => {
            let data_dir = data_dir(cli.cfg.as_deref())?;
            let restored =
                Store::restore(&data_dir, &from, latest, replace).with_context(|| {
                    format!(
                        "cannot restore {} into {} (is the node stopped? pass --replace to replace \
                     its database)",
                        from.display(),
                        data_dir.display()
                    )
                })?;
            eprintln!(
                "restored {} into {}: {}",
                from.display(),
                data_dir.display(),
                match restored {
                    Restored::AsTheLatest => {
                        "as the latest copy, with its nonce secret: its announcements stand"
                    }
                    Restored::WithAFreshNonceSecret => {
                        "committed nonces now derive from a fresh secret, so no nonce can sign \
                         twice; announcements made before can no longer be attested (pass \
                         --latest only for a copy taken after the last signature)"
                    }
                }
            );
            Ok(())
        }
    }
}

/// `carol store migrate --from-redb DIR`.
async fn migrate(cfg: Option<&Path>, from: PathBuf) -> anyhow::Result<()> {
    let path = cfg.context(
        "say which node's configuration names the PostgreSQL database: `carol store migrate \
         --cfg carol.toml --from-redb DIR`",
    )?;
    let config = Config::load(path)?;
    let shared = config.node.shared_store.clone().context(
        "the configuration has no `[store] postgres`: set it to the database to move into",
    )?;
    let key = config.node.key.public_key().to_bytes();
    let shown = from.display().to_string();
    let migrated =
        tokio::task::spawn_blocking(move || Store::migrate_from_redb(&from, &shared.0, &key))
            .await
            .context("the migration stopped")?
            .with_context(|| format!("cannot migrate {shown} (is its node stopped?)"))?;
    eprintln!(
        "moved {shown} into the shared database: {} binaries, {} machines, {} keys of state, {} \
         committed-nonce records; nodes of this configuration's group now serve them",
        migrated.binaries, migrated.machines, migrated.state_keys, migrated.nonces
    );
    Ok(())
}

/// The data directory of the configuration at `cfg` (or the default one).
fn data_dir(cfg: Option<&Path>) -> anyhow::Result<PathBuf> {
    let path = cfg.map_or_else(
        || Path::new(DEFAULT_DATA_DIR).join("carol.toml"),
        Path::to_owned,
    );
    Config::load(&path)?
        .node
        .data_dir
        .context("the configuration has no data directory")
}

fn config_gen(path: &Path, force: bool) -> anyhow::Result<()> {
    let config = Config::write_new(path, DEFAULT_DATA_DIR, force)?;
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
    federation: Option<PathBuf>,
) -> anyhow::Result<()> {
    let (path, created) = match cfg {
        Some(path) => (path.to_owned(), false),
        None => default_configuration()?,
    };
    let Config {
        node: mut config,
        listen: configured_listen,
        connections,
        metrics_listen,
        log_format,
    } = Config::load(&path)?;
    carol_host::logging::init(log_format);
    if created {
        tracing::info!(
            config = %path.display(),
            "first start without --cfg: created the data directory with a configuration and a fresh key; later starts here use them"
        );
    }
    warn_if_readable_by_others(&path);
    config.policy.allow_loopback |= allow_loopback;
    // Uploads compile in a process of this program, within the memory and time budgets.
    config.compiles.worker =
        Some(std::env::current_exe().context("cannot find this program, to compile uploads with")?);
    if federation.is_some() {
        config.federation = federation;
    }
    if config.federation.is_some() && config.access.activate == carol_host::access::Who::Token {
        anyhow::bail!(
            "`[access] activate = \"token\"` cannot be used on a federation member: a member \
             passes each activation on to the others, without its client's token; keep \
             activations open on members (uploads may still need a token)"
        );
    }
    let listen = listen.unwrap_or(configured_listen);
    warn_if_few_descriptors(connections.max + METRICS_CONNECTIONS);
    let node = Node::new(config).context("cannot start the node's runtime")?;
    let listener =
        carol_host::server::listen(listen).with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(
        url = %format!("http://{}", listener.local_addr()?),
        public_key = %node.public_key(),
        allow_loopback = node.config().policy.allow_loopback,
        data_dir = %node.config().data_dir.as_deref().unwrap_or(Path::new("(memory)")).display(),
        "serving"
    );
    // In-flight activations end within their own time limit; give them that, and a little more.
    let grace = node.config().limits.activation_timeout + Duration::from_secs(5);
    let (stopping, stopped) = tokio::sync::oneshot::channel();
    let shutdown = async move {
        let signal = stop_signal().await;
        tracing::info!(
            signal,
            grace_ms = grace.as_millis() as u64,
            "stopping: no new connections; letting requests in flight finish"
        );
        let _ = stopping.send(());
    };
    // Metrics on an address of their own are served there alone, beside the API.
    let router = match metrics_listen {
        Some(address) => {
            let metrics = carol_host::server::listen(address)
                .with_context(|| format!("cannot listen on {address} for `[metrics] listen`"))?;
            tracing::info!(
                metrics_url = %format!("http://{}/metrics", metrics.local_addr()?),
                "serving metrics"
            );
            let router = carol_host::routes::metrics_router(node.clone());
            // Scrapers are few: the metrics listener needs few connections.
            let limits = carol_host::server::Connections {
                max: METRICS_CONNECTIONS,
                ..connections.clone()
            };
            tokio::spawn(async move {
                let served =
                    carol_host::server::serve(router, metrics, &limits, std::future::pending())
                        .await;
                if let Err(error) = served {
                    tracing::error!(%error, "serving metrics stopped");
                }
            });
            carol_host::routes::api_router(node.clone())
        }
        None => carol_host::routes::router(node.clone()),
    };
    let serving = carol_host::server::serve(router, listener, &connections, shutdown);
    // A member without its share makes the federation key with the others, while serving (the
    // others fetch its messages from it); if that fails, the node stops, keeping nothing. A
    // node that leaves in a resharing stops once it has.
    let keygen = async {
        if let Some(member) = node.federation().filter(|member| !member.is_ready()) {
            let limit = node.config().keygen_timeout;
            let outcome = carol_host::federation::keygen::run(member.clone(), limit)
                .await
                .context("the node cannot serve as a federation member")?;
            // A node that left in a resharing has nothing more to serve as a member.
            if outcome == carol_host::federation::keygen::Outcome::Left {
                tracing::info!(
                    "this node left the federation: run it without the federation file to \
                     serve as a single node"
                );
                return Ok(());
            }
        }
        std::future::pending::<anyhow::Result<()>>().await
    };
    let deadline = async move {
        if stopped.await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        served = serving => served.context("the node stopped serving")?,
        () = deadline => tracing::warn!("requests still in flight after the grace period were cut off"),
        failed = keygen => failed?,
    }
    // Every write was committed and synced before it was answered: nothing is left to flush.
    tracing::info!("stopped");
    Ok(())
}

/// Waits for Ctrl-C or SIGTERM; returns which.
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = tokio::signal::ctrl_c() => "SIGINT",
            };
        }
    }
    match tokio::signal::ctrl_c().await {
        Ok(()) => "SIGINT",
        // No signal can be watched: serve until killed.
        Err(_) => std::future::pending().await,
    }
}

/// `./carol-data/carol.toml`, written with a fresh key on the first start; and whether it was
/// written now.
fn default_configuration() -> anyhow::Result<(PathBuf, bool)> {
    let dir = Path::new(DEFAULT_DATA_DIR);
    let path = dir.join("carol.toml");
    if path.exists() {
        return Ok((path, false));
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    Config::write_new(&path, ".", false)?;
    Ok((path, true))
}

/// Connections the metrics listener (`[metrics] listen`) keeps open at once.
const METRICS_CONNECTIONS: usize = 64;

/// Raises the open-file limit and says when it is too low for `[connections] max_connections`:
/// past the limit the node could not accept, open its store or compile, whatever the setting.
fn warn_if_few_descriptors(max_connections: usize) {
    // Besides connections: the store, the code cache, outbound requests, the runtime's own.
    const OTHERS: u64 = 256;
    if let Some(limit) = carol_host::server::raise_descriptor_limit()
        && limit < max_connections as u64 + OTHERS
    {
        tracing::warn!(
            limit,
            max_connections,
            "this process may open {limit} files, fewer than `[connections] max_connections` \
             needs: raise the limit (`ulimit -n`, systemd's `LimitNOFILE`) above {}, or lower \
             max_connections",
            max_connections as u64 + OTHERS
        );
    }
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
