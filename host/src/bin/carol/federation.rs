//! `carol federation …`: forming a federation.

use anyhow::Context;
use clap::Subcommand;
use std::path::PathBuf;

/// What `carol federation` does.
#[derive(Subcommand)]
pub enum FederationCommand {
    /// Ask each running would-be member for its node key and write the federation file that
    /// every member's operator reviews and runs with (`carol run --federation FILE`).
    Propose {
        /// How many members must sign together: more than half of them.
        #[arg(long, value_name = "T")]
        threshold: usize,
        /// A member's URL, as the other members reach it; once per member, in order.
        #[arg(long = "member", value_name = "URL", required = true)]
        members: Vec<String>,
        /// Where to write the federation file; it must not exist.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// The federation's name [default: the previous federation's with --from, else
        /// carol-federation].
        #[arg(long)]
        name: Option<String>,
        /// Reshare the key of the federation of this file to the members given: the federation
        /// key stays, the shares are new, and the previous members' shares are then deleted or
        /// replaced. Every previous member must be running and ready.
        #[arg(long, value_name = "OLD_FILE")]
        from: Option<PathBuf>,
        /// With --from: a previous member (by its index there) that does not deal, being gone
        /// for good or without its share; at least the previous threshold of the others must.
        #[arg(long, value_name = "INDEX", requires = "from")]
        absent: Vec<u32>,
    },
}

/// Runs `command`.
pub async fn run(command: FederationCommand) -> anyhow::Result<()> {
    match command {
        FederationCommand::Propose {
            threshold,
            members,
            out,
            name,
            from,
            absent,
        } => {
            if out.exists() {
                anyhow::bail!(
                    "{} exists: choose another path for the federation file",
                    out.display()
                );
            }
            let from = from
                .map(|path| carol_host::federation::file::FederationFile::load(&path))
                .transpose()?;
            let name = name
                .or_else(|| from.as_ref().map(|old| old.name.clone()))
                .unwrap_or_else(|| "carol-federation".into());
            let file = carol_host::federation::propose::propose(
                &name,
                threshold,
                &members,
                from.as_ref().map(|old| (old, absent.as_slice())),
            )
            .await
            .context("cannot propose the federation")?;
            std::fs::write(&out, file.to_toml())
                .with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!(
                "wrote {}: {} of {} members sign together. Have every member's operator review \
                 it, then run each member with `carol run --cfg carol.toml --federation {}`.",
                out.display(),
                file.threshold,
                file.members.len(),
                out.display()
            );
            let tolerance =
                carol_core::federation::Tolerance::of(file.threshold, file.members.len());
            eprintln!(
                "At {} of {}: {}.",
                file.threshold,
                file.members.len(),
                tolerance.describe()
            );
            if file.previous.is_some() {
                eprintln!(
                    "It reshares the previous federation's key: run every previous member with \
                     it too (each deals its share; one that leaves deletes its share and stops \
                     once the new members hold the key)."
                );
            }
            Ok(())
        }
    }
}
