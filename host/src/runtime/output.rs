//! A guest's stdout or stderr for one activation: kept up to a bound and logged afterwards.
//! Past the bound, writes still succeed and the rest is counted, not kept, so a chatty guest
//! neither fails (a Rust guest's `print!` panics on a failed write) nor grows the node's memory.

use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// How much one write may carry; the guest's writes are split to fit.
const WRITE_PERMIT: usize = 64 * 1024;

/// How much of the end of the output is kept besides its beginning: a panic message comes last.
const TAIL: usize = 8 * 1024;

/// One output stream of one activation. Clones share the buffer.
#[derive(Clone)]
pub struct OutputBuffer {
    inner: Arc<Mutex<Kept>>,
    capacity: usize,
}

#[derive(Default)]
struct Kept {
    bytes: Vec<u8>,
    dropped: usize,
    /// The last bytes written, once more than `bytes` holds were written.
    tail: Vec<u8>,
}

impl OutputBuffer {
    /// A buffer that keeps at most `capacity` bytes.
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Arc::default(),
            capacity,
        }
    }

    /// What was kept, and how many bytes after it were dropped.
    pub fn contents(&self) -> (Vec<u8>, usize) {
        let kept = self.inner.lock().expect("output lock");
        (kept.bytes.clone(), kept.dropped)
    }

    /// The last bytes written (at most 8 KiB): where a panic message is, however much came
    /// before it.
    pub fn tail(&self) -> Vec<u8> {
        let kept = self.inner.lock().expect("output lock");
        if kept.dropped == 0 {
            let start = kept.bytes.len().saturating_sub(TAIL);
            kept.bytes[start..].to_vec()
        } else {
            let start = kept.tail.len().saturating_sub(TAIL);
            kept.tail[start..].to_vec()
        }
    }

    fn keep(&self, bytes: &[u8]) {
        let mut kept = self.inner.lock().expect("output lock");
        let room = self.capacity.saturating_sub(kept.bytes.len());
        let taken = room.min(bytes.len());
        kept.bytes.extend_from_slice(&bytes[..taken]);
        kept.dropped += bytes.len() - taken;
        if taken < bytes.len() {
            if kept.tail.is_empty() {
                let start = kept.bytes.len().saturating_sub(TAIL);
                let end = kept.bytes[start..].to_vec();
                kept.tail = end;
            }
            kept.tail.extend_from_slice(&bytes[taken..]);
            // Trimmed in halves, so each byte is moved a bounded number of times.
            if kept.tail.len() > 2 * TAIL {
                let excess = kept.tail.len() - TAIL;
                kept.tail.drain(..excess);
            }
        }
    }
}

impl OutputStream for OutputBuffer {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.keep(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(WRITE_PERMIT)
    }
}

impl Pollable for OutputBuffer {
    // Always ready: writes never block. (The trait is declared with `async_trait`; this is
    // the signature it expands to.)
    fn ready<'a, 'b>(&'a mut self) -> Pin<Box<dyn Future<Output = ()> + Send + 'b>>
    where
        'a: 'b,
        Self: 'b,
    {
        Box::pin(std::future::ready(()))
    }
}

impl tokio::io::AsyncWrite for OutputBuffer {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.keep(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for OutputBuffer {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for OutputBuffer {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_up_to_its_capacity_and_counts_the_rest() {
        let mut output = OutputBuffer::new(5);
        output.write(Bytes::from_static(b"hel")).unwrap();
        output.write(Bytes::from_static(b"lo world")).unwrap();
        assert_eq!(output.contents(), (b"hello".to_vec(), 6));
        assert_eq!(output.tail(), b"hello world");
    }

    #[test]
    fn keeps_the_end_of_a_long_output() {
        let mut output = OutputBuffer::new(16);
        for _ in 0..1000 {
            output
                .write(Bytes::from_static(b"0123456789abcdef"))
                .unwrap();
        }
        output
            .write(Bytes::from_static(b"panicked at: last words"))
            .unwrap();
        let tail = output.tail();
        assert!(tail.len() <= TAIL);
        assert!(tail.ends_with(b"panicked at: last words"));
        assert_eq!(output.contents().0, b"0123456789abcdef");
    }
}
