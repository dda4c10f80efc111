//! Which destinations a machine's outbound HTTP may reach: public unicast addresses by default,
//! changed by the operator's allow- and deny-lists (see `docs/policy.md`).
//!
//! The check runs on the addresses a connection is actually made to (after name resolution, and
//! again for every redirect), so neither DNS tricks nor numeric spellings of a host get around it.

mod addresses;
mod rules;

pub use addresses::{AddressClass, classify, host_address};
pub use rules::{Rule, RuleError};

use addresses::normalize_name;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

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

    fn addr(ip_text: &str, port: u16) -> SocketAddr {
        SocketAddr::new(ip(ip_text), port)
    }

    fn rules(entries: &[&str]) -> Vec<Rule> {
        entries.iter().map(|e| e.parse().unwrap()).collect()
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
    fn a_mapped_ipv6_rule_names_the_ipv4_destinations() {
        let policy = OutboundPolicy {
            deny: rules(&["::ffff:203.0.113.9", "[::ffff:198.51.100.0/120]:443"]),
            allow: rules(&["::ffff:10.1.2.3"]),
            ..OutboundPolicy::default()
        };
        for refused in ["203.0.113.9", "::ffff:203.0.113.9"] {
            assert!(
                matches!(
                    policy.check(None, addr(refused, 80)),
                    Err(Denied::Rule { .. })
                ),
                "{refused}"
            );
        }
        assert!(matches!(
            policy.check(None, addr("198.51.100.77", 443)),
            Err(Denied::Rule { .. })
        ));
        assert_eq!(policy.check(None, addr("10.1.2.3", 80)), Ok(()));
        assert_eq!(
            rules(&["::ffff:203.0.113.9"])[0].to_string(),
            "::ffff:203.0.113.9"
        );
    }

    #[test]
    fn the_platform_address_is_refused_unless_allowed() {
        let denied = OutboundPolicy::default().check(None, addr("168.63.129.16", 80));
        assert_eq!(
            denied,
            Err(Denied::Class {
                ip: ip("168.63.129.16"),
                class: AddressClass::Platform
            })
        );
        let allowed = OutboundPolicy {
            allow: rules(&["168.63.129.16"]),
            ..OutboundPolicy::default()
        };
        assert_eq!(allowed.check(None, addr("168.63.129.16", 80)), Ok(()));
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
}
