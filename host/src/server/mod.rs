//! Serving the HTTP API on a listener, with bounds on what a connection may hold: how many are
//! open, how long a client may take to send a request's headers and its body, and how long an
//! idle keep-alive connection is kept. Without them an idle or half-sent connection would be kept
//! forever, and the file-descriptor limit would be the only bound.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! use carol_host::server::{Connections, serve};
//! use carol_host::{Node, NodeConfig};
//!
//! let node = Node::new(NodeConfig::development())?;
//! let listener = carol_host::server::listen("127.0.0.1:8000".parse()?)?;
//! let limits = Connections::default();
//! serve(carol_host::routes::router(node), listener, &limits, std::future::pending()).await?;
//! # Ok(()) }
//! ```

mod deadline;
mod descriptors;
mod watch;

pub use deadline::TooSlow;
pub use descriptors::raise_descriptor_limit;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch as signal};
use tower_service::Service;
use watch::{Watch, Watched};

/// The bounds on the node's connections (`[connections]` in `carol.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connections {
    /// Connections open at once; past it a new one is answered 503 and closed.
    pub max: usize,
    /// Time a client has to send a request's headers, from when the connection opened or from
    /// its first byte after an idle spell.
    pub header_timeout: Duration,
    /// Time a client has to send a request's body, from the end of its headers.
    pub request_timeout: Duration,
    /// Time a keep-alive connection may be idle (nothing read or written, no request in
    /// flight) before it is closed.
    pub idle_timeout: Duration,
}

impl Default for Connections {
    fn default() -> Self {
        Self {
            max: 4096,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

/// Listens on `address` with room for a burst of new connections: the system's usual backlog
/// of 128 drops connections arriving faster than they are accepted, and their clients wait a
/// second to try again.
pub fn listen(address: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match address {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(BACKLOG)
}

/// Connections the system may hold waiting to be accepted (within `net.core.somaxconn`).
const BACKLOG: u32 = 4096;

/// Serves `router` on `listener` within `limits` until `shutdown` completes, then stops
/// accepting, lets requests in flight finish and closes idle connections.
pub async fn serve(
    router: Router,
    listener: TcpListener,
    limits: &Connections,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let open = Arc::new(Semaphore::new(limits.max));
    let (stop, stopping) = signal::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors or a connection reset before it was accepted:
                    // pause rather than spin, and go on.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        match open.clone().try_acquire_owned() {
            Ok(permit) => {
                let (router, limits, stopping) = (router.clone(), limits.clone(), stopping.clone());
                tokio::spawn(async move {
                    connection(stream, peer, router, &limits, stopping).await;
                    drop(permit);
                });
            }
            Err(_) => {
                tokio::spawn(refuse(stream, limits.max));
            }
        }
    }
    let _ = stop.send(true);
    // Every connection holds a permit until it ends: having them all back means all ended.
    let _ = open.acquire_many(limits.max as u32).await;
    Ok(())
}

/// Serves one connection until the client closes it, a limit closes it, or the node stops.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: &Connections,
    mut stopping: signal::Receiver<bool>,
) {
    let watch = Arc::new(Watch::new());
    let io = TokioIo::new(Watched::new(stream, watch.clone()));
    let request_timeout = limits.request_timeout;
    let requests = watch.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut router = router.clone();
        let started = requests.begin();
        let mut request =
            request.map(|body| Body::new(deadline::Deadline::new(body, request_timeout)));
        request.extensions_mut().insert(ConnectInfo(peer));
        async move {
            let response = router.call(request).await;
            drop(started);
            response
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    // The watch below times headers and idle spells itself: hyper's own timer would run from
    // the end of the previous response, counting an idle spell against the headers.
    builder.header_read_timeout(None);
    let served = builder.serve_connection(io, service);
    tokio::pin!(served);
    tokio::select! {
        _ = served.as_mut() => return,
        why = watch.expired(limits) => {
            tracing::debug!(%peer, why, "closing a connection");
            return;
        }
        _ = stopping.wait_for(|stop| *stop) => served.as_mut().graceful_shutdown(),
    }
    tokio::select! {
        _ = served => {}
        why = watch.expired(limits) => tracing::debug!(%peer, why, "closing a connection"),
    }
}

/// Answers a connection past the limit with 503 and closes it, without reading its request.
async fn refuse(mut stream: TcpStream, max: usize) {
    let body = serde_json::json!({
        "error": format!(
            "this node has {max} connections open, its limit: try again shortly, or keep fewer \
             connections open"
        ),
        "limit": max,
    })
    .to_string();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let write = async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
}
