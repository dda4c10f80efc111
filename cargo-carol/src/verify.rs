//! `cargo carol verify`.

use crate::client::{Client, NodeUrl};
use crate::outln;
use anyhow::{Context, bail};
use carol_core::bls::{PublicKey, Signature};
use carol_core::ids::MachineId;

/// Arguments of `cargo carol verify`.
#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("key").required(true).args(["url", "public_key"]))]
pub struct Args {
    /// Take the public key from the node at this URL (`GET /`).
    #[arg(long = "carol-url", id = "url", value_name = "URL")]
    url: Option<String>,
    /// The node's public key: 48-byte compressed G1 point, hex.
    #[arg(long, value_name = "HEX")]
    public_key: Option<String>,
    /// The machine the signature is bound to.
    #[arg(long, value_name = "ID")]
    machine: MachineId,
    /// The message the machine signed (without the machine id), hex.
    #[arg(long, value_name = "HEX")]
    message: String,
    /// The signature: 96-byte compressed G2 point, hex.
    #[arg(long, value_name = "HEX")]
    signature: String,
}

/// Checks that the node's key signed machine id || message; fails otherwise.
pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let key = match (&args.public_key, args.url) {
        (Some(hex), _) => PublicKey::from_bytes(&decode(hex, "--public-key")?)?,
        (None, url) => {
            let url = url.context("pass --carol-url URL or --public-key HEX")?;
            Client::new(&NodeUrl { url, token: None })?.public_key()?
        }
    };
    let message = decode(&args.message, "--message")?;
    let signature = Signature::from_bytes(&decode(&args.signature, "--signature")?)?;
    if !key.verify_for_machine(&args.machine, &message, &signature) {
        bail!(
            "the signature does NOT verify: it is not the signature of public key {} over \
             machine {} || this message",
            hex::encode(key.to_bytes()),
            args.machine
        );
    }
    if !quiet {
        outln!(
            "valid: public key {} signed machine {} || message",
            hex::encode(key.to_bytes()),
            args.machine
        );
    }
    Ok(())
}

fn decode(text: &str, flag: &str) -> anyhow::Result<Vec<u8>> {
    let text = text.trim();
    hex::decode(text.strip_prefix("0x").unwrap_or(text))
        .with_context(|| format!("{flag} must be hex"))
}
