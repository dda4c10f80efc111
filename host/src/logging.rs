//! Logging set-up shared by the node binary and `cargo carol run`.

use std::io::IsTerminal;

/// Sends tracing output to stderr, filtered by `RUST_LOG` (default `info`), in colour only on a
/// terminal so that logs written to files stay plain text.
pub fn init() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
}
