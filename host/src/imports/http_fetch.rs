//! `carol:machine/http-fetch`: outbound HTTP from machines, through the node's policy.
//!
//! Every connection is made to an address the [`OutboundPolicy`] allows, checked after name
//! resolution and again on every redirect hop, so a name that resolves to a forbidden address
//! or a redirect into the node's network gets `error::denied`, never a connection.

use super::MachineContext;
use super::bindings::carol::machine::http_fetch::{Error, Host, Method, Request, Response};
use crate::policy::{OutboundPolicy, host_address};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HOST, HeaderName, HeaderValue, LOCATION, USER_AGENT};
use hyper::{StatusCode, Uri};
use hyper_util::rt::TokioIo;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// Bounds on a machine's outbound HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchLimits {
    /// Time for one request, from resolving the name to the last byte of the body, redirects included.
    pub timeout: Duration,
    /// Largest response body a machine receives.
    pub max_response_bytes: usize,
    /// Requests one activation may make.
    pub max_requests_per_activation: u32,
    /// Redirects followed for one request.
    pub max_redirects: u8,
}

impl Default for FetchLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_response_bytes: 8 * 1024 * 1024,
            max_requests_per_activation: 32,
            max_redirects: 5,
        }
    }
}

/// The node's outbound HTTP client.
pub struct HttpClient {
    policy: OutboundPolicy,
    limits: FetchLimits,
    tls: TlsConnector,
}

impl HttpClient {
    /// A client that enforces `policy` and `limits`, trusting the Web PKI roots for HTTPS.
    pub fn new(policy: OutboundPolicy, limits: FetchLimits) -> Self {
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("the ring provider supports the default TLS versions")
            .with_root_certificates(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            })
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Self {
            policy,
            limits,
            tls: TlsConnector::from(Arc::new(config)),
        }
    }

    /// The limits this client enforces.
    pub fn limits(&self) -> &FetchLimits {
        &self.limits
    }

    /// Performs `request`, following redirects, within the time limit.
    pub async fn fetch(&self, request: Request) -> Result<Response, Error> {
        tokio::time::timeout(self.limits.timeout, self.fetch_following(request))
            .await
            .unwrap_or(Err(Error::Timeout))
    }

    async fn fetch_following(&self, mut request: Request) -> Result<Response, Error> {
        let mut target = Target::parse(&request.url)?;
        for _ in 0..=self.limits.max_redirects {
            let response = self.send(&target, &request).await?;
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok());
            let Some(location) = location.filter(|_| response.status().is_redirection()) else {
                return self.read(response).await;
            };
            // 303, and 301/302 after a POST, continue as GET without body, as browsers do.
            let status = response.status();
            if status == StatusCode::SEE_OTHER
                || (matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND)
                    && request.method == Method::Post)
            {
                request.method = Method::Get;
                request.body.clear();
            }
            request.url = target.join(location);
            target = Target::parse(&request.url)?;
        }
        Err(Error::Connection(format!(
            "more than {} redirects",
            self.limits.max_redirects
        )))
    }

    /// Resolves the target's host, keeps the addresses the policy allows, and sends the request
    /// to the first that accepts a connection.
    async fn send(
        &self,
        target: &Target,
        request: &Request,
    ) -> Result<hyper::Response<Incoming>, Error> {
        let deny = |reason| Error::Denied(format!("`{}`: {reason}", target.host));
        let addrs: Vec<SocketAddr> = match target.ip {
            Some(ip) => vec![SocketAddr::new(ip, target.port)],
            None => {
                self.policy
                    .check_name(&target.host, target.port)
                    .map_err(deny)?;
                tokio::net::lookup_host((target.host.as_str(), target.port))
                    .await
                    .map_err(|e| {
                        Error::Connection(format!("cannot resolve `{}`: {e}", target.host))
                    })?
                    .collect()
            }
        };
        // Host name rules apply to names only: an address spelled in the URL has none.
        let name = target.ip.is_none().then_some(target.host.as_str());
        let mut denied = None;
        let mut last_error = None;
        for addr in addrs {
            // The address checked is the address connected to: nothing is resolved again.
            if let Err(reason) = self.policy.check(name, addr) {
                denied.get_or_insert(reason);
                continue;
            }
            match TcpStream::connect(addr).await {
                Ok(stream) => return self.exchange(target, stream, request).await,
                Err(e) => last_error = Some(format!("cannot connect to {addr}: {e}")),
            }
        }
        Err(match (last_error, denied) {
            (Some(error), _) => Error::Connection(error),
            (None, Some(reason)) => deny(reason),
            (None, None) => Error::Connection(format!("`{}` resolves to no address", target.host)),
        })
    }

    async fn exchange(
        &self,
        target: &Target,
        stream: TcpStream,
        request: &Request,
    ) -> Result<hyper::Response<Incoming>, Error> {
        let request = target.build(request)?;
        if !target.https {
            return send_over(stream, request).await;
        }
        let name = ServerName::try_from(target.host.clone()).map_err(|_| {
            Error::InvalidUrl(format!("`{}` is not a valid TLS server name", target.host))
        })?;
        let stream = self.tls.connect(name, stream).await.map_err(|e| {
            Error::Connection(format!("TLS handshake with `{}` failed: {e}", target.host))
        })?;
        send_over(stream, request).await
    }

    async fn read(&self, response: hyper::Response<Incoming>) -> Result<Response, Error> {
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame
                .map_err(|e| Error::Connection(format!("reading the response body failed: {e}")))?;
            if let Some(data) = frame.data_ref() {
                if bytes.len() + data.len() > self.limits.max_response_bytes {
                    return Err(Error::TooLarge);
                }
                bytes.extend_from_slice(data);
            }
        }
        Ok(Response {
            status,
            headers,
            body: bytes,
        })
    }
}

async fn send_over<S>(
    stream: S,
    request: hyper::Request<Full<Bytes>>,
) -> Result<hyper::Response<Incoming>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| Error::Connection(format!("HTTP handshake failed: {e}")))?;
    // The connection task ends when the response body has been read or dropped.
    tokio::spawn(connection);
    sender
        .send_request(request)
        .await
        .map_err(|e| Error::Connection(format!("request failed: {e}")))
}

/// A parsed `http` or `https` URL.
struct Target {
    https: bool,
    host: String,
    /// The address the host spells, in whatever numeric form; `None` for a name to resolve.
    ip: Option<IpAddr>,
    port: u16,
    authority: String,
    path_and_query: String,
}

impl Target {
    fn parse(url: &str) -> Result<Self, Error> {
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

    /// Resolves a `Location` header against this URL.
    fn join(&self, location: &str) -> String {
        let scheme = if self.https { "https" } else { "http" };
        if location.starts_with("http://") || location.starts_with("https://") {
            location.to_owned()
        } else if location.starts_with("//") {
            format!("{scheme}:{location}")
        } else if location.starts_with('/') {
            format!("{scheme}://{}{location}", self.authority)
        } else {
            let path = self.path_and_query.split('?').next().unwrap_or("/");
            let dir = &path[..=path.rfind('/').unwrap_or(0)];
            format!("{scheme}://{}{dir}{location}", self.authority)
        }
    }

    fn build(&self, request: &Request) -> Result<hyper::Request<Full<Bytes>>, Error> {
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

impl Host for MachineContext {
    async fn fetch(&mut self, request: Request) -> Result<Response, Error> {
        let limit = self.services.http.limits.max_requests_per_activation;
        if self.fetches >= limit {
            let reason = format!("an activation may make at most {limit} outbound requests");
            // Logged once per activation: a machine that keeps calling must not flood the log.
            if self.fetches == limit {
                tracing::warn!(machine = %self.machine, "outbound request denied: {reason}");
                self.fetches += 1;
            }
            return Err(Error::Denied(reason));
        }
        self.fetches += 1;
        let result = self.services.http.fetch(request).await;
        if let Err(Error::Denied(reason)) = &result {
            tracing::warn!(machine = %self.machine, "outbound request denied: {reason}");
        }
        result
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

    /// A denied fetch is logged at warn with the machine id, and a machine that keeps calling
    /// past its request limit is logged once, not once per call.
    #[test]
    fn denied_fetches_are_logged_with_the_machine_id() {
        use crate::bls::SecretKey;
        use crate::ids::{BinaryId, MachineId};
        use crate::imports::Services;
        use std::sync::Mutex;

        struct Capture(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Capture {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let log = Arc::new(Mutex::new(Vec::new()));
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || Capture(writer.clone()))
            .with_ansi(false)
            .finish();
        let binary = BinaryId::of(b"component");
        let machine = MachineId::of(&binary, b"");
        let limits = FetchLimits {
            max_requests_per_activation: 1,
            ..FetchLimits::default()
        };
        let mut context = MachineContext {
            machine,
            binary,
            params: Arc::from(&b""[..]),
            services: Arc::new(Services::new(
                SecretKey::generate(),
                HttpClient::new(OutboundPolicy::default(), limits),
                Arc::new(crate::store::Store::open(None).unwrap()),
                0,
            )),
            fetches: 0,
            state: None,
        };
        let request = Request {
            method: Method::Get,
            url: "http://127.0.0.1:9/".to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        tracing::subscriber::with_default(subscriber, || {
            runtime.block_on(async {
                for _ in 0..3 {
                    let result = Host::fetch(&mut context, request.clone()).await;
                    assert!(matches!(result, Err(Error::Denied(_))), "{result:?}");
                }
            })
        });
        let log = String::from_utf8(log.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines.len(), 2, "{log}");
        for line in &lines {
            assert!(
                line.contains("WARN") && line.contains(&format!("machine={machine}")),
                "{line}"
            );
        }
        assert!(
            lines[0].contains("127.0.0.1 is a loopback address"),
            "{log}"
        );
        assert!(lines[1].contains("at most 1 outbound requests"), "{log}");
    }

    #[test]
    fn joins_redirect_locations() {
        let t = Target::parse("http://a.test:81/dir/page?q=1").unwrap();
        assert_eq!(t.join("https://b.test/x"), "https://b.test/x");
        assert_eq!(t.join("//c.test/y"), "http://c.test/y");
        assert_eq!(t.join("/root"), "http://a.test:81/root");
        assert_eq!(t.join("sibling"), "http://a.test:81/dir/sibling");
    }
}
