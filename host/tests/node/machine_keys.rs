//! Machines' own BLS keys on a 3-of-5 federation of `carol` processes: made by the members
//! together on first use (also with two members down), the same on every member and after a
//! restart, signing with `t` members, and independent: what one machine's key signs verifies as
//! no other machine's signature, nor as the federation's for another machine.

use crate::durability::{Carol, scratch};
use crate::federation::{describe, form};
use crate::harness::{bls_verifies, guest, serve_on};
use axum::Router;
use axum::routing::get;
use bls12_381::{G1Affine, G1Projective};
use carol_core::ids::MachineId;
use carol_federation::agreement::{Ballot, Contributor};
use carol_federation::curve::Bls;
use carol_federation::dkg::{Deal, DealBundle, deal_context};
use carol_federation::ecies;
use carol_federation::identity::Identity;
use carol_federation::machine_key::{self, MachineDeal, MachineDealJson};
use carol_federation::poly::{SecretPoly, random_scalar};
use carol_host::config::Config;
use carol_host::federation::agreement::{Ask, Reply, SignedPromise, ask_digest};
use carol_host::federation::file::FederationFile;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn json(ask: &Ask) -> Value {
    serde_json::to_value(ask).unwrap()
}

fn bytes(value: &Value) -> Vec<u8> {
    hex::decode(value.as_str().unwrap_or_else(|| panic!("not hex: {value}"))).unwrap()
}

/// Activation `name` of `machine` on `node` with `message` (hex, if any): the bytes it answers.
fn call(node: &Carol, machine: &str, name: &str, message: Option<&[u8]>) -> Vec<u8> {
    let query = message.map_or(String::new(), |m| format!("?message={}", hex::encode(m)));
    let (status, body) = node.get(&format!("/machines/{machine}/activate/{name}{query}"));
    assert_eq!(status, 200, "{body}\n{:#?}", node.log());
    bytes(&body)
}

#[test]
fn machines_own_keys_are_made_together_the_same_everywhere_and_independent() {
    let root = scratch("federation-machine-keys");
    let (sites, file, mut nodes) = form(&root, 3, 5, "activation_timeout_ms = 8000");
    let federation_key = describe(&nodes[0]).public_key.unwrap().to_bytes().to_vec();
    let stateful = guest("stateful");
    let a = nodes[0].machine(&stateful, b"a");
    let b = nodes[0].machine(&stateful, b"b");

    // Every member gives machine A the same key, made on first use, and none of the others'.
    let key_a = call(&nodes[2], &a, "bls-public-key", None);
    for node in &nodes {
        assert_eq!(call(node, &a, "bls-public-key", None), key_a);
    }
    let key_b = call(&nodes[4], &b, "bls-public-key", None);
    assert_ne!(key_a, key_b);
    assert_ne!(key_a, federation_key);
    let (_, described) = nodes[1].get(&format!("/machines/{a}"));
    assert_eq!(bytes(&described["keys"]["bls"]), key_a, "{described}");

    let member5 = Config::load(Path::new(&sites[4].cfg)).unwrap().node.key;
    let session = FederationFile::load(&file).unwrap().session();
    let machine: MachineId = a.parse().unwrap();
    let decree = [b"machine-key/bls/".as_slice(), machine.as_bytes()].concat();
    let pledges = format!("/federation/machines/{a}/pledge");
    dishonest_proposals_are_refused(&nodes, Identity::new(&member5), session, decree, &pledges);
    assert_eq!(call(&nodes[4], &a, "bls-public-key", None), key_a);

    // A's signature, from any member, is the one signature of A's key.
    let signature = call(&nodes[1], &a, "bls-sign", Some(b"price=30264"));
    assert!(bls_verifies(&key_a, b"price=30264", &signature));
    assert_eq!(
        call(&nodes[3], &a, "bls-sign", Some(b"price=30264")),
        signature
    );

    // A signs what B, or the federation for B, would sign: it verifies as neither.
    let mut for_b = hex::decode(&b).unwrap();
    for_b.extend_from_slice(b"price=30264");
    let forged = call(&nodes[0], &a, "bls-sign", Some(&for_b));
    assert!(bls_verifies(&key_a, &for_b, &forged));
    assert!(!bls_verifies(&federation_key, &for_b, &forged));
    assert!(!bls_verifies(&key_b, &for_b, &forged));
    assert!(!bls_verifies(&key_b, b"price=30264", &forged));

    // With two members down, a new machine's key is made by the three that are up.
    nodes.truncate(3);
    let c = nodes[0].machine(&stateful, b"c");
    let key_c = call(&nodes[1], &c, "bls-public-key", None);
    let signature = call(&nodes[2], &c, "bls-sign", Some(b"up"));
    assert!(bls_verifies(&key_c, b"up", &signature));

    // A member restarted keeps the keys, and one that was down gets machine C's from the
    // others (and the machine too, which it missed).
    drop(nodes.remove(1));
    nodes.push(sites[1].start(Some(&file)));
    nodes.push(sites[3].start(Some(&file)));
    assert_eq!(call(&nodes[2], &a, "bls-public-key", None), key_a);
    assert_eq!(call(&nodes[3], &c, "bls-public-key", None), key_c);
    assert!(
        nodes[2]
            .log()
            .iter()
            .all(|l| !l.contains("made the machine's own key")),
        "a restarted member makes no key again: {:#?}",
        nodes[2].log()
    );
}

/// A member's node key, spoken for by the test: it proposes what an honest member would not.
pub(crate) struct Dishonest {
    pub(crate) identity: Identity,
    pub(crate) session: [u8; 32],
    pub(crate) decree: Vec<u8>,
}

impl Dishonest {
    fn proof(&self, phase: &str, ballot: Ballot, value: &[Contributor]) -> String {
        let digest = ask_digest(&self.session, &self.decree, phase, ballot, value);
        hex::encode(self.identity.sign(&digest))
    }

    /// The promises of `ballot` from `nodes[i]` (member `i + 1`) for each `i` of `from`.
    pub(crate) fn promises(
        &self,
        nodes: &[Carol],
        ballot: Ballot,
        from: &[usize],
    ) -> Vec<SignedPromise> {
        let prepare = Ask::Prepare {
            decree: hex::encode(&self.decree),
            ballot,
            proof: self.proof("prepare", ballot, &[]),
        };
        from.iter()
            .map(|&i| {
                let (status, reply) = nodes[i].post_json("/federation/agreement", &json(&prepare));
                assert_eq!(status, 200, "{reply}");
                let Reply::Promise {
                    accepted,
                    signature,
                    justification,
                } = serde_json::from_value(reply).unwrap()
                else {
                    panic!("no promise");
                };
                SignedPromise {
                    member: i as u32 + 1,
                    accepted,
                    signature,
                    justification: justification.map(Box::new),
                }
            })
            .collect()
    }

    /// The promises of `ballot` from `from`, as [`Dishonest::promises`], with one justification
    /// kept, as an honest proposer passes them on and an acceptor takes them.
    pub(crate) fn passed_on(
        &self,
        nodes: &[Carol],
        ballot: Ballot,
        from: &[usize],
    ) -> Vec<SignedPromise> {
        let mut promises = self.promises(nodes, ballot, from);
        carol_host::federation::agreement::one_justification(&mut promises);
        promises
    }

    /// Asks `node` to accept `value` in `ballot`, with the contributors' `endorsements` and
    /// `promises`.
    pub(crate) fn accept(
        &self,
        node: &Carol,
        ballot: Ballot,
        (value, endorsements): &Endorsed,
        promises: Vec<SignedPromise>,
    ) -> (u16, Value) {
        let accept = Ask::Accept {
            decree: hex::encode(&self.decree),
            ballot,
            value: value.to_vec(),
            endorsements: endorsements.clone(),
            promises,
            proof: self.proof("accept", ballot, value),
        };
        node.post_json("/federation/agreement", &json(&accept))
    }
}

/// A value and its contributors' endorsements, hex.
pub(crate) type Endorsed = (Vec<Contributor>, Vec<String>);

/// Each of `members` as a contributor, with a contribution's digest and an endorsement made up.
fn made_up(members: &[u32]) -> Endorsed {
    let named = |&member: &u32| Contributor {
        member,
        digest: [member as u8; 32],
    };
    let value = members.iter().map(named).collect();
    (value, vec![hex::encode([0xa0; 96]); members.len()])
}

/// Each member's real pledge at `path` on the nodes, member `i + 1`'s from `nodes[i]`: its
/// contribution's digest and its endorsement, which anyone may ask for.
fn pledges(nodes: &[Carol], path: &str) -> Vec<(Contributor, String)> {
    nodes
        .iter()
        .map(|node| {
            let (status, pledge) = node.get(path);
            assert_eq!(status, 200, "{path}: {pledge}");
            let contributor = Contributor {
                member: pledge["dealer"].as_u64().unwrap() as u32,
                digest: bytes(&pledge["digest"]).try_into().unwrap(),
            };
            (
                contributor,
                pledge["signature"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The value of `members`' pledges among `pledged`.
fn of(pledged: &[(Contributor, String)], members: &[u32]) -> Endorsed {
    pledged
        .iter()
        .filter(|(c, _)| members.contains(&c.member))
        .cloned()
        .unzip()
}

fn assert_refused((status, body): (u16, Value), why: &str) {
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains(why), "{body}");
}

fn assert_unjustified(answer: (u16, Value)) {
    assert_refused(answer, "not justified");
}

/// Refused because the value names member `member`'s part without its endorsement.
pub(crate) fn assert_unendorsed(answer: (u16, Value), member: u32) {
    assert_refused(
        answer,
        &format!("names member {member}'s contribution or vote without its node key's endorsement"),
    );
}

/// Member 5 turns dishonest (the test speaks for it with `identity`, its node key). After
/// `decree` (a machine's key, a committed nonce, whose pledges members serve at `pledge_path`) is
/// decided it asks for another set of contributors to be accepted: contributions made up, or
/// another's digest under a member's name, are refused for want of that member's endorsement;
/// other members' real pledges (anyone may ask for them), without promises or with the members'
/// real promises of its ballot (which report the value they accepted), are refused too: no member
/// accepts anything but the decided value. Nor can it ask for two values in one ballot (a quorum
/// decides one, another member accepts the other) and have the second decided in a later ballot
/// with promises that report both.
pub(crate) fn dishonest_proposals_are_refused(
    nodes: &[Carol],
    identity: Identity,
    session: [u8; 32],
    decree: Vec<u8>,
    pledge_path: &str,
) {
    let (status, decided) = nodes[0].get(&format!("/federation/decided/{}", hex::encode(&decree)));
    assert_eq!(status, 200, "{decided}");
    let mut member5 = Dishonest {
        identity,
        session,
        decree,
    };
    // Above any ballot the members' own proposers may have promised while deciding.
    let ballot = Ballot {
        round: decided["ballot"]["round"].as_u64().unwrap() + 100,
        proposer: 5,
    };
    let promises = member5.passed_on(nodes, ballot, &[0, 1, 2]);
    let decided_value: Vec<Contributor> = serde_json::from_value(decided["value"].clone()).unwrap();
    let decided_members: Vec<u32> = decided_value.iter().map(|c| c.member).collect();
    let pledged = pledges(nodes, pledge_path);
    let decided_value = of(&pledged, &decided_members);
    assert_eq!(
        decided_value.0,
        serde_json::from_value::<Vec<Contributor>>(decided["value"].clone()).unwrap()
    );
    // Made up, or the same members with one's digest changed: not their members' own.
    let mut other_contribution = decided_value.clone();
    other_contribution.0[0].digest[0] ^= 1;
    let first = other_contribution.0[0].member;
    for (other, member) in [(made_up(&[1, 2, 3]), 1), (other_contribution, first)] {
        for node in &nodes[..3] {
            assert_unendorsed(member5.accept(node, ballot, &other, Vec::new()), member);
            assert_unendorsed(
                member5.accept(node, ballot, &other, promises.clone()),
                member,
            );
        }
    }
    // Other members, each with its real pledge.
    let other_members = match decided_members.len() {
        5 => of(&pledged, &[1, 2, 3]),
        _ => of(&pledged, &[1, 2, 3, 4, 5]),
    };
    assert_ne!(other_members.0, decided_value.0);
    for node in &nodes[..3] {
        assert_unjustified(member5.accept(node, ballot, &other_members, Vec::new()));
        assert_unjustified(member5.accept(node, ballot, &other_members, promises.clone()));
    }
    let (status, reply) = member5.accept(&nodes[0], ballot, &decided_value, promises);
    assert_eq!(
        (status, reply["answer"].as_str()),
        (200, Some("accepted")),
        "{reply}"
    );

    member5.decree = [b"machine-key/bls/".as_slice(), &[0xee; 32]].concat();
    let first = Ballot {
        round: 1,
        proposer: 5,
    };
    let promises = member5.passed_on(nodes, first, &[0, 1, 2, 3]);
    let pledged = pledges(
        nodes,
        &format!("/federation/machines/{}/pledge", hex::encode([0xee; 32])),
    );
    let (one, two) = (of(&pledged, &[1, 2, 3]), of(&pledged, &[2, 3, 4]));
    for node in &nodes[..3] {
        assert_eq!(member5.accept(node, first, &one, promises.clone()).0, 200);
    }
    assert_eq!(member5.accept(&nodes[3], first, &two, promises).0, 200);
    let later = Ballot {
        round: 2,
        proposer: 5,
    };
    let both = member5.passed_on(nodes, later, &[1, 2, 3]);
    assert_unjustified(member5.accept(&nodes[3], later, &two, both.clone()));
    assert_unjustified(member5.accept(&nodes[3], later, &one, both));
}

/// Member 5 turns dishonest: in its place, a server that deals two valid contributions to
/// machine M's key, each with its proof, one to the first two requests, the other to the next
/// two, and nothing after. Members shown different contributions would make two keys for one
/// machine, member 5 taking part in both; the decision names one contribution by its digest,
/// and every member makes the key it names, getting the contribution it was not shown from the
/// members that hold it.
#[test]
fn a_dealer_that_shows_members_different_contributions_cannot_split_a_machines_key() {
    let root = scratch("federation-machine-key-split");
    let (sites, file, mut nodes) = form(&root, 3, 5, "activation_timeout_ms = 8000");
    let machine = nodes[0].machine(&guest("stateful"), b"split");
    let id: MachineId = machine.parse().unwrap();
    drop(nodes.pop());
    let identities: Vec<Identity> = sites
        .iter()
        .map(|site| Identity::new(&Config::load(Path::new(&site.cfg)).unwrap().node.key))
        .collect();
    let group = machine_key::group(&FederationFile::load(&file).unwrap().group(), id.as_bytes());
    let deals: Vec<MachineDeal> = (1..=5)
        .map(|i| machine_key::deal(&group, i, &identities[i as usize - 1]).unwrap())
        .collect();
    let poly = SecretPoly::<Bls>::random(3);
    let mut bundle = DealBundle {
        dealer: 5,
        commitments: poly.commit(),
        deals: (1..=5u32)
            .map(|holder| Deal {
                holder,
                sealed: ecies::seal(
                    group.member(holder).unwrap(),
                    &poly.eval(holder).to_bytes(),
                    &deal_context(&group.session, 5, holder),
                ),
            })
            .collect(),
        signature: [0; 96],
    };
    bundle.sign(&group.session, &identities[4]);
    let second = MachineDeal::prove(&group, bundle, &poly.eval(0), &random_scalar());
    let shown = [
        MachineDealJson::from(&deals[4]),
        MachineDealJson::from(&second),
    ];
    // Its pledges to each, endorsed for the machine key's decree, shown in the same turns.
    let session = FederationFile::load(&file).unwrap().session();
    let decree = machine_key::decree(id.as_bytes());
    let pledged = [&deals[4], &second].map(|d| d.pledge(&group, &session, &decree, &identities[4]));
    let asked = Arc::new(AtomicUsize::new(0));
    let (counted, pledges_asked) = (asked.clone(), Arc::new(AtomicUsize::new(0)));
    let dealer = Router::new()
        .route(
            &format!("/federation/machines/{machine}/deal"),
            get(move || async move {
                let shown = shown
                    .get(counted.fetch_add(1, Ordering::SeqCst) / 2)
                    .cloned();
                shown
                    .map(axum::Json)
                    .ok_or(axum::http::StatusCode::NOT_FOUND)
            }),
        )
        .route(
            &format!("/federation/machines/{machine}/pledge"),
            get(move || async move {
                let shown = pledged
                    .get(pledges_asked.fetch_add(1, Ordering::SeqCst) / 2)
                    .cloned();
                shown
                    .map(axum::Json)
                    .ok_or(axum::http::StatusCode::NOT_FOUND)
            }),
        );
    serve_on(&sites[4].listen, dealer);

    let key = call(&nodes[0], &machine, "bls-public-key", None);
    for node in &nodes[1..] {
        assert_eq!(call(node, &machine, "bls-public-key", None), key);
    }
    assert!(
        asked.load(Ordering::SeqCst) >= 4,
        "both contributions shown"
    );
    let decree = hex::encode(machine_key::decree(id.as_bytes()));
    let (status, decided) = nodes[1].get(&format!("/federation/decided/{decree}"));
    assert_eq!(status, 200, "{decided}");
    let value: Vec<Contributor> = serde_json::from_value(decided["value"].clone()).unwrap();
    let mut named = Vec::new();
    for contributor in &value {
        let of = |deal: &&MachineDeal| deal.contributor(&group) == *contributor;
        let deal = deals.iter().chain([&second]).find(of);
        named.push(deal.expect("the decision names a contribution dealt"));
    }
    let whole: G1Projective = named
        .iter()
        .map(|d| G1Projective::from(d.bundle.commitments.commitments()[0]))
        .sum();
    assert_eq!(key, G1Affine::from(whole).to_compressed().to_vec());
    // Each member serves the contributions it holds (those the decision names: member 5's
    // only when it is among them), and says what it does not.
    let deal = format!("/federation/machines/{machine}/deal");
    let held = value
        .iter()
        .map(|c| c.member)
        .find(|&member| member != 3)
        .expect("the decision names members besides member 3");
    let held = format!("?dealer={held}");
    for (query, status) in [(held.as_str(), 200), ("?dealer=6", 404), ("?dealer=x", 400)] {
        let (got, body) = nodes[2].get(&format!("{deal}{query}"));
        assert_eq!(got, status, "{query}: {body}");
    }
    // Any three of the four members sign with it, and alike.
    let signature = call(&nodes[3], &machine, "bls-sign", Some(b"one key"));
    assert!(bls_verifies(&key, b"one key", &signature));
    for node in &nodes[..3] {
        assert_eq!(
            call(node, &machine, "bls-sign", Some(b"one key")),
            signature
        );
    }
}

/// Member 5 of a 4-of-5 federation turns dishonest (`2t − n = 3 > f = 1`), and the test speaks
/// for it:
/// - after machine A's key is decided, it signs a promise that claims it accepted other
///   contributors (real pledges, so endorsed) in a ballot above the decided one, without the
///   request that would prove it: every member refuses the value it justifies, and no second
///   decision can be made;
/// - a decision told with more acceptances than members is refused unchecked;
/// - a value two members accepted (in member 5's ballot) is accepted in its next ballot, with one
///   of their promises' justifications kept, and proposed again by the honest members with the
///   justification such a promise carries, and decided;
/// - its node stopped, a server in its place answers every request to prepare with a promise
///   that claims a made-up acceptance: the honest members leave it out and make the next
///   machine's key without it.
#[test]
fn promises_that_claim_what_they_cannot_prove_neither_split_nor_stop_a_decision() {
    use carol_host::federation::agreement::promise_digest;
    let root = scratch("federation-lying-promises");
    let (sites, file, mut nodes) = form(&root, 4, 5, "activation_timeout_ms = 8000");
    let stateful = guest("stateful");
    let a = nodes[0].machine(&stateful, b"a");
    let key_a = call(&nodes[1], &a, "bls-public-key", None);
    let member5 = Identity::new(&Config::load(Path::new(&sites[4].cfg)).unwrap().node.key);
    let session = FederationFile::load(&file).unwrap().session();
    let decree_of = |machine: &str| {
        let machine: MachineId = machine.parse().unwrap();
        [b"machine-key/bls/".as_slice(), machine.as_bytes()].concat()
    };
    let decided_of = |node: &Carol, decree: &[u8]| {
        let (status, decided) = node.get(&format!("/federation/decided/{}", hex::encode(decree)));
        assert_eq!(status, 200, "{decided}");
        decided
    };

    // A second value, justified by a promise that claims an acceptance it cannot prove.
    let decree = decree_of(&a);
    let decided = decided_of(&nodes[0], &decree);
    let decided_value: Vec<Contributor> = serde_json::from_value(decided["value"].clone()).unwrap();
    let pledged = pledges(&nodes, &format!("/federation/machines/{a}/pledge"));
    let other = match decided_value.len() {
        5 => of(&pledged, &[1, 2, 3, 4]),
        _ => of(&pledged, &[1, 2, 3, 4, 5]),
    };
    assert_ne!(other.0, decided_value);
    let round = decided["ballot"]["round"].as_u64().unwrap();
    let ballot = Ballot {
        round: round + 100,
        proposer: 5,
    };
    let proposer = Dishonest {
        identity: member5.clone(),
        session,
        decree: decree.clone(),
    };
    let mut promises = proposer.passed_on(&nodes, ballot, &[0, 1, 2]);
    let lie = (
        Ballot {
            round: round + 50,
            proposer: 5,
        },
        other.0.clone(),
    );
    let digest = promise_digest(&session, &decree, ballot, Some(&lie));
    promises.push(SignedPromise {
        member: 5,
        accepted: Some(lie),
        signature: hex::encode(member5.sign(&digest)),
        justification: None,
    });
    for node in &nodes[..4] {
        assert_unjustified(proposer.accept(node, ballot, &other, promises.clone()));
    }
    for node in &nodes {
        assert_eq!(decided_of(node, &decree)["value"], decided["value"]);
    }
    assert_eq!(call(&nodes[3], &a, "bls-public-key", None), key_a);

    // A decision padded with acceptances.
    let mut padded = decided.clone();
    padded["acceptances"] = Value::Array(vec![decided["acceptances"][0].clone(); 1000]);
    let told = serde_json::json!({"phase": "decided", "certificate": padded});
    let (status, reply) = nodes[2].post_json("/federation/agreement", &told);
    assert_eq!(status, 400, "{reply}");
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .contains("more than the 5 members"),
        "{reply}"
    );

    // Two members accept a value in member 5's ballot; the honest members decide that value.
    let x = nodes[0].machine(&stateful, b"x");
    let decree = decree_of(&x);
    let proposer = Dishonest {
        identity: member5.clone(),
        session,
        decree: decree.clone(),
    };
    let first = Ballot {
        round: 1,
        proposer: 5,
    };
    let promises = proposer.promises(&nodes, first, &[0, 1, 2, 3]);
    let pledged = pledges(&nodes, &format!("/federation/machines/{x}/pledge"));
    let accepted = of(&pledged, &[1, 2, 3, 5]);
    for node in &nodes[..2] {
        let (status, reply) = proposer.accept(node, first, &accepted, promises.clone());
        assert_eq!(
            (status, reply["answer"].as_str()),
            (200, Some("accepted")),
            "{reply}"
        );
    }
    // The next ballot's promises from members 1 and 2 both prove that acceptance, and a request
    // passes on both: member 3 accepts, and keeps one of them (all an acceptor checks; keeping
    // all would let a proposer make it check and keep a tree of them), as its next promise shows.
    let second = Ballot {
        round: 2,
        proposer: 5,
    };
    let promises = proposer.promises(&nodes, second, &[0, 1, 2, 3]);
    let justified = |promises: &[SignedPromise]| {
        promises
            .iter()
            .filter(|p| p.justification.is_some())
            .count()
    };
    assert_eq!(justified(&promises), 2);
    let (status, reply) = proposer.accept(&nodes[2], second, &accepted, promises);
    assert_eq!(
        (status, reply["answer"].as_str()),
        (200, Some("accepted")),
        "{reply}"
    );
    let third = Ballot {
        round: 3,
        proposer: 5,
    };
    let promise = proposer.promises(&nodes, third, &[2]).remove(0);
    let kept = promise
        .justification
        .expect("member 3's acceptance, justified");
    assert_eq!(justified(&kept.promises), 1);
    let _ = call(&nodes[1], &x, "bls-public-key", None);
    let value: Vec<Contributor> =
        serde_json::from_value(decided_of(&nodes[1], &decree)["value"].clone()).unwrap();
    assert_eq!(value, accepted.0);

    // Member 5's place taken by a server whose promises claim made-up acceptances.
    drop(nodes.pop());
    let liar = member5.clone();
    let lying = Router::new().route(
        "/federation/agreement",
        axum::routing::post(move |axum::Json(ask): axum::Json<Ask>| {
            let liar = liar.clone();
            async move {
                let Ask::Prepare { decree, ballot, .. } = ask else {
                    return Err(axum::http::StatusCode::BAD_REQUEST);
                };
                let decree = hex::decode(decree).unwrap();
                let made_up = made_up(&[1, 2, 3, 4]).0;
                let below = Ballot {
                    round: ballot.round,
                    proposer: 0,
                };
                let accepted = Some((below, made_up));
                let digest = promise_digest(&session, &decree, ballot, accepted.as_ref());
                Ok(axum::Json(Reply::Promise {
                    accepted,
                    justification: None,
                    signature: hex::encode(liar.sign(&digest)),
                }))
            }
        }),
    );
    serve_on(&sites[4].listen, lying);
    let y = nodes[0].machine(&stateful, b"y");
    let key_y = call(&nodes[2], &y, "bls-public-key", None);
    for node in &nodes {
        assert_eq!(call(node, &y, "bls-public-key", None), key_y);
    }
}
