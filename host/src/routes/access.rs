//! `[access]` on the routes it guards: uploads and machine creations, activations, and removals,
//! each checked for a listed bearer token before anything of the request is used
//! ([`crate::access`]), so that a refused request stores nothing (its body is read and dropped,
//! so that the client sees the answer).

use super::error::ApiError;
use crate::access::Act;
use crate::node::Node;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Guards an upload or a machine's creation.
pub(super) async fn upload(State(node): State<Node>, request: Request, next: Next) -> Response {
    check(&node, Act::Upload, request, next).await
}

/// Guards a removal: only holders of an admin token.
pub(super) async fn remove(State(node): State<Node>, request: Request, next: Next) -> Response {
    check(&node, Act::Remove, request, next).await
}

/// Guards an activation.
pub(super) async fn activate(State(node): State<Node>, request: Request, next: Next) -> Response {
    check(&node, Act::Activate, request, next).await
}

async fn check(node: &Node, act: Act, request: Request, next: Next) -> Response {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    match node.config().access.check(act, authorization) {
        Ok(Some(token)) => {
            tracing::debug!(token, path = request.uri().path(), "token accepted");
            next.run(request).await
        }
        Ok(None) => next.run(request).await,
        Err(denied) => {
            let limit = match act {
                Act::Upload => node.config().max_binary_bytes,
                Act::Activate => node.config().max_request_bytes,
                Act::Remove => super::removals::REASON_BYTES,
            };
            let (parts, request_body) = request.into_parts();
            super::body::drain(&parts.headers, request_body, limit).await;
            let mut response =
                ApiError::new(StatusCode::UNAUTHORIZED, denied.to_string()).into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"carol\""),
            );
            response
        }
    }
}
