//! Printing a machine's activations with the URLs that run them.

use crate::outln;
use carol_core::api::ActivationDescription;

/// Prints each activation's signature and its GET URL with a placeholder per parameter.
pub fn print_urls(machine_url: &str, activations: &[ActivationDescription]) {
    outln!("activations");
    for activation in activations {
        let query: Vec<String> = activation
            .params
            .iter()
            .map(|p| format!("{}=<{}>", p.name, p.ty))
            .collect();
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{}", query.join("&"))
        };
        outln!("  {}", activation.signature);
        outln!("      {machine_url}/activate/{}{query}", activation.name);
    }
}
