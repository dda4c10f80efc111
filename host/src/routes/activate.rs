//! `/machines/{id}/activate/{name}` (and `/http/{name}`): running activations.

use super::error::ApiError;
use super::{body, lookup};
use crate::bindings::carol::machine::http_fetch::Method;
use crate::federation::FORWARDED;
use crate::node::{Node, Turn};
use crate::runtime::Machine;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode, Uri};
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

/// On a federation member, passes an activation asked of it (not one passed on by another
/// member) on to every other member, so that each runs the machine itself and its own run's
/// signatures can be made together.
fn pass_on(node: &Node, headers: &HeaderMap, method: Method, uri: &Uri, body: &[u8]) {
    let Some(member) = node.federation().filter(|m| m.is_ready()) else {
        return;
    };
    if headers.contains_key(FORWARDED) {
        return;
    }
    let Some(slot) = member.forward_slot() else {
        tracing::warn!(
            "too many activations being passed on to the other members; this one is run here only"
        );
        return;
    };
    let member = member.clone();
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = body.to_vec();
    tokio::spawn(async move {
        member
            .forward(method, &path, content_type.as_deref(), &body)
            .await;
        drop(slot);
    });
}

/// `GET`: arguments from the query string.
pub(super) async fn by_query(
    State(node): State<Node>,
    Path((id, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (machine, index) = lookup::activation_or_copy(&node, &id, &name).await?;
    let turn = node.admit().await?;
    let args = args_from_query(&machine, index, query.as_deref())?;
    pass_on(&node, &headers, Method::Get, &uri, &[]);
    run(&turn, &machine, index, args).await
}

/// `POST`: arguments from a JSON object body, or from the query string when the body is empty.
pub(super) async fn by_json(
    State(node): State<Node>,
    Path((id, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    uri: Uri,
    headers: HeaderMap,
    request_body: Body,
) -> Result<Response, ApiError> {
    let (machine, index) = lookup::activation_or_copy(&node, &id, &name).await?;
    // The body is read before the turn, so that a slow client holds no turn; it is bounded by
    // `max_request_bytes`. Its values are made within the turn, bounded by `max_value_bytes`.
    let bytes = body::read(
        request_body,
        node.config().max_request_bytes,
        "request body",
    )
    .await?;
    let turn = node.admit().await?;
    // Only an empty body is no body: one of whitespace alone is no JSON text (RFC 8259 wants a
    // value), as an OpenAPI client expects it to be refused.
    let args = if bytes.is_empty() {
        args_from_query(&machine, index, query.as_deref())?
    } else {
        let budget = node.config().limits.value_bytes;
        machine.binary().activations()[index].args_from_json_text(&bytes, budget)?
    };
    // Passed on only once this member took it: a request it refuses reaches no other member.
    pass_on(&node, &headers, Method::Post, &uri, &bytes);
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
