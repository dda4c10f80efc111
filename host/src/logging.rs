//! Logging set-up shared by the node binary and `cargo carol run`.

use std::io::IsTerminal;

/// How the log is written (`[log] format` in `carol.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Plain text lines, in colour on a terminal.
    #[default]
    Text,
    /// One JSON object per line and event, with the fields of the event and of the request it
    /// belongs to (`span.id`, `span.method`, `span.path`), for log shippers.
    Json,
}

impl LogFormat {
    /// The format a setting names: `text` or `json`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "text" => Some(Self::Text),
            "json" => Some(Self::Json),
            _ => None,
        }
    }

    /// Its name in `carol.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Json => "json",
        }
    }
}

/// Sends tracing output to stderr in `format`, filtered by `RUST_LOG` (default `info`); text is
/// in colour only on a terminal, so that logs written to files stay plain.
pub fn init(format: LogFormat) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let log = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    match format {
        LogFormat::Text => log.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => log
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}
