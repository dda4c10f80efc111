//! The HTTP client: one GET at a time over HTTP/1.1 (TLS for `https`), within a timeout, asked
//! again when the node answers 503 with `Retry-After` (its activation queue is full).

use crate::error::Error;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use url::Url;

/// The largest answer read: an announcement of 64 digits is a few kilobytes.
const MAX_BODY_BYTES: usize = 1 << 20;
/// The longest wait a `Retry-After` is followed for; longer ones are cut to this.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(30);

/// A node's answer.
pub struct Answer {
    /// The URL asked.
    pub url: String,
    /// Its status.
    pub status: u16,
    /// Its body.
    pub body: Vec<u8>,
}

/// The client, with its time limit and how often a busy node is asked again.
#[derive(Clone)]
pub struct Client {
    tls: TlsConnector,
    timeout: Duration,
    retries: u32,
}

impl Client {
    /// A client whose requests each take at most `timeout`, asking a busy node again up to
    /// `retries` times; it trusts the Web PKI roots for HTTPS.
    pub fn new(timeout: Duration, retries: u32) -> Self {
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
            tls: TlsConnector::from(Arc::new(config)),
            timeout,
            retries,
        }
    }

    /// `GET` of `path` (with its query) on the node at `base`; a 503 with `Retry-After` is asked
    /// again after the time it names (at most 30 s), up to the retries allowed.
    pub async fn get(&self, base: &Url, path: &str) -> Result<Answer, Error> {
        let url = base.join(path).map_err(|e| Error::InvalidUrl {
            url: format!("{base}{path}"),
            reason: e.to_string(),
        })?;
        let mut retried = 0;
        loop {
            let timed = tokio::time::timeout(self.timeout, self.once(&url)).await;
            let (answer, retry_after) = timed.map_err(|_| Error::Timeout {
                url: url.to_string(),
                seconds: self.timeout.as_secs(),
            })??;
            match retry_after {
                Some(wait) if answer.status == 503 => {
                    if retried == self.retries {
                        return Err(Error::Busy {
                            url: answer.url,
                            retries: self.retries,
                        });
                    }
                    retried += 1;
                    tokio::time::sleep(wait.min(MAX_RETRY_WAIT)).await;
                }
                _ => return Ok(answer),
            }
        }
    }

    /// One request: the answer and its `Retry-After`, if any.
    async fn once(&self, url: &Url) -> Result<(Answer, Option<Duration>), Error> {
        let unreachable = |reason: String| Error::Unreachable {
            url: url.to_string(),
            reason,
        };
        let host = url.host_str().unwrap_or_default().to_owned();
        let port = url.port_or_known_default().unwrap_or(80);
        let stream = TcpStream::connect((host.trim_matches(['[', ']']), port))
            .await
            .map_err(|e| unreachable(format!("cannot connect: {e}")))?;
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.clone(),
        };
        let target = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let request = hyper::Request::get(target)
            .header(hyper::header::HOST, authority)
            .header(hyper::header::ACCEPT, "application/json")
            .body(Empty::<Bytes>::new())
            .map_err(|e| unreachable(format!("cannot make the request: {e}")))?;
        let response = match url.scheme() {
            "https" => {
                let name = ServerName::try_from(host.trim_matches(['[', ']']).to_owned())
                    .map_err(|_| unreachable(format!("`{host}` is no TLS server name")))?;
                let stream = self
                    .tls
                    .connect(name, stream)
                    .await
                    .map_err(|e| unreachable(format!("TLS handshake failed: {e}")))?;
                send_over(stream, request).await
            }
            _ => send_over(stream, request).await,
        }
        .map_err(unreachable)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(hyper::header::RETRY_AFTER)
            .map(|value| {
                let seconds = value.to_str().ok().and_then(|v| v.trim().parse().ok());
                Duration::from_secs(seconds.unwrap_or(1))
            });
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame =
                frame.map_err(|e| unreachable(format!("reading the answer failed: {e}")))?;
            if let Some(data) = frame.data_ref() {
                if bytes.len() + data.len() > MAX_BODY_BYTES {
                    return Err(unreachable(format!(
                        "the answer is over {MAX_BODY_BYTES} bytes"
                    )));
                }
                bytes.extend_from_slice(data);
            }
        }
        let answer = Answer {
            url: url.to_string(),
            status,
            body: bytes,
        };
        Ok((answer, retry_after))
    }
}

/// The node URL `text`, checked: `http` or `https`, a host, no query, ending in `/` so that
/// paths join under it.
pub fn node_url(text: &str) -> Result<Url, Error> {
    let invalid = |reason: &str| Error::InvalidUrl {
        url: text.to_owned(),
        reason: reason.to_owned(),
    };
    let mut url = Url::parse(text).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it names no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must have no query or fragment"));
    }
    // They would show in every error that names the URL: this one names it without them.
    if !url.username().is_empty() || url.password().is_some() {
        let _ = url.set_username("");
        let _ = url.set_password(None);
        return Err(Error::InvalidUrl {
            url: url.to_string(),
            reason: "it must hold no user name or password".to_owned(),
        });
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

async fn send_over<S>(
    stream: S,
    request: hyper::Request<Empty<Bytes>>,
) -> Result<hyper::Response<hyper::body::Incoming>, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP handshake failed: {e}"))?;
    // The connection ends when the answer has been read or dropped.
    tokio::spawn(connection);
    sender
        .send_request(request)
        .await
        .map_err(|e| format!("the request failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_urls_are_checked_and_end_in_a_slash() {
        assert_eq!(
            node_url("http://127.0.0.1:8000").unwrap().as_str(),
            "http://127.0.0.1:8000/"
        );
        assert_eq!(
            node_url("https://oracle.example/carol").unwrap().as_str(),
            "https://oracle.example/carol/"
        );
        for bad in [
            "ftp://x",
            "127.0.0.1:8000",
            "http://x/?a=1",
            "not a url",
            "http://user:secret@x",
        ] {
            assert!(
                matches!(node_url(bad), Err(Error::InvalidUrl { .. })),
                "{bad}"
            );
        }
    }
}
