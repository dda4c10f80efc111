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
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch as signal};
use tower_service::Service;
use watch::{Holding, Watch, Watched};

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
    let refusing = Arc::new(Semaphore::new(REFUSING));
    let refusal: Arc<[u8]> = refusal(limits.max).into();
    let (stop, stopping) = signal::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // A client gone before it was accepted: nothing to do.
                Err(error) if matches!(
                    error.kind(),
                    ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::Interrupted
                ) => continue,
                Err(error) => {
                    // Out of file descriptors or memory: pause rather than spin, and go on.
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
            // Refusing costs a task and a descriptor for up to a second; past a bound, a
            // connection is closed at once, unanswered.
            Err(_) => match refusing.clone().try_acquire_owned() {
                Ok(permit) => {
                    let refusal = refusal.clone();
                    tokio::spawn(async move {
                        refuse(stream, &refusal).await;
                        drop(permit);
                    });
                }
                Err(_) => drop(stream),
            },
        }
    }
    // New clients are refused by the system from now on, not left waiting in the backlog.
    drop(listener);
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
            // The connection stays busy until the answer's body is written, not only made.
            let response = router.call(request).await;
            response.map(|response| response.map(|body| Body::new(Holding::new(body, started))))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    // The watch below times headers and idle spells itself: hyper's own timer would run from
    // the end of the previous response, counting an idle spell against the headers.
    builder.header_read_timeout(None);
    let served = builder.serve_connection(io, service);
    tokio::pin!(served);
    tokio::select! {
        served = served.as_mut() => {
            if let Err(error) = served {
                tracing::debug!(%peer, %error, "a connection ended with an error");
            }
            return;
        }
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

/// Connections being refused at once, each for at most [`REFUSAL_TIME`].
const REFUSING: usize = 256;

/// How long a refused connection is given to take its answer.
const REFUSAL_TIME: Duration = Duration::from_secs(1);

/// Answers a connection past the limit with `refusal` and closes it. What the client sent is
/// read and discarded first (a little, briefly): closing a socket with unread data resets it,
/// and the client would lose the answer.
async fn refuse(mut stream: TcpStream, refusal: &[u8]) {
    let answer = async {
        stream.write_all(refusal).await?;
        stream.shutdown().await?;
        let mut discarded = [0; 4096];
        let mut left: usize = 64 * 1024;
        while left > 0 {
            match stream.read(&mut discarded).await? {
                0 => break,
                read => left = left.saturating_sub(read),
            }
        }
        std::io::Result::Ok(())
    };
    let _ = tokio::time::timeout(REFUSAL_TIME, answer).await;
}

/// The 503 answer to a connection past the limit of `max`.
fn refusal(max: usize) -> Vec<u8> {
    let body = serde_json::json!({
        "error": format!(
            "this node has {max} connections open, its limit: try again shortly, or keep fewer \
             connections open"
        ),
        "limit": max,
    })
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
