//! `cargo carol`: build, inspect and run Carol machines.
//!
//! Installed (`cargo install --path cargo-carol`), cargo runs it as `cargo-carol carol ...`;
//! inside this repository an alias in `.cargo/config.toml` runs it as `cargo carol ...` too.

mod api;
mod build;
mod project;
mod run;
mod source;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Build, inspect and run Carol machines.
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
    /// Compile a machine crate to a component (wasm32-wasip2, release) and print its path.
    Build(build::Args),
    /// List a machine's activations with their typed signatures and docs.
    Api(api::Args),
    /// Start a local node with the machine on it and serve until stopped.
    Run(run::Args),
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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
