//! Printing a machine's activations with the URLs that run them.

use crate::outln;
use serde_json::Value;

/// Prints each activation's signature and its GET URL with a placeholder per parameter;
/// `activations` are descriptions as the node serves them (`GET /machines/{id}`).
pub fn print_urls(machine_url: &str, activations: &[Value]) {
    outln!("activations");
    for activation in activations {
        let name = activation["name"].as_str().unwrap_or_default();
        let query: Vec<String> = activation["params"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|p| {
                format!(
                    "{}=<{}>",
                    p["name"].as_str().unwrap_or_default(),
                    p["type"].as_str().unwrap_or_default()
                )
            })
            .collect();
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{}", query.join("&"))
        };
        outln!("  {}", activation["signature"].as_str().unwrap_or(name));
        outln!("      {machine_url}/activate/{name}{query}");
    }
}
