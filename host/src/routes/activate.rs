//! `/machines/{id}/activate/{name}` (and `/http/{name}`): running activations.

use super::error::ApiError;
use super::{body, lookup};
use crate::bindings::carol::machine::http_fetch::Method;
use crate::federation::FORWARDED;
use crate::federation::relay::{self, ANSWER_TAG, CHALLENGE, Relay};
use crate::node::{Node, Turn};
use crate::runtime::Machine;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
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

/// Who asked for an activation, as far as its answer depends on it.
struct Asked {
    /// The member that passed it on, if one did, and the challenge its answer's tag covers.
    forwarded_by: Option<(u32, [u8; 32])>,
    /// The request's digest ([`relay::request_digest`]).
    request: [u8; 32],
    /// The other members' answers, if this member passed it on to them.
    relay: Option<Relay>,
}

/// Reads who asked for an activation `method uri` with `body`; on a federation member, passes
/// one asked of it (not passed on by another member) on to every other member, so that each
/// runs the machine itself and its own run's signatures can be made together.
fn ask(node: &Node, headers: &HeaderMap, method: Method, uri: &Uri, body: &[u8]) -> Asked {
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let mut asked = Asked {
        forwarded_by: None,
        request: relay::request_digest(method, &path, body),
        relay: None,
    };
    let Some(member) = node.federation().filter(|m| m.is_ready()) else {
        return asked;
    };
    if let Some(by) = headers.get(FORWARDED) {
        let by = by.to_str().ok().and_then(|by| by.parse().ok());
        let challenge = headers.get(CHALLENGE).and_then(|c| {
            let mut challenge = [0u8; 32];
            hex::decode_to_slice(c.as_bytes(), &mut challenge).ok()?;
            Some(challenge)
        });
        asked.forwarded_by = by.zip(challenge);
        return asked;
    }
    let Some(slot) = member.forward_slot() else {
        tracing::warn!(
            "too many activations being passed on to the other members; this one is run here only"
        );
        return asked;
    };
    let member = member.clone();
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = body.to_vec();
    let (answers, challenge, relay) = Relay::new(asked.request, member.file().members.len());
    asked.relay = Some(relay);
    let challenge = hex::encode(challenge);
    tokio::spawn(async move {
        member
            .forward(
                method,
                &path,
                content_type.as_deref(),
                &body,
                Some((answers, challenge)),
            )
            .await;
        drop(slot);
    });
    asked
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
    let asked = ask(&node, &headers, Method::Get, &uri, &[]);
    run(&node, &turn, &machine, index, args, asked).await
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
    let asked = ask(&node, &headers, Method::Post, &uri, &bytes);
    drop(bytes);
    run(&node, &turn, &machine, index, args, asked).await
}

/// Runs the activation and writes its answer within the turn; `result` errors answer 422,
/// everything else that returns answers 200. On a federation member, a run that was outvoted
/// answers what `t` other members answered ([`crate::federation::relay`]), if they did, and an
/// answer to a member that passed the activation on carries this member's tag.
async fn run(
    node: &Node,
    turn: &Turn<'_>,
    machine: &Machine,
    index: usize,
    args: Vec<Val>,
    asked: Asked,
) -> Result<Response, ApiError> {
    let started = tokio::time::Instant::now();
    let ran = turn.run(machine, index, &args).await;
    drop(args);
    let refused =
        !matches!(ran.result, Ok(ref result) if !matches!(result, Some(Val::Result(Err(_)))));
    if ran.outvoted
        && refused
        && let (Some(member), Some(relay)) = (node.federation(), asked.relay)
    {
        let deadline = started + node.config().limits.activation_timeout;
        if let Some(answer) = member.agreed_answer(relay, deadline).await {
            tracing::info!(
                machine = %machine.id(),
                "this member's run was outvoted; it answers what the agreeing members answered"
            );
            return Ok(json(StatusCode::OK, answer));
        }
    }
    let result = ran.result?;
    let status = if matches!(result, Some(Val::Result(Err(_)))) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let answer = machine.binary().activations()[index].result_to_json_text(result.as_ref());
    let tag = match (asked.forwarded_by, node.federation()) {
        (Some((by, challenge)), Some(member)) if status == StatusCode::OK => {
            member.answer_tag(by, &asked.request, &challenge, &answer)
        }
        _ => None,
    };
    let mut response = json(status, answer);
    if let Some(tag) = tag.and_then(|tag| HeaderValue::from_str(&tag).ok()) {
        response.headers_mut().insert(ANSWER_TAG, tag);
    }
    Ok(response)
}

fn json(status: StatusCode, body: Vec<u8>) -> Response {
    (status, [(CONTENT_TYPE, "application/json")], body).into_response()
}
