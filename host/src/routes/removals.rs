//! `DELETE /binaries/{id}` and `DELETE /machines/{id}`: the operator removes a binary (with its
//! machines) or a machine, for a reason its routes answer with afterwards (410 Gone). Only
//! holders of an `[access] admin_tokens` token may.

use super::error::ApiError;
use super::lookup::Wanted;
use super::{body, lookup};
use crate::node::{Node, Removed};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

/// The largest request body of a removal: a reason.
pub(super) const REASON_BYTES: usize = 4096;
/// The longest reason, in characters.
const REASON_CHARS: usize = 1000;

/// A removal's body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Asked {
    reason: String,
}

/// The reason a removal's body gives.
async fn reason(request_body: Body) -> Result<String, ApiError> {
    let bytes = body::read(request_body, REASON_BYTES, "reason").await?;
    let asked: Asked = serde_json::from_slice(&bytes).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("send the reason as JSON, `{{\"reason\": \"...\"}}`: {error}"),
        )
    })?;
    let reason = asked.reason.trim();
    if reason.is_empty() || reason.chars().count() > REASON_CHARS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("give a reason of 1 to {REASON_CHARS} characters: clients are told it"),
        ));
    }
    Ok(reason.to_owned())
}

fn answer(id: String, removed: Removed) -> Json<Value> {
    Json(json!({
        "removed": id,
        "reason": removed.removal.reason,
        "removed_at": removed.removal.at,
        "machines": removed.machines.iter().map(ToString::to_string).collect::<Vec<_>>(),
    }))
}

/// `DELETE /binaries/{id}`: removes a binary and its machines, with their state.
pub(super) async fn binary(
    State(node): State<Node>,
    Path(id): Path<String>,
    request_body: Body,
) -> Result<Json<Value>, ApiError> {
    lookup::from_group(&node, &id, Wanted::Binary).await;
    let binary = lookup::binary(&node, &id)?.id();
    let reason = reason(request_body).await?;
    let removed = node.remove_binary(&binary, &reason).await?;
    Ok(answer(binary.to_string(), removed))
}

/// `DELETE /machines/{id}`: removes a machine, with its state.
pub(super) async fn machine(
    State(node): State<Node>,
    Path(id): Path<String>,
    request_body: Body,
) -> Result<Json<Value>, ApiError> {
    lookup::from_group(&node, &id, Wanted::Machine).await;
    let machine = lookup::machine(&node, &id)?.id();
    let reason = reason(request_body).await?;
    let removed = node.remove_machine(&machine, &reason).await?;
    Ok(answer(machine.to_string(), removed))
}
