//! `carol-dlc`, a DLC wallet's client of a Carol oracle, against a real node running
//! `examples/dlc-oracle`, and against nodes that lie: each lie is refused with its own error.

use crate::dlc_oracle::{MATURITY, mock, new_machine, oracle};
use crate::harness::{TestNode, guest, serve_locally};
use axum::Router;
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use carol_core::ids::{BinaryId, MachineId};
use carol_dlc::{CarolOracle, Error, Terms};
use carol_host::NodeConfig;
use dlc_manager::Oracle as _;
use dlc_messages::oracle_msgs::OracleAttestation;
use dlc_messages::ser_impls::{read_as_tlv, write_as_tlv};
use secp256k1::Secp256k1;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn run<T>(future: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// The params `new_machine(source, ..)` creates its machine with.
fn params(source: &str) -> Vec<u8> {
    json!({"api_base": format!("{}/{source}", mock())})
        .to_string()
        .into_bytes()
}

/// BTC/USD at `MATURITY`, in `digits` binary digits.
pub(crate) fn terms(digits: u16) -> Terms {
    Terms {
        symbol: ".BXBT".to_owned(),
        maturity: MATURITY,
        base: 2,
        nb_digits: digits,
    }
}

/// Why `connect` is refused.
fn refusal(connect: carol_dlc::Connect) -> Error {
    connect
        .connect_blocking()
        .expect_err("the connection is refused")
}

fn binary() -> BinaryId {
    oracle().binary.parse().unwrap()
}

/// The digits of `outcome` in base 2, `digits` of them, most significant first.
fn binary_digits(outcome: u64, digits: u32) -> Vec<String> {
    (0..digits)
        .rev()
        .map(|i| ((outcome >> i) & 1).to_string())
        .collect()
}

#[test]
fn a_wallet_takes_a_nodes_oracle_checked_and_gets_its_event_attested() {
    let machine: MachineId = new_machine("wallet", 41_234.0, None).parse().unwrap();
    let url = &oracle().node.url;
    let wrong = CarolOracle::new(url, machine)
        .expecting(binary(), b"{}".to_vec())
        .connect_blocking();
    assert!(
        matches!(wrong, Err(Error::NotTheExpectedMachine { .. })),
        "{:?}",
        wrong.err()
    );
    let carol = CarolOracle::new(url, machine)
        .expecting(binary(), params("wallet"))
        .connect_blocking()
        .unwrap();
    let (_, described) = oracle().node.get(&format!("/machines/{machine}"));
    assert_eq!(
        described["keys"]["secp256k1"],
        json!(hex::encode(carol.get_public_key().serialize()))
    );

    let missing = carol.get_announcement("wallet-unknown").unwrap_err();
    assert!(missing.to_string().contains("not-announced"), "{missing}");
    let announced = run(carol.announce("wallet-1", &terms(20))).unwrap();
    announced.validate(&Secp256k1::verification_only()).unwrap();
    assert_eq!(announced.oracle_public_key, carol.get_public_key());
    // Another party, with a client of its own: the same announcement for the same terms, and
    // other terms refused by the machine (an event id is announced once).
    let other_party = CarolOracle::new(url, machine)
        .expecting(binary(), params("wallet"))
        .expecting_key(carol.get_public_key())
        .connect_blocking()
        .unwrap();
    assert_eq!(other_party.get_announcement("wallet-1").unwrap(), announced);
    assert_eq!(
        run(other_party.announce("wallet-1", &terms(20))).unwrap(),
        announced
    );
    let mut other_terms = terms(20);
    other_terms.symbol = ".BETH".to_owned();
    let refused = run(other_party.announce("wallet-1", &other_terms)).unwrap_err();
    assert!(
        matches!(&refused, Error::Refused { error, .. } if error.contains("announced-differently")),
        "{refused}"
    );
    let pinned = CarolOracle::new(url, machine)
        .expecting_key(secp256k1::XOnlyPublicKey::from_slice(&[2; 32]).unwrap())
        .connect_blocking();
    assert!(
        matches!(pinned, Err(Error::NotTheExpectedKey { .. })),
        "{:?}",
        pinned.err()
    );
    let attestation = carol.get_attestation("wallet-1").unwrap();
    attestation
        .validate(&Secp256k1::verification_only(), &announced)
        .unwrap();
    assert_eq!(attestation.outcomes, binary_digits(41_234, 20));
    // From inside an async runtime, as a wallet's own code may call it.
    let again = run(async { carol.get_attestation("wallet-1") }).unwrap();
    assert_eq!(again, attestation);

    let down = CarolOracle::new("http://127.0.0.1:9", machine).connect_blocking();
    assert!(
        matches!(down, Err(Error::Unreachable { .. })),
        "{:?}",
        down.err()
    );
    for bad in ["ftp://127.0.0.1", "http://user:secret@127.0.0.1:9"] {
        let refused = refusal(CarolOracle::new(bad, machine));
        assert!(matches!(refused, Error::InvalidUrl { .. }), "{refused}");
        assert!(!refused.to_string().contains("secret"), "{refused}");
    }
}

/// How a lying node lies.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Lie {
    None,
    /// Lists another secp256k1 key as the machine's.
    OtherKey,
    /// Describes the machine with other params.
    OtherParams,
    /// Answers the announcement of another event.
    OtherEvent,
    /// Answers an announcement whose signature is changed.
    BadSignature,
    /// Answers the attestation of another event.
    OtherAttestation,
    /// Answers an attestation with its last digit left out.
    ShortAttestation,
    /// Answers an attestation with a bit of a signature changed.
    FlippedAttestation,
    /// Answers another event's attestation, renamed as this one's.
    RenamedAttestation,
    /// Answers an announcement of this event under another node's key for the machine.
    OtherKeysAnnouncement,
    /// Answers an announcement with another symbol than the one it was announced with.
    OtherSymbol,
    /// Answers 503 with `Retry-After: 1` this many times first.
    Busy(u32),
    /// Never answers.
    Silent,
}

/// What a real node answered for machine `machine`, served by a node that lies as told.
struct Liar {
    url: String,
    lie: Arc<Mutex<Lie>>,
}

impl Liar {
    fn new(node: &str, machine: &MachineId, events: &[&str]) -> Self {
        Self::with(node, machine, events, None)
    }

    /// A liar whose `OtherKeysAnnouncement` is `elsewhere`'s answer.
    fn with(node: &str, machine: &MachineId, events: &[&str], elsewhere: Option<Value>) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent();
        let fetch = |path: String| -> Value {
            let mut answer = agent.get(&format!("{node}{path}")).call().unwrap();
            serde_json::from_str(&answer.body_mut().read_to_string().unwrap()).unwrap()
        };
        let mut answers = HashMap::new();
        let activation = |name: &str| format!("/machines/{machine}/activate/{name}");
        answers.insert(
            "oracle-public-key".to_owned(),
            fetch(activation("oracle-public-key")),
        );
        answers.insert(
            "description".to_owned(),
            fetch(format!("/machines/{machine}")),
        );
        for event in events {
            for name in ["announcement", "attest"] {
                let answer = fetch(format!("{}?event-id={event}", activation(name)));
                answers.insert(format!("{name}/{event}"), answer);
            }
            let announced = answers[&format!("announcement/{event}")].clone();
            answers.insert(format!("announce/{event}"), announced);
        }
        if let Some(elsewhere) = elsewhere {
            answers.insert("elsewhere".to_owned(), elsewhere);
        }
        let lie = Arc::new(Mutex::new(Lie::None));
        let (told, answers) = (lie.clone(), Arc::new(answers));
        let describe = {
            let (told, answers) = (told.clone(), answers.clone());
            move || {
                let mut description = answers["description"].clone();
                match *told.lock().unwrap() {
                    Lie::OtherKey => description["keys"]["secp256k1"] = json!(hex::encode([2; 32])),
                    Lie::OtherParams => description["params"] = json!(hex::encode(b"{}")),
                    _ => {}
                }
                async move { axum::Json(description) }
            }
        };
        let activate = move |Path((_, name)): Path<(String, String)>, RawQuery(query): RawQuery| {
            let (told, answers) = (told.clone(), answers.clone());
            async move { lie_about(&told, &answers, &name, &query.unwrap_or_default()).await }
        };
        let app = Router::new()
            .route("/machines/{id}", get(describe))
            .route("/machines/{id}/activate/{name}", get(activate));
        Self {
            url: serve_locally(app),
            lie,
        }
    }

    fn tell(&self, lie: Lie) {
        *self.lie.lock().unwrap() = lie;
    }
}

async fn lie_about(
    told: &Mutex<Lie>,
    answers: &HashMap<String, Value>,
    name: &str,
    query: &str,
) -> Response {
    let event = form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "event-id")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    let lie = {
        let mut told = told.lock().unwrap();
        let lie = *told;
        if let Lie::Busy(n) = lie {
            *told = if n > 1 { Lie::Busy(n - 1) } else { Lie::None };
        }
        lie
    };
    let mut answer = answers
        .get(&format!("{name}/{event}"))
        .or_else(|| answers.get(name))
        .cloned()
        .unwrap_or(Value::Null);
    let tlv = |answer: &Value| hex::decode(answer["ok"]["tlv"].as_str().unwrap()).unwrap();
    match (lie, name) {
        (Lie::Busy(_), _) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [("retry-after", "1")],
                "{}",
            )
                .into_response();
        }
        (Lie::Silent, _) => tokio::time::sleep(Duration::from_secs(30)).await,
        (Lie::OtherEvent, "announcement") => answer = answers["announcement/lie-b"].clone(),
        (Lie::OtherAttestation, "attest") => answer = answers["attest/lie-b"].clone(),
        (Lie::BadSignature, "announcement") => {
            let mut bytes = tlv(&answer);
            // Past the type and length: the announcement's signature.
            bytes[10] ^= 1;
            answer["ok"]["tlv"] = json!(hex::encode(bytes));
        }
        (Lie::FlippedAttestation, "attest") => {
            let mut attestation: OracleAttestation =
                read_as_tlv(&mut tlv(&answer).as_slice()).unwrap();
            let mut signature = *attestation.signatures[0].as_ref();
            signature[40] ^= 1;
            attestation.signatures[0] =
                secp256k1::schnorr::Signature::from_slice(&signature).unwrap();
            let mut bytes = Vec::new();
            write_as_tlv(&attestation, &mut bytes).unwrap();
            answer["ok"]["tlv"] = json!(hex::encode(bytes));
        }
        (Lie::RenamedAttestation, "attest") => {
            let other = answers["attest/lie-b"].clone();
            let mut attestation: OracleAttestation =
                read_as_tlv(&mut tlv(&other).as_slice()).unwrap();
            attestation.event_id = event.clone();
            let mut bytes = Vec::new();
            write_as_tlv(&attestation, &mut bytes).unwrap();
            answer["ok"]["tlv"] = json!(hex::encode(bytes));
        }
        (Lie::OtherKeysAnnouncement, "announcement") => answer = answers["elsewhere"].clone(),
        (Lie::OtherSymbol, "announce") => answer["ok"]["symbol"] = json!(".BETH"),
        (Lie::ShortAttestation, "attest") => {
            let mut attestation: OracleAttestation =
                read_as_tlv(&mut tlv(&answer).as_slice()).unwrap();
            attestation.outcomes.pop();
            attestation.signatures.pop();
            let mut bytes = Vec::new();
            write_as_tlv(&attestation, &mut bytes).unwrap();
            answer["ok"]["tlv"] = json!(hex::encode(bytes));
        }
        _ => {}
    }
    axum::Json(answer).into_response()
}

#[test]
fn a_node_that_lies_about_the_machine_its_key_or_its_messages_is_refused_for_each_lie() {
    let machine: MachineId = new_machine("liar", 30_000.0, None).parse().unwrap();
    let node = &oracle().node;
    for event in ["lie-a", "lie-b"] {
        let query = format!("event-id={event}&symbol=.BXBT&maturity={MATURITY}&base=2&nb-digits=8");
        let (status, body) = node.get(&format!("/machines/{machine}/activate/announce?{query}"));
        assert_eq!(status, 200, "{body}");
    }
    // The same machine on another node, which gives it another key: its announcement of lie-a.
    let mut config = NodeConfig::with_key(carol_core::bls::SecretKey::generate());
    config.policy.allow_loopback = true;
    config.data_dir = Some(crate::durability::scratch("dlc-wallet-other-key"));
    let other = TestNode::start(config);
    other.machine(&guest("dlc-oracle"), &params("liar"));
    let query = format!("event-id=lie-a&symbol=.BXBT&maturity={MATURITY}&base=2&nb-digits=8");
    let (status, elsewhere) = other.get(&format!("/machines/{machine}/activate/announce?{query}"));
    assert_eq!(status, 200, "{elsewhere}");
    let liar = Liar::with(&node.url, &machine, &["lie-a", "lie-b"], Some(elsewhere));
    let connect = || {
        CarolOracle::new(&liar.url, machine)
            .expecting(binary(), params("liar"))
            .timeout(Duration::from_secs(2))
            .retries(2)
            .connect_blocking()
    };

    liar.tell(Lie::OtherKey);
    let refused = connect().err().unwrap();
    assert!(
        matches!(refused, Error::NotTheMachinesKey { .. }),
        "{refused}"
    );
    liar.tell(Lie::OtherParams);
    let refused = connect().err().unwrap();
    assert!(
        matches!(refused, Error::MachineMisdescribed { .. }),
        "{refused}"
    );
    liar.tell(Lie::Silent);
    let refused = connect().err().unwrap();
    assert!(
        matches!(refused, Error::Timeout { seconds: 2, .. }),
        "{refused}"
    );
    liar.tell(Lie::Busy(3));
    let refused = connect().err().unwrap();
    assert!(
        matches!(refused, Error::Busy { retries: 2, .. }),
        "{refused}"
    );
    // Busy twice, then answering: the retries carry it through.
    liar.tell(Lie::Busy(2));
    let carol = connect().unwrap();

    for (lie, kind) in [
        (Lie::OtherEvent, "OtherEvent"),
        (Lie::BadSignature, "BadAnnouncement"),
        (Lie::OtherKeysAnnouncement, "NotUnderTheMachinesKey"),
    ] {
        liar.tell(lie);
        let refused = run(carol.announcement("lie-a")).unwrap_err();
        assert!(
            format!("{refused:?}").starts_with(kind),
            "{lie:?}: {refused}"
        );
    }
    liar.tell(Lie::OtherSymbol);
    let refused = run(carol.announce("lie-a", &terms(8))).unwrap_err();
    assert!(matches!(refused, Error::OtherTerms { .. }), "{refused}");
    liar.tell(Lie::None);
    let announced = run(carol.announce("lie-a", &terms(8))).unwrap();
    for lie in [
        Lie::OtherAttestation,
        Lie::ShortAttestation,
        Lie::FlippedAttestation,
        Lie::RenamedAttestation,
    ] {
        liar.tell(lie);
        let refused = run(carol.attestation("lie-a")).unwrap_err();
        assert!(
            matches!(refused, Error::BadAttestation { .. }),
            "{lie:?}: {refused}"
        );
    }
    liar.tell(Lie::None);
    let attestation = run(carol.attestation("lie-a")).unwrap();
    attestation
        .validate(&Secp256k1::verification_only(), &announced)
        .unwrap();
}

/// Two "members" that each answer for the same machine id with another node's key (each node
/// makes its own key for the machine): the client refuses them as disagreeing; one honest member
/// and one down is fewer than the threshold of 2.
#[test]
fn federation_members_that_disagree_or_are_too_few_are_refused() {
    let machine: MachineId = new_machine("members", 30_000.0, None).parse().unwrap();
    let mut config = NodeConfig::with_key(carol_core::bls::SecretKey::generate());
    config.policy.allow_loopback = true;
    let other = TestNode::start(config);
    let (_, twin) = other.machine(&guest("dlc-oracle"), &params("members"));
    assert_eq!(twin, machine.to_string());
    let members: Vec<String> = [&oracle().node.url, &other.url]
        .iter()
        .zip(1..)
        .map(|(node, member)| {
            let liar = Liar::new(node, &machine, &[]);
            federation_in_front_of(&liar.url, member)
        })
        .collect();
    // One member named twice is one member: too few.
    let twice = [members[0].clone(), members[0].clone()];
    let refused = refusal(CarolOracle::federation(&twice, machine));
    assert!(
        matches!(
            refused,
            Error::TooFewMembers {
                agreed: 1,
                quorum: 2,
                ..
            }
        ),
        "{refused}"
    );
    // Two URLs that answer as one member.
    let same = federation_in_front_of(&Liar::new(&other.url, &machine, &[]).url, 1);
    let refused = refusal(CarolOracle::federation(
        &[members[0].clone(), same],
        machine,
    ));
    assert!(
        matches!(refused, Error::NotOneFederation { .. }),
        "{refused}"
    );
    let refused = refusal(CarolOracle::federation(&members, machine));
    assert!(
        matches!(refused, Error::MembersDisagree { .. }),
        "{refused}"
    );
    let one_down = [members[0].clone(), "http://127.0.0.1:9".to_owned()];
    let refused = refusal(CarolOracle::federation(&one_down, machine));
    assert!(
        matches!(
            refused,
            Error::TooFewMembers {
                agreed: 1,
                quorum: 2,
                ..
            }
        ),
        "{refused}"
    );
}

/// A server that describes member `member` of a 2-of-3 federation at `GET /federation` and
/// passes everything else on to `behind`.
fn federation_in_front_of(behind: &str, member: u32) -> String {
    let behind = behind.to_owned();
    let pass = move |uri: axum::http::Uri| {
        let behind = behind.clone();
        async move {
            let agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .new_agent();
            let text = tokio::task::spawn_blocking(move || {
                let mut answer = agent.get(&format!("{behind}{uri}")).call().unwrap();
                answer.body_mut().read_to_string().unwrap()
            })
            .await
            .unwrap();
            ([("content-type", "application/json")], text)
        }
    };
    let described = json!({
        "threshold": 2,
        "member": member,
        "members": [{}, {}, {}],
        "secp256k1_public_key": hex::encode([3; 33]),
    });
    serve_locally(
        Router::new()
            .route(
                "/federation",
                get(move || async move { axum::Json(described) }),
            )
            .fallback(pass),
    )
}
