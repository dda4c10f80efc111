//! The pages a browser gets: the node's at `/`, a machine's at `/machines/{id}` and at
//! `/machines/{id}/http/` (the original prototype's machine URL). `/` and `/machines/{id}`
//! answer HTML only when the `Accept` header prefers it; API clients keep their JSON.

use super::{ApiError, LISTED_IDS, machines};
use crate::Node;
use crate::page::{self, MachinePage, NodePage};
use crate::runtime::Machine;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// `GET /`: the node's page for browsers, its JSON description for everyone else.
pub(super) async fn root(State(node): State<Node>, headers: HeaderMap) -> Response {
    let response = if page::prefers_html(&headers) {
        node_page(&node, &headers)
    } else {
        super::root(State(node)).await.into_response()
    };
    vary_on_accept(response)
}

/// `GET /machines/{id}/http/`: the machine's page, whatever the client accepts.
pub(super) async fn machine(
    State(node): State<Node>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let machine = machines::find(&node, &id)?;
    Ok(machine_page(&node, &machine))
}

/// The page of `machine`.
pub(super) fn machine_page(node: &Node, machine: &Machine) -> Response {
    let machine_id = machine.id().to_string();
    let binary_id = machine.binary_id().to_string();
    let public_key = hex::encode(node.public_key().to_bytes());
    let used = super::machines::used_keys(node, machine);
    let machine_keys: Vec<(&str, String)> = used
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(name, key)| Some((name.as_str(), key.as_str()?.to_owned())))
        .collect();
    let state = match node.store().state_bytes(&machine.id()) {
        Ok(bytes) => Some((bytes, node.config().state_quota_bytes)),
        Err(error) => {
            tracing::error!(machine = %machine.id(), %error, "cannot read the machine's state size");
            None
        }
    };
    html(
        MachinePage {
            machine_id: &machine_id,
            binary_id: &binary_id,
            params: machine.params(),
            public_key: &public_key,
            machine_keys: &machine_keys,
            state,
            activations: machine.binary().activations(),
        }
        .render(),
    )
}

fn node_page(node: &Node, headers: &HeaderMap) -> Response {
    // Only for the command lines shown; the page's script puts the browser's own origin there.
    let origin = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .map_or_else(
            || "http://127.0.0.1:8000".to_owned(),
            |host| format!("http://{host}"),
        );
    let public_key = hex::encode(node.public_key().to_bytes());
    let (binaries, machines) = node.store().counts();
    let machine_ids: Vec<String> = node
        .store()
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

/// Marks an answer that depends on the `Accept` header, so caches keep HTML and JSON apart.
pub(super) fn vary_on_accept(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    response
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
