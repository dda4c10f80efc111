//! `GET /federation` and the key generation's messages a member serves to the others.

use super::error::ApiError;
use crate::node::Node;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use carol_core::federation::FederationDescription;

fn member(node: &Node) -> Result<&std::sync::Arc<crate::federation::Member>, ApiError> {
    node.federation().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "this node is not a federation member: it runs without a federation file",
        )
    })
}

/// `GET /federation`: the federation, its members and its key.
pub(super) async fn describe(
    State(node): State<Node>,
) -> Result<Json<FederationDescription>, ApiError> {
    Ok(Json(member(&node)?.describe()))
}

/// `GET /federation/keygen/{phase}`: this member's message of that phase of the key
/// generation; 404 until it has made it.
pub(super) async fn keygen(
    State(node): State<Node>,
    Path(phase): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    member(&node)?.published(&phase).map(Json).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "this member has no `{phase}` message of the key generation (yet): the phases \
                 are deal, response, justification and confirmation"
            ),
        )
    })
}
