//! Content negotiation: `/` and `/machines/{id}` answer a browser with a page and everyone
//! else with JSON.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

/// Whether a request's `Accept` header prefers HTML over JSON, as browsers' navigations do
/// (`text/html,…,*/*;q=0.8`). No header, `*/*` alone, `application/json` or a tie keep JSON,
/// so API clients see no change.
pub(super) fn prefers_html(headers: &HeaderMap) -> bool {
    let mut html = 0.0f32;
    let mut json = 0.0f32;
    let ranges = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','));
    for range in ranges {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|part| {
                let (key, value) = part.split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("q")
                    .then(|| value.trim().parse::<f32>().ok())?
            })
            .next()
            .unwrap_or(1.0);
        match media.as_str() {
            "text/html" | "text/*" => html = html.max(quality),
            "application/json" | "application/*" | "*/*" => json = json.max(quality),
            _ => {}
        }
    }
    html > json
}

/// Marks an answer that depends on the `Accept` header, so caches keep HTML and JSON apart.
pub(super) fn vary_on_accept(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_get_html_and_api_clients_json() {
        let accept = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT, value.parse().unwrap());
            prefers_html(&headers)
        };
        assert!(!prefers_html(&HeaderMap::new()));
        assert!(accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
        ));
        assert!(accept("text/html"));
        assert!(!accept("*/*"));
        assert!(!accept("application/json"));
        assert!(!accept("application/json, text/html"));
        assert!(!accept("text/html;q=0.5, application/json"));
        assert!(accept("application/json;Q=0.4, text/html"));
        assert!(!accept("text/html;q=0"));
    }
}
