//! Reading request bodies within the node's limits.

use super::error::ApiError;
use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use http_body_util::{BodyExt, LengthLimitError, Limited};

/// Reads a request body of at most `limit` bytes; `what` names it in the 413 answer.
pub(super) async fn read(body: Body, limit: usize, what: &str) -> Result<Bytes, ApiError> {
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
