//! The pages a browser gets: the node's at `/`, a machine's at `/machines/{id}` and at
//! `/machines/{id}/http/` (the original prototype's machine URL), with the headers that keep
//! them from loading or running anything foreign.

use super::error::ApiError;
use super::lookup::LISTED_IDS;
use crate::node::Node;
use crate::page::{self, MachinePage, NodePage};
use crate::runtime::Machine;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The page of `machine`, from the description the JSON route answers.
pub(super) fn machine(node: &Node, machine: &Machine) -> Result<Response, ApiError> {
    let public_key = node.public_key().to_string();
    Ok(html(
        MachinePage {
            machine: &node.describe_machine(machine)?,
            public_key: &public_key,
            activations: machine.binary().activations(),
            types: machine.binary().types(),
        }
        .render(),
    ))
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
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}
