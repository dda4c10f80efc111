use super::*;
use axum::http::HeaderValue;

const XFF: ForwardedHeader = ForwardedHeader::XForwardedFor;
const RFC: ForwardedHeader = ForwardedHeader::Forwarded;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.append(*name, HeaderValue::from_str(value).unwrap());
    }
    headers
}

#[test]
fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
    let forged = headers(&[("x-forwarded-for", "9.9.9.9"), ("forwarded", "for=8.8.8.8")]);
    assert_eq!(
        client(ip("203.0.113.7"), &forged, &[], XFF),
        ip("203.0.113.7")
    );
    let trusted = [ip("10.0.0.1")];
    assert_eq!(
        client(ip("203.0.113.7"), &forged, &trusted, XFF),
        ip("203.0.113.7")
    );
}

#[test]
fn behind_trusted_proxies_the_client_is_the_nearest_untrusted_hop() {
    let trusted = [ip("127.0.0.1"), ip("10.0.0.2")];
    // The client forged the first entry; the proxies appended the rest.
    let chain = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.4, 10.0.0.2")]);
    assert_eq!(
        client(ip("127.0.0.1"), &chain, &trusted, XFF),
        ip("198.51.100.4")
    );
    // Two header lines are one list, in order.
    let lines = headers(&[
        ("x-forwarded-for", "6.6.6.6"),
        ("x-forwarded-for", "198.51.100.4"),
    ]);
    assert_eq!(
        client(ip("127.0.0.1"), &lines, &trusted, XFF),
        ip("198.51.100.4")
    );
    // No header: the proxy itself.
    assert_eq!(
        client(ip("127.0.0.1"), &HeaderMap::new(), &trusted, XFF),
        ip("127.0.0.1")
    );
    // Every hop trusted: the farthest.
    let all = headers(&[("x-forwarded-for", "10.0.0.2")]);
    assert_eq!(client(ip("127.0.0.1"), &all, &trusted, XFF), ip("10.0.0.2"));
}

#[test]
fn only_the_named_header_is_read_in_each_of_its_spellings() {
    let trusted = [ip("127.0.0.1")];
    let both = headers(&[
        ("x-forwarded-for", "198.51.100.4"),
        (
            "forwarded",
            "for=6.6.6.6;proto=http, For=\"[2001:db8:cafe::17]:4711\";by=127.0.0.1",
        ),
    ]);
    // A client's own `Forwarded` passes a proxy that sets `X-Forwarded-For`: never read then.
    assert_eq!(
        client(ip("127.0.0.1"), &both, &trusted, XFF),
        ip("198.51.100.4")
    );
    assert_eq!(
        client(ip("127.0.0.1"), &both, &trusted, RFC),
        ip("2001:db8:cafe::17")
    );
    let port = headers(&[("forwarded", "for=\"192.0.2.43:47011\"")]);
    assert_eq!(
        client(ip("127.0.0.1"), &port, &trusted, RFC),
        ip("192.0.2.43")
    );
    // `unknown` or an obfuscated name: the proxy that wrote it is as far as can be known.
    let unknown = headers(&[("forwarded", "for=192.0.2.1, for=unknown")]);
    assert_eq!(
        client(ip("127.0.0.1"), &unknown, &trusted, RFC),
        ip("127.0.0.1")
    );
    let hidden = headers(&[("forwarded", "for=_hidden")]);
    assert_eq!(
        client(ip("127.0.0.1"), &hidden, &trusted, RFC),
        ip("127.0.0.1")
    );
    assert_eq!(ForwardedHeader::parse("Forwarded"), Some(RFC));
    assert_eq!(ForwardedHeader::parse("x-real-ip"), None);
}

#[test]
fn ipv4_mapped_peers_are_their_ipv4_and_ipv6_clients_count_by_their_64() {
    let trusted = [ip("127.0.0.1")];
    let chain = headers(&[("x-forwarded-for", "::ffff:198.51.100.4")]);
    assert_eq!(
        client(ip("::ffff:127.0.0.1"), &chain, &trusted, XFF),
        ip("198.51.100.4")
    );
    assert_eq!(key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
    assert_eq!(key(ip("192.0.2.9")), ip("192.0.2.9"));
}

#[test]
fn a_bucket_refuses_past_its_rate_per_client_and_says_when_to_retry() {
    let limits = RateLimits {
        uploads_per_minute: 2,
        machines_per_minute: 0,
        exempt: vec![ip("192.0.2.200")],
        ..RateLimits::default()
    };
    let rates = Rates::new(&limits, [ip("192.0.2.100")]);
    let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
    assert!(rates.check(Kind::Upload, a).is_ok());
    assert!(rates.check(Kind::Upload, a).is_ok());
    let limited = rates.check(Kind::Upload, a).unwrap_err();
    assert_eq!((limited.kind, limited.limit), (Kind::Upload, 2));
    // A token comes back every 30 s.
    assert!(
        (1..=31).contains(&limited.retry_after.as_secs()),
        "{limited:?}"
    );
    assert_eq!(
        limited.to_string(),
        format!(
            "too many uploads from your address: at most 2 a minute (`[rates] \
             uploads_per_minute`); retry after {} s",
            limited.retry_after.as_secs()
        )
    );
    // Another client has its own bucket; so does the same client's other kind, and 0 is off.
    assert!(rates.check(Kind::Upload, b).is_ok());
    for _ in 0..100 {
        assert!(rates.check(Kind::Machine, a).is_ok());
        assert!(rates.check(Kind::Activation, a).is_ok());
    }
    // Members and listed addresses are never limited; one IPv6 /64 is one client.
    for _ in 0..10 {
        assert!(rates.check(Kind::Upload, ip("192.0.2.100")).is_ok());
        assert!(rates.check(Kind::Upload, ip("192.0.2.200")).is_ok());
    }
    assert!(rates.check(Kind::Upload, ip("2001:db8::1")).is_ok());
    assert!(rates.check(Kind::Upload, ip("2001:db8::2")).is_ok());
    assert!(rates.check(Kind::Upload, ip("2001:db8::3")).is_err());
}
