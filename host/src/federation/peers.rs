//! Requests to the other members: only to the URLs of the federation file, bounded in time and
//! size like a machine's, over the node's own HTTP client.

use super::file::FederationFile;
use crate::bindings::carol::machine::http_fetch::{Method, Request, Response};
use crate::fetch::{FetchLimits, HttpClient};
use crate::policy::{OutboundPolicy, Rule};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// What asking a member gave.
#[derive(Debug)]
pub enum Answer<T> {
    /// It answered with the thing.
    Got(T),
    /// It is up but has not got it yet.
    NotYet,
    /// It could not be asked, or answered something else: why, for the log.
    Failed(String),
}

/// The most a member's answer may hold, but for components copied from a member.
const ANSWER_BYTES: usize = 1024 * 1024;

/// The client the members use to reach each other.
pub struct Peers {
    client: HttpClient,
    urls: Vec<String>,
}

impl Peers {
    /// A client that reaches the members of `file`, and nothing else, within `timeout` a
    /// request.
    pub fn new(file: &FederationFile, timeout: Duration) -> Self {
        Self::answering(file, timeout, ANSWER_BYTES)
    }

    /// Like [`Peers::new`], for answers of up to `max_answer_bytes`.
    pub fn answering(file: &FederationFile, timeout: Duration, max_answer_bytes: usize) -> Self {
        let urls: Vec<String> = file.members.iter().map(|m| m.url.clone()).collect();
        Self::reaching(&urls, timeout, max_answer_bytes)
    }

    /// A client that reaches the nodes at `urls`, and nothing else; member `i` is `urls[i - 1]`.
    pub fn for_urls(urls: &[String], timeout: Duration) -> Self {
        Self::reaching(urls, timeout, ANSWER_BYTES)
    }

    fn reaching(urls: &[String], timeout: Duration, max_answer_bytes: usize) -> Self {
        let allow = urls
            .iter()
            .filter_map(|u| url::Url::parse(u).ok())
            .filter_map(|url| {
                let host = url.host_str()?.to_owned();
                let port = url.port_or_known_default()?;
                format!("{host}:{port}").parse::<Rule>().ok()
            })
            .collect();
        let policy = OutboundPolicy {
            // Members are where the operators put them: loopback in tests and development, a
            // private network, or the internet. Only they are reachable.
            allow_loopback: true,
            allow,
            deny: Vec::new(),
            allow_only_listed: true,
        };
        let limits = FetchLimits {
            timeout,
            max_response_bytes: max_answer_bytes,
            max_requests_per_activation: u32::MAX,
            max_redirects: 0,
        };
        Self {
            client: HttpClient::new(policy, limits),
            urls: urls
                .iter()
                .map(|u| super::file::normalized(u).to_owned())
                .collect(),
        }
    }

    /// `GET path` of member `index`, read as JSON; 404 is "not yet".
    pub async fn get<T: DeserializeOwned>(&self, index: u32, path: &str) -> Answer<T> {
        let headers = vec![("accept".into(), "application/json".into())];
        self.send(index, Method::Get, path, headers, Vec::new())
            .await
    }

    /// `GET path` of member `index`, its body as it is; 404 is "not yet".
    pub async fn get_bytes(&self, index: u32, path: &str) -> Answer<Vec<u8>> {
        self.body(index, Method::Get, path, Vec::new(), Vec::new(), 200..=200)
            .await
    }

    /// `POST`s the JSON `body` to `path` of member `index` until it answers (anything but a
    /// failure), or until `deadline` is near, waiting twice as long after each failure (100 ms
    /// first); its last answer.
    pub async fn post_until<T: DeserializeOwned>(
        &self,
        index: u32,
        path: &str,
        body: Vec<u8>,
        deadline: tokio::time::Instant,
    ) -> Answer<T> {
        let mut pause = Duration::from_millis(100);
        loop {
            let headers = vec![("content-type".into(), "application/json".into())];
            let answer = self
                .send(index, Method::Post, path, headers, body.clone())
                .await;
            let Answer::Failed(why) = &answer else {
                return answer;
            };
            tracing::debug!(member = index, path, %why, "a member did not take a message");
            if tokio::time::Instant::now() + pause >= deadline {
                return answer;
            }
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
    }

    /// A request to member `index`, its answer read as JSON; 404 is "not yet".
    pub async fn send<T: DeserializeOwned>(
        &self,
        index: u32,
        method: Method,
        path: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Answer<T> {
        match self
            .body(index, method, path, headers, body, 200..=202)
            .await
        {
            Answer::Got(body) => match serde_json::from_slice(&body) {
                Ok(value) => Answer::Got(value),
                Err(error) => Answer::Failed(format!("its answer to {path} is not valid: {error}")),
            },
            Answer::NotYet => Answer::NotYet,
            Answer::Failed(why) => Answer::Failed(why),
        }
    }

    /// A request to member `index`: its whole answer, whatever its status.
    pub async fn respond(
        &self,
        index: u32,
        method: Method,
        path: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Result<Response, String> {
        let Some(base) = index.checked_sub(1).and_then(|i| self.urls.get(i as usize)) else {
            return Err(format!("there is no member {index}"));
        };
        let request = Request {
            method,
            url: format!("{base}{path}"),
            headers,
            body,
        };
        self.client
            .fetch(request)
            .await
            .map_err(|error| format!("{error:?}"))
    }

    /// A request to member `index`: the body of an answer whose status is in `ok`; 404 is
    /// "not yet".
    async fn body(
        &self,
        index: u32,
        method: Method,
        path: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        ok: std::ops::RangeInclusive<u16>,
    ) -> Answer<Vec<u8>> {
        match self.respond(index, method, path, headers, body).await {
            Ok(response) if ok.contains(&response.status) => Answer::Got(response.body),
            Ok(response) if response.status == 404 => Answer::NotYet,
            Ok(response) => Answer::Failed(format!("it answered {path} with {}", response.status)),
            Err(why) => Answer::Failed(why),
        }
    }
}
