//! Which destinations a machine's outbound HTTP may reach: public unicast addresses by default,
//! changed by the operator's allow- and deny-lists (see `docs/policy.md`).
//!
//! The check runs on the addresses a connection is actually made to (after name resolution, and
//! again for every redirect), so neither DNS tricks nor numeric spellings of a host get around it.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

/// What kind of address an IP is, for the outbound policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// A public unicast address.
    Public,
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16.
    Private,
    /// 169.254/16 (cloud metadata services live here), fe80::/10.
    LinkLocal,
    /// 100.64/10, carrier-grade NAT.
    SharedAddressSpace,
    /// 224/4, ff00::/8.
    Multicast,
    /// 0.0.0.0/8, ::.
    Unspecified,
    /// 255.255.255.255.
    Broadcast,
    /// fc00::/7.
    UniqueLocal,
    /// Documentation, benchmarking, protocol-assignment and reserved ranges.
    Reserved,
}

impl fmt::Display for AddressClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Public => "a public address",
            Self::Loopback => "a loopback address",
            Self::Private => "a private address",
            Self::LinkLocal => "a link-local address",
            Self::SharedAddressSpace => "a carrier-grade NAT address",
            Self::Multicast => "a multicast address",
            Self::Unspecified => "an unspecified address",
            Self::Broadcast => "the broadcast address",
            Self::UniqueLocal => "a unique-local IPv6 address",
            Self::Reserved => "a reserved or documentation address",
        })
    }
}

/// Classifies an address. IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64)
/// are classified by the IPv4 address they carry.
pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, c, _] = ip.octets();
    match (a, b, c) {
        _ if ip.is_broadcast() => AddressClass::Broadcast,
        (0, ..) => AddressClass::Unspecified,
        (127, ..) => AddressClass::Loopback,
        (10, ..) | (172, 16..=31, _) | (192, 168, _) => AddressClass::Private,
        (169, 254, _) => AddressClass::LinkLocal,
        (100, 64..=127, _) => AddressClass::SharedAddressSpace,
        (224..=239, ..) => AddressClass::Multicast,
        // 192.0.0/24 protocol assignments, 192.0.2/24, 198.51.100/24, 203.0.113/24 documentation,
        // 198.18/15 benchmarking, 240/4 reserved.
        (192, 0, 0 | 2) | (198, 51, 100) | (203, 0, 113) | (198, 18..=19, _) | (240..=255, ..) => {
            AddressClass::Reserved
        }
        _ => AddressClass::Public,
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    if let Some(v4) = embedded_v4(ip) {
        return classify_v4(v4);
    }
    let segments = ip.segments();
    match segments[0] {
        _ if ip.is_unspecified() => AddressClass::Unspecified,
        _ if ip.is_loopback() => AddressClass::Loopback,
        0xfe80..=0xfebf => AddressClass::LinkLocal,
        0xfc00..=0xfdff => AddressClass::UniqueLocal,
        0xff00..=0xffff => AddressClass::Multicast,
        // Documentation (2001:db8::/32) and the deprecated site-local range (fec0::/10).
        0x2001 if segments[1] == 0x0db8 => AddressClass::Reserved,
        0xfec0..=0xfeff => AddressClass::Reserved,
        // Global unicast is 2000::/3; everything else is unassigned or special.
        0x2000..=0x3fff => AddressClass::Public,
        _ => AddressClass::Reserved,
    }
}

/// The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) or
/// NAT64 (64:ff9b::a.b.c.d) IPv6 address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(tail),
        // :: and ::1 are themselves, not IPv4-compatible addresses.
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(tail),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(tail),
        _ => None,
    }
}

/// The address a URL's host spells, or `None` for a name.
///
/// Accepts IPv6 (without brackets), dotted decimal, and the older numeric forms that resolvers
/// and browsers also accept (`2130706433`, `0x7f.1`, `0177.0.0.1`), read as the WHATWG URL
/// standard reads them, so the policy sees the address such a host really means. As in browsers,
/// a host whose last label is a number but which is not a valid IPv4 address (`1.2.3.4.5`,
/// `256.0.0.1`) is an error rather than a name to look up.
pub fn host_address(host: &str) -> Result<Option<IpAddr>, String> {
    if let Ok(v6) = host.parse::<Ipv6Addr>() {
        return Ok(Some(IpAddr::V6(v6)));
    }
    let trimmed = host.strip_suffix('.').unwrap_or(host);
    let parts: Vec<&str> = trimmed.split('.').collect();
    let last = parts.last().copied().unwrap_or_default();
    let ends_in_number = !last.is_empty()
        && (last.bytes().all(|b| b.is_ascii_digit()) || ipv4_number(last).is_some());
    if !ends_in_number {
        return Ok(None);
    }
    let invalid = || format!("`{host}` ends in a number but is not an IPv4 address");
    if parts.len() > 4 {
        return Err(invalid());
    }
    let numbers = parts
        .iter()
        .map(|part| ipv4_number(part))
        .collect::<Option<Vec<u64>>>()
        .ok_or_else(invalid)?;
    let (&last, init) = numbers.split_last().expect("a split has at least one part");
    // The last number fills all the bytes the parts before it leave: `127.1` is 127.0.0.1.
    if init.iter().any(|&n| n > 255) || last >= 1 << (8 * (5 - numbers.len())) {
        return Err(invalid());
    }
    let value = init
        .iter()
        .enumerate()
        .fold(last, |value, (i, &n)| value | n << (8 * (3 - i)));
    let value = u32::try_from(value).expect("the ranges were checked");
    Ok(Some(IpAddr::V4(Ipv4Addr::from(value))))
}

/// One part of a numeric IPv4 host: decimal, octal after a leading `0`, hexadecimal after `0x`.
fn ipv4_number(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) =
        if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            (hex, 16)
        } else if part.len() > 1 && part.starts_with('0') {
            (&part[1..], 8)
        } else {
            (part, 10)
        };
    if digits.is_empty() {
        // `0x` alone is zero, as in the URL standard.
        return Some(0);
    }
    // `from_str_radix` would also take a sign, which no resolver does.
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// A host name as rules compare it: lowercase, without the trailing dot of a fully qualified name.
fn normalize_name(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

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
        return Ok(Pattern::Network { base, prefix });
    }
    if target.contains(':') || target.parse::<Ipv4Addr>().is_ok() {
        let base = parse_address(target)?;
        let prefix = if base.is_ipv4() { 32 } else { 128 };
        return Ok(Pattern::Network { base, prefix });
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
    fn matches(&self, name: Option<&str>, addr: SocketAddr) -> bool {
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
    fn is_name(&self) -> bool {
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

/// The node's outbound policy: which destinations machines may connect to.
///
/// A connection to an address is decided in this order:
/// 1. a [`deny`](Self::deny) entry matching the URL's host name or the address refuses it;
/// 2. an unspecified address (`0.0.0.0`, `::`) is refused: it means this host;
/// 3. a loopback address is refused unless [`allow_loopback`](Self::allow_loopback) is set;
/// 4. an [`allow`](Self::allow) entry matching the host name or the address allows it, whatever
///    the address's class;
/// 5. with [`allow_only_listed`](Self::allow_only_listed), anything else is refused;
/// 6. otherwise public addresses (and loopback, when allowed) are allowed and the rest refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Whether loopback addresses may be reached (for local development and tests). An allow
    /// entry alone does not open loopback.
    pub allow_loopback: bool,
    /// Destinations allowed besides public addresses, such as an internal server.
    pub allow: Vec<Rule>,
    /// Destinations refused whatever else allows them.
    pub deny: Vec<Rule>,
    /// Whether machines may reach only what [`allow`](Self::allow) lists, rather than every
    /// public address besides.
    pub allow_only_listed: bool,
}

/// Why a destination is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The address is of a class machines may not reach.
    #[error("{ip} is {class}, which machines on this node may not reach")]
    Class {
        /// The refused address.
        ip: IpAddr,
        /// What kind of address it is.
        class: AddressClass,
    },
    /// A deny-list entry matches.
    #[error("{destination} is refused by this node's deny rule `{rule}`")]
    Rule {
        /// The host name or address and the port.
        destination: String,
        /// The matching entry.
        rule: Rule,
    },
    /// Only listed destinations are allowed, and this one is not.
    #[error("{0} is not on this node's allow-list")]
    NotListed(SocketAddr),
}

impl OutboundPolicy {
    /// Whether a deny entry refuses the host name `name` on `port` whatever it resolves to, so
    /// that the name need not even be looked up.
    pub fn check_name(&self, name: &str, port: u16) -> Result<(), Denied> {
        let name = normalize_name(name);
        // The address is never looked at by name rules.
        let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port);
        match self
            .deny
            .iter()
            .find(|rule| rule.is_name() && rule.matches(Some(&name), addr))
        {
            Some(rule) => Err(Denied::Rule {
                destination: format!("{name}:{port}"),
                rule: rule.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Whether a machine may connect to `addr` for a URL whose host is `name` (`None` when the
    /// URL names the address itself).
    pub fn check(&self, name: Option<&str>, addr: SocketAddr) -> Result<(), Denied> {
        let name = name.map(normalize_name);
        let name = name.as_deref();
        if let Some(rule) = self.deny.iter().find(|rule| rule.matches(name, addr)) {
            return Err(Denied::Rule {
                destination: match name {
                    Some(name) => format!("{name} ({addr})"),
                    None => addr.to_string(),
                },
                rule: rule.clone(),
            });
        }
        let ip = addr.ip();
        let class = classify(ip);
        match class {
            AddressClass::Unspecified => Err(Denied::Class { ip, class }),
            AddressClass::Loopback if !self.allow_loopback => Err(Denied::Class { ip, class }),
            _ if self.allow.iter().any(|rule| rule.matches(name, addr)) => Ok(()),
            _ if self.allow_only_listed => Err(Denied::NotListed(addr)),
            AddressClass::Public | AddressClass::Loopback => Ok(()),
            _ => Err(Denied::Class { ip, class }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn class(text: &str) -> AddressClass {
        classify(ip(text))
    }

    fn addr(ip_text: &str, port: u16) -> SocketAddr {
        SocketAddr::new(ip(ip_text), port)
    }

    fn rules(entries: &[&str]) -> Vec<Rule> {
        entries.iter().map(|e| e.parse().unwrap()).collect()
    }

    #[test]
    fn classifies_every_special_range() {
        for (ip, expected) in [
            ("8.8.8.8", AddressClass::Public),
            ("1.1.1.1", AddressClass::Public),
            ("2606:4700::1111", AddressClass::Public),
            ("127.0.0.1", AddressClass::Loopback),
            ("127.1.2.3", AddressClass::Loopback),
            ("127.255.255.255", AddressClass::Loopback),
            ("::1", AddressClass::Loopback),
            ("10.0.0.1", AddressClass::Private),
            ("10.255.255.255", AddressClass::Private),
            ("172.16.0.1", AddressClass::Private),
            ("172.31.255.255", AddressClass::Private),
            ("192.168.1.1", AddressClass::Private),
            ("192.168.255.255", AddressClass::Private),
            ("169.254.169.254", AddressClass::LinkLocal),
            ("169.254.0.1", AddressClass::LinkLocal),
            ("fe80::1", AddressClass::LinkLocal),
            ("febf::1", AddressClass::LinkLocal),
            ("100.64.0.1", AddressClass::SharedAddressSpace),
            ("100.127.255.255", AddressClass::SharedAddressSpace),
            ("224.0.0.1", AddressClass::Multicast),
            ("239.255.255.250", AddressClass::Multicast),
            ("ff02::1", AddressClass::Multicast),
            ("0.0.0.0", AddressClass::Unspecified),
            ("0.1.2.3", AddressClass::Unspecified),
            ("::", AddressClass::Unspecified),
            ("255.255.255.255", AddressClass::Broadcast),
            ("fd00::1", AddressClass::UniqueLocal),
            ("fc00::1", AddressClass::UniqueLocal),
            ("fdff:ffff::1", AddressClass::UniqueLocal),
            ("192.0.2.1", AddressClass::Reserved),
            ("2001:db8::1", AddressClass::Reserved),
            ("240.0.0.1", AddressClass::Reserved),
            ("::ffff:127.0.0.1", AddressClass::Loopback),
            ("::ffff:169.254.169.254", AddressClass::LinkLocal),
            ("::ffff:10.0.0.1", AddressClass::Private),
            ("::ffff:192.168.0.1", AddressClass::Private),
            ("::ffff:100.64.0.1", AddressClass::SharedAddressSpace),
            ("::ffff:0.0.0.0", AddressClass::Unspecified),
            ("::ffff:8.8.8.8", AddressClass::Public),
            ("::127.0.0.1", AddressClass::Loopback),
            ("64:ff9b::a9fe:a9fe", AddressClass::LinkLocal),
            ("64:ff9b::7f00:1", AddressClass::Loopback),
        ] {
            assert_eq!(class(ip), expected, "{ip}");
        }
    }

    #[test]
    fn boundaries_of_private_ranges_are_public() {
        for ip in [
            "172.15.255.255",
            "172.32.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "11.0.0.0",
            "9.255.255.255",
            "192.167.255.255",
            "192.169.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "1.0.0.0",
            "223.255.255.255",
        ] {
            assert_eq!(class(ip), AddressClass::Public, "{ip}");
        }
    }

    #[test]
    fn numeric_hosts_mean_the_address_resolvers_read() {
        for (host, expected) in [
            ("127.0.0.1", "127.0.0.1"),
            ("127.0.0.1.", "127.0.0.1"),
            ("2130706433", "127.0.0.1"),
            ("0x7f.1", "127.0.0.1"),
            ("0X7F.0.0.1", "127.0.0.1"),
            ("0x7f000001", "127.0.0.1"),
            ("0177.0.0.1", "127.0.0.1"),
            ("127.1", "127.0.0.1"),
            ("127.1.515", "127.1.2.3"),
            ("0", "0.0.0.0"),
            ("0x", "0.0.0.0"),
            ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
            ("2852039166", "169.254.169.254"),
            ("3232235777", "192.168.1.1"),
            ("012.0.0.1", "10.0.0.1"),
            ("::1", "::1"),
            ("::ffff:127.0.0.1", "::ffff:127.0.0.1"),
        ] {
            assert_eq!(host_address(host), Ok(Some(ip(expected))), "{host}");
        }
        for name in [
            "localhost",
            "example.com",
            "example.com.",
            "1.2.3.com",
            "0x7g",
            ".",
        ] {
            assert_eq!(host_address(name), Ok(None), "{name}");
        }
        for bad in [
            "1.2.3.4.5",
            "256.0.0.1",
            "1.2.3.256",
            "1.16777216",
            "4294967296",
            "08.0.0.1",
            "1..2",
            "example.123",
            "99999999999999999999999",
        ] {
            let error = host_address(bad).unwrap_err();
            assert!(error.contains(bad), "{error}");
        }
    }

    #[test]
    fn the_default_refuses_everything_but_public_addresses() {
        let policy = OutboundPolicy::default();
        for public in ["93.184.215.14", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert_eq!(policy.check(None, addr(public, 443)), Ok(()), "{public}");
            assert_eq!(policy.check(Some("example.com"), addr(public, 80)), Ok(()));
        }
        for (refused, expected) in [
            ("127.0.0.1", AddressClass::Loopback),
            ("::1", AddressClass::Loopback),
            ("::ffff:127.0.0.1", AddressClass::Loopback),
            ("10.1.2.3", AddressClass::Private),
            ("172.20.0.1", AddressClass::Private),
            ("192.168.0.1", AddressClass::Private),
            ("169.254.169.254", AddressClass::LinkLocal),
            ("::ffff:169.254.169.254", AddressClass::LinkLocal),
            ("fe80::1", AddressClass::LinkLocal),
            ("100.100.100.200", AddressClass::SharedAddressSpace),
            ("224.0.0.251", AddressClass::Multicast),
            ("ff02::fb", AddressClass::Multicast),
            ("0.0.0.0", AddressClass::Unspecified),
            ("::", AddressClass::Unspecified),
            ("255.255.255.255", AddressClass::Broadcast),
            ("fd12:3456::1", AddressClass::UniqueLocal),
            ("192.0.2.1", AddressClass::Reserved),
        ] {
            let denied = policy.check(Some("metadata.internal"), addr(refused, 80));
            assert_eq!(
                denied,
                Err(Denied::Class {
                    ip: ip(refused),
                    class: expected
                }),
                "{refused}"
            );
        }
        for trick in [
            "2130706433",
            "0x7f.1",
            "0177.0.0.1",
            "127.1",
            "2852039166",
            "0",
        ] {
            let ip = host_address(trick).unwrap().unwrap();
            assert!(
                policy.check(None, SocketAddr::new(ip, 80)).is_err(),
                "{trick}"
            );
        }
        let message = policy
            .check(None, addr("169.254.169.254", 80))
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "169.254.169.254 is a link-local address, which machines on this node may not reach"
        );
    }

    #[test]
    fn loopback_only_by_opt_in() {
        let local = OutboundPolicy {
            allow_loopback: true,
            ..OutboundPolicy::default()
        };
        assert_eq!(local.check(None, addr("127.0.0.1", 80)), Ok(()));
        assert_eq!(local.check(Some("localhost"), addr("::1", 80)), Ok(()));
        assert_eq!(local.check(None, addr("::ffff:127.0.0.1", 80)), Ok(()));
        assert!(local.check(None, addr("169.254.169.254", 80)).is_err());
        assert!(local.check(None, addr("0.0.0.0", 80)).is_err());

        // Listing loopback is not the opt-in.
        let listed = OutboundPolicy {
            allow: rules(&["127.0.0.0/8", "localhost", "::1"]),
            ..OutboundPolicy::default()
        };
        for refused in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            assert!(
                matches!(
                    listed.check(Some("localhost"), addr(refused, 80)),
                    Err(Denied::Class {
                        class: AddressClass::Loopback,
                        ..
                    })
                ),
                "{refused}"
            );
        }
        // Nor can anything open the unspecified address, which also means this host.
        let everything = OutboundPolicy {
            allow_loopback: true,
            allow: rules(&["0.0.0.0/0", "::/0"]),
            ..OutboundPolicy::default()
        };
        for refused in ["0.0.0.0", "::", "::ffff:0.0.0.0"] {
            assert!(
                everything.check(None, addr(refused, 80)).is_err(),
                "{refused}"
            );
        }
        assert_eq!(everything.check(None, addr("10.0.0.1", 80)), Ok(()));
    }

    #[test]
    fn the_allow_list_adds_destinations() {
        let policy = OutboundPolicy {
            allow: rules(&[
                "10.1.2.3:8080",
                "192.168.0.0/16",
                "prices.internal:*",
                "*.corp.example",
                "[fd00::7]:443",
                "169.254.169.254",
            ]),
            ..OutboundPolicy::default()
        };
        for (name, ip, port) in [
            (None, "10.1.2.3", 8080),
            (None, "::ffff:10.1.2.3", 8080),
            (None, "192.168.200.1", 1),
            (Some("prices.internal"), "10.9.9.9", 8000),
            (Some("PRICES.internal."), "10.9.9.9", 8000),
            (Some("a.corp.example"), "172.16.0.1", 80),
            (Some("a.b.corp.example"), "172.16.0.1", 80),
            (None, "fd00::7", 443),
            (None, "169.254.169.254", 80),
            (Some("example.com"), "93.184.215.14", 443),
        ] {
            assert_eq!(
                policy.check(name, addr(ip, port)),
                Ok(()),
                "{name:?} {ip}:{port}"
            );
        }
        for (name, ip, port) in [
            (None, "10.1.2.3", 8081),
            (None, "10.1.2.4", 8080),
            (Some("prices.internal.evil"), "10.9.9.9", 8000),
            (Some("corp.example"), "172.16.0.1", 80),
            (Some("acorp.example"), "172.16.0.1", 80),
            (None, "fd00::7", 80),
            (None, "169.254.169.253", 80),
        ] {
            assert!(
                matches!(
                    policy.check(name, addr(ip, port)),
                    Err(Denied::Class { .. })
                ),
                "{name:?} {ip}:{port}"
            );
        }
    }

    #[test]
    fn only_listed_destinations_when_asked() {
        let policy = OutboundPolicy {
            allow_loopback: true,
            allow: rules(&["api.example.com:443", "203.0.113.0/24", "127.0.0.1:9000"]),
            allow_only_listed: true,
            ..OutboundPolicy::default()
        };
        assert_eq!(
            policy.check(Some("api.example.com"), addr("93.184.215.14", 443)),
            Ok(())
        );
        assert_eq!(policy.check(None, addr("203.0.113.9", 80)), Ok(()));
        assert_eq!(policy.check(None, addr("127.0.0.1", 9000)), Ok(()));
        assert_eq!(
            policy.check(Some("api.example.com"), addr("93.184.215.14", 80)),
            Err(Denied::NotListed(addr("93.184.215.14", 80)))
        );
        assert_eq!(
            policy.check(Some("other.example.com"), addr("93.184.215.14", 443)),
            Err(Denied::NotListed(addr("93.184.215.14", 443)))
        );
        assert_eq!(
            policy.check(None, addr("127.0.0.1", 9001)),
            Err(Denied::NotListed(addr("127.0.0.1", 9001)))
        );
        assert_eq!(
            Denied::NotListed(addr("::1", 80)).to_string(),
            "[::1]:80 is not on this node's allow-list"
        );
        let nothing = OutboundPolicy {
            allow_only_listed: true,
            ..OutboundPolicy::default()
        };
        assert!(nothing.check(None, addr("93.184.215.14", 443)).is_err());
    }

    #[test]
    fn the_deny_list_wins() {
        let policy = OutboundPolicy {
            allow_loopback: true,
            allow: rules(&["10.0.0.0/8", "*.example.com"]),
            deny: rules(&[
                "10.6.6.6",
                "127.0.0.1:8080",
                "evil.example.com",
                "*.ads.example.com:443",
                "198.51.100.0/24",
                "2001:db8::/32",
                "93.184.215.14",
            ]),
            ..OutboundPolicy::default()
        };
        for (name, ip, port) in [
            (None, "10.6.6.6", 80),
            (None, "::ffff:10.6.6.6", 80),
            (None, "127.0.0.1", 8080),
            (None, "::ffff:127.0.0.1", 8080),
            (Some("evil.example.com"), "10.1.1.1", 80),
            (Some("Evil.Example.Com."), "10.1.1.1", 80),
            (Some("x.ads.example.com"), "10.1.1.1", 443),
            (None, "198.51.100.7", 443),
            (None, "2001:db8::1", 443),
            (Some("www.example.org"), "93.184.215.14", 443),
        ] {
            assert!(
                matches!(policy.check(name, addr(ip, port)), Err(Denied::Rule { .. })),
                "{name:?} {ip}:{port}"
            );
        }
        for (name, ip, port) in [
            (None, "10.6.6.7", 80),
            (None, "127.0.0.1", 8081),
            (None, "127.0.0.2", 8080),
            (Some("x.ads.example.com"), "10.1.1.1", 80),
            (Some("good.example.com"), "10.1.1.1", 80),
        ] {
            assert_eq!(
                policy.check(name, addr(ip, port)),
                Ok(()),
                "{name:?} {ip}:{port}"
            );
        }
        assert_eq!(
            policy
                .check(None, addr("127.0.0.1", 8080))
                .unwrap_err()
                .to_string(),
            "127.0.0.1:8080 is refused by this node's deny rule `127.0.0.1:8080`"
        );
        assert_eq!(
            policy
                .check(Some("evil.example.com"), addr("10.1.1.1", 80))
                .unwrap_err()
                .to_string(),
            "evil.example.com (10.1.1.1:80) is refused by this node's deny rule `evil.example.com`"
        );
    }

    #[test]
    fn names_are_refused_before_they_are_looked_up() {
        let policy = OutboundPolicy {
            deny: rules(&["localhost", "*.internal:8080", "10.0.0.0/8"]),
            ..OutboundPolicy::default()
        };
        assert_eq!(
            policy.check_name("LOCALHOST.", 80).unwrap_err().to_string(),
            "localhost:80 is refused by this node's deny rule `localhost`"
        );
        assert!(policy.check_name("db.internal", 8080).is_err());
        assert_eq!(policy.check_name("db.internal", 80), Ok(()));
        // Address rules wait for the addresses.
        assert_eq!(policy.check_name("example.com", 80), Ok(()));
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
