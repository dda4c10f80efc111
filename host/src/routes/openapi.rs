//! `GET /machines/{id}/openapi.json`: a machine's OpenAPI 3.1 document.

use super::ApiError;
use super::machines::find;
use crate::Node;
use axum::Json;
use axum::extract::{Path, State};
use serde_json::Value;

/// The machine's OpenAPI document.
pub(super) async fn document(
    State(node): State<Node>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(crate::openapi::document(&find(&node, &id)?)))
}
