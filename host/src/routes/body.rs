//! Reading request bodies within the node's limits.

use super::error::ApiError;
use crate::server::TooSlow;
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
        Err(error) if too_slow(&*error) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!("reading the {what} stopped: {error}"),
        )),
        Err(error) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("reading the {what} failed: {error}"),
        )),
    }
}

/// Whether a body failed because it arrived too slowly; the error is wrapped on its way here.
fn too_slow(error: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(error), |error| error.source()).any(|error| error.is::<TooSlow>())
}
