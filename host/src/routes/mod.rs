//! The HTTP API, derived from the machines' types: nothing is registered per machine. The
//! answers' JSON is [`carol_core::api`]'s.
//!
//! | route | does |
//! | --- | --- |
//! | `GET /` | the node's public key and what a client needs to know (a page for browsers) |
//! | `GET /healthz` | 200 while serving, with counts |
//! | `POST /binaries` | stores a component |
//! | `GET /binaries/{id}` | describes its activations and named types |
//! | `GET /binaries/{id}/component` | the component itself |
//! | `POST /binaries/{id}` | creates a machine with the body as params |
//! | `DELETE /binaries/{id}`, `DELETE /machines/{id}` | with an admin token: removes it (410 Gone afterwards) |
//! | `GET /machines/{id}` | describes a machine (a page with a form per activation for browsers) |
//! | `GET /machines/{id}/http/` | the machine's page |
//! | `GET /machines/{id}/openapi.json` | its OpenAPI 3.1 document |
//! | `GET`, `POST /machines/{id}/activate/{name}` | runs an activation (also under `/http/{name}`) |
//! | `GET /federation` | on a federation member: the federation, its members and its key |
//! | `GET /federation/keygen/{phase}` | on a member: its message of that key generation phase |
//! | `GET /federation/keygen/machines/{id}/{phase}` | on a member, in a resharing: its message of that phase for a machine's own key |
//! | `GET /federation/machine-keys` | on a member: the machines whose own keys it holds a share of |
//! | `POST /federation/partials` | on a member: another member's partial signature |
//! | `GET /federation/machines/{id}/deal` | on a member: its contribution to a machine's own key, or (`?dealer=N`) member `N`'s it holds |
//! | `POST /federation/agreement` | on a member: another member's request to agree on something |
//! | `GET /federation/decided/{decree}` | on a member: what the members decided on it |
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! use carol_host::{Node, NodeConfig};
//!
//! let node = Node::new(NodeConfig::development())?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! carol_host::routes::serve(node, listener).await?;
//! # Ok(()) }
//! ```

mod access;
mod activate;
mod binaries;
mod body;
mod error;
mod fallback;
mod federation;
mod guard;
mod lookup;
mod machines;
mod metrics;
mod negotiate;
mod pages;
mod rates;
mod removals;
mod request_id;
mod root;

pub use error::ApiError;

use crate::node::Node;
use crate::rates::Kind;
use axum::Router;
use axum::routing::{delete, get, post};
use std::future::Future;

/// The node's HTTP API, with `GET /metrics`.
pub fn router(node: Node) -> Router {
    build(node, true)
}

/// The node's HTTP API without `GET /metrics`, for a node that serves its metrics on another
/// address ([`metrics_router`]).
pub fn api_router(node: Node) -> Router {
    build(node, false)
}

/// `GET /metrics` alone, for an address of its own (`[metrics] listen`).
pub fn metrics_router(node: Node) -> Router {
    Router::new()
        .route("/metrics", get(metrics::scrape))
        .fallback(fallback::not_found)
        .with_state(node)
}

fn build(node: Node, with_metrics: bool) -> Router {
    let uploads = || axum::middleware::from_fn_with_state(node.clone(), access::upload);
    let activations = || axum::middleware::from_fn_with_state(node.clone(), access::activate);
    let admins = || axum::middleware::from_fn_with_state(node.clone(), access::remove);
    // Rates are checked first: a client past its rate is refused before its token is.
    let rated = |kind| axum::middleware::from_fn_with_state((node.clone(), kind), rates::limit);
    let routes = Router::new()
        .route("/", get(root::root))
        .route(
            "/binaries",
            post(binaries::upload)
                .route_layer(uploads())
                .route_layer(rated(Kind::Upload)),
        )
        .route(
            "/binaries/{id}",
            get(binaries::describe)
                .merge(
                    post(binaries::create_machine)
                        .route_layer(uploads())
                        .route_layer(rated(Kind::Machine)),
                )
                .merge(delete(removals::binary).route_layer(admins())),
        )
        .route("/binaries/{id}/component", get(binaries::component))
        .route(
            "/machines/{id}",
            get(machines::describe).merge(delete(removals::machine).route_layer(admins())),
        )
        .route("/machines/{id}/openapi.json", get(machines::openapi))
        .route("/machines/{id}/http", get(machines::page))
        .route("/machines/{id}/http/", get(machines::page))
        .route(
            "/machines/{id}/activate/{*name}",
            get(activate::by_query)
                .post(activate::by_json)
                .route_layer(activations())
                .route_layer(rated(Kind::Activation)),
        )
        .route(
            "/machines/{id}/http/{*name}",
            get(activate::by_query)
                .post(activate::by_json)
                .route_layer(activations())
                .route_layer(rated(Kind::Activation)),
        )
        .route("/healthz", get(root::healthz))
        .route("/federation", get(federation::describe))
        .route("/federation/keygen/{phase}", get(federation::keygen))
        .route(
            "/federation/keygen/secp256k1/{phase}",
            get(federation::keygen_secp256k1),
        )
        .route(
            "/federation/keygen/machines/{id}/{phase}",
            get(federation::keygen_machine),
        )
        .route("/federation/machine-keys", get(federation::machine_keys))
        .route(
            "/federation/partials",
            post(federation::partial::<crate::federation::signing::Bls<'static>>),
        )
        .route("/federation/nonce-votes", post(federation::nonce_vote))
        .route(
            "/federation/bip340-partials",
            post(federation::partial::<crate::federation::nonces::Bip340>),
        )
        .route(
            "/federation/machines/{id}/deal",
            get(federation::machine_deal),
        )
        .route(
            "/federation/machines/{id}/pledge",
            get(federation::machine_pledge),
        )
        .route(
            "/federation/machines/{id}/nonce-deal",
            get(federation::nonce_deal),
        )
        .route(
            "/federation/machines/{id}/nonce-pledge",
            get(federation::nonce_pledge),
        )
        .route("/federation/agreement", post(federation::agreement))
        .route("/federation/decided/{decree}", get(federation::decided));
    let routes = if with_metrics {
        routes.route("/metrics", get(metrics::scrape))
    } else {
        routes
    };
    routes
        .fallback(fallback::not_found)
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            node.clone(),
            guard::guard,
        ))
        .layer(axum::middleware::from_fn(request_id::span))
        .with_state(node)
}

/// Serves `node`'s HTTP API on `listener` until the process ends.
pub async fn serve(node: Node, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    serve_until(node, listener, std::future::pending()).await
}

/// Serves `node`'s HTTP API on `listener`, within the default [`crate::server::Connections`],
/// until `shutdown` completes, then lets open requests finish.
pub async fn serve_until(
    node: Node,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = crate::server::Connections::default();
    crate::server::serve(router(node), listener, &limits, shutdown).await
}
