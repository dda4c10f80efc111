//! `GET /` and `GET /healthz`: the node itself.

use super::negotiate::{prefers_html, vary_on_accept};
use super::pages;
use crate::node::Node;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use carol_core::api::Health;

/// `GET /`: the node's page for browsers, its JSON description for everyone else.
pub(super) async fn root(State(node): State<Node>, headers: HeaderMap) -> Response {
    let response = if prefers_html(&headers) {
        pages::node(&node, &headers)
    } else {
        Json(node.info()).into_response()
    };
    vary_on_accept(response)
}

/// `GET /healthz`: 200 while the node serves, with what it holds and does.
pub(super) async fn healthz(State(node): State<Node>) -> Json<Health> {
    Json(node.health())
}
