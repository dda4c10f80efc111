//! Per-client rate limits (`[rates]`): token buckets (`governor`'s GCRA) on uploads, machine
//! creations and activations, each keyed by the client's address, so that one client cannot
//! take a public node's capacity for itself. A request past its bucket is answered 429 with
//! `Retry-After` before anything of it is used (its body is read and dropped).
//!
//! The client is the connection's peer, unless the peer is a proxy the operator trusts: then it
//! is the nearest address in the one forwarding header the operator names (`X-Forwarded-For`,
//! or `Forwarded` of RFC 7239) that is not a trusted proxy itself, read from the right, since
//! only the entries the trusted proxies appended can be believed. The other header is never
//! read: proxies pass on whatever a client sent in a header they do not set. IPv6 clients are counted by their /64, the block one subscriber usually holds.
//! Federation members and listed addresses are never limited: members pass their clients'
//! requests on to each other.

use axum::http::HeaderMap;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The rates, as `[rates]` sets them; 0 turns a limit off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    /// Uploads of binaries a client may make per minute (and at once).
    pub uploads_per_minute: u32,
    /// Machines a client may create per minute (and at once).
    pub machines_per_minute: u32,
    /// Activations a client may run per second (and at once).
    pub activations_per_second: u32,
    /// Proxies whose forwarding header names the client.
    pub trusted_proxies: Vec<IpAddr>,
    /// Which header the trusted proxies set.
    pub forwarded_header: ForwardedHeader,
    /// Addresses never limited (a federation's members are not either).
    pub exempt: Vec<IpAddr>,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            uploads_per_minute: 60,
            machines_per_minute: 600,
            activations_per_second: 0,
            trusted_proxies: Vec::new(),
            forwarded_header: ForwardedHeader::XForwardedFor,
            exempt: Vec::new(),
        }
    }
}

/// The header a trusted proxy names the client in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, ...`, as nginx's `$proxy_add_x_forwarded_for` and
    /// Caddy write it.
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1` (RFC 7239).
    Forwarded,
}

impl ForwardedHeader {
    /// The setting's value, the header's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::XForwardedFor => "x-forwarded-for",
            Self::Forwarded => "forwarded",
        }
    }

    /// Reads the setting's value.
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Some(Self::XForwardedFor),
            "forwarded" => Some(Self::Forwarded),
            _ => None,
        }
    }
}

/// What a rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `POST /binaries`.
    Upload,
    /// `POST /binaries/{id}`.
    Machine,
    /// An activation.
    Activation,
}

impl Kind {
    /// Its name, as the `kind` label of `carol_rate_limited` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Upload => "upload",
            Kind::Machine => "machine",
            Kind::Activation => "activation",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Kind::Upload => "uploads",
            Kind::Machine => "machine creations",
            Kind::Activation => "activations",
        }
    }
}

/// A request past its client's bucket.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "too many {} from your address: at most {limit} a {per} (`[rates] {setting}`); retry after \
     {} s",
    kind.what(),
    retry_after.as_secs()
)]
pub struct Limited {
    /// What was limited.
    pub kind: Kind,
    /// The limit.
    pub limit: u32,
    /// `minute` or `second`.
    pub per: &'static str,
    /// The setting.
    pub setting: &'static str,
    /// When the client may try again: whole seconds, at least one.
    pub retry_after: Duration,
}

/// Clients the limiters remember at most before forgetting those whose buckets are full again.
const CLIENTS_REMEMBERED: usize = 100_000;
/// How often (in checks) the limiters forget the clients whose buckets are full again.
const SWEEP_EVERY: u64 = 4096;

/// One kind's limiter.
struct Bucket {
    /// Replaced by a fresh one when it remembers too many clients (governor cannot forget them
    /// all at once).
    limiter: RwLock<DefaultKeyedRateLimiter<IpAddr>>,
    quota: Quota,
    limit: u32,
    per: &'static str,
    setting: &'static str,
}

/// The node's limiters.
pub struct Rates {
    uploads: Option<Bucket>,
    machines: Option<Bucket>,
    activations: Option<Bucket>,
    trusted: Vec<IpAddr>,
    header: ForwardedHeader,
    exempt: Vec<IpAddr>,
    checks: AtomicU64,
}

impl Rates {
    /// The limiters of `limits`; `members`' addresses are never limited.
    pub fn new(limits: &RateLimits, members: impl IntoIterator<Item = IpAddr>) -> Self {
        let bucket = |limit: u32, per: &'static str, setting: &'static str| {
            let rate = NonZeroU32::new(limit)?;
            let quota = match per {
                "minute" => Quota::per_minute(rate),
                _ => Quota::per_second(rate),
            };
            Some(Bucket {
                limiter: RwLock::new(DefaultKeyedRateLimiter::keyed(quota)),
                quota,
                limit,
                per,
                setting,
            })
        };
        let mut exempt: Vec<IpAddr> = limits.exempt.iter().map(|ip| canonical(*ip)).collect();
        exempt.extend(members.into_iter().map(canonical));
        Self {
            uploads: bucket(limits.uploads_per_minute, "minute", "uploads_per_minute"),
            machines: bucket(limits.machines_per_minute, "minute", "machines_per_minute"),
            activations: bucket(
                limits.activations_per_second,
                "second",
                "activations_per_second",
            ),
            trusted: limits
                .trusted_proxies
                .iter()
                .map(|ip| canonical(*ip))
                .collect(),
            header: limits.forwarded_header,
            exempt,
            checks: AtomicU64::new(0),
        }
    }

    /// Takes a token of `kind` from `client`'s bucket, or says when one is there.
    pub fn check(&self, kind: Kind, client: IpAddr) -> Result<(), Limited> {
        let bucket = match kind {
            Kind::Upload => &self.uploads,
            Kind::Machine => &self.machines,
            Kind::Activation => &self.activations,
        };
        let Some(bucket) = bucket else { return Ok(()) };
        let client = canonical(client);
        if self.exempt.contains(&client) {
            return Ok(());
        }
        if self
            .checks
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(SWEEP_EVERY)
        {
            self.sweep();
        }
        let limiter = bucket.limiter.read().expect("rate limiter lock");
        limiter.check_key(&key(client)).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            Limited {
                kind,
                limit: bucket.limit,
                per: bucket.per,
                setting: bucket.setting,
                retry_after: Duration::from_secs(wait.as_secs() + 1),
            }
        })
    }

    /// Forgets the clients whose buckets are full again, and every client past
    /// [`CLIENTS_REMEMBERED`] (their buckets start full, which only errs towards serving).
    fn sweep(&self) {
        for bucket in [&self.uploads, &self.machines, &self.activations]
            .into_iter()
            .flatten()
        {
            let mut limiter = bucket.limiter.write().expect("rate limiter lock");
            limiter.retain_recent();
            if limiter.len() > CLIENTS_REMEMBERED {
                tracing::warn!(
                    clients = limiter.len(),
                    "more clients than the rate limits remember; forgetting them all"
                );
                *limiter = DefaultKeyedRateLimiter::keyed(bucket.quota);
            }
            limiter.shrink_to_fit();
        }
    }

    /// The client of a request from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        client(peer, headers, &self.trusted, self.header)
    }
}

/// The client of a request from `peer`: `peer` itself unless it is one of `trusted`, else the
/// nearest address `header` names that is not trusted. An entry that is no address (`unknown`,
/// an obfuscated name) ends the search at the proxy that appended it, which then counts as the
/// client.
pub fn client(
    peer: IpAddr,
    headers: &HeaderMap,
    trusted: &[IpAddr],
    header: ForwardedHeader,
) -> IpAddr {
    let mut client = canonical(peer);
    if !trusted.contains(&client) {
        return client;
    }
    let values = headers
        .get_all(header.as_str())
        .iter()
        .filter_map(|value| value.to_str().ok());
    let hops: Vec<Option<IpAddr>> = match header {
        ForwardedHeader::Forwarded => values
            .flat_map(|value| value.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, node)| node_address(node))
            })
            .collect(),
        ForwardedHeader::XForwardedFor => values
            .flat_map(|value| value.split(','))
            .map(node_address)
            .collect(),
    };
    for hop in hops.into_iter().rev() {
        match hop {
            Some(address) => {
                client = canonical(address);
                if !trusted.contains(&client) {
                    return client;
                }
            }
            None => return client,
        }
    }
    client
}

/// The address of a `Forwarded` node or an `X-Forwarded-For` entry: `1.2.3.4`, `1.2.3.4:80`,
/// `[2001:db8::1]:80`, `2001:db8::1`, quoted or not.
fn node_address(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Some(bracketed) = node.strip_prefix('[') {
        return bracketed.split_once(']')?.0.parse().ok();
    }
    node.parse().ok().or_else(|| {
        let (host, _port) = node.rsplit_once(':')?;
        host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
    })
}

/// IPv4-mapped IPv6 addresses as the IPv4 addresses they are.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// What a client is counted by: its IPv4 address, or its IPv6 address's /64.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests;
