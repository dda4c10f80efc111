//! The dlcspecs oracle (`examples/dlc-oracle`, unchanged) on federations of `carol` processes:
//! one oracle to a wallet, t of n underneath. The announcement is the same bytes from every
//! member, its key the machine's own secp256k1 key and one committed nonce per digit, all made by
//! the members together; the attestation is made with two members down, and not at all when no
//! `t` members' runs saw the same outcome, not even with a dishonest member's help. Everything is
//! read and validated by rust-dlc's `dlc-messages` and checked with libsecp256k1.

use crate::dlc_oracle::{
    MATURITY, check_announcement, check_attestation, mock, script_prices, set_price,
};
use crate::durability::{Carol, scratch};
use crate::federation::form;
use crate::harness::{guest, serve_on};
use crate::machine_keys::{Dishonest, assert_unendorsed, dishonest_proposals_are_refused};
use carol_core::ids::MachineId;
use carol_federation::agreement::{Ballot, Contributor, endorse};
use carol_federation::curve::{Curve, Secp256k1};
use carol_federation::identity::Identity;
use carol_federation::machine_key::{self, MachineDeal, MachineDealJson};
use carol_federation::poly::PublicPoly;
use carol_federation::schnorr::{self, Signing};
use carol_host::config::Config;
use carol_host::federation::exchange::authenticated;
use carol_host::federation::file::FederationFile;
use carol_host::federation::votes::{VoteJson, use_decree};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::{Arc, Mutex};

const EVENT: &str = "btc-usd-federated";

fn announce(node: &Carol, machine: &str) -> (u16, Value) {
    announce_digits(node, machine, EVENT, 2, 20)
}

fn announce_digits(
    node: &Carol,
    machine: &str,
    event: &str,
    base: u16,
    digits: u16,
) -> (u16, Value) {
    node.get(&format!(
        "/machines/{machine}/activate/announce?event-id={event}&symbol=.BXBT&maturity={MATURITY}\
         &base={base}&nb-digits={digits}"
    ))
}

fn attest(node: &Carol, machine: &str) -> (u16, Value) {
    attest_event(node, machine, EVENT)
}

fn attest_event(node: &Carol, machine: &str, event: &str) -> (u16, Value) {
    node.get(&format!(
        "/machines/{machine}/activate/attest?event-id={event}"
    ))
}

#[test]
fn a_three_of_five_federation_is_one_dlc_oracle() {
    let root = scratch("federation-dlc");
    let (sites, file, mut nodes) = form(
        &root,
        3,
        5,
        "allow_loopback = true\nactivation_timeout_ms = 60000",
    );
    set_price("federated", 27_123.0);
    let params = json!({"api_base": format!("{}/federated", mock())}).to_string();
    let machine = nodes[0].machine(&guest("dlc-oracle"), params.as_bytes());

    let started = std::time::Instant::now();
    let (status, announced) = announce(&nodes[0], &machine);
    eprintln!("announced in {:?}", started.elapsed());
    for line in nodes[2]
        .log()
        .iter()
        .filter(|l| l.contains("secret") || l.contains("agree"))
    {
        eprintln!("{line}");
    }
    assert_eq!(status, 200, "{announced}");
    let announcement = check_announcement(&announced["ok"], EVENT, MATURITY, 2, 20);
    // One oracle: the same announcement from every member, under the key every member says is
    // the machine's.
    for node in &nodes[1..] {
        assert_eq!(announce(node, &machine), (200, announced.clone()));
        let (status, key) = node.get(&format!("/machines/{machine}/activate/oracle-public-key"));
        assert_eq!(status, 200, "{key}");
        assert_eq!(
            key,
            json!(hex::encode(announcement.oracle_public_key.serialize()))
        );
    }

    // No member takes part in a second composition of a nonce: member 5, turned dishonest,
    // proposes other contributors for the first digit's nonce, and is refused.
    let member5 = Identity::new(&Config::load(Path::new(&sites[4].cfg)).unwrap().node.key);
    let session = FederationFile::load(&file).unwrap().session();
    let machine_id: MachineId = machine.parse().unwrap();
    let name = format!("{EVENT}/0");
    let decree = [
        b"nonce/secp256k1/".as_slice(),
        machine_id.as_bytes(),
        name.as_bytes(),
    ]
    .concat();
    let pledges = format!(
        "/federation/machines/{machine}/nonce-pledge?name={}",
        hex::encode(&name)
    );
    dishonest_proposals_are_refused(&nodes, member5, session, decree, &pledges);

    // A member killed with SIGKILL and started again answers the same bytes.
    drop(nodes.remove(1));
    nodes.insert(1, sites[1].start(Some(&file)));
    assert_eq!(announce(&nodes[1], &machine), (200, announced.clone()));

    // Two members down: three attest together.
    nodes.truncate(3);
    let started = std::time::Instant::now();
    let (status, attested) = attest(&nodes[2], &machine);
    eprintln!("attested in {:?}", started.elapsed());
    assert_eq!(status, 200, "{attested}");
    let attestation = check_attestation(&attested["ok"], &announcement, None);
    assert_eq!(attested["ok"]["outcome"], json!(27_123), "{attested}");
    assert_eq!(attestation.outcomes.len(), 20);
    for node in &nodes[..2] {
        assert_eq!(attest(node, &machine), (200, attested.clone()));
    }
}

/// Members whose price sources disagree: with 3 against 2 the majority's outcome is attested
/// and the minority signs nothing; with 2, 2 and 1 nothing is attested, ever, and the activation
/// answers 503 naming the counts.
#[test]
fn members_that_see_different_prices_attest_only_a_majoritys_outcome() {
    let root = scratch("federation-dlc-split");
    let (_sites, _file, nodes) = form(
        &root,
        3,
        5,
        "allow_loopback = true\nactivation_timeout_ms = 30000",
    );
    set_price("split", 20_000.0);
    let params = json!({"api_base": format!("{}/split", mock())}).to_string();
    let machine = nodes[0].machine(&guest("dlc-oracle"), params.as_bytes());
    // The second split has a machine, and so a price source, of its own: runs of the first that
    // are still under way when it starts (a member's run no proposer waits for any more) must not
    // take its scripted prices.
    set_price("split-three", 20_000.0);
    let params = json!({"api_base": format!("{}/split-three", mock())}).to_string();
    let three_ways = nodes[0].machine(&guest("dlc-oracle"), params.as_bytes());
    for (machine, event, base) in [(&machine, "three-two", 2), (&three_ways, "two-two-one", 10)] {
        let (status, body) = announce_digits(&nodes[0], machine, event, base, 4);
        assert_eq!(status, 200, "{body}");
    }

    // 3 against 2: every member fetches once, and three see 9, two see 6 (base 2: 1001, 0110).
    script_prices("split", &[9.0, 9.0, 9.0, 6.0, 6.0]);
    let (status, announced) = announce_digits(&nodes[0], &machine, "three-two", 2, 4);
    assert_eq!(status, 200, "{announced}");
    let announcement = check_announcement(&announced["ok"], "three-two", MATURITY, 2, 4);
    let first = attest_event(&nodes[0], &machine, "three-two");
    // Asked again, with the source now answering every member the minority's price: the
    // majority's members answer the attestation they made; the minority's signed nothing
    // (their nonces are bound to the minority's message, which the members did not decide), and
    // answer what the three others answered. Whichever member is asked, the answer is the
    // majority's attestation.
    set_price("split", 6.0);
    let mut answers: Vec<(u16, Value)> = nodes[1..]
        .iter()
        .map(|node| attest_event(node, &machine, "three-two"))
        .collect();
    answers.push(first);
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{answers:?}");
        check_attestation(&body["ok"], &announcement, None);
        assert_eq!(body["ok"]["outcome"], json!(9), "{body}");
        assert_eq!(body, &answers[0].1);
    }
    let relayed = nodes
        .iter()
        .filter(|node| {
            node.log()
                .iter()
                .any(|l| l.contains("it answers what the agreeing members answered"))
        })
        .count();
    assert_eq!(relayed, 2, "the two members that saw 6 relay");

    // 2, 2 and 1 (base 10, so that even the first digit splits so): no outcome has three runs,
    // so none is signed; the answer names the counts.
    script_prices("split-three", &[1111.0, 1111.0, 2222.0, 2222.0, 3333.0]);
    let (status, body) = attest_event(&nodes[0], &three_ways, "two-two-one");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["threshold"], json!(3), "{body}");
    let mut counts = vec![body["agreed"].as_u64().unwrap()];
    counts.extend(
        body["others"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap()),
    );
    counts.sort_unstable();
    assert_eq!(counts, [1, 2, 2], "{body}");
}

/// A member that sends a partial signature that does not verify under its public shares: it is
/// ignored, the member named in the log, and the attestation made with the others' partials.
/// Asked for a nonce before `t` members are up, a member answers 503 and no nonce is made; once
/// `t` are up it is, and members that were down then obtain their shares later and attest.
#[test]
fn a_bad_partial_is_ignored_and_named_and_too_few_members_make_no_nonce() {
    let root = scratch("federation-dlc-bad-partial");
    let (sites, file, mut nodes) = form(
        &root,
        3,
        5,
        "allow_loopback = true\nactivation_timeout_ms = 30000",
    );
    set_price("bad-partial", 1.0);
    let params = json!({"api_base": format!("{}/bad-partial", mock())}).to_string();
    let machine = nodes[0].machine(&guest("dlc-oracle"), params.as_bytes());
    // A member pledges its contribution to a nonce at once, and reveals it only once the
    // members decided on the pledges: no member chooses its own after seeing the others'.
    let name = hex::encode("one-digit/0");
    let contribution = |node: &Carol| {
        node.get(&format!(
            "/federation/machines/{machine}/nonce-deal?name={name}"
        ))
    };
    let (status, pledge) = nodes[1].get(&format!(
        "/federation/machines/{machine}/nonce-pledge?name={name}"
    ));
    assert_eq!((status, &pledge["dealer"]), (200, &json!(2)), "{pledge}");
    assert_eq!(contribution(&nodes[1]).0, 404);
    let (status, announced) = announce_digits(&nodes[0], &machine, "one-digit", 2, 1);
    assert_eq!(status, 200, "{announced}");
    let (status, revealed) = contribution(&nodes[1]);
    assert_eq!(
        (status, &revealed["bundle"]["dealer"]),
        (200, &json!(2)),
        "{revealed}"
    );
    let announcement = check_announcement(&announced["ok"], "one-digit", MATURITY, 2, 1);

    // Member 2's node key, in the test's hands, hands every other member a bogus partial of the
    // digit's signature before member 2's own run does.
    let key = announcement.oracle_public_key.serialize();
    let nonce = announcement.oracle_event.oracle_nonces[0].serialize();
    let message: [u8; 32] = Sha256::digest(b"1").into();
    let digest: [u8; 32] = Sha256::new()
        .chain_update(b"carol-federation/bip340/v1\0")
        .chain_update(key)
        .chain_update(nonce)
        .chain_update(message)
        .finalize()
        .into();
    let session = FederationFile::load(&file).unwrap().session();
    let identity =
        |i: usize| Identity::new(&Config::load(Path::new(&sites[i].cfg)).unwrap().node.key);
    let member2 = identity(1);
    let bogus = [0x42u8; 32];
    let tagged = authenticated(
        b"carol-federation/bip340-partial/v1",
        &session,
        &digest,
        2,
        &bogus,
    );
    for i in [0, 2, 3, 4] {
        let tag = member2
            .pairwise(&session, identity(i).public())
            .tag(&tagged);
        let partial = json!({
            "digest": hex::encode(digest),
            "index": 2,
            "signature": hex::encode(bogus),
            "tag": hex::encode(tag),
        });
        let (status, body) = nodes[i].post_json("/federation/bip340-partials", &partial);
        assert_eq!(status, 202, "{body}");
    }

    let (status, attested) = attest_event(&nodes[0], &machine, "one-digit");
    assert_eq!(status, 200, "{attested}");
    check_attestation(&attested["ok"], &announcement, None);
    // Whichever member combined first had member 2's bogus partial among its first three.
    let named = |node: &Carol| {
        node.log().iter().any(|l| {
            l.contains("does not verify under its public shares") && l.contains("member=2")
        })
    };
    assert!(nodes.iter().any(named), "{:#?}", nodes[0].log());

    // Two members up: a new event's nonces cannot be made; nothing is announced, and the
    // activation answers 503 in time.
    nodes.truncate(2);
    let (status, body) = announce_digits(&nodes[0], &machine, "too-few", 2, 1);
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["threshold"], json!(3), "{body}");
    let (status, body) = nodes[0].get(&format!(
        "/machines/{machine}/activate/announcement?event-id=too-few"
    ));
    assert_eq!(status, 422, "{body}");

    // Member 3 back: the attempt with two left nothing decided, so members 1 to 3 make the
    // event's nonces now. Members 4 and 5, down while they were made (and so without the event
    // in their own state), announce it again with member 3 while members 1 and 2 are down: the
    // same bytes, from the decided nonces. They obtain their shares from the contributors'
    // records, and the three attest.
    nodes.push(sites[2].start(Some(&file)));
    let (status, announced) = announce_digits(&nodes[0], &machine, "too-few", 2, 1);
    assert_eq!(status, 200, "{announced}");
    let announcement = check_announcement(&announced["ok"], "too-few", MATURITY, 2, 1);
    nodes.extend([sites[3].start(Some(&file)), sites[4].start(Some(&file))]);
    nodes.drain(..2);
    let (status, again) = announce_digits(&nodes[1], &machine, "too-few", 2, 1);
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["ok"], announced["ok"]);
    let (status, attested) = attest_event(&nodes[1], &machine, "too-few");
    assert_eq!(status, 200, "{attested}");
    check_attestation(&attested["ok"], &announcement, None);
}

/// Member 5's shares of machine `machine`'s secp256k1 key and of its nonce `name`, and their
/// commitments, as member 5 makes them from the contributions the members decided on (fetched
/// from `node`, which holds them all): what a dishonest member 5 signs with.
fn shares_of_member5(
    node: &Carol,
    file: &FederationFile,
    identity: &Identity,
    machine: &MachineId,
    name: &str,
) -> [(schnorr::Share, PublicPoly<Secp256k1>); 2] {
    let federation = file.group();
    let id = machine.as_bytes();
    let key = (
        machine_key::secp256k1_group(&federation, id),
        machine_key::secp256k1_decree(id),
        "deal?key=secp256k1&".to_owned(),
    );
    let nonce = (
        machine_key::nonce_group(&federation, id, name.as_bytes()),
        machine_key::nonce_decree(id, name.as_bytes()),
        format!("nonce-deal?name={}&", hex::encode(name)),
    );
    [key, nonce].map(|(group, decree, deals)| {
        let (status, decided) = node.get(&format!("/federation/decided/{}", hex::encode(&decree)));
        assert_eq!(status, 200, "{decided}");
        let contributors: Vec<Contributor> =
            serde_json::from_value(decided["value"].clone()).unwrap();
        let deals: Vec<MachineDeal<Secp256k1>> = contributors
            .iter()
            .map(|c| {
                let path = format!("/federation/machines/{machine}/{deals}dealer={}", c.member);
                let (status, deal) = node.get(&path);
                assert_eq!(status, 200, "{path}: {deal}");
                let deal: MachineDealJson = serde_json::from_value(deal).unwrap();
                MachineDeal::try_from(&deal).unwrap()
            })
            .collect();
        machine_key::share(&group, 5, identity, &contributors, &deals).unwrap()
    })
}

/// 4 of 5, member 5 dishonest (the test speaks for it with its node key and its shares) and
/// the four honest members' price sources split 2:2: member 5 votes for both outcomes (each to
/// two members) and hands every member its valid partial signature of each, yet neither
/// outcome gathers 4 runs, so nothing is decided and no honest member releases a partial: two
/// quorums of 4 share 3 members, of whom at most one is dishonest (2t − n > f). Split 3:1, the
/// same member's vote and partial make the fourth of the majority's: the attestation is made,
/// which shows the partials it hands out are real ones.
#[test]
fn a_dishonest_member_that_signs_both_outcomes_completes_neither_on_four_of_five() {
    let root = scratch("federation-dlc-dishonest");
    let (sites, file, mut nodes) = form(
        &root,
        4,
        5,
        "allow_loopback = true\nactivation_timeout_ms = 25000",
    );
    set_price("dishonest", 1.0);
    let params = json!({"api_base": format!("{}/dishonest", mock())}).to_string();
    let machine = nodes[0].machine(&guest("dlc-oracle"), params.as_bytes());
    let id: MachineId = machine.parse().unwrap();
    let file = FederationFile::load(&file).unwrap();
    let session = file.session();
    let member5 = Identity::new(&Config::load(Path::new(&sites[4].cfg)).unwrap().node.key);
    let mut events = Vec::new();
    for event in ["two-two", "three-one", "mixed"] {
        let (status, announced) = announce_digits(&nodes[0], &machine, event, 10, 1);
        assert_eq!(status, 200, "{announced}");
        let announcement = check_announcement(&announced["ok"], event, MATURITY, 10, 1);
        let shares = shares_of_member5(&nodes[0], &file, &member5, &id, &format!("{event}/0"));
        events.push((event, announcement, shares));
    }
    // Member 5 turns dishonest: its node stops, and the test speaks for it.
    nodes.truncate(4);

    // Member 5's vote for `digit`'s message to `node`, and its partial of that message.
    let vote = |i: usize, name: &str, digit: &str| {
        let message: [u8; 32] = Sha256::digest(digit.as_bytes()).into();
        let digest: [u8; 32] = Sha256::digest(message).into();
        let decree = use_decree(&id, name.as_bytes());
        let mut vote = VoteJson::new(&member5, &session, &decree, 5, digest);
        let tagged = VoteJson::authenticated(&session, &decree, 5, &digest, &vote.signature);
        let key = member5.pairwise(&session, &member_key(&file, i));
        vote.tag = hex::encode(key.tag(&tagged));
        let (status, body) = nodes[i].post_json("/federation/nonce-votes", &json!(vote));
        assert_eq!(status, 202, "{body}");
    };
    let partial = |i: usize, shares: &[(schnorr::Share, PublicPoly<Secp256k1>); 2], digit: &str| {
        let [(key, key_public), (nonce, nonce_public)] = shares;
        let message: [u8; 32] = Sha256::digest(digit.as_bytes()).into();
        let signing = Signing::new(key_public, nonce_public, &message);
        let own = signing.partial(key, nonce).unwrap();
        // A real partial, as any member checks one against member 5's public shares.
        assert!(signing.verifies(&own));
        let s = Secp256k1::scalar_to_bytes(&own.s);
        let digest: [u8; 32] = Sha256::new()
            .chain_update(b"carol-federation/bip340/v1\0")
            .chain_update(signing.public_key())
            .chain_update(signing.r())
            .chain_update(message)
            .finalize()
            .into();
        let tagged = authenticated(
            b"carol-federation/bip340-partial/v1",
            &session,
            &digest,
            5,
            &s,
        );
        let partial = json!({
            "digest": hex::encode(digest),
            "index": 5,
            "signature": hex::encode(s),
            "tag": hex::encode(member5.pairwise(&session, &member_key(&file, i)).tag(&tagged)),
        });
        let (status, body) = nodes[i].post_json("/federation/bip340-partials", &partial);
        assert_eq!(status, 202, "{body}");
    };

    // 2:2. Member 5 votes "1" to two members and "2" to the other two, and hands every member
    // its partials of both.
    let (event, _, shares) = &events[0];
    let name = format!("{event}/0");
    for i in 0..4 {
        vote(i, &name, if i < 2 { "1" } else { "2" });
        partial(i, shares, "1");
        partial(i, shares, "2");
    }
    script_prices("dishonest", &[1.0, 1.0, 2.0, 2.0]);
    let (status, body) = attest_event(&nodes[0], &machine, event);
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["threshold"], json!(4), "{body}");
    let mut counts = vec![body["agreed"].as_u64().unwrap()];
    counts.extend(
        body["others"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap()),
    );
    counts.sort_unstable();
    // Member 5's vote counts with one side's two: three at most, one short.
    assert_eq!(counts, [2, 3], "{body}");
    // Nor can member 5 propose "1" with a fourth vote it makes up: each acceptor checks every
    // vote against its member's node key.
    let decree = use_decree(&id, name.as_bytes());
    let message: [u8; 32] = Sha256::digest(b"1").into();
    let digest: [u8; 32] = Sha256::digest(message).into();
    let proposer = Dishonest {
        identity: member5.clone(),
        session,
        decree: decree.clone(),
    };
    let ballot = Ballot {
        round: 1000,
        proposer: 5,
    };
    let promises = proposer.passed_on(&nodes, ballot, &[0, 1, 2, 3]);
    let voted = |member| Contributor { member, digest };
    let own = hex::encode(endorse(&member5, &session, &decree, &voted(5)));
    let made_up = hex::encode(endorse(&member5, &session, &decree, &voted(3)));
    let value = (
        [1, 2, 3, 5].map(voted).to_vec(),
        vec![made_up.clone(), made_up.clone(), made_up, own],
    );
    for node in &nodes {
        assert_unendorsed(proposer.accept(node, ballot, &value, promises.clone()), 1);
    }
    let decree = hex::encode(decree);
    for node in &nodes {
        let (status, decided) = node.get(&format!("/federation/decided/{decree}"));
        assert_eq!(status, 404, "nothing is decided: {decided}");
    }

    // 3:1. Member 5 votes "1" everywhere and hands out its partial of it: with three honest
    // members' runs, that is four, and the attestation is made with member 5's partial.
    let (event, announcement, shares) = &events[1];
    let name = format!("{event}/0");
    for i in 0..4 {
        vote(i, &name, "1");
        partial(i, shares, "1");
    }
    script_prices("dishonest", &[1.0, 1.0, 1.0, 2.0]);
    let first = attest_event(&nodes[0], &machine, event);
    set_price("dishonest", 1.0);
    let mut answers: Vec<(u16, Value)> = nodes[1..]
        .iter()
        .map(|node| attest_event(node, &machine, event))
        .collect();
    answers.push(first);
    let signed: Vec<&Value> = answers
        .iter()
        .filter(|(status, _)| *status == 200)
        .map(|(_, body)| body)
        .collect();
    assert!(signed.len() >= 3, "{answers:?}");
    for body in signed {
        check_attestation(&body["ok"], announcement, None);
        assert_eq!(body["ok"]["outcome"], json!(1), "{body}");
    }

    // Split 3:1 again, member 5 in its place only to collect the honest members' real votes:
    // three short of 4, nothing is attested, and a value of all four votes (for two messages)
    // is refused by every member: it would leave the nonce unable to sign anything.
    let held: Arc<Mutex<Vec<VoteJson>>> = Arc::default();
    let kept = held.clone();
    let collecting = axum::Router::new().route(
        "/federation/nonce-votes",
        axum::routing::post(move |axum::Json(vote): axum::Json<VoteJson>| {
            kept.lock().unwrap().push(vote);
            async {
                (
                    axum::http::StatusCode::ACCEPTED,
                    axum::Json(json!({"held": true})),
                )
            }
        }),
    );
    serve_on(&sites[4].listen, collecting);
    // A fetch past the script (a run asked again) sees the minority's price: never a fourth "1".
    set_price("dishonest", 2.0);
    script_prices("dishonest", &[1.0, 1.0, 1.0, 2.0]);
    let (status, body) = attest_event(&nodes[0], &machine, "mixed");
    assert_eq!(status, 503, "{body}");
    let decree = use_decree(&id, b"mixed/0");
    let votes: Vec<(Contributor, String)> = held
        .lock()
        .unwrap()
        .iter()
        .filter(|vote| vote.decree == hex::encode(&decree))
        .map(|vote| {
            let digest = hex::decode(&vote.digest).unwrap().try_into().unwrap();
            let voted = Contributor {
                member: vote.index,
                digest,
            };
            (voted, vote.signature.clone())
        })
        .collect();
    let mut value: (Vec<Contributor>, Vec<String>) = votes.into_iter().unzip();
    assert_eq!(value.0.len(), 4, "{:?}", value.0);
    let mut order: Vec<usize> = (0..4).collect();
    order.sort_by_key(|&i| value.0[i].member);
    value = (
        order.iter().map(|&i| value.0[i]).collect(),
        order.iter().map(|&i| value.1[i].clone()).collect(),
    );
    let proposer = Dishonest {
        identity: member5.clone(),
        session,
        decree: decree.clone(),
    };
    let ballot = Ballot {
        round: 1000,
        proposer: 5,
    };
    let promises = proposer.passed_on(&nodes, ballot, &[0, 1, 2, 3]);
    for node in &nodes {
        let (status, body) = proposer.accept(node, ballot, &value, promises.clone());
        assert_eq!(status, 400, "{body}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("votes for one message"),
            "{body}"
        );
    }
}

/// The node key of the member at `nodes[i]`, as the federation file lists it.
fn member_key(file: &FederationFile, i: usize) -> bls12_381::G1Affine {
    file.group().member(i as u32 + 1).copied().unwrap()
}
