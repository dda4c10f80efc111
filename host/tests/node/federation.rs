//! A federation formed as operators form one: five `carol` processes on loopback, the file
//! proposed with `carol federation propose`, the key made by the members together while one of
//! them starts late and another is killed in the middle, kept, and never made again.

use crate::durability::{Carol, configure, scratch};
use crate::harness::guest;
use carol_core::bls::PublicKey;
use carol_core::federation::{FederationDescription, FederationStatus};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A port nothing listens on now, below Linux's ephemeral range (32768 and up): members restart
/// on their ports, and an outbound connection of one of the many members running could take a
/// port of that range in between.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = std::process::id().wrapping_mul(7919);
    loop {
        let port = 20_000 + (start.wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed)) % 12_000);
        if std::net::TcpListener::bind(("127.0.0.1", port as u16)).is_ok() {
            return port as u16;
        }
    }
}

/// One would-be member: its directory, configuration and address.
pub(crate) struct Site {
    pub(crate) dir: PathBuf,
    pub(crate) cfg: String,
    pub(crate) listen: String,
}

impl Site {
    pub(crate) fn new(root: &Path, i: usize) -> Self {
        Self::with_limits(root, i, "")
    }

    /// A member whose configuration sets `setting = value` as `settings` say (`name = value`
    /// lines, each replacing the generated line of that name).
    fn with_limits(root: &Path, i: usize, settings: &str) -> Self {
        let dir = root.join(format!("member{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        let path = configure(&dir, "");
        let mut text = std::fs::read_to_string(&path).unwrap();
        for line in settings.lines() {
            let name = line.split('=').next().unwrap().trim();
            let old = text
                .lines()
                .find(|l| l.split('=').next().is_some_and(|n| n.trim() == name))
                .unwrap_or_else(|| panic!("no setting {name}"))
                .to_owned();
            text = text.replacen(&old, line, 1);
        }
        std::fs::write(&path, text).unwrap();
        let cfg = path.to_str().unwrap().to_owned();
        Self {
            dir,
            cfg,
            listen: format!("127.0.0.1:{}", free_port()),
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.listen)
    }

    /// `carol run` as a member of `federation`, to its end: for a node that must refuse to
    /// serve, or give up.
    pub(crate) fn run_to_end(&self, federation: &Path) -> Output {
        carol(&[
            "run",
            "--cfg",
            &self.cfg,
            "--listen",
            &self.listen,
            "--federation",
            federation.to_str().unwrap(),
        ])
    }

    pub(crate) fn start(&self, federation: Option<&Path>) -> Carol {
        let mut args = vec!["--cfg", self.cfg.as_str()];
        let federation = federation.map(|f| f.to_str().unwrap().to_owned());
        if let Some(file) = &federation {
            args.extend(["--federation", file.as_str()]);
        }
        Carol::start_on(&self.dir, &args, &self.listen)
    }
}

pub(crate) fn carol(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_carol"))
        .args(args)
        .output()
        .unwrap()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub(crate) fn describe(node: &Carol) -> FederationDescription {
    let (status, body) = node.get("/federation");
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).unwrap()
}

/// A member's deal bundle, once it has made it.
fn deal_of(node: &Carol) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = node.get("/federation/keygen/deal");
        if status == 200 {
            return body;
        }
        assert_eq!(status, 404, "{body}");
        assert!(Instant::now() < deadline, "no deal: {body}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until every member says it is ready.
pub(crate) fn wait_ready(nodes: &[&Carol]) -> Vec<FederationDescription> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let described: Vec<_> = nodes.iter().map(|n| describe(n)).collect();
        if described
            .iter()
            .all(|d| d.status == FederationStatus::Ready)
        {
            return described;
        }
        assert!(
            Instant::now() < deadline,
            "not every member is ready: {described:#?}\n{:#?}",
            nodes.iter().map(|n| n.log()).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn propose(threshold: &str, members: &[String], out: &Path) -> Output {
    let mut args = vec!["federation", "propose", "--threshold", threshold];
    for url in members {
        args.extend(["--member", url.as_str()]);
    }
    let out = out.to_str().unwrap();
    args.extend(["--out", out, "--name", "test federation"]);
    carol(&args)
}

#[test]
fn five_members_make_one_key_together_keep_it_and_never_make_it_again() {
    let root = scratch("federation");
    let sites: Vec<Site> = (1..=5).map(|i| Site::new(&root, i)).collect();
    let urls: Vec<String> = sites.iter().map(Site::url).collect();
    let file = root.join("federation.toml");

    // Proposing asks the running nodes for their keys; what cannot work is refused, clearly.
    let plain: Vec<Carol> = sites.iter().map(|s| s.start(None)).collect();
    let keys: Vec<PublicKey> = plain
        .iter()
        .map(|n| serde_json::from_value(n.get("/").1["public_key"].clone()).unwrap())
        .collect();
    let minority = propose("2", &urls, &file);
    assert!(
        !minority.status.success() && stderr(&minority).contains("not a majority"),
        "{}",
        stderr(&minority)
    );
    let too_many = propose("6", &urls, &file);
    assert!(
        stderr(&too_many).contains("at least 6 members"),
        "{}",
        stderr(&too_many)
    );
    let twice = propose("4", &[urls.clone(), vec![urls[0].clone()]].concat(), &file);
    assert!(stderr(&twice).contains("same URL"), "{}", stderr(&twice));
    let closed = format!("http://127.0.0.1:{}", free_port());
    let unreachable = propose(
        "3",
        &[urls[..4].to_vec(), vec![closed.clone()]].concat(),
        &file,
    );
    assert!(
        stderr(&unreachable).contains("member 5") && stderr(&unreachable).contains(&closed),
        "{}",
        stderr(&unreachable)
    );
    assert!(!file.exists(), "nothing is written when proposing fails");
    let proposed = propose("3", &urls, &file);
    assert!(proposed.status.success(), "{}", stderr(&proposed));
    // It says what the threshold tolerates, for each kind of key, and so does the file.
    let said = stderr(&proposed);
    assert!(
        said.contains("At 3 of 5") && said.contains("up to 0 dishonest members (2t - n > f)"),
        "{said}"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("#   one committed nonce cannot sign two outcomes with up to 0"),
        "{text}"
    );
    for key in &keys {
        assert!(text.contains(&key.to_string()), "{text}");
    }
    drop(plain);

    // Four members start; member 5 is not up yet, so they wait for it.
    let mut nodes: Vec<Option<Carol>> = sites[..4]
        .iter()
        .map(|s| Some(s.start(Some(&file))))
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let waiting = describe(nodes[0].as_ref().unwrap());
    assert_eq!(waiting.status, FederationStatus::Keygen);
    assert_eq!(waiting.threshold, 3);
    assert_eq!(waiting.member, 1);
    assert_eq!(waiting.public_key, None);
    // Member 2 is killed in the middle and started again; it deals exactly what it dealt.
    // (It serves before its key generation has made its deal: until then the deal is 404.)
    let dealt = deal_of(nodes[1].as_ref().unwrap());
    nodes[1] = None;
    nodes[1] = Some(sites[1].start(Some(&file)));
    assert_eq!(deal_of(nodes[1].as_ref().unwrap()), dealt);
    nodes.push(Some(sites[4].start(Some(&file))));
    let nodes: Vec<Carol> = nodes.into_iter().map(Option::unwrap).collect();
    let all: Vec<&Carol> = nodes.iter().collect();
    let described = wait_ready(&all);

    // One key, everywhere, and every member's public share of it.
    let key = described[0].public_key.expect("a federation key");
    for (i, d) in described.iter().enumerate() {
        assert_eq!(d.member, i as u32 + 1);
        assert_eq!(d.public_key.as_ref(), Some(&key));
        assert_eq!(d.commitments, described[0].commitments);
        assert_eq!(d.commitments.len(), 3);
        assert_eq!(d.commitments[0], key);
        assert!(d.members.iter().all(|m| m.public_share.is_some()));
        assert_eq!(d.members, described[0].members);
    }
    assert!(
        !keys.contains(&key),
        "the federation key is no member's key"
    );
    // And one secp256k1 key, made in the same key generation, x-only (BIP340), whose
    // commitments open to it.
    let secp256k1 = described[0]
        .secp256k1_public_key
        .clone()
        .expect("a secp256k1 key");
    for d in &described {
        assert_eq!(d.secp256k1_public_key.as_ref(), Some(&secp256k1));
        assert_eq!(d.secp256k1_commitments, described[0].secp256k1_commitments);
        assert_eq!(d.secp256k1_commitments.len(), 3);
        assert_eq!(d.secp256k1_commitments[0][2..], secp256k1);
    }
    assert!(secp256k1::XOnlyPublicKey::from_slice(&hex::decode(&secp256k1).unwrap()).is_ok());
    for (node, own) in nodes.iter().zip(&keys) {
        let (_, info) = node.get("/");
        assert_eq!(info["public_key"], Value::String(key.to_string()));
        assert_eq!(info["node_key"], Value::String(own.to_string()));
    }
    // The share is kept readable by its owner alone.
    #[cfg(unix)]
    for site in &sites {
        use std::os::unix::fs::PermissionsExt;
        let share = site.dir.join("carol-data/federation-share.json");
        let mode = std::fs::metadata(&share).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", share.display());
    }

    // A member signs only with the others: what it answers verifies under the federation key,
    // never under its own.
    let machine = nodes[0].machine(&guest("all-types"), b"");
    let (status, body) = nodes[0].get(&format!("/machines/{machine}/activate/sign?message=00"));
    assert_eq!(status, 200, "{body}");
    let signature: carol_core::bls::Signature = serde_json::from_value(body).unwrap();
    let machine: carol_core::ids::MachineId = machine.parse().unwrap();
    assert!(key.verify_for_machine(&machine, &[0], &signature));
    assert!(!keys[0].verify_for_machine(&machine, &[0], &signature));

    // Every machine has a BIP340 key of its own, made by the members on its first use, the same
    // on every member; another machine's is another, and neither is the federation's.
    let stateful = nodes[0].machine(&guest("stateful"), b"");
    let other = nodes[0].machine(&guest("stateful"), b"other");
    let secp_key = |node: &Carol, machine: &str| {
        let (status, body) = node.get(&format!("/machines/{machine}/activate/secp-public-key"));
        assert_eq!(status, 200, "{body}");
        body
    };
    let machine_key = secp_key(&nodes[0], &stateful);
    for node in &nodes[1..] {
        assert_eq!(secp_key(node, &stateful), machine_key);
    }
    assert_ne!(secp_key(&nodes[0], &other), machine_key);
    assert_ne!(machine_key.as_str().unwrap(), secp256k1);

    // A restart serves as a member at once, without another key generation, also with a share
    // file of an earlier version (the federation key's fields at the top).
    let mut nodes = nodes;
    drop(nodes.remove(0));
    let restarted = sites[0].start(Some(&file));
    assert_eq!(describe(&restarted).secp256k1_public_key, Some(secp256k1));
    assert_eq!(secp_key(&restarted, &stateful), machine_key);
    drop(restarted);
    let restarted = {
        let share = sites[0].dir.join("carol-data/federation-share.json");
        let mut json: Value = serde_json::from_slice(&std::fs::read(&share).unwrap()).unwrap();
        json.as_object_mut().unwrap().remove("secp256k1").unwrap();
        let key = json.as_object_mut().unwrap().remove("key").unwrap();
        json.as_object_mut()
            .unwrap()
            .extend(key.as_object().unwrap().clone());
        std::fs::write(&share, serde_json::to_vec(&json).unwrap()).unwrap();
        sites[0].start(Some(&file))
    };
    let again = describe(&restarted);
    assert_eq!(again.status, FederationStatus::Ready);
    assert_eq!(again.public_key, Some(key));
    // An earlier version's share has no secp256k1 key of the federation; machines' own keys are
    // kept in the records, and stay.
    assert_eq!(again.secp256k1_public_key, None);
    assert_eq!(secp_key(&restarted, &stateful), machine_key);
    assert!(
        !restarted
            .log()
            .iter()
            .any(|l| l.contains("key generation: dealing")),
        "{:#?}",
        restarted.log()
    );
    // Nothing of the key generation is left but the share.
    assert!(
        !sites[0]
            .dir
            .join("carol-data/federation-keygen.json")
            .exists()
    );

    // Member 2's share put in member 1's place is refused, and says whose it is.
    drop(restarted);
    let share = |i: usize| sites[i].dir.join("carol-data/federation-share.json");
    std::fs::copy(share(1), share(0)).unwrap();
    let refused = sites[0].run_to_end(&file);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("member 2's, but this node is member 1"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn a_key_generation_that_runs_out_of_time_keeps_nothing_and_a_rerun_succeeds() {
    let root = scratch("federation-timeout");
    let sites: Vec<Site> = (1..=3)
        .map(|i| Site::with_limits(&root, i, "keygen_timeout_ms = 2000"))
        .collect();
    let urls: Vec<String> = sites.iter().map(Site::url).collect();
    let file = root.join("federation.toml");
    let plain: Vec<Carol> = sites.iter().map(|s| s.start(None)).collect();
    let proposed = propose("2", &urls, &file);
    assert!(proposed.status.success(), "{}", stderr(&proposed));
    drop(plain);

    // Member 3 is down for the whole run: member 1 gives up, says why, and keeps nothing.
    let member2 = sites[1].start(Some(&file));
    let gave_up = sites[0].run_to_end(&file);
    assert!(!gave_up.status.success());
    let why = stderr(&gave_up);
    assert!(
        why.contains("did not finish within")
            && why.contains("[3]")
            && why.contains("nothing was kept"),
        "{why}"
    );
    assert!(
        !sites[0]
            .dir
            .join("carol-data/federation-share.json")
            .exists()
    );
    drop(member2);

    // Run again with every member up, and time enough however slow the machine: the key is
    // made.
    for site in &sites {
        let text = std::fs::read_to_string(&site.cfg).unwrap();
        let text = text.replace("keygen_timeout_ms = 2000", "keygen_timeout_ms = 600000");
        std::fs::write(&site.cfg, text).unwrap();
    }
    let nodes: Vec<Carol> = sites.iter().map(|s| s.start(Some(&file))).collect();
    let described = wait_ready(&nodes.iter().collect::<Vec<_>>());
    assert!(
        described
            .iter()
            .all(|d| d.public_key == described[0].public_key)
    );
}

#[test]
fn a_node_whose_key_is_not_in_the_federation_file_refuses_to_start() {
    let root = scratch("federation-stranger");
    let sites: Vec<Site> = (1..=2).map(|i| Site::new(&root, i)).collect();
    let stranger = Site::new(&root, 3);
    let plain: Vec<Carol> = sites.iter().map(|s| s.start(None)).collect();
    let file = root.join("federation.toml");
    let urls: Vec<String> = sites.iter().map(Site::url).collect();
    let proposed = propose("2", &urls, &file);
    assert!(proposed.status.success(), "{}", stderr(&proposed));
    drop(plain);
    let refused = stranger.run_to_end(&file);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("is not among the members"),
        "{}",
        stderr(&refused)
    );
    assert!(
        !stranger
            .dir
            .join("carol-data/federation-share.json")
            .exists()
    );
}

/// Forms a `threshold`-of-`n` federation whose members have `limits`, and waits until every
/// member is ready.
pub(crate) fn form(
    root: &Path,
    threshold: usize,
    n: usize,
    limits: &str,
) -> (Vec<Site>, PathBuf, Vec<Carol>) {
    let sites: Vec<Site> = (1..=n)
        .map(|i| Site::with_limits(root, i, limits))
        .collect();
    let urls: Vec<String> = sites.iter().map(Site::url).collect();
    let file = root.join("federation.toml");
    let plain: Vec<Carol> = sites.iter().map(|s| s.start(None)).collect();
    let proposed = propose(&threshold.to_string(), &urls, &file);
    assert!(proposed.status.success(), "{}", stderr(&proposed));
    drop(plain);
    let nodes: Vec<Carol> = sites.iter().map(|s| s.start(Some(&file))).collect();
    wait_ready(&nodes.iter().collect::<Vec<_>>());
    (sites, file, nodes)
}

#[test]
fn a_federation_signs_what_its_members_runs_ask_for_together_and_nothing_with_too_few() {
    let root = scratch("federation-signing");
    let (sites, file, mut nodes) = form(&root, 3, 5, "activation_timeout_ms = 4000");
    let session = carol_host::federation::file::FederationFile::load(&file)
        .unwrap()
        .session();
    let (_, described) = nodes[0].get("/federation");
    let key: PublicKey = serde_json::from_value(described["public_key"].clone()).unwrap();

    // Uploaded and created on member 1, the machine is on every member.
    let (status, body) = nodes[0].post("/binaries", &guest("all-types"));
    assert_eq!(status, 201, "{body}");
    let binary = body["id"].as_str().unwrap().to_owned();
    let (status, body) = nodes[0].post(&format!("/binaries/{binary}"), b"");
    assert_eq!(status, 201, "{body}");
    let machine: carol_core::ids::MachineId = serde_json::from_value(body["id"].clone()).unwrap();
    for node in &nodes {
        assert_eq!(node.get(&format!("/machines/{machine}")).0, 200);
    }

    // Asked of any member, the activation runs on all, and the answer is the one signature of
    // the federation key, the same from every member.
    let sign = |node: &Carol, message: &str| {
        node.get(&format!(
            "/machines/{machine}/activate/sign?message={message}"
        ))
    };
    let (status, first) = sign(&nodes[0], "c0ffee");
    assert_eq!(status, 200, "{first}");
    let signature: carol_core::bls::Signature = serde_json::from_value(first.clone()).unwrap();
    assert!(key.verify_for_machine(&machine, &hex::decode("c0ffee").unwrap(), &signature));
    assert_eq!(sign(&nodes[2], "c0ffee"), (200, first.clone()));
    // Two clients asking two members for the same signature at once both get it.
    let both = std::thread::scope(|scope| {
        let a = scope.spawn(|| sign(&nodes[0], "f00d"));
        let b = scope.spawn(|| sign(&nodes[3], "f00d"));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!(both.0.0, 200, "{}", both.0.1);
    assert_eq!(both.0, both.1);

    // A machine whose runs on different members ask to sign different messages gets no
    // signature: each member holds only its own partial.
    let (status, body) = nodes[0].post("/binaries", &guest("hostile"));
    assert_eq!(status, 201, "{body}");
    let hostile = body["id"].as_str().unwrap().to_owned();
    let (_, body) = nodes[0].post(&format!("/binaries/{hostile}"), b"");
    let clock = body["id"].as_str().unwrap().to_owned();
    let (status, body) = nodes[0].get(&format!("/machines/{clock}/activate/sign-now"));
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["agreed"], 1, "{body}");

    // Member 2 turns dishonest (its node is down; the test speaks for it with its node key)
    // and sends a partial that is not its share's: it is logged and ignored, and the signature
    // is made with the honest members' partials.
    nodes.remove(4);
    nodes.remove(1);
    let message = hex::decode("ba5e").unwrap();
    let mut signed = machine.as_bytes().to_vec();
    signed.extend_from_slice(&message);
    let digest = carol_host::federation::signing::digest(&key, &signed);
    let forged = carol_core::bls::SecretKey::generate().sign(&signed);
    let node_key = |site: &Site| {
        carol_host::config::Config::load(Path::new(&site.cfg))
            .unwrap()
            .node
            .key
    };
    let member1 = carol_federation::identity::node_point(&node_key(&sites[0]).public_key());
    // A partial as `key`'s node hands it to member 1, tagged under the key the two share.
    let tagged = |index: u32, key: &carol_core::bls::SecretKey, digest, signature| {
        let signature = carol_federation::threshold::PartialBytes::from(&signature);
        let authenticated = carol_host::federation::exchange::authenticated(
            b"carol-federation/partial/v2",
            &session,
            &digest,
            index,
            &signature.0,
        );
        let shared = carol_federation::identity::Identity::new(key).pairwise(&session, &member1);
        serde_json::json!({
            "digest": hex::encode(digest),
            "index": index,
            "signature": signature,
            "tag": hex::encode(shared.tag(&authenticated)),
        })
    };
    let partial = |index: u32, key: &carol_core::bls::SecretKey| tagged(index, key, digest, forged);
    let member2 = node_key(&sites[1]);
    // Nobody but member 2 can hand in member 2's partial.
    let stranger = carol_core::bls::SecretKey::generate();
    let (status, body) = nodes[0].post_json("/federation/partials", &partial(2, &stranger));
    assert_eq!(status, 403, "{body}");
    let (status, body) = nodes[0].post_json("/federation/partials", &partial(2, &member2));
    assert_eq!(status, 202, "{body}");
    let (status, body) = sign(&nodes[0], "ba5e");
    assert_eq!(status, 200, "{body}");
    let signature: carol_core::bls::Signature = serde_json::from_value(body).unwrap();
    assert!(key.verify_for_machine(&machine, &message, &signature));
    // Having made it, member 1 answers a member's partial of that message with the signature,
    // as it would a member that restarted and lacks it.
    let (status, body) = nodes[0].post_json("/federation/partials", &partial(2, &member2));
    let made = serde_json::to_value(signature).unwrap();
    assert_eq!((status, &body["made"]), (200, &made), "{body}");
    // Not to a stranger, nor to a partial under member 1's own index (as if reflected back).
    let (status, body) = nodes[0].post_json("/federation/partials", &partial(2, &stranger));
    assert_eq!(status, 403, "{body}");
    let member1_key = node_key(&sites[0]);
    let (status, body) = nodes[0].post_json("/federation/partials", &partial(1, &member1_key));
    assert_eq!(status, 403, "{body}");
    assert!(
        nodes[0]
            .log()
            .iter()
            .any(|l| l.contains("does not verify under its public share") && l.contains("member=2")),
        "{:#?}",
        nodes[0].log()
    );
    // A partial for a member the federation does not have is refused.
    let (status, _) = nodes[0].post_json("/federation/partials", &partial(9, &member2));
    assert_eq!(status, 400);
    // Its metrics count what it sent to each member and took from each, and what it refused.
    let (_, samples) = crate::metrics::scrape(&format!("{}/metrics", nodes[0].url));
    let count = |name: &str, member: u32| {
        crate::metrics::value(&samples, &format!("{name}_total{{member=\"{member}\"}}"))
    };
    assert_eq!(
        crate::metrics::value(&samples, "carol_federation_key_ready"),
        1.0
    );
    assert!(count("carol_federation_partials_sent", 3) >= 1.0);
    assert!(count("carol_federation_partials_received", 3) >= 1.0);
    // Two strangers' tags and the forged partial dropped; member 1's own index once.
    assert_eq!(count("carol_federation_partials_rejected", 2), 3.0);
    assert_eq!(count("carol_federation_partials_rejected", 1), 1.0);

    // With two members down it still signs; with three, it answers 503 in time, saying how
    // many agreed.
    nodes.truncate(3);
    let (status, body) = sign(&nodes[1], "beef");
    assert_eq!(status, 200, "{body}");
    let signature: carol_core::bls::Signature = serde_json::from_value(body).unwrap();
    assert!(key.verify_for_machine(&machine, &hex::decode("beef").unwrap(), &signature));
    nodes.truncate(2);
    let started = Instant::now();
    let (status, body) = sign(&nodes[0], "dead");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["agreed"], 2, "{body}");
    assert_eq!(body["threshold"], 3, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("only 2 of the 3"),
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "within the activation timeout"
    );

    // Alone, with member 2's bogus partial of the same message held, the member says one
    // member agreed: a partial that does not verify is no member's agreement.
    nodes.truncate(1);
    let mut signed = machine.as_bytes().to_vec();
    signed.extend_from_slice(&hex::decode("cafe").unwrap());
    let digest = carol_host::federation::signing::digest(&key, &signed);
    let bogus = carol_core::bls::SecretKey::generate().sign(&signed);
    let held = tagged(2, &member2, digest, bogus);
    assert_eq!(nodes[0].post_json("/federation/partials", &held).0, 202);
    let (status, body) = sign(&nodes[0], "cafe");
    assert_eq!(
        (status, body["agreed"].clone()),
        (503, serde_json::json!(1)),
        "{body}"
    );
}
