//! `cargo carol`: build, inspect, run, upload and call Carol machines.
//!
//! Installed (`cargo install --path cargo-carol`), cargo runs it as `cargo-carol carol ...`;
//! inside this repository an alias in `.cargo/config.toml` runs it as `cargo carol ...` too.

mod activations;
mod api;
mod build;
mod call;
mod client;
mod create;
mod federation;
mod new;
mod project;
mod run;
mod source;
mod tools;
mod upload;
mod verify;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Prints a line on stdout. A closed stdout (`| head -1`) is not an error worth stopping for:
/// `cargo carol run` keeps serving after its header is read.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Build, inspect, run, upload and call Carol machines.
#[derive(Parser)]
#[command(name = "cargo carol", bin_name = "cargo carol", version, about)]
struct Cli {
    /// Print only what scripts need (paths and ids), no progress.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build a machine (Rust, Python or JavaScript) into a component and print its path.
    Build(build::Args),
    /// List a machine's activations with their typed signatures and docs.
    Api(api::Args),
    /// Start a local node with the machine on it and serve until stopped.
    Run(run::Args),
    /// Create a machine project (Rust, Python or JavaScript) that builds as it stands.
    New(new::Args),
    /// Upload a component to a node and print its binary id (checked against its SHA-256).
    Upload(upload::Args),
    /// Create a machine on a node (uploading its binary first where needed) and print its id.
    Create(create::Args),
    /// Activate a machine and print the JSON result; an `err` result or an HTTP error fails.
    Call(call::Args),
    /// Check a node's signature over machine id || message; succeeds only if it verifies.
    Verify(verify::Args),
    /// Check a federation: every member agrees on it, and its public shares are consistent.
    Federation(federation::Args),
    /// List the pinned tools that build Python and JavaScript machines; install them.
    Tools(tools::Args),
}

fn main() -> ExitCode {
    // `cargo carol x` runs `cargo-carol carol x`; the alias in this repository runs `cargo-carol x`.
    let args = std::env::args_os()
        .enumerate()
        .filter(|(i, arg)| !(*i == 1 && arg == "carol"))
        .map(|(_, arg)| arg);
    let cli = Cli::parse_from(args);
    let result = match cli.command {
        Command::Build(args) => build::run(args, cli.quiet),
        Command::Api(args) => api::run(args, cli.quiet),
        Command::Run(args) => run::run(args, cli.quiet),
        Command::New(args) => new::run(args, cli.quiet),
        Command::Upload(args) => upload::run(args, cli.quiet),
        Command::Create(args) => create::run(args, cli.quiet),
        Command::Call(args) => call::run(args, cli.quiet),
        Command::Verify(args) => verify::run(args, cli.quiet),
        Command::Federation(args) => federation::run(args, cli.quiet),
        Command::Tools(args) => tools::run(args, cli.quiet),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
