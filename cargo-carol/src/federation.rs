//! `cargo carol federation check`: asks a member for its federation, then every member it
//! lists, and checks that they all describe the same one and that every public share is the
//! one the commitments give.

use crate::client::{Client, NodeUrl};
use crate::outln;
use anyhow::{Context, bail};
use carol_core::federation::{FederationDescription, FederationStatus};
use carol_federation::poly::PublicPoly;

/// Arguments of `cargo carol federation`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Check that every member of a federation agrees on it, and print the federation key
    /// (`-q`: only the key).
    Check(NodeUrl),
}

/// Runs `cargo carol federation …`.
pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    match args.command {
        Command::Check(url) => check(&url, quiet),
    }
}

fn describe(url: &str) -> anyhow::Result<FederationDescription> {
    let client = Client::new(&NodeUrl {
        url: url.to_owned(),
        token: None,
    })?;
    client
        .get("/federation")?
        .decode("describe its federation")
        .with_context(|| format!("{url} did not describe a federation: is it a member?"))
}

fn check(url: &NodeUrl, quiet: bool) -> anyhow::Result<()> {
    let first = describe(&url.url)?;
    if first.status != FederationStatus::Ready {
        bail!(
            "the federation `{}` has no key yet: its members are still making it (status {:?})",
            first.name,
            first.status
        );
    }
    let Some(key) = first.public_key else {
        bail!("{} says its federation is ready but gives no key", url.url);
    };
    // The commitments give the key and every public share: check them before asking anyone.
    let mut points = Vec::new();
    for commitment in &first.commitments {
        points.extend_from_slice(&commitment.to_bytes());
    }
    let public = PublicPoly::from_bytes(&points)
        .context("the federation's commitments are not points of G1")?;
    if public.threshold() != first.threshold {
        bail!(
            "the federation has {} commitments but a threshold of {}",
            public.threshold(),
            first.threshold
        );
    }
    if public.public_key() != key {
        bail!("the federation key {key} is not the first commitment");
    }
    for member in &first.members {
        let share = member
            .public_share
            .with_context(|| format!("member {} has no public share", member.index))?;
        let expected = public.eval(member.index).to_compressed();
        if share.to_bytes() != expected {
            bail!(
                "member {}'s public share {share} is not the one the commitments give",
                member.index
            );
        }
    }
    for member in &first.members {
        let theirs = describe(&member.url)
            .with_context(|| format!("asking member {} at {}", member.index, member.url))?;
        if theirs.member != member.index {
            bail!(
                "{} says it is member {}, but the federation lists it as member {}",
                member.url,
                theirs.member,
                member.index
            );
        }
        let disagree = |what: &str| {
            anyhow::anyhow!(
                "member {} ({}) describes another federation than {}: its {what} differs",
                member.index,
                member.url,
                url.url
            )
        };
        if theirs.public_key != Some(key) {
            return Err(disagree("federation key"));
        }
        if theirs.commitments != first.commitments {
            return Err(disagree("commitments"));
        }
        if theirs.members != first.members {
            return Err(disagree("member list"));
        }
        if (theirs.name.as_str(), theirs.threshold) != (first.name.as_str(), first.threshold) {
            return Err(disagree("name or threshold"));
        }
    }
    if quiet {
        outln!("{key}");
    } else {
        outln!(
            "federation `{}`: all {} members agree; {} of them sign together; every public share \
             matches the commitments\nfederation key: {key}",
            first.name,
            first.members.len(),
            first.threshold
        );
    }
    Ok(())
}
