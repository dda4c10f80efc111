//! `carol federation propose`: asks each would-be member for its node key and writes the
//! federation file its operators review; with `--from`, asks each member of the previous
//! federation for its key's commitments too, for a resharing.

use super::file::{CarriedMachine, FederationFile, FileMember, PreviousFederation, Problem};
use super::peers::{Answer, Peers};
use carol_core::api::NodeInfo;
use carol_core::federation::{FederationDescription, FederationStatus, MachineKeys};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// Why no federation file was proposed.
#[derive(Debug, thiserror::Error)]
pub enum ProposeError {
    /// The federation could not work.
    #[error("{0}")]
    Invalid(#[from] Problem),
    /// A member could not be asked.
    #[error(
        "member {index} ({url}) did not answer as a Carol node: {why}; start it (`carol run`) \
         and check its URL"
    )]
    Unreachable {
        /// Its index.
        index: u32,
        /// Its URL.
        url: String,
        /// What happened.
        why: String,
    },
    /// A member of the previous federation has no share to deal, or describes another
    /// federation than the previous file.
    #[error(
        "member {index} ({url}) of the previous federation {why}: every previous member must \
         run with the previous federation file and be ready, since each deals its share (one that \
         is gone for good, or lost its share, can be named with --absent {index})"
    )]
    Previous {
        /// Its index in the previous federation.
        index: u32,
        /// Its URL.
        url: String,
        /// What is wrong.
        why: String,
    },
}

/// Asks the nodes at `urls` for their node keys and makes the federation file of `threshold`
/// of them, named `name`; with `from`, the file of a resharing of that federation's key, after
/// asking each of its members but the `absent` ones for the key's commitments.
pub async fn propose(
    name: &str,
    threshold: usize,
    urls: &[String],
    from: Option<(&FederationFile, &[u32])>,
) -> Result<FederationFile, ProposeError> {
    let mut nonce = [0u8; 32];
    getrandom::fill(&mut nonce).expect("the operating system's random source failed");
    let mut file = FederationFile {
        name: name.to_owned(),
        threshold,
        nonce: hex::encode(nonce),
        members: Vec::new(),
        previous: None,
    };
    // What can be refused without asking anyone is refused first.
    let unasked = FederationFile {
        members: urls
            .iter()
            .zip(1u8..)
            .map(|(url, i)| FileMember {
                url: url.clone(),
                node_key: carol_core::bls::SecretKey::key_gen(&[i; 32]).public_key(),
            })
            .collect(),
        ..file.clone()
    };
    unasked.check()?;
    let peers = Peers::for_urls(urls, std::time::Duration::from_secs(10));
    for (url, index) in urls.iter().zip(1..) {
        let info: NodeInfo = ask(&peers, index, url, "/").await?;
        file.members.push(FileMember {
            url: url.clone(),
            // A node that is a member already signs as its federation; its own key is beside.
            node_key: info.node_key.unwrap_or(info.public_key),
        });
    }
    if let Some((old, absent)) = from {
        file.previous = Some(previous(old, absent).await?);
    }
    file.check()?;
    Ok(file)
}

/// The previous federation of a resharing of `old`'s key, with the commitments every one of its
/// members reports, which must all be the same, and the machines' own keys they hold, each held
/// by every one of them.
async fn previous(
    old: &FederationFile,
    absent: &[u32],
) -> Result<PreviousFederation, ProposeError> {
    let urls: Vec<String> = old.members.iter().map(|m| m.url.clone()).collect();
    let peers = Peers::for_urls(&urls, std::time::Duration::from_secs(10));
    let mut commitments = None;
    let mut machines = BTreeMap::new();
    let mut dealing = Vec::new();
    let mut absent = absent.to_vec();
    absent.sort_unstable();
    absent.dedup();
    let present = old
        .members
        .iter()
        .zip(1..)
        .filter(|(_, i)| !absent.contains(i));
    for (member, index) in present {
        let url = &member.url;
        let refuse = |why: &str| ProposeError::Previous {
            index,
            url: url.clone(),
            why: why.into(),
        };
        let described: FederationDescription = match ask(&peers, index, url, "/federation").await {
            Ok(described) => described,
            Err(ProposeError::Unreachable { why, .. }) => {
                return Err(refuse(&format!("does not answer ({why})")));
            }
            Err(other) => return Err(other),
        };
        let listed: Vec<(&str, _)> = described
            .members
            .iter()
            .map(|m| (super::file::normalized(&m.url), m.node_key))
            .collect();
        let expected: Vec<(&str, _)> = old
            .members
            .iter()
            .map(|m| (super::file::normalized(&m.url), m.node_key))
            .collect();
        if described.name != old.name
            || described.threshold != old.threshold
            || listed != expected
            || described.member != index
        {
            return Err(refuse(
                "describes another federation than the previous file",
            ));
        }
        if described.status != FederationStatus::Ready {
            return Err(refuse("has not made the federation key yet"));
        }
        let reported = (described.commitments, described.secp256k1_commitments);
        match &commitments {
            None => commitments = Some(reported),
            Some(first) if *first == reported => {}
            Some(_) => return Err(refuse("reports other commitments than member 1")),
        }
        let held: MachineKeys = ask(&peers, index, url, "/federation/machine-keys").await?;
        if let Some(machine) = held.pending.first() {
            return Err(refuse(&format!(
                "is still making machine {machine}'s own key (run an activation of that machine \
                 that uses its key, then propose again)"
            )));
        }
        for key in held.machines {
            let (first, holders) = machines
                .entry(key.machine)
                .or_insert_with(|| (key.commitments.clone(), Vec::new()));
            if *first != key.commitments {
                return Err(refuse(&format!(
                    "reports another key for machine {} than another member",
                    key.machine
                )));
            }
            holders.push(index);
        }
        dealing.push((index, url.clone()));
    }
    // Every machine's key is carried over, so every member that deals must hold its share.
    for (machine, (_, holders)) in &machines {
        if let Some((index, url)) = dealing.iter().find(|(i, _)| !holders.contains(i)) {
            return Err(ProposeError::Previous {
                index: *index,
                url: url.clone(),
                why: format!(
                    "does not hold machine {machine}'s own key, which other members do (run an \
                     activation of that machine that uses its key, so that every member makes \
                     its share, then propose again)"
                ),
            });
        }
    }
    let (commitments, secp256k1_commitments) = commitments.ok_or(ProposeError::Invalid(
        Problem::BadPrevious("no previous member is left to deal"),
    ))?;
    Ok(PreviousFederation {
        session: hex::encode(old.session()),
        threshold: old.threshold,
        commitments,
        secp256k1_commitments,
        members: old.members.clone(),
        absent,
        machines: machines
            .into_iter()
            .map(|(machine, (commitments, _))| CarriedMachine {
                machine,
                commitments,
            })
            .collect(),
    })
}

/// `GET path` of member `index` at `url`, as JSON.
async fn ask<T: DeserializeOwned>(
    peers: &Peers,
    index: u32,
    url: &str,
    path: &str,
) -> Result<T, ProposeError> {
    let unreachable = |why: String| ProposeError::Unreachable {
        index,
        url: url.to_owned(),
        why,
    };
    match peers.get::<T>(index, path).await {
        Answer::Got(answer) => Ok(answer),
        Answer::NotYet => Err(unreachable(format!("it answered `GET {path}` with 404"))),
        Answer::Failed(why) => Err(unreachable(why)),
    }
}
