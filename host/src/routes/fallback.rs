//! What the API answers for a path or method it does not have.

use super::error::ApiError;
use axum::http::{Method, StatusCode, Uri};
use serde_json::json;

/// Answers 404 for a path no route serves, listing the routes.
pub(super) async fn not_found(uri: Uri) -> ApiError {
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

/// Answers 405 for a method a route does not take.
pub(super) async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not supported on {}", uri.path()),
    )
}
