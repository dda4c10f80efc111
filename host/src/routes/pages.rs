//! The pages a browser gets: the node's at `/`, a machine's at `/machines/{id}` and at
//! `/machines/{id}/http/` (the original prototype's machine URL), with the headers that keep
//! them from loading or running anything foreign.

use super::lookup::LISTED_IDS;
use crate::node::Node;
use crate::page::{self, MachinePage, NodePage};
use crate::runtime::Machine;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The page of `machine`.
pub(super) fn machine(node: &Node, machine: &Machine) -> Response {
    let machine_id = machine.id().to_string();
    let binary_id = machine.binary_id().to_string();
    let public_key = node.public_key().to_string();
    let keys = node.public_keys(machine);
    // The page still shows the rest when the store cannot say the state's size.
    let state = node
        .state_usage(machine)
        .inspect_err(|error| {
            tracing::error!(machine = %machine.id(), %error, "cannot read the machine's state size");
        })
        .ok();
    html(
        MachinePage {
            machine_id: &machine_id,
            binary_id: &binary_id,
            params: machine.params(),
            public_key: &public_key,
            keys: &keys,
            state,
            activations: machine.binary().activations(),
            types: machine.binary().types(),
        }
        .render(),
    )
}

/// The node's page.
pub(super) fn node(node: &Node, headers: &HeaderMap) -> Response {
    // Only for the command lines shown; the page's script puts the browser's own origin there.
    let origin = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .map_or_else(
            || "http://127.0.0.1:8000".to_owned(),
            |host| format!("http://{host}"),
        );
    let public_key = node.public_key().to_string();
    let (binaries, machines) = node.registry().counts();
    let machine_ids: Vec<String> = node
        .registry()
        .machine_ids(LISTED_IDS)
        .iter()
        .map(ToString::to_string)
        .collect();
    html(
        NodePage {
            public_key: &public_key,
            version: env!("CARGO_PKG_VERSION"),
            origin: &origin,
            binaries,
            machines,
            machine_ids: &machine_ids,
        }
        .render(),
    )
}

/// A page answer, with the policy that keeps it from loading or running anything foreign.
fn html(body: String) -> Response {
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(page::content_security_policy()),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}
