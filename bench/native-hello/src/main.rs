//! `native-hello ADDR`: the load benchmark's ceiling. It answers
//! `GET /machines/{id}/activate/say?message=world` with the JSON string `"hello world"`, as a
//! Carol node does for the hello-world machine, but natively: the same HTTP stack (axum on
//! tokio, HTTP/1.1) with no WebAssembly behind it. Any other path gets `hello world` as text.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query};
use axum::routing::get;
use std::collections::HashMap;
use std::net::SocketAddr;

async fn say(
    Path(_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Json<String> {
    let message = query.get("message").map_or("", String::as_str);
    Json(format!("hello {message}"))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8001".into())
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let app = Router::new()
        .route("/machines/{id}/activate/say", get(say))
        .fallback(|| async { "hello world" });
    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!("native-hello: serving on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
