//! `GET /metrics`: the node's metrics in the Prometheus text format, with its gauges read at the
//! moment of the scrape.

use crate::metrics::{CONTENT_TYPE, Snapshot};
use crate::node::Node;
use crate::store::DATABASE_FILE;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

/// The metrics, as a scrape asks for them.
pub(super) async fn scrape(State(node): State<Node>) -> impl IntoResponse {
    let (running, waiting) = node.admission().load();
    let (binaries, machines) = node.registry().counts();
    let store_bytes = node
        .config()
        .data_dir
        .as_ref()
        .and_then(|dir| std::fs::metadata(dir.join(DATABASE_FILE)).ok())
        .map_or(0, |file| file.len());
    let text = node.metrics().render(Snapshot {
        running,
        waiting,
        binaries,
        machines,
        store_bytes,
        federation_ready: node.federation().is_some_and(|member| member.is_ready()),
    });
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], text)
}
