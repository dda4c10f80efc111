//! The entries of the allow- and deny-lists: host names, subdomains, addresses and networks,
//! each with an optional port.

use super::addresses::{embedded_v4, host_address, normalize_name};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

/// One entry of the allow- or deny-list: a host or address pattern, and optionally a port.
///
/// Written as `example.com`, `*.example.com` (any subdomain, not `example.com` itself),
/// `203.0.113.7`, `203.0.113.0/24`, `2001:db8::1`, `2001:db8::/32`, each optionally followed by
/// `:PORT` or `:*` (any port, as when no port is given); an IPv6 address or network takes a port
/// only in brackets: `[2001:db8::1]:8443`, `[2001:db8::/32]:443`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    text: String,
    pattern: Pattern,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    /// Exactly this host name.
    Name(String),
    /// Any name ending in `.` and this.
    Subdomains(String),
    /// Every address in this network.
    Network { base: IpAddr, prefix: u8 },
}

/// Why an allow- or deny-list entry cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{entry}`: {why}")]
pub struct RuleError {
    /// The entry as written.
    pub entry: String,
    /// What is wrong with it.
    pub why: String,
}

impl FromStr for Rule {
    type Err = RuleError;

    fn from_str(entry: &str) -> Result<Self, RuleError> {
        let text = entry.trim();
        let error = |why: String| RuleError {
            entry: entry.to_owned(),
            why,
        };
        let (target, port) = split_port(text).map_err(error)?;
        let port = match port {
            None | Some("*") => None,
            Some(port) => match port.parse::<u16>() {
                Ok(0) | Err(_) => {
                    return Err(error(format!(
                        "the port `{port}` is not a number from 1 to 65535 (or `*` for any port)"
                    )));
                }
                Ok(port) => Some(port),
            },
        };
        Ok(Self {
            text: text.to_owned(),
            pattern: parse_pattern(target).map_err(error)?,
            port,
        })
    }
}

/// Splits `target[:port]`; an IPv6 target has a port only in brackets.
fn split_port(text: &str) -> Result<(&str, Option<&str>), String> {
    if let Some(rest) = text.strip_prefix('[') {
        let (inside, after) = rest.split_once(']').ok_or("the `[` has no matching `]`")?;
        if !inside.contains(':') {
            return Err("only IPv6 addresses go in brackets".to_owned());
        }
        return match after {
            "" => Ok((inside, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((inside, Some(port))),
                None => Err(format!("expected `:PORT` after `]`, found `{after}`")),
            },
        };
    }
    match text.matches(':').count() {
        0 => Ok((text, None)),
        1 => {
            let (target, port) = text.split_once(':').expect("there is one colon");
            Ok((target, Some(port)))
        }
        // Several colons: an IPv6 address or network, which takes no port outside brackets.
        _ => Ok((text, None)),
    }
}

fn parse_pattern(target: &str) -> Result<Pattern, String> {
    if target.is_empty() {
        return Err("expected a host name or an address".to_owned());
    }
    if let Some((address, prefix)) = target.split_once('/') {
        let base = parse_address(address)?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = prefix
            .parse::<u8>()
            .ok()
            .filter(|&p| p <= max)
            .ok_or_else(|| {
                format!("the prefix length `/{prefix}` is not a number from 0 to {max}")
            })?;
        if network(base, prefix) != base {
            return Err(format!(
                "{base} has bits set past the /{prefix} prefix; the network is {}/{prefix}",
                network(base, prefix)
            ));
        }
        return Ok(ipv4_mapped(base, prefix));
    }
    if target.contains(':') || target.parse::<Ipv4Addr>().is_ok() {
        let base = parse_address(target)?;
        let prefix = if base.is_ipv4() { 32 } else { 128 };
        return Ok(ipv4_mapped(base, prefix));
    }
    let (subdomains, name) = match target.strip_prefix("*.") {
        Some(name) => (true, name),
        None => (false, target),
    };
    match host_address(name) {
        Ok(None) => {}
        Ok(Some(ip)) => return Err(format!("write the address as {ip}")),
        Err(why) => return Err(why),
    }
    let name = normalize_name(name);
    let valid_label = |label: &str| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if name.len() > 253 || !name.split('.').all(valid_label) {
        return Err(
            "expected a host name (letters, digits, `-` and `_` in dot-separated labels, \
             optionally starting with `*.` for its subdomains) or an address"
                .to_owned(),
        );
    }
    Ok(if subdomains {
        Pattern::Subdomains(name)
    } else {
        Pattern::Name(name)
    })
}

/// A network, with IPv4-mapped IPv6 networks (`::ffff:10.0.0.0/104`) as the IPv4 networks
/// they are: a rule written either way names the same destinations.
fn ipv4_mapped(base: IpAddr, prefix: u8) -> Pattern {
    let mapped = match base {
        IpAddr::V6(v6) if prefix >= 96 => v6.to_ipv4_mapped(),
        _ => None,
    };
    match mapped {
        Some(v4) => Pattern::Network {
            base: IpAddr::V4(v4),
            prefix: prefix - 96,
        },
        None => Pattern::Network { base, prefix },
    }
}

/// An address in its usual spelling; other numeric spellings are refused so that a list reads
/// unambiguously.
fn parse_address(text: &str) -> Result<IpAddr, String> {
    text.parse::<IpAddr>()
        .map_err(|_| match host_address(text) {
            Ok(Some(ip)) => format!("write the address as {ip}"),
            _ => format!("`{text}` is not an IPv4 or IPv6 address"),
        })
}

/// The first `prefix` bits of `ip`, the rest zero.
fn network(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
    }
}

impl Rule {
    /// Whether the rule matches a connection to `addr` for the URL host `name` (normalized;
    /// `None` when the URL names an address).
    pub(super) fn matches(&self, name: Option<&str>, addr: SocketAddr) -> bool {
        self.port.is_none_or(|port| port == addr.port()) && self.matches_target(name, addr.ip())
    }

    fn matches_target(&self, name: Option<&str>, ip: IpAddr) -> bool {
        match &self.pattern {
            Pattern::Name(pattern) => name == Some(pattern.as_str()),
            Pattern::Subdomains(parent) => name.is_some_and(|name| {
                name.strip_suffix(parent.as_str())
                    .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.'))
            }),
            // An IPv4 address reached through its mapped or NAT64 IPv6 form is the same
            // destination, so IPv4 entries match those forms too.
            Pattern::Network { base, prefix } => [Some(ip), unmapped(ip)]
                .into_iter()
                .flatten()
                .any(|ip| ip.is_ipv4() == base.is_ipv4() && network(ip, *prefix) == *base),
        }
    }

    /// Whether the rule names hosts rather than addresses.
    pub(super) fn is_name(&self) -> bool {
        !matches!(self.pattern, Pattern::Network { .. })
    }
}

fn unmapped(ip: IpAddr) -> Option<IpAddr> {
    match ip {
        IpAddr::V6(v6) => embedded_v4(v6).map(IpAddr::V4),
        IpAddr::V4(_) => None,
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn rules_parse() {
        for (entry, pattern, port) in [
            ("example.com", Pattern::Name("example.com".into()), None),
            ("Example.COM.", Pattern::Name("example.com".into()), None),
            (
                " *.example.com ",
                Pattern::Subdomains("example.com".into()),
                None,
            ),
            (
                "api.example.com:443",
                Pattern::Name("api.example.com".into()),
                Some(443),
            ),
            ("localhost:*", Pattern::Name("localhost".into()), None),
            (
                "203.0.113.7",
                Pattern::Network {
                    base: ip("203.0.113.7"),
                    prefix: 32,
                },
                None,
            ),
            (
                "10.1.2.3:8080",
                Pattern::Network {
                    base: ip("10.1.2.3"),
                    prefix: 32,
                },
                Some(8080),
            ),
            (
                "203.0.113.0/24",
                Pattern::Network {
                    base: ip("203.0.113.0"),
                    prefix: 24,
                },
                None,
            ),
            (
                "10.0.0.0/8:443",
                Pattern::Network {
                    base: ip("10.0.0.0"),
                    prefix: 8,
                },
                Some(443),
            ),
            (
                "0.0.0.0/0",
                Pattern::Network {
                    base: ip("0.0.0.0"),
                    prefix: 0,
                },
                None,
            ),
            (
                "2001:db8::1",
                Pattern::Network {
                    base: ip("2001:db8::1"),
                    prefix: 128,
                },
                None,
            ),
            (
                "[2001:db8::1]:8443",
                Pattern::Network {
                    base: ip("2001:db8::1"),
                    prefix: 128,
                },
                Some(8443),
            ),
            (
                "[::1]",
                Pattern::Network {
                    base: ip("::1"),
                    prefix: 128,
                },
                None,
            ),
            (
                "2001:db8::/32",
                Pattern::Network {
                    base: ip("2001:db8::"),
                    prefix: 32,
                },
                None,
            ),
            (
                "[2001:db8::/32]:*",
                Pattern::Network {
                    base: ip("2001:db8::"),
                    prefix: 32,
                },
                None,
            ),
        ] {
            let rule: Rule = entry.parse().unwrap_or_else(|e| panic!("{entry}: {e}"));
            assert_eq!((rule.pattern, rule.port), (pattern, port), "{entry}");
        }
        assert_eq!(
            "  a.test:1 ".parse::<Rule>().unwrap().to_string(),
            "a.test:1"
        );
    }

    #[test]
    fn bad_rules_say_what_is_wrong() {
        for (entry, says) in [
            ("", "expected a host name or an address"),
            (":80", "expected a host name or an address"),
            ("example.com:", "the port `` is not a number"),
            ("example.com:0", "the port `0`"),
            ("example.com:65536", "the port `65536`"),
            ("example.com:http", "the port `http`"),
            ("10.0.0.1/8", "the network is 10.0.0.0/8"),
            ("10.0.0.0/33", "from 0 to 32"),
            ("2001:db8::/129", "from 0 to 128"),
            ("10.0.0.0/x", "`/x`"),
            ("2130706433", "write the address as 127.0.0.1"),
            ("0x7f.1", "write the address as 127.0.0.1"),
            ("127.000.0.1/8", "write the address as 127.0.0.1"),
            ("256.1.1.1", "ends in a number but is not an IPv4 address"),
            ("*.10.0.0.1", "write the address as 10.0.0.1"),
            ("[10.0.0.1]:80", "only IPv6 addresses go in brackets"),
            ("[::1", "no matching `]`"),
            ("[::1]80", "expected `:PORT` after `]`"),
            ("2001:db8::zz", "is not an IPv4 or IPv6 address"),
            ("*", "expected a host name"),
            ("a.*.example.com", "expected a host name"),
            ("exa mple.com", "expected a host name"),
            ("example..com", "expected a host name"),
            ("http://example.com", "the port `//example.com`"),
        ] {
            let error = entry.parse::<Rule>().unwrap_err();
            assert_eq!(error.entry, entry);
            let message = error.to_string();
            assert!(
                message.starts_with(&format!("`{entry}`: ")) && message.contains(says),
                "{entry:?} gave {message:?}"
            );
        }
    }
}
