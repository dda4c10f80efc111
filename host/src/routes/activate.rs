//! `/machines/{id}/activate/{name}` (and `/http/{name}`): running activations.

use super::error::ApiError;
use super::{body, lookup};
use crate::node::Node;
use crate::runtime::Machine;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use wasmtime::component::Val;

fn args_from_query(
    machine: &Machine,
    index: usize,
    query: Option<&str>,
) -> Result<Vec<Val>, ApiError> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    Ok(machine.binary().activations()[index]
        .args_from_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?)
}

/// `GET`: arguments from the query string.
pub(super) async fn by_query(
    State(node): State<Node>,
    Path((id, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (machine, index) = lookup::activation(&node, &id, &name)?;
    let args = args_from_query(&machine, index, query.as_deref())?;
    run(&node, &machine, index, args).await
}

/// `POST`: arguments from a JSON object body, or from the query string when the body is empty.
pub(super) async fn by_json(
    State(node): State<Node>,
    Path((id, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    request_body: Body,
) -> Result<Response, ApiError> {
    let (machine, index) = lookup::activation(&node, &id, &name)?;
    let bytes = body::read(
        request_body,
        node.config().max_request_bytes,
        "request body",
    )
    .await?;
    let args = if bytes.iter().all(u8::is_ascii_whitespace) {
        args_from_query(&machine, index, query.as_deref())?
    } else {
        let json: Value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "the request body is not JSON ({e}): send a JSON object keyed by parameter name"
                ),
            )
        })?;
        machine.binary().activations()[index].args_from_json(&json)?
    };
    run(&node, &machine, index, args).await
}

/// Runs the activation; `result` errors answer 422, everything else that returns answers 200.
async fn run(
    node: &Node,
    machine: &Machine,
    index: usize,
    args: Vec<Val>,
) -> Result<Response, ApiError> {
    let result = node.activate(machine, index, &args).await?;
    let status = if matches!(result, Some(Val::Result(Err(_)))) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let json = machine.binary().activations()[index].result_to_json(result.as_ref());
    Ok((status, Json(json)).into_response())
}
