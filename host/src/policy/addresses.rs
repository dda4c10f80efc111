//! What kind of address an IP is, and which address a URL's host spells.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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
    /// An address inside the public range that a cloud platform serves its own machines on:
    /// 168.63.129.16, Azure's host services (DNS, DHCP, health probes, the guest agent).
    Platform,
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
            Self::Platform => "a cloud platform's host-services address",
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
        _ if ip == Ipv4Addr::new(168, 63, 129, 16) => AddressClass::Platform,
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
pub(super) fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
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
pub(super) fn normalize_name(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
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
            ("168.63.129.16", AddressClass::Platform),
            ("::ffff:168.63.129.16", AddressClass::Platform),
            ("168.63.129.17", AddressClass::Public),
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
}
