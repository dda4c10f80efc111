//! `/binaries`: uploading components, describing them, and creating machines from them.

use super::{ApiError, LISTED_IDS, read_body};
use crate::Node;
use crate::ids::BinaryId;
use crate::runtime::Binary;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

/// Finds a stored binary by its id's text, or answers 404 with the ids that exist.
pub(super) fn find(node: &Node, id: &str) -> Result<Arc<Binary>, ApiError> {
    id.parse::<BinaryId>().ok().and_then(|id| node.store().binary(&id)).ok_or_else(|| {
        let ids: Vec<String> = node.store().binary_ids(LISTED_IDS).iter().map(ToString::to_string).collect();
        ApiError::new(StatusCode::NOT_FOUND, format!("no binary `{id}` on this node (a binary id is the SHA-256 of the component, 64 hex characters)"))
            .with("binaries", ids)
    })
}

fn created(new: bool) -> StatusCode {
    if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

/// `POST /binaries`: stores a component; 201 when new, 200 when it was already there.
pub(super) async fn upload(
    State(node): State<Node>,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let bytes = read_body(body, node.config().max_binary_bytes, "component").await?;
    let loader = node.clone();
    let (binary, new) = tokio::task::spawn_blocking(move || loader.add_binary(&bytes))
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("compiling the component failed: {e}"),
            )
        })??;
    if new {
        tracing::info!(binary = %binary.id(), activations = binary.activations().len(), "binary stored");
    }
    Ok((created(new), Json(json!({ "id": binary.id() }))))
}

/// `GET /binaries/{id}`: the activations of a binary.
pub(super) async fn describe(
    State(node): State<Node>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(*find(&node, &id)?)))
}

/// `POST /binaries/{id}`: creates the machine with the body as params; 201 when new, 200 when it existed.
pub(super) async fn create_machine(
    State(node): State<Node>,
    Path(id): Path<String>,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let binary = find(&node, &id)?;
    let params = read_body(body, node.config().max_params_bytes, "params").await?;
    let creator = node.clone();
    let binary_id = binary.id();
    let (machine, new) =
        tokio::task::spawn_blocking(move || creator.create_machine(&binary_id, params.to_vec()))
            .await
            .map_err(|e| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("creating the machine failed: {e}"),
                )
            })??;
    if new {
        tracing::info!(machine = %machine.id(), binary = %binary.id(), params = machine.params().len(), "machine created");
    }
    Ok((
        created(new),
        Json(json!({ "id": machine.id(), "binary_id": binary.id() })),
    ))
}
