//! `/machines/{id}/activate/{name}` (and `/http/{name}`): running activations.

use super::{ApiError, machines, read_body};
use crate::Node;
use crate::runtime::Machine;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use wasmtime::component::Val;

/// The machine and the index of the activation a path names, or a 404 listing what exists.
fn find(node: &Node, id: &str, name: &str) -> Result<(Machine, usize), ApiError> {
    let machine = machines::find(node, id)?;
    let index = machine.binary().find(name).ok_or_else(|| {
        let known: Vec<String> = machine
            .binary()
            .activations()
            .iter()
            .map(|a| a.signature())
            .collect();
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("machine {} has no activation `{name}`", machine.id()),
        )
        .with("activations", known)
    })?;
    Ok((machine, index))
}

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
    let (machine, index) = find(&node, &id, &name)?;
    let args = args_from_query(&machine, index, query.as_deref())?;
    run(&node, &machine, index, args).await
}

/// `POST`: arguments from a JSON object body, or from the query string when the body is empty.
pub(super) async fn by_json(
    State(node): State<Node>,
    Path((id, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    body: Body,
) -> Result<Response, ApiError> {
    let (machine, index) = find(&node, &id, &name)?;
    let body = read_body(body, node.config().max_request_bytes, "request body").await?;
    let args = if body.iter().all(u8::is_ascii_whitespace) {
        args_from_query(&machine, index, query.as_deref())?
    } else {
        let json: Value = serde_json::from_slice(&body).map_err(|e| {
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
    let turn = node.admission().enter().await?;
    let result = node.runtime().activate(machine, index, &args).await;
    drop(turn);
    let result = result?;
    let status = if matches!(result, Some(Val::Result(Err(_)))) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let json = machine.binary().activations()[index].result_to_json(result.as_ref());
    Ok((status, Json(json)).into_response())
}
