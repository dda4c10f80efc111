//! `[rates]` on the routes it limits: uploads, machine creations and activations, each checked
//! against its client's bucket ([`crate::rates`]) before anything of the request is used, so a
//! refused request stores and runs nothing (its body is read and dropped, so that the client
//! sees the answer).

use super::error::ApiError;
use crate::node::Node;
use crate::rates::Kind;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

/// Limits requests of `kind`.
pub(super) async fn limit(
    State((node, kind)): State<(Node, Kind)>,
    request: Request,
    next: Next,
) -> Response {
    check(&node, kind, request, next).await
}

async fn check(node: &Node, kind: Kind, request: Request, next: Next) -> Response {
    // A request served without the node's accept loop (a test's own server) has no peer.
    let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() else {
        return next.run(request).await;
    };
    let client = node.rates().client(peer.ip(), request.headers());
    match node.rates().check(kind, client) {
        Ok(()) => next.run(request).await,
        Err(limited) => {
            let (parts, request_body) = request.into_parts();
            let limit = match kind {
                Kind::Upload => node.config().max_binary_bytes,
                Kind::Machine => node.config().max_params_bytes,
                Kind::Activation => node.config().max_request_bytes,
            };
            super::body::drain(&parts.headers, request_body, limit).await;
            node.metrics().rate_limited(kind);
            tracing::debug!(%client, "rate limited");
            let retry_after = u32::try_from(limited.retry_after.as_secs()).unwrap_or(u32::MAX);
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, limited.to_string())
                .with("limit", limited.limit)
                .with("per", limited.per)
                .retry_after(retry_after)
                .into_response()
        }
    }
}
