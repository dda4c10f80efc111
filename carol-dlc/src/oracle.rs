//! [`CarolOracle`]: a machine on one node or on a federation as the oracle of a `dlc-manager`
//! wallet, every answer checked before it is handed on.

use crate::checks::{self, Expected, Terms};
use crate::client::{Answer, Client, node_url};
use crate::error::Error;
use carol_core::api::MachineDescription;
use carol_core::ids::{BinaryId, MachineId};
use dlc_messages::oracle_msgs::{OracleAnnouncement, OracleAttestation};
use secp256k1::XOnlyPublicKey;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

/// How many checked announcements an oracle keeps, to check attestations against.
const ANNOUNCEMENTS_KEPT: usize = 1024;

/// A Carol machine that speaks dlcspecs (the activations `announce`, `announcement`, `attest`
/// and `oracle-public-key` of `examples/dlc-oracle`), as the oracle of a DLC wallet: it
/// implements `dlc-manager`'s [`dlc_manager::Oracle`], and checks every answer first.
#[derive(Clone)]
pub struct CarolOracle {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for CarolOracle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let urls: Vec<&str> = self.inner.urls.iter().map(Url::as_str).collect();
        f.debug_struct("CarolOracle")
            .field("machine", &self.inner.machine)
            .field("key", &self.inner.key)
            .field("nodes", &urls)
            .field("quorum", &self.inner.quorum)
            .finish()
    }
}

struct Inner {
    client: Client,
    urls: Vec<Url>,
    machine: MachineId,
    key: XOnlyPublicKey,
    quorum: usize,
    announcements: Mutex<HashMap<String, OracleAnnouncement>>,
}

/// A [`CarolOracle`] to connect: where it is, what it must be, and how patient to be.
#[must_use = "connect it with `connect` or `connect_blocking`"]
pub struct Connect {
    urls: Vec<String>,
    federation: bool,
    machine: MachineId,
    expected: Option<Expected>,
    key: Option<XOnlyPublicKey>,
    quorum: Option<usize>,
    timeout: Duration,
    retries: u32,
}

impl CarolOracle {
    /// Machine `machine_id` on the node at `node_url`, to [`Connect::connect`].
    #[expect(
        clippy::new_ret_no_self,
        reason = "connecting asks the node: `new` names the oracle, `connect` makes it"
    )]
    pub fn new(node_url: &str, machine_id: MachineId) -> Connect {
        Connect::new(vec![node_url.to_owned()], false, machine_id)
    }

    /// Machine `machine_id` on the federation whose members are at `member_urls` (some or all
    /// of them): every answer must come alike from the federation's threshold of them.
    pub fn federation<S: AsRef<str>>(member_urls: &[S], machine_id: MachineId) -> Connect {
        let urls = member_urls.iter().map(|u| u.as_ref().to_owned()).collect();
        Connect::new(urls, true, machine_id)
    }

    /// The machine.
    pub fn machine(&self) -> MachineId {
        self.inner.machine
    }

    /// The oracle key: the machine's own secp256k1 key, as its node (or every member) holds it.
    pub fn public_key(&self) -> XOnlyPublicKey {
        self.inner.key
    }

    /// The nodes asked, each once.
    pub fn nodes(&self) -> Vec<String> {
        self.inner.urls.iter().map(Url::to_string).collect()
    }

    /// How many nodes must answer alike: 1 on one node, the threshold on a federation.
    pub fn quorum(&self) -> usize {
        self.inner.quorum
    }

    /// Announces event `event_id` on `terms`, or answers its announcement if it was announced on
    /// them already, checked to be of those terms: what each party to a contract calls with the
    /// contract's terms, since the announcement's signed bytes do not carry the symbol (a
    /// machine refuses terms other than those an event was announced on).
    pub async fn announce(
        &self,
        event_id: &str,
        terms: &Terms,
    ) -> Result<OracleAnnouncement, Error> {
        let query = query(&[
            ("event-id", event_id),
            ("symbol", &terms.symbol),
            ("maturity", &terms.maturity.to_string()),
            ("base", &terms.base.to_string()),
            ("nb-digits", &terms.nb_digits.to_string()),
        ]);
        let terms = Arc::new(terms.clone());
        self.announced("announce", event_id, query, Some(terms))
            .await
    }

    /// The announcement of event `event_id`, checked: of that event, under the machine's key,
    /// validly signed.
    pub async fn announcement(&self, event_id: &str) -> Result<OracleAnnouncement, Error> {
        if let Some(kept) = self.kept(event_id) {
            return Ok(kept);
        }
        let query = query(&[("event-id", event_id)]);
        self.announced("announcement", event_id, query, None).await
    }

    /// The attestation of event `event_id` (from its maturity on), checked against its
    /// announcement.
    pub async fn attestation(&self, event_id: &str) -> Result<OracleAttestation, Error> {
        let announcement = self.announcement(event_id).await?;
        let query = query(&[("event-id", event_id)]);
        let announced = Arc::new(announcement);
        self.ask("the attestation", move |inner, url| {
            let (announced, query) = (announced.clone(), query.clone());
            async move {
                let ok = inner.ok_of(&url, "attest", &query).await?;
                let tlv = tlv(&url, "attest", &ok)?;
                let attestation: OracleAttestation = checks::read_tlv(url.as_str(), &tlv)?;
                checks::attestation(url.as_str(), &announced, &attestation)?;
                Ok((attestation, tlv))
            }
        })
        .await
    }

    /// An announcement activation's answer, checked (of `terms`, if given) and kept.
    async fn announced(
        &self,
        activation: &'static str,
        event_id: &str,
        query: String,
        terms: Option<Arc<Terms>>,
    ) -> Result<OracleAnnouncement, Error> {
        let event = Arc::new(event_id.to_owned());
        let announcement = self
            .ask("the announcement", move |inner, url| {
                let (event, query, terms) = (event.clone(), query.clone(), terms.clone());
                async move {
                    let ok = inner.ok_of(&url, activation, &query).await?;
                    let tlv = tlv(&url, activation, &ok)?;
                    let announcement: OracleAnnouncement = checks::read_tlv(url.as_str(), &tlv)?;
                    checks::announcement(url.as_str(), &event, &inner.key, &announcement)?;
                    if let Some(terms) = terms {
                        checks::terms(url.as_str(), &terms, &ok, &announcement)?;
                    }
                    Ok((announcement, tlv))
                }
            })
            .await?;
        let mut kept = self.inner.announcements.lock().expect("announcements lock");
        if kept.len() >= ANNOUNCEMENTS_KEPT {
            kept.clear();
        }
        kept.insert(event_id.to_owned(), announcement.clone());
        Ok(announcement)
    }

    fn kept(&self, event_id: &str) -> Option<OracleAnnouncement> {
        let kept = self.inner.announcements.lock().expect("announcements lock");
        kept.get(event_id).cloned()
    }

    /// What every node answers to `asking`, which must be alike (the same bytes) from the
    /// quorum of them.
    async fn ask<T, F, Fut>(&self, what: &str, asking: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: Fn(Arc<Inner>, Url) -> Fut,
        Fut: Future<Output = Result<(T, Vec<u8>), Error>> + Send + 'static,
    {
        let asked = self.inner.urls.iter().map(|url| {
            let url = url.clone();
            (url.clone(), asking(self.inner.clone(), url))
        });
        agree(what, self.inner.quorum, asked.collect()).await
    }
}

impl Inner {
    /// Activation `activation`'s `ok` answer on the node at `url`.
    async fn ok_of(&self, url: &Url, activation: &str, query: &str) -> Result<Value, Error> {
        let answer = self.activate(url, activation, query).await?;
        answer.get("ok").cloned().ok_or_else(|| Error::BadAnswer {
            url: url.to_string(),
            reason: format!("`{activation}` answered no `ok`"),
        })
    }

    /// Runs activation `activation` with `query` on the node at `url`: its JSON answer.
    async fn activate(&self, url: &Url, activation: &str, query: &str) -> Result<Value, Error> {
        activate(&self.client, &self.machine, url, activation, query).await
    }
}

/// Runs activation `activation` of `machine` with `query` on the node at `url`: its JSON answer.
async fn activate(
    client: &Client,
    machine: &MachineId,
    url: &Url,
    activation: &str,
    query: &str,
) -> Result<Value, Error> {
    let path = format!("machines/{machine}/activate/{activation}?{query}");
    let answer = client.get(url, &path).await?;
    let body = || serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    match answer.status {
        200 => json(&answer),
        422 => Err(Error::Refused {
            url: url.to_string(),
            activation: activation.to_owned(),
            error: body().get("err").cloned().unwrap_or_else(body).to_string(),
        }),
        503 => Err(Error::Unavailable {
            url: url.to_string(),
            activation: activation.to_owned(),
            body: body().to_string(),
        }),
        status => Err(unexpected(&answer, status)),
    }
}

impl Connect {
    fn new(urls: Vec<String>, federation: bool, machine: MachineId) -> Self {
        Self {
            urls,
            federation,
            machine,
            expected: None,
            key: None,
            quorum: None,
            timeout: Duration::from_secs(60),
            retries: 3,
        }
    }

    /// Requires the machine to be binary `binary` with `params`: the machine id given must be
    /// theirs, and so must the node's description. What a party to a contract checks first.
    pub fn expecting(mut self, binary: BinaryId, params: impl Into<Vec<u8>>) -> Self {
        self.expected = Some(Expected {
            binary,
            params: params.into(),
        });
        self
    }

    /// Requires the oracle key to be `key` (from the contract's terms, or the counterparty):
    /// the key the node lists as the machine's is the node's word, which a lying node can make
    /// up; a federation's is the word of the threshold of its members.
    pub fn expecting_key(mut self, key: XOnlyPublicKey) -> Self {
        self.key = Some(key);
        self
    }

    /// How many members must answer alike, on a federation: its threshold and a majority of the
    /// distinct URLs given unless set, and never fewer.
    pub fn quorum(mut self, members: usize) -> Self {
        self.quorum = Some(members);
        self
    }

    /// The time one request may take (60 s unless set; a federation's announcement of 20 digits
    /// takes a few seconds).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How often a node that answers 503 with `Retry-After` is asked again (3 unless set).
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// Connects: checks the machine against what is expected, reads the federation's threshold
    /// from its members, and takes the oracle key once each node holds it as the machine's.
    pub async fn connect(self) -> Result<CarolOracle, Error> {
        if self.urls.is_empty() {
            return Err(Error::NoMembers);
        }
        if let Some(expected) = &self.expected {
            expected.check(&self.machine)?;
        }
        let mut urls = self
            .urls
            .iter()
            .map(|u| node_url(u))
            .collect::<Result<Vec<_>, _>>()?;
        // One node named twice counts once.
        urls.sort();
        urls.dedup();
        let client = Client::new(self.timeout, self.retries);
        let threshold = match self.federation {
            true => threshold(&client, &urls).await?.max(urls.len() / 2 + 1),
            false => 1,
        };
        let quorum = self.quorum.unwrap_or(threshold).max(threshold);
        let (machine, expected) = (self.machine, Arc::new(self.expected));
        let asked = urls.iter().map(|url| {
            let (client, url, expected) = (client.clone(), url.clone(), expected.clone());
            (url.clone(), async move {
                let key = machines_key(&client, &machine, &url, expected.as_ref().as_ref()).await?;
                Ok((key, key.serialize().to_vec()))
            })
        });
        let key = agree("the machine's oracle key", quorum, asked.collect()).await?;
        if let Some(expected) = self.key.filter(|expected| *expected != key) {
            return Err(Error::NotTheExpectedKey {
                expected: hex::encode(expected.serialize()),
                got: hex::encode(key.serialize()),
            });
        }
        let inner = Inner {
            client,
            urls,
            machine,
            key,
            quorum,
            announcements: Mutex::new(HashMap::new()),
        };
        Ok(CarolOracle {
            inner: Arc::new(inner),
        })
    }

    /// [`Connect::connect`], for a caller that is not async (it runs on a thread of its own).
    pub fn connect_blocking(self) -> Result<CarolOracle, Error> {
        blocking(self.connect())
    }
}

/// The machine's oracle key as the node at `url` holds it: what its `oracle-public-key` answers,
/// which must be the secp256k1 key the node lists as the machine's, once the node's description
/// of the machine is checked.
async fn machines_key(
    client: &Client,
    machine: &MachineId,
    url: &Url,
    expected: Option<&Expected>,
) -> Result<XOnlyPublicKey, Error> {
    let answered = activate(client, machine, url, "oracle-public-key", "").await?;
    let answered = answered
        .as_str()
        .and_then(|t| hex::decode(t).ok())
        .ok_or_else(|| Error::BadAnswer {
            url: url.to_string(),
            reason: "`oracle-public-key` answered no hex".to_owned(),
        })?;
    let path = format!("machines/{machine}");
    let answer = client.get(url, &path).await?;
    if answer.status != 200 {
        return Err(unexpected(&answer, answer.status));
    }
    let described: MachineDescription =
        serde_json::from_slice(&answer.body).map_err(|e| Error::BadAnswer {
            url: answer.url.clone(),
            reason: format!("not a machine's description: {e}"),
        })?;
    let held = checks::description(url.as_str(), machine, &described, expected)?;
    if held.map(|h| h.to_vec()) != Some(answered.clone()) {
        return Err(Error::NotTheMachinesKey {
            url: url.to_string(),
            machine: *machine,
            answered: hex::encode(&answered),
            held: held.map_or("none".to_owned(), hex::encode),
        });
    }
    checks::oracle_key(url.as_str(), &answered)
}

/// The federation's threshold, which every member at `urls` must report alike, with its key and
/// its members, each URL a member of its own; a threshold of a majority of the members.
async fn threshold(client: &Client, urls: &[Url]) -> Result<usize, Error> {
    let mut asking = tokio::task::JoinSet::new();
    for url in urls {
        let (client, url) = (client.clone(), url.clone());
        asking.spawn(async move {
            let answer = client.get(&url, "federation").await?;
            if answer.status != 200 {
                return Err(unexpected(&answer, answer.status));
            }
            let described = json(&answer)?;
            let threshold = described["threshold"].as_u64();
            let member = described["member"].as_u64();
            let key = described["secp256k1_public_key"].as_str();
            match (threshold, member, key) {
                (Some(threshold), Some(member), Some(key)) => {
                    let federation = (threshold, key.to_owned(), described["members"].to_string());
                    Ok((member, federation))
                }
                _ => Err(Error::BadAnswer {
                    url: answer.url,
                    reason: "not a federation member's description with a threshold, its \
                             member index and a secp256k1 key"
                        .to_owned(),
                }),
            }
        });
    }
    let mut described = Vec::new();
    let mut errors = Vec::new();
    while let Some(joined) = asking.join_next().await {
        match joined.expect("an asking task does not panic") {
            Ok(answer) => described.push(answer),
            Err(error) => errors.push(error),
        }
    }
    let not_one = |reason: String| Error::NotOneFederation {
        urls: urls.iter().map(Url::as_str).collect::<Vec<_>>().join(", "),
        reason,
    };
    let Some((_, first)) = described.first().cloned() else {
        return Err(match errors.len() {
            1 => errors.remove(0),
            _ => not_one(
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        });
    };
    if described.iter().any(|(_, federation)| *federation != first) {
        return Err(not_one("they describe different federations".to_owned()));
    }
    let mut members: Vec<u64> = described.iter().map(|(member, _)| *member).collect();
    members.sort_unstable();
    if members.windows(2).any(|w| w[0] == w[1]) {
        return Err(not_one("two URLs answer as one member".to_owned()));
    }
    let (threshold, _, listed) = first;
    let n = serde_json::from_str::<Value>(&listed)
        .ok()
        .and_then(|m| m.as_array().map(Vec::len))
        .unwrap_or(0) as u64;
    if threshold > n || threshold <= n / 2 {
        return Err(not_one(format!(
            "a threshold of {threshold} of {n} members is not a majority"
        )));
    }
    Ok(threshold as usize)
}

/// What the nodes asked (`asked`, each with the URL asked) answer alike, from at least `quorum`
/// of them: each answer with the bytes compared. Any two that differ is an error, as is too
/// few alike; the one error of a lone node is that node's.
async fn agree<T, Fut>(what: &str, quorum: usize, asked: Vec<(Url, Fut)>) -> Result<T, Error>
where
    T: Send + 'static,
    Fut: Future<Output = Result<(T, Vec<u8>), Error>> + Send + 'static,
{
    let mut asking = tokio::task::JoinSet::new();
    for (url, answer) in asked {
        asking.spawn(async move { (url, answer.await) });
    }
    let mut alike: BTreeMap<Vec<u8>, (T, Vec<String>)> = BTreeMap::new();
    let mut errors = Vec::new();
    while let Some(joined) = asking.join_next().await {
        let (url, answer) = joined.expect("an asking task does not panic");
        match answer {
            Ok((value, bytes)) => alike
                .entry(bytes)
                .or_insert((value, Vec::new()))
                .1
                .push(url.to_string()),
            Err(error) => errors.push(error),
        }
    }
    if alike.len() > 1 {
        let members = alike
            .values()
            .enumerate()
            .map(|(i, (_, urls))| format!("answer {} from {}", i + 1, urls.join(", ")))
            .collect::<Vec<_>>();
        return Err(Error::MembersDisagree {
            what: what.to_owned(),
            members: members.join("; "),
        });
    }
    let agreed = alike.values().map(|(_, urls)| urls.len()).sum::<usize>();
    if let Some((value, _)) = alike.into_values().next().filter(|_| agreed >= quorum) {
        return Ok(value);
    }
    if agreed == 0 && errors.len() == 1 {
        return Err(errors.remove(0));
    }
    Err(Error::TooFewMembers {
        what: what.to_owned(),
        agreed,
        quorum,
        errors: errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
    })
}

/// The `tlv` of an activation's `ok` answer, from the node at `url`.
fn tlv(url: &Url, activation: &str, ok: &Value) -> Result<Vec<u8>, Error> {
    let tlv = ok["tlv"].as_str().and_then(|t| hex::decode(t).ok());
    tlv.ok_or_else(|| Error::BadAnswer {
        url: url.to_string(),
        reason: format!("`{activation}` answered no hex `tlv`"),
    })
}

/// The JSON of `answer`.
fn json(answer: &Answer) -> Result<Value, Error> {
    serde_json::from_slice(&answer.body).map_err(|e| Error::BadAnswer {
        url: answer.url.clone(),
        reason: format!("not JSON: {e}"),
    })
}

fn unexpected(answer: &Answer, status: u16) -> Error {
    let body = String::from_utf8_lossy(&answer.body);
    Error::Status {
        url: answer.url.clone(),
        status,
        body: body.chars().take(300).collect(),
    }
}

/// `pairs` as a query string.
fn query(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// Runs `future` to its end on a runtime of its own, on a thread of its own: callable from any
/// thread, a runtime's included (where blocking on one in place would panic).
fn blocking<T: Send + 'static>(future: impl Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the oracle's requests")
            .block_on(future)
    })
    .join()
    .expect("the oracle's requests do not panic")
}

impl dlc_manager::Oracle for CarolOracle {
    fn get_public_key(&self) -> XOnlyPublicKey {
        self.public_key()
    }

    fn get_announcement(
        &self,
        event_id: &str,
    ) -> Result<OracleAnnouncement, dlc_manager::error::Error> {
        let (oracle, event) = (self.clone(), event_id.to_owned());
        Ok(blocking(async move { oracle.announcement(&event).await })?)
    }

    fn get_attestation(
        &self,
        event_id: &str,
    ) -> Result<OracleAttestation, dlc_manager::error::Error> {
        let (oracle, event) = (self.clone(), event_id.to_owned());
        Ok(blocking(async move { oracle.attestation(&event).await })?)
    }
}
