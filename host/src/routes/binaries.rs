//! `/binaries`: uploading components, describing them, and creating machines from them.

use super::error::ApiError;
use super::lookup::Wanted;
use super::{body, lookup};
use crate::bindings::carol::machine::http_fetch::Method;
use crate::federation::FORWARDED;
use crate::node::Node;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use carol_core::api::{BinaryDescription, Created, Uploaded};

/// Refuses a body that does not say it is bytes: `application/wasm` or
/// `application/octet-stream`. Neither is a type a page may send another site without asking
/// first (CORS), so a page cannot upload or create unseen even where other checks do not apply.
fn bytes_body(headers: &HeaderMap, what: &str) -> Result<(), ApiError> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    match media.as_deref() {
        Some("application/wasm" | "application/octet-stream") => Ok(()),
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "send the {what} with `Content-Type: application/wasm` or \
                 `application/octet-stream`, not {}",
                other.map_or("without one".to_owned(), |media| format!("`{media}`"))
            ),
        )),
    }
}

/// On a federation member, passes an upload or a creation asked of it (not one passed on by
/// another member) on to every other member before it answers, so that every member holds it
/// when its machine is activated. Each member checks the ids itself.
async fn pass_on(node: &Node, headers: &HeaderMap, path: &str, content_type: &str, body: &[u8]) {
    if let Some(member) = node.federation()
        && !headers.contains_key(FORWARDED)
    {
        member
            .forward(Method::Post, path, Some(content_type), body, None)
            .await;
    }
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
    headers: HeaderMap,
    request_body: Body,
) -> Result<(StatusCode, Json<Uploaded>), ApiError> {
    bytes_body(&headers, "component")?;
    let limit = node.config().max_binary_bytes;
    // Its share of the uploads in flight, held until it is stored or refused: the length it
    // announces, or the most an upload may have.
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    let _in_flight = match node
        .compiles()
        .receive(announced.unwrap_or(limit as u64).min(limit as u64))
    {
        Ok(in_flight) => in_flight,
        Err(busy) => {
            body::drain(&headers, request_body, limit).await;
            return Err(crate::node::AddError::from(busy).into());
        }
    };
    let bytes = std::sync::Arc::new(Vec::from(
        body::read(request_body, limit, "component").await?,
    ));
    let (binary, new) = node.upload(bytes.clone()).await?;
    if new {
        tracing::info!(binary = %binary.id(), activations = binary.activations().len(), "binary stored");
    }
    pass_on(&node, &headers, "/binaries", "application/wasm", &bytes).await;
    Ok((created(new), Json(Uploaded { id: binary.id() })))
}

/// `GET /binaries/{id}`: the activations and named types of a binary.
pub(super) async fn describe(
    State(node): State<Node>,
    Path(id): Path<String>,
) -> Result<Json<BinaryDescription>, ApiError> {
    lookup::from_group(&node, &id, Wanted::Binary).await;
    Ok(Json(lookup::binary(&node, &id)?.description()))
}

/// `GET /binaries/{id}/component`: the component itself, as it was uploaded (a federation member
/// that missed it copies it from here).
pub(super) async fn component(
    State(node): State<Node>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    lookup::from_group(&node, &id, Wanted::Binary).await;
    let id = lookup::binary(&node, &id)?.id();
    let reader = node.clone();
    let bytes = tokio::task::spawn_blocking(move || reader.store().binary(&id))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "reading the component failed",
            )
        })??
        .ok_or_else(|| {
            ApiError::new(StatusCode::NOT_FOUND, format!("binary {id} is not stored"))
        })?;
    Ok(([(header::CONTENT_TYPE, "application/wasm")], bytes).into_response())
}

/// `POST /binaries/{id}`: creates the machine with the body as params; 201 when new, 200 when it existed.
pub(super) async fn create_machine(
    State(node): State<Node>,
    Path(id): Path<String>,
    headers: HeaderMap,
    request_body: Body,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    lookup::from_group(&node, &id, Wanted::Binary).await;
    let binary = lookup::binary(&node, &id)?;
    bytes_body(&headers, "params")?;
    let params = body::read(request_body, node.config().max_params_bytes, "params").await?;
    let creator = node.clone();
    let binary_id = binary.id();
    let kept = params.clone();
    let (machine, new) =
        tokio::task::spawn_blocking(move || creator.create_machine(&binary_id, kept.to_vec()))
            .await
            .map_err(|e| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("creating the machine failed: {e}"),
                )
            })??;
    if new {
        tracing::info!(machine = %machine.id(), binary = %binary_id, params = machine.params().len(), "machine created");
    }
    let path = format!("/binaries/{binary_id}");
    pass_on(&node, &headers, &path, "application/octet-stream", &params).await;
    Ok((
        created(new),
        Json(Created {
            id: machine.id(),
            binary_id,
        }),
    ))
}
