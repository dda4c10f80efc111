//! `/machines/{id}/activate/{name}` (and `/http/{name}`): running activations.

use super::error::ApiError;
use super::{body, lookup};
use crate::node::{Node, Turn};
use crate::runtime::Machine;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
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
    let turn = node.admit().await?;
    let args = args_from_query(&machine, index, query.as_deref())?;
    run(&turn, &machine, index, args).await
}

/// `POST`: arguments from a JSON object body, or from the query string when the body is empty.
pub(super) async fn by_json(
    State(node): State<Node>,
    Path((id, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    request_body: Body,
) -> Result<Response, ApiError> {
    let (machine, index) = lookup::activation(&node, &id, &name)?;
    // The body is read before the turn, so that a slow client holds no turn; it is bounded by
    // `max_request_bytes`. Its values are made within the turn, bounded by `max_value_bytes`.
    let bytes = body::read(
        request_body,
        node.config().max_request_bytes,
        "request body",
    )
    .await?;
    let turn = node.admit().await?;
    let args = if bytes.iter().all(u8::is_ascii_whitespace) {
        args_from_query(&machine, index, query.as_deref())?
    } else {
        let budget = node.config().limits.value_bytes;
        machine.binary().activations()[index].args_from_json_text(&bytes, budget)?
    };
    drop(bytes);
    run(&turn, &machine, index, args).await
}

/// Runs the activation and writes its answer within the turn; `result` errors answer 422,
/// everything else that returns answers 200.
async fn run(
    turn: &Turn<'_>,
    machine: &Machine,
    index: usize,
    args: Vec<Val>,
) -> Result<Response, ApiError> {
    let result = turn.activate(machine, index, &args).await?;
    drop(args);
    let status = if matches!(result, Some(Val::Result(Err(_)))) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let json = machine.binary().activations()[index].result_to_json_text(result.as_ref());
    Ok((status, [(CONTENT_TYPE, "application/json")], json).into_response())
}
