//! `/machines/{id}`: what a machine is.

use super::{ApiError, LISTED_IDS, pages};
use crate::Node;
use crate::ids::MachineId;
use crate::page;
use crate::runtime::Machine;
use crate::store::UsedKeys;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

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
            "keys": used_keys(&node, &machine),
            "state": {
                "bytes": node.store().state_bytes(&machine.id())?,
                "quota": node.config().state_quota_bytes,
            },
        }))
        .into_response()
    };
    Ok(pages::vary_on_accept(response))
}

/// The public keys of its own that `machine` has used, in hex: `secp256k1` (x-only) and `bls`.
pub(super) fn used_keys(node: &Node, machine: &Machine) -> Value {
    let used = node.store().used_keys(&machine.id());
    let keys = node.runtime().services().machine_keys(&machine.id());
    let mut object = Map::new();
    if used.contains(UsedKeys::SECP256K1) {
        object.insert(
            "secp256k1".into(),
            hex::encode(keys.secp256k1_public_key()).into(),
        );
    }
    if used.contains(UsedKeys::BLS) {
        object.insert(
            "bls".into(),
            hex::encode(keys.bls_key().public_key().to_bytes()).into(),
        );
    }
    Value::Object(object)
}
