//! Talking to a Carol node over its HTTP API, checking every id it answers against the one
//! computed here.

use anyhow::{Context, anyhow, bail};
use carol_core::api::{Created, ErrorBody, NodeInfo, Uploaded};
use carol_core::bls::PublicKey;
use carol_core::ids::{BinaryId, MachineId};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;

/// `--carol-url URL`: the node to talk to.
#[derive(clap::Args, Debug)]
pub struct NodeUrl {
    /// The node's base URL, e.g. http://127.0.0.1:8000.
    #[arg(long = "carol-url", value_name = "URL")]
    pub url: String,
    /// The access token the node's operator gave you, for a node that lets only holders of one
    /// upload, create machines or run activations (`[access]`).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "CAROL_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
}

/// A node's HTTP API.
pub struct Client {
    base: String,
    agent: ureq::Agent,
    /// `Authorization`'s value, if a token was given.
    authorization: Option<String>,
}

/// A node's answer: its status and JSON body.
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body, as JSON.
    pub body: Value,
}

impl Answer {
    /// The node's own explanation of an error answer.
    pub fn message(&self) -> String {
        match serde_json::from_value::<ErrorBody>(self.body.clone()) {
            Ok(error) => error.error,
            Err(_) => self.body.to_string(),
        }
    }

    /// The body as what `what` answers when it succeeds, or the node's error.
    pub fn decode<T: DeserializeOwned>(&self, what: &str) -> anyhow::Result<T> {
        if !matches!(self.status, 200 | 201) {
            bail!(
                "the node refused to {what} ({}): {}",
                self.status,
                self.message()
            );
        }
        serde_json::from_value(self.body.clone()).map_err(|e| {
            anyhow!(
                "the node's answer to {what} is not what a Carol node answers ({e}): {}; \
                 do not rely on it",
                self.body
            )
        })
    }
}

impl Client {
    /// A client of the node at `url`.
    pub fn new(url: &NodeUrl) -> anyhow::Result<Self> {
        let base = url.url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            bail!("--carol-url must start with http:// or https://, e.g. http://127.0.0.1:8000");
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .build()
            .into();
        let authorization = url
            .token
            .as_ref()
            .map(|token| format!("Bearer {}", token.trim()));
        Ok(Self {
            base,
            agent,
            authorization,
        })
    }

    /// A request to `path` by `method`, with the token if one was given.
    fn request<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.authorization {
            Some(authorization) => request.header("authorization", authorization),
            None => request,
        }
    }

    /// The node's base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn answer(
        &self,
        path: &str,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> anyhow::Result<Answer> {
        let mut response = response.with_context(|| {
            format!(
                "cannot reach the Carol node at {}{path}: is it running, and is --carol-url right?",
                self.base
            )
        })?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .with_context(|| format!("reading the node's answer to {path}"))?;
        let body = serde_json::from_str(&text).map_err(|_| {
            anyhow!(
                "{}{path} answered {status} with something that is not JSON: is --carol-url a Carol node? {}",
                self.base,
                text.chars().take(200).collect::<String>()
            )
        })?;
        Ok(Answer { status, body })
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> anyhow::Result<Answer> {
        let request = self.request(self.agent.get(format!("{}{path}", self.base)));
        self.answer(path, request.call())
    }

    /// `POST path` with raw bytes.
    pub fn post_bytes(&self, path: &str, body: &[u8]) -> anyhow::Result<Answer> {
        let request = self
            .request(self.agent.post(format!("{}{path}", self.base)))
            .header("content-type", "application/octet-stream");
        self.answer(path, request.send(body))
    }

    /// `POST path` with a JSON body.
    pub fn post_json(&self, path: &str, body: &Value) -> anyhow::Result<Answer> {
        let request = self.request(self.agent.post(format!("{}{path}", self.base)));
        self.answer(path, request.send_json(body))
    }

    /// The node's public key, from `GET /`.
    pub fn public_key(&self) -> anyhow::Result<PublicKey> {
        let answer = self.get("/")?;
        let info: NodeInfo = answer
            .decode("describe itself")
            .with_context(|| format!("{}/ gave no public key: is this a Carol node?", self.base))?;
        Ok(info.public_key)
    }

    /// Uploads a component; fails unless the node names it by its SHA-256.
    pub fn upload(&self, component: &[u8]) -> anyhow::Result<BinaryId> {
        let expected = BinaryId::of(component);
        let answer = self.post_bytes("/binaries", component)?;
        let uploaded: Uploaded = answer.decode("store the binary")?;
        check_id(&uploaded.id, &expected, "binary")?;
        Ok(expected)
    }

    /// Creates the machine of an uploaded binary; fails unless the node names it
    /// SHA-256(binary id || params).
    pub fn create(&self, binary: &BinaryId, params: &[u8]) -> anyhow::Result<MachineId> {
        let expected = MachineId::of(binary, params);
        let answer = self.post_bytes(&format!("/binaries/{binary}"), params)?;
        let created: Created = answer.decode("create the machine")?;
        check_id(&created.id, &expected, "machine")?;
        check_id(&created.binary_id, binary, "binary")?;
        Ok(expected)
    }
}

fn check_id<T: PartialEq + std::fmt::Display>(
    answered: &T,
    expected: &T,
    what: &str,
) -> anyhow::Result<()> {
    if answered != expected {
        bail!(
            "the node answered {what} id {answered}, but the id computed here is {expected}: \
             this node does not name {what}s as Carol specifies, so do not rely on it"
        );
    }
    Ok(())
}
