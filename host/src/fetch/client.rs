//! The client: resolving, checking each address against the policy, connecting (over TLS for
//! `https`), following redirects, within the limits.

use super::url::Target;
use crate::bindings::carol::machine::http_fetch::{Error, Method, Request, Response};
use crate::policy::OutboundPolicy;
use http_body_util::{BodyExt, Full};
use hyper::StatusCode;
use hyper::body::{Bytes, Incoming};
use hyper::header::LOCATION;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
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
            request.url = Target::join(&request.url, location)?;
            let next = Target::parse(&request.url)?;
            if !next.same_origin(&target) {
                drop_credentials(&mut request.headers);
            }
            target = next;
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

/// Headers that carry credentials for one origin, which a redirect to another origin must not
/// take along (as browsers and curl do).
const CREDENTIALS: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

fn drop_credentials(headers: &mut Vec<(String, String)>) {
    headers.retain(|(name, _)| !CREDENTIALS.iter().any(|c| name.eq_ignore_ascii_case(c)));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_do_not_follow_a_redirect_to_another_origin() {
        let mut headers = vec![
            ("Authorization".to_owned(), "Bearer x".to_owned()),
            ("cookie".to_owned(), "s=1".to_owned()),
            ("PROXY-AUTHORIZATION".to_owned(), "Basic y".to_owned()),
            ("accept".to_owned(), "application/json".to_owned()),
        ];
        drop_credentials(&mut headers);
        assert_eq!(
            headers,
            [("accept".to_owned(), "application/json".to_owned())]
        );
    }
}
