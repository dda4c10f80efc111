//! The HTTP API, derived from the machines' types: nothing is registered per machine.
//!
//! | route | does |
//! | --- | --- |
//! | `GET /` | the node's public key and what a client needs to know (a page for browsers) |
//! | `GET /healthz` | 200 while serving, with counts |
//! | `POST /binaries` | stores a component |
//! | `GET /binaries/{id}` | describes its activations |
//! | `POST /binaries/{id}` | creates a machine with the body as params |
//! | `GET /machines/{id}` | describes a machine (a page with a form per activation for browsers) |
//! | `GET /machines/{id}/http/` | the machine's page |
//! | `GET /machines/{id}/openapi.json` | its OpenAPI 3.1 document |
//! | `GET`, `POST /machines/{id}/activate/{name}` | runs an activation (also under `/http/{name}`) |

mod activate;
mod binaries;
mod error;
mod machines;
mod openapi;
mod pages;

pub use error::ApiError;

use crate::Node;
use crate::bls::DST;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use tracing::Instrument;

/// How many ids a "not found" answer lists at most.
const LISTED_IDS: usize = 100;

/// The node's HTTP API.
pub fn router(node: Node) -> Router {
    Router::new()
        .route("/", get(pages::root))
        .route("/binaries", post(binaries::upload))
        .route(
            "/binaries/{id}",
            get(binaries::describe).post(binaries::create_machine),
        )
        .route("/machines/{id}", get(machines::describe))
        .route("/machines/{id}/openapi.json", get(openapi::document))
        .route("/machines/{id}/http", get(pages::machine))
        .route("/machines/{id}/http/", get(pages::machine))
        .route(
            "/machines/{id}/activate/{*name}",
            get(activate::by_query).post(activate::by_json),
        )
        .route(
            "/machines/{id}/http/{*name}",
            get(activate::by_query).post(activate::by_json),
        )
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(request_span))
        .with_state(node)
}

async fn root(State(node): State<Node>) -> Json<Value> {
    let config = node.config();
    let (binaries, machines) = node.store().counts();
    Json(json!({
        "public_key": hex::encode(node.public_key().to_bytes()),
        "name": "carol",
        "version": env!("CARGO_PKG_VERSION"),
        "signatures": {
            "scheme": "BLS12-381, IETF basic scheme, minimal-pubkey-size",
            "ciphersuite": String::from_utf8_lossy(DST),
            "message": "machine_id (32 bytes) || message",
        },
        "wit": crate::WIT_PACKAGE,
        "limits": {
            "max_binary_bytes": config.max_binary_bytes,
            "max_params_bytes": config.max_params_bytes,
            "max_request_bytes": config.max_request_bytes,
            "activation_timeout_ms": config.limits.activation_timeout.as_millis() as u64,
            "state_quota_bytes": config.state_quota_bytes,
        },
        "binaries": binaries,
        "machines": machines,
    }))
}

/// `GET /healthz`: 200 while the node serves, with what it holds and does.
async fn healthz(State(node): State<Node>) -> Json<Value> {
    let (binaries, machines) = node.store().counts();
    let (running, waiting) = node.admission().load();
    Json(json!({
        "status": "ok",
        "binaries": binaries,
        "machines": machines,
        "activations": { "running": running, "waiting": waiting },
        "compiled": node.stats(),
    }))
}

/// Gives every request an id, on every log line made while serving it (guest output
/// included) and in the `x-request-id` answer header, so one activation's lines can be found.
async fn request_span(request: Request, next: Next) -> Response {
    static NEXT_ID: AtomicU64 = AtomicU64::new(1);
    let id = format!("{:x}", NEXT_ID.fetch_add(1, Ordering::Relaxed));
    let span = tracing::info_span!(
        "request",
        id = %id,
        method = %request.method(),
        path = %request.uri().path()
    );
    let mut response = next.run(request).instrument(span).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no route for {}", uri.path()),
    )
    .with(
        "routes",
        json!([
            "GET /",
            "GET /healthz",
            "POST /binaries",
            "GET /binaries/{id}",
            "POST /binaries/{id}",
            "GET /machines/{id}",
            "GET /machines/{id}/openapi.json",
            "GET /machines/{id}/http/",
            "GET|POST /machines/{id}/activate/{name}",
            "GET|POST /machines/{id}/http/{name}"
        ]),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not supported on {}", uri.path()),
    )
}

/// Reads a request body of at most `limit` bytes; `what` names it in the 413 answer.
async fn read_body(body: Body, limit: usize, what: &str) -> Result<Bytes, ApiError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<LengthLimitError>() => Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("{what} is larger than this node's limit of {limit} bytes"),
        )
        .with("limit", limit)),
        Err(error) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("reading the {what} failed: {error}"),
        )),
    }
}
