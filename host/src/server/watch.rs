//! What a connection is doing, and since when: idle, reading a request's headers, or busy with
//! a request. The connection's reads and writes and its requests update it; `expired` says when
//! a limit has run out.

use super::Connections;
use hyper::body::{Body, Frame, SizeHint};
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

#[derive(Clone, Copy)]
enum Phase {
    /// Nothing read since the last response began; the time of the last write.
    Idle(Instant),
    /// A request's first bytes arrived at this time, and its headers are not yet whole.
    Reading(Instant),
    /// This many requests are being answered.
    Busy(usize),
}

/// One connection's phase.
pub(super) struct Watch {
    phase: Mutex<Phase>,
    /// Wakes `expired` when a request begins to arrive on an idle connection: its header time
    /// is shorter than the idle time being waited out.
    reading: Notify,
}

impl Watch {
    /// A connection just opened: its client has the header timeout to send a request's headers.
    pub(super) fn new() -> Self {
        Self {
            phase: Mutex::new(Phase::Reading(Instant::now())),
            reading: Notify::new(),
        }
    }

    fn with<T>(&self, change: impl FnOnce(&mut Phase) -> T) -> T {
        change(&mut self.phase.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn read(&self) {
        let began = self.with(|phase| {
            let idle = matches!(phase, Phase::Idle(_));
            if idle {
                *phase = Phase::Reading(Instant::now());
            }
            idle
        });
        if began {
            self.reading.notify_one();
        }
    }

    fn wrote(&self) {
        self.with(|phase| {
            if let Phase::Idle(_) = phase {
                *phase = Phase::Idle(Instant::now());
            }
        });
    }

    /// A request's headers have arrived: the connection is busy until the guard is dropped.
    pub(super) fn begin(self: &Arc<Self>) -> Busy {
        self.with(|phase| {
            *phase = match *phase {
                Phase::Busy(requests) => Phase::Busy(requests + 1),
                _ => Phase::Busy(1),
            }
        });
        Busy(self.clone())
    }

    /// Completes when the connection has been idle, or slow to send headers, past its limit,
    /// with the reason.
    pub(super) async fn expired(&self, limits: &Connections) -> &'static str {
        loop {
            let now = Instant::now();
            let (deadline, why) = match self.with(|phase| *phase) {
                Phase::Idle(since) => (since + limits.idle_timeout, Some("idle for too long")),
                Phase::Reading(since) => (
                    since + limits.header_timeout,
                    Some("too slow to send a request's headers"),
                ),
                // A request in flight has its own limits; look again later.
                Phase::Busy(_) => (now + limits.header_timeout.min(limits.idle_timeout), None),
            };
            match why {
                Some(why) if deadline <= now => return why,
                _ => {
                    tokio::select! {
                        () = tokio::time::sleep_until(deadline) => {}
                        () = self.reading.notified() => {}
                    }
                }
            }
        }
    }
}

/// A request being answered; dropping it makes the connection idle again when it was the last.
pub(super) struct Busy(Arc<Watch>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.with(|phase| {
            *phase = match *phase {
                Phase::Busy(requests) if requests > 1 => Phase::Busy(requests - 1),
                _ => Phase::Idle(Instant::now()),
            }
        });
    }
}

/// A connection's stream, reporting its reads and writes to its watch.
pub(super) struct Watched<S> {
    stream: S,
    watch: Arc<Watch>,
}

impl<S> Watched<S> {
    pub(super) fn new(stream: S, watch: Arc<Watch>) -> Self {
        Self { stream, watch }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.watch.read();
        }
        polled
    }
}

impl<S> Watched<S> {
    /// Tells the watch of a write that took bytes, and passes its outcome on.
    fn wrote(&self, polled: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        if let Poll::Ready(Ok(written)) = polled
            && written > 0
        {
            self.watch.wrote();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.wrote(polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.wrote(polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// An answer's body, keeping its connection busy until it is written whole or dropped.
pub(super) struct Holding<B> {
    body: B,
    busy: Option<Busy>,
}

impl<B> Holding<B> {
    pub(super) fn new(body: B, busy: Busy) -> Self {
        Self {
            body,
            busy: Some(busy),
        }
    }
}

impl<B: Body + Unpin> Body for Holding<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.body).poll_frame(cx);
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) {
            this.busy = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
