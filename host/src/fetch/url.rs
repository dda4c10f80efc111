//! The URLs machines fetch: what a request is sent to, redirects resolved against them, and
//! the request as it goes on the wire.

use crate::bindings::carol::machine::http_fetch::{Error, Method, Request};
use crate::policy::host_address;
use http_body_util::Full;
use hyper::Uri;
use hyper::body::Bytes;
use hyper::header::{HOST, HeaderName, HeaderValue, USER_AGENT};
use std::net::IpAddr;

/// A parsed `http` or `https` URL.
pub(super) struct Target {
    pub(super) https: bool,
    pub(super) host: String,
    /// The address the host spells, in whatever numeric form; `None` for a name to resolve.
    pub(super) ip: Option<IpAddr>,
    pub(super) port: u16,
    authority: String,
    path_and_query: String,
}

impl Target {
    pub(super) fn parse(url: &str) -> Result<Self, Error> {
        let invalid = |why: &str| Error::InvalidUrl(format!("`{url}`: {why}"));
        let uri: Uri = url.parse().map_err(|e| invalid(&format!("{e}")))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            Some(other) => {
                return Err(invalid(&format!(
                    "scheme `{other}` is not supported; use http or https"
                )));
            }
            None => return Err(invalid("an absolute http:// or https:// URL is required")),
        };
        let authority = uri
            .authority()
            .ok_or_else(|| invalid("the URL has no host"))?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        if host.is_empty() {
            return Err(invalid("the URL has no host"));
        }
        Ok(Self {
            https,
            ip: host_address(&host).map_err(|why| invalid(&why))?,
            port: authority.port_u16().unwrap_or(if https { 443 } else { 80 }),
            authority: authority
                .as_str()
                .rsplit('@')
                .next()
                .unwrap_or_default()
                .to_owned(),
            path_and_query: uri
                .path_and_query()
                .map_or("/".to_owned(), |p| p.as_str().to_owned()),
            host,
        })
    }

    /// Whether `other` is of the same origin: scheme, host and port.
    pub(super) fn same_origin(&self, other: &Target) -> bool {
        (self.https, self.host.to_ascii_lowercase(), self.port)
            == (other.https, other.host.to_ascii_lowercase(), other.port)
    }

    /// Resolves a `Location` header against `base`, this target's URL, as RFC 3986 section 5
    /// resolves a reference; the fragment, which is never sent, is dropped.
    pub(super) fn join(base: &str, location: &str) -> Result<String, Error> {
        let invalid = |e: url::ParseError| {
            Error::InvalidUrl(format!("redirect to `{location}` from `{base}`: {e}"))
        };
        let mut joined = url::Url::parse(base)
            .map_err(invalid)?
            .join(location)
            .map_err(invalid)?;
        joined.set_fragment(None);
        Ok(joined.into())
    }

    pub(super) fn build(&self, request: &Request) -> Result<hyper::Request<Full<Bytes>>, Error> {
        let method = match request.method {
            Method::Get => hyper::Method::GET,
            Method::Head => hyper::Method::HEAD,
            Method::Post => hyper::Method::POST,
            Method::Put => hyper::Method::PUT,
            Method::Patch => hyper::Method::PATCH,
            Method::Delete => hyper::Method::DELETE,
        };
        let mut builder = hyper::Request::builder()
            .method(method)
            .uri(self.path_and_query.as_str());
        let headers = builder.headers_mut().expect("the builder has no error yet");
        for (name, value) in &request.headers {
            let name = HeaderName::try_from(name.as_str())
                .map_err(|_| Error::InvalidUrl(format!("invalid header name `{name}`")))?;
            let value = HeaderValue::try_from(value.as_str())
                .map_err(|_| Error::InvalidUrl(format!("invalid value for header `{name}`")))?;
            // The node sets Host from the URL so that a machine cannot misdirect virtual hosting.
            if name != HOST {
                headers.append(name, value);
            }
        }
        headers.insert(
            HOST,
            HeaderValue::try_from(self.authority.as_str())
                .map_err(|_| Error::InvalidUrl(format!("invalid host `{}`", self.authority)))?,
        );
        headers
            .entry(USER_AGENT)
            .or_insert(HeaderValue::from_static(concat!(
                "carol/",
                env!("CARGO_PKG_VERSION")
            )));
        builder
            .body(Full::new(Bytes::copy_from_slice(&request.body)))
            .map_err(|e| Error::InvalidUrl(format!("cannot build the request: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let t = Target::parse("https://example.com/api/v1/x?filter=%7B%7D").unwrap();
        assert!(t.https);
        assert_eq!(
            (t.host.as_str(), t.port, t.path_and_query.as_str()),
            ("example.com", 443, "/api/v1/x?filter=%7B%7D")
        );
        let t = Target::parse("http://[::1]:8080").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path_and_query.as_str()),
            ("::1", 8080, "/")
        );
        let t = Target::parse("http://user:pw@example.com:81/").unwrap();
        assert_eq!(t.authority, "example.com:81");
        assert_eq!(t.ip, None);
        for bad in [
            "ftp://example.com/",
            "/relative",
            "http://",
            "not a url",
            "http://1.2.3.4.5/",
        ] {
            assert!(
                matches!(Target::parse(bad), Err(Error::InvalidUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn numeric_hosts_are_addresses_not_names() {
        for (url, ip) in [
            ("http://2130706433/", "127.0.0.1"),
            ("http://0x7f.1:8080/", "127.0.0.1"),
            ("http://127.1.2.3/", "127.1.2.3"),
            ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1"),
            ("https://0xA9FEA9FE/latest/meta-data/", "169.254.169.254"),
        ] {
            let target = Target::parse(url).unwrap();
            assert_eq!(target.ip, Some(ip.parse().unwrap()), "{url}");
        }
    }

    #[test]
    fn joins_redirect_locations() {
        let base = "http://a.test:81/dir/page?q=1";
        let join = |location| Target::join(base, location).unwrap();
        assert_eq!(join("https://b.test/x"), "https://b.test/x");
        assert_eq!(join("//c.test/y"), "http://c.test/y");
        assert_eq!(join("/root"), "http://a.test:81/root");
        assert_eq!(join("sibling"), "http://a.test:81/dir/sibling");
        // A query alone keeps the path: the bug this resolution replaced gave `/dir/?page=2`.
        assert_eq!(join("?page=2"), "http://a.test:81/dir/page?page=2");
        assert_eq!(join("#top"), "http://a.test:81/dir/page?q=1");
    }

    #[test]
    fn origins_are_scheme_host_and_port() {
        let origin = |url| Target::parse(url).unwrap();
        let a = origin("http://a.test/x");
        assert!(a.same_origin(&origin("http://A.test:80/y?z")));
        assert!(!a.same_origin(&origin("https://a.test/x")));
        assert!(!a.same_origin(&origin("http://a.test:81/x")));
        assert!(!a.same_origin(&origin("http://b.test/x")));
    }

    /// The normal examples of RFC 3986 section 5.4.1.
    #[test]
    fn resolves_references_as_rfc_3986_does() {
        let base = "http://a/b/c/d;p?q";
        for (reference, resolved) in [
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g/"),
            ("?y", "http://a/b/c/d;p?y"),
            ("g?y", "http://a/b/c/g?y"),
            ("#s", "http://a/b/c/d;p?q"),
            ("g#s", "http://a/b/c/g"),
            (";x", "http://a/b/c/;x"),
            ("", "http://a/b/c/d;p?q"),
            (".", "http://a/b/c/"),
            ("./", "http://a/b/c/"),
            ("..", "http://a/b/"),
            ("../g", "http://a/b/g"),
            ("../..", "http://a/"),
            ("../../g", "http://a/g"),
        ] {
            assert_eq!(
                Target::join(base, reference).unwrap(),
                resolved,
                "{reference}"
            );
        }
        assert!(matches!(
            Target::join(base, "http://[::1"),
            Err(Error::InvalidUrl(_))
        ));
    }
}
