//! `/machines/{id}`: what a machine is.

use super::{ApiError, LISTED_IDS, pages};
use crate::Node;
use crate::ids::MachineId;
use crate::page;
use crate::runtime::Machine;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Finds a machine by its id's text, or answers 404 with the ids that exist.
pub(super) fn find(node: &Node, id: &str) -> Result<Machine, ApiError> {
    id.parse::<MachineId>()
        .ok()
        .and_then(|id| node.store().machine(&id))
        .ok_or_else(|| {
            let ids: Vec<String> = node
                .store()
                .machine_ids(LISTED_IDS)
                .iter()
                .map(ToString::to_string)
                .collect();
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "no machine `{id}` on this node (create one with POST /binaries/{{binary_id}})"
                ),
            )
            .with("machines", ids)
        })
}

/// `GET /machines/{id}`: binary id, params and activations; the machine's page for a browser.
pub(super) async fn describe(
    State(node): State<Node>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let machine = find(&node, &id)?;
    let response = if page::prefers_html(&headers) {
        pages::machine_page(&node, &machine)
    } else {
        Json(json!({
            "id": machine.id(),
            "binary_id": machine.binary_id(),
            "params": hex::encode(machine.params()),
            "activations": machine.binary().activations(),
        }))
        .into_response()
    };
    Ok(pages::vary_on_accept(response))
}
