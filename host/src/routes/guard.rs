//! What keeps a web page from using a node behind its visitor's back: the node answers only for
//! its own host names, refuses requests from other sites' pages unless the operator lists the
//! site (then with CORS), and marks every answer `nosniff`. Clients that are not browsers send
//! none of the headers checked here and are not affected.
//!
//! - **DNS rebinding.** A page on `rebind.evil.example` can point that name at `127.0.0.1` and
//!   then read the node as its own origin. The node answers only requests whose `Host` is an IP
//!   address, `localhost` or a name listed in `[http] hosts`.
//! - **Cross-site requests.** A page can make a browser send requests to any node it knows the
//!   address of (`cargo carol run` on `127.0.0.1:8000`): uploads, machine creations and
//!   activations, a plain `GET` among them. Browsers say where a request comes from, in
//!   `Origin` and `Sec-Fetch-Site`; one from another origin is refused, unless its origin is in
//!   `[http] allowed_origins`. Navigating to a page of the node from a link elsewhere stays
//!   possible: pages change nothing.

use super::error::ApiError;
use crate::node::Node;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// How long a browser may keep a preflight's answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";

/// Refuses what the node does not answer for, answers the preflights of allowed origins, and
/// adds the headers every answer carries.
pub(super) async fn guard(State(node): State<Node>, request: Request, next: Next) -> Response {
    let access = &node.config().http;
    let headers = request.headers();
    let host = header_text(headers, header::HOST);
    if let Some(host) = host
        && !access.answers_for(host)
    {
        return hardened(
            ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "this node does not answer for the host `{host}`: use its address, \
                     `localhost`, or a name its operator lists in `[http] hosts`"
                ),
            )
            .into_response(),
        );
    }
    let origin = header_text(headers, header::ORIGIN).map(str::to_owned);
    let allowed = origin.as_deref().filter(|o| access.allows_origin(o));
    if let Some(allowed) = allowed
        && request.method() == Method::OPTIONS
    {
        return hardened(with_cors(
            StatusCode::NO_CONTENT.into_response(),
            allowed,
            true,
        ));
    }
    if allowed.is_none() && from_another_site(&request, origin.as_deref(), host) {
        let from = origin.as_deref().unwrap_or("another site");
        return hardened(
            ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "requests from pages of other sites are refused (this one is from {from}): \
                     call the node from its own pages or from a client that is not a browser, \
                     or have its operator list the origin in `[http] allowed_origins`"
                ),
            )
            .into_response(),
        );
    }
    let allowed = allowed.map(str::to_owned);
    let response = next.run(request).await;
    let response = match &allowed {
        Some(origin) => with_cors(response, origin, false),
        None => response,
    };
    hardened(response)
}

/// Whether a request comes from a page of another origin than the node's: its `Origin` is not
/// the node's own, or the browser says it is cross-site and it is not a navigation to a page
/// that changes nothing.
fn from_another_site(request: &Request, origin: Option<&str>, host: Option<&str>) -> bool {
    if let Some(origin) = origin {
        // The node's own pages send their origin, which names the host they were loaded from.
        let authority = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"));
        let same = authority
            .zip(host)
            .is_some_and(|(authority, host)| authority.eq_ignore_ascii_case(host));
        if !same {
            return true;
        }
    }
    let headers = request.headers();
    let cross_site = header_text(headers, "sec-fetch-site") == Some("cross-site");
    let navigation = header_text(headers, "sec-fetch-mode") == Some("navigate")
        && request.method() == Method::GET
        && !runs_an_activation(request.uri().path());
    cross_site && !navigation
}

/// Whether `path` is one of an activation's routes, `/machines/{id}/activate/{name}` or
/// `/machines/{id}/http/{name}`.
fn runs_an_activation(path: &str) -> bool {
    let mut segments = path.trim_start_matches('/').split('/');
    matches!(
        (segments.next(), segments.next(), segments.next(), segments.next()),
        (Some("machines"), Some(_), Some("activate" | "http"), Some(name)) if !name.is_empty()
    )
}

fn header_text(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// The CORS headers for `origin`, and for a preflight, what it may send.
fn with_cors(mut response: Response, origin: &str, preflight: bool) -> Response {
    let headers = response.headers_mut();
    if let Ok(origin) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    headers.append(header::VARY, HeaderValue::from_static("origin"));
    if preflight {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type, authorization"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(PREFLIGHT_MAX_AGE),
        );
    } else {
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("x-request-id, retry-after"),
        );
    }
    response
}

/// Every answer, JSON included, is read as the type it says it is.
fn hardened(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activation_routes_are_told_from_pages() {
        for path in [
            "/machines/ab/activate/say",
            "/machines/ab/activate/calc/mul",
            "/machines/ab/http/say",
        ] {
            assert!(runs_an_activation(path), "{path}");
        }
        for path in [
            "/",
            "/machines/ab",
            "/machines/ab/http/",
            "/machines/ab/http",
            "/machines/ab/openapi.json",
            "/binaries/ab",
        ] {
            assert!(!runs_an_activation(path), "{path}");
        }
    }
}
