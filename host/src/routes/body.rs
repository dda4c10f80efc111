//! Reading request bodies within the node's limits.

use super::error::ApiError;
use crate::server::TooSlow;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
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

/// Reads and drops up to `limit` bytes of a request refused before its body was read, so that
/// a client that sends its whole body before reading the answer (most do, for uploads) sees
/// the refusal instead of a broken pipe; nothing is kept. A client that sent `Expect:
/// 100-continue` is told before it sends anything, and has nothing read.
pub(super) async fn drain(headers: &HeaderMap, mut body: Body, limit: usize) {
    let waits = headers
        .get(header::EXPECT)
        .is_some_and(|expect| expect.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if waits {
        return;
    }
    let mut read = 0;
    while let Some(Ok(frame)) = body.frame().await {
        read += frame.data_ref().map_or(0, |data| data.len());
        if read > limit {
            return;
        }
    }
}

/// Whether a body failed because it arrived too slowly; the error is wrapped on its way here.
fn too_slow(error: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(error), |error| error.source()).any(|error| error.is::<TooSlow>())
}
