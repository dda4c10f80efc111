//! `cargo carol call`.

use crate::client::{Client, NodeUrl};
use crate::outln;
use anyhow::{Context, bail};
use carol_core::api::ResultValue;
use carol_core::ids::MachineId;
use serde_json::Value;

/// Arguments of `cargo carol call`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    node: NodeUrl,
    /// The machine to activate.
    machine: MachineId,
    /// The activation's name, e.g. `say` or `calc/mul`.
    activation: String,
    /// Arguments as NAME=VALUE, sent as query parameters: strings, numbers, bools, chars and
    /// enums as plain text, every other type as JSON text.
    #[arg(value_name = "NAME=VALUE", conflicts_with = "json")]
    args: Vec<String>,
    /// All arguments as one JSON object keyed by parameter name, sent as the POST body.
    #[arg(long, value_name = "OBJECT")]
    json: Option<String>,
}

/// Runs the activation and prints its JSON result; an `err` result or an HTTP error fails.
pub fn run(args: Args, _quiet: bool) -> anyhow::Result<()> {
    let client = Client::new(&args.node)?;
    let path = format!("/machines/{}/activate/{}", args.machine, args.activation);
    let answer = match &args.json {
        Some(text) => {
            let body: Value = serde_json::from_str(text)
                .context("--json must be a JSON object, e.g. --json '{\"message\": \"world\"}'")?;
            if !body.is_object() {
                bail!("--json must be a JSON object keyed by parameter name, not {body}");
            }
            client.post_json(&path, &body)?
        }
        None => {
            let mut query = form_urlencoded::Serializer::new(String::new());
            for arg in &args.args {
                let (name, value) = arg.split_once('=').with_context(|| {
                    format!("argument `{arg}` is not NAME=VALUE, e.g. message=world")
                })?;
                query.append_pair(name, value);
            }
            client.get(&format!("{path}?{}", query.finish()))?
        }
    };
    match answer.status {
        200 => {
            outln!("{}", serde_json::to_string_pretty(&answer.body)?);
            Ok(())
        }
        // A `result` return type's `err`: the machine's own answer, printed like any result.
        422 if matches!(
            serde_json::from_value(answer.body.clone()),
            Ok(ResultValue::Err(_))
        ) =>
        {
            outln!("{}", serde_json::to_string_pretty(&answer.body)?);
            bail!("{} returned an error result", args.activation)
        }
        status => bail!("the node answered {status}: {}", answer.message()),
    }
}
