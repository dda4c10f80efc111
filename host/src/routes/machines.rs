//! `/machines/{id}`: what a machine is, as JSON, as a page, and as an OpenAPI document.

use super::error::ApiError;
use super::lookup::Wanted;
use super::negotiate::{prefers_html, vary_on_accept};
use super::{lookup, pages};
use crate::node::Node;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// `GET /machines/{id}`: binary id, params, activations, types, keys and state; the machine's
/// page for a browser.
pub(super) async fn describe(
    State(node): State<Node>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    lookup::from_group(&node, &id, Wanted::Machine).await;
    let machine = lookup::machine(&node, &id)?;
    let response = if prefers_html(&headers) {
        pages::machine(&node, &machine)?
    } else {
        Json(node.describe_machine(&machine)?).into_response()
    };
    Ok(vary_on_accept(response))
}

/// `GET /machines/{id}/http/`: the machine's page, whatever the client accepts.
pub(super) async fn page(
    State(node): State<Node>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    lookup::from_group(&node, &id, Wanted::Machine).await;
    pages::machine(&node, &lookup::machine(&node, &id)?)
}

/// `GET /machines/{id}/openapi.json`: the machine's OpenAPI document.
pub(super) async fn openapi(
    State(node): State<Node>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    lookup::from_group(&node, &id, Wanted::Machine).await;
    Ok(Json(crate::openapi::document(&lookup::machine(
        &node, &id,
    )?)))
}
