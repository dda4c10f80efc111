//! A request body that must arrive within a time limit, counted from the end of its headers.

use hyper::body::{Body, Bytes, Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// The error a request body yields when it took longer than the request timeout to arrive.
#[derive(Debug, thiserror::Error)]
#[error(
    "the request took longer than {} ms to arrive: send it faster, or ask the node's operator to \
     raise `request_timeout_ms` in `[connections]`",
    limit.as_millis()
)]
pub struct TooSlow {
    limit: Duration,
}

/// `body`, cut off with [`TooSlow`] once its time is up.
pub(super) struct Deadline<B> {
    body: B,
    limit: Duration,
    deadline: Instant,
    // Made only when the body is first waited for: most requests arrive whole with their headers.
    timer: Option<Pin<Box<Sleep>>>,
}

impl<B> Deadline<B> {
    pub(super) fn new(body: B, limit: Duration) -> Self {
        Self {
            body,
            limit,
            deadline: Instant::now() + limit,
            timer: None,
        }
    }
}

impl<B> Body for Deadline<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        let deadline = this.deadline;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(TooSlow { limit: this.limit })))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
