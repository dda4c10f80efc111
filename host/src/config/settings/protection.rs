//! The settings that protect a public node from its clients: `[rates]` and `[compiles]`.

use super::{Problem, Section, Setting, Written, millis, ms, number, positive, read};
use std::net::IpAddr;

/// Addresses, each an IPv4 or IPv6 address alone.
fn addresses(value: toml::Spanned<toml::de::DeValue<'_>>) -> Result<Vec<IpAddr>, Problem> {
    let entries: Vec<String> = read(value)?;
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            entry.trim().parse().map_err(|_| Problem::Invalid {
                at: format!("[{i}]"),
                why: format!(
                    "`{entry}` is not an IP address: write the address alone, without port or \
                     prefix length (`127.0.0.1`, `::1`)"
                ),
            })
        })
        .collect()
}

fn listed(addresses: &[IpAddr]) -> Written {
    Written::List(addresses.iter().map(ToString::to_string).collect())
}

/// `[rates]`.
pub(super) const RATES: Section = Section {
    name: Some("rates"),
    docs: "Per-client rate limits (token buckets by client address, an IPv6 client by its /64): \
           a request past its bucket is answered 429 with `Retry-After`, before anything of it \
           is read. 0 turns a limit off. Federation members are never limited.",
    settings: &[
        Setting {
            name: "uploads_per_minute",
            docs: "Binaries one client may upload per minute, and at once.",
            required: false,
            get: |c| number(c.node.rates.uploads_per_minute),
            set: |c, v| {
                c.node.rates.uploads_per_minute = read(v)?;
                Ok(())
            },
        },
        Setting {
            name: "machines_per_minute",
            docs: "Machines one client may create per minute, and at once.",
            required: false,
            get: |c| number(c.node.rates.machines_per_minute),
            set: |c, v| {
                c.node.rates.machines_per_minute = read(v)?;
                Ok(())
            },
        },
        Setting {
            name: "activations_per_second",
            docs: "Activations one client may run per second, and at once. Off by default: the \
                   admission queue (`[limits]`) already bounds what all clients run together.",
            required: false,
            get: |c| number(c.node.rates.activations_per_second),
            set: |c, v| {
                c.node.rates.activations_per_second = read(v)?;
                Ok(())
            },
        },
        Setting {
            name: "trusted_proxies",
            docs: "Addresses of reverse proxies (a TLS-terminating Caddy or nginx) whose \
                   `Forwarded` or `X-Forwarded-For` header names the client. From any other \
                   peer those headers are ignored, since any client can send them.",
            required: false,
            get: |c| listed(&c.node.rates.trusted_proxies),
            set: |c, v| {
                c.node.rates.trusted_proxies = addresses(v)?;
                Ok(())
            },
        },
        Setting {
            name: "forwarded_header",
            docs: "The header the trusted proxies name the client in: `x-forwarded-for` (what \
                   nginx and Caddy set) or `forwarded` (RFC 7239). Only that one is read: a \
                   proxy passes on whatever a client sent in the other.",
            required: false,
            get: |c| Written::Text(c.node.rates.forwarded_header.as_str().to_owned()),
            set: |c, v| {
                let text: String = read(v)?;
                c.node.rates.forwarded_header = crate::rates::ForwardedHeader::parse(&text)
                    .ok_or_else(|| Problem::invalid("expected `x-forwarded-for` or `forwarded`"))?;
                Ok(())
            },
        },
        Setting {
            name: "exempt",
            docs: "Client addresses never limited (monitoring, the operator's own tools).",
            required: false,
            get: |c| listed(&c.node.rates.exempt),
            set: |c, v| {
                c.node.rates.exempt = addresses(v)?;
                Ok(())
            },
        },
    ],
};

/// `[compiles]`.
pub(super) const COMPILES: Section = Section {
    name: Some("compiles"),
    docs: "Bounds on compiling uploads, so that concurrent uploads of large components cannot \
           take the node's CPU and memory from its activations. Each compile runs in a process \
           of its own (`carol compile-worker`), limited to the memory budget and killed at the \
           time budget.",
    settings: &[
        Setting {
            name: "concurrent",
            docs: "Compiles running at once (each uses every core while it runs).",
            required: false,
            get: |c| number(c.node.compiles.concurrent as u64),
            set: |c, v| {
                c.node.compiles.concurrent = positive(read(v)?)?;
                Ok(())
            },
        },
        Setting {
            name: "queue",
            docs: "Uploads waiting for a compile's turn; past it an upload is answered 503 with \
                   `Retry-After` and nothing is stored.",
            required: false,
            get: |c| number(c.node.compiles.queue as u64),
            set: |c, v| {
                c.node.compiles.queue = read(v)?;
                Ok(())
            },
        },
        Setting {
            name: "timeout_ms",
            docs: "Time one compile may take, in milliseconds; past it the upload is refused \
                   with 400 naming the setting, and nothing is stored.",
            required: false,
            get: |c| ms(c.node.compiles.timeout),
            set: |c, v| {
                c.node.compiles.timeout = millis(v)?;
                Ok(())
            },
        },
        Setting {
            name: "memory_bytes",
            docs: "Memory one compile may take, in bytes; past it the upload is refused with 400 \
                   naming the setting, and nothing is stored.",
            required: false,
            get: |c| number(c.node.compiles.memory_bytes),
            set: |c, v| {
                c.node.compiles.memory_bytes = positive(read(v)?)?;
                Ok(())
            },
        },
        Setting {
            name: "upload_bytes_in_flight",
            docs: "Bytes of uploads being received, waiting for a compile or compiling, \
                   together; an upload that would pass it is answered 503 with `Retry-After` \
                   before its body is read.",
            required: false,
            get: |c| number(c.node.compiles.upload_bytes_in_flight),
            set: |c, v| {
                c.node.compiles.upload_bytes_in_flight = positive(read(v)?)?;
                Ok(())
            },
        },
    ],
};
