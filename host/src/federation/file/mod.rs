//! The federation file: the name, the threshold and the members (URL and node key) that every
//! member's operator reviews and runs with. `carol federation propose` writes it; its digest
//! names the key generation, so members with different files never make a key together.

use carol_core::bls::PublicKey;
use carol_federation::curve::Secp256k1;
use carol_federation::dkg::{Group, Previous};
use carol_federation::identity::node_point;
use carol_federation::poly::PublicPoly;
use carol_federation::wire::commitments_from_hex;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Why a federation file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// It cannot be read.
    #[error("cannot read the federation file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// It is not a federation file.
    #[error("the federation file {path} is not valid: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with its place.
        message: String,
    },
    /// It describes no federation that can work.
    #[error("the federation file {path} describes no federation that can work: {problem}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: Problem,
    },
}

/// What makes a federation unworkable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The threshold is not a majority of the members.
    #[error(
        "a threshold of {threshold} of {members} is not a majority: two disjoint groups of \
         {threshold} could then each sign; use at least {}",
        .members / 2 + 1
    )]
    NotAMajority {
        /// The threshold.
        threshold: usize,
        /// How many members.
        members: usize,
    },
    /// The threshold is more than the members.
    #[error("a threshold of {threshold} needs at least {threshold} members, not {members}")]
    TooFewMembers {
        /// The threshold.
        threshold: usize,
        /// How many members.
        members: usize,
    },
    /// Two members have one URL.
    #[error("members {first} and {second} have the same URL {url}")]
    SameUrl {
        /// The first member's index.
        first: u32,
        /// The second member's index.
        second: u32,
        /// The URL.
        url: String,
    },
    /// Two members have one node key.
    #[error("members {first} ({first_url}) and {second} ({second_url}) have the same node key")]
    SameKey {
        /// The first member's index.
        first: u32,
        /// Its URL.
        first_url: String,
        /// The second member's index.
        second: u32,
        /// Its URL.
        second_url: String,
    },
    /// The nonce is not 32 bytes of hex.
    #[error(
        "its nonce is not 32 bytes in hex (64 hex digits), as `carol federation propose` writes it"
    )]
    BadNonce,
    /// The previous federation of a resharing is not one that can have made a key.
    #[error(
        "its [previous] federation is not valid: {0}; write it with `carol federation propose \
         --from OLD_FILE`"
    )]
    BadPrevious(&'static str),
    /// A URL is not an `http` or `https` URL of a host.
    #[error("member {index}'s URL `{url}` is not an http:// or https:// URL of a host")]
    BadUrl {
        /// The member's index.
        index: u32,
        /// The URL.
        url: String,
    },
}

/// One member, as the file lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileMember {
    /// Where the other members reach it.
    pub url: String,
    /// Its node key (`GET /`'s `public_key` on a node that is no member yet).
    pub node_key: PublicKey,
}

/// A federation file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationFile {
    /// The federation's name.
    pub name: String,
    /// How many members must sign together: more than half of them.
    pub threshold: usize,
    /// 32 random bytes, hex, made by `carol federation propose`: a federation proposed again
    /// with the same members is another federation, with another key.
    pub nonce: String,
    /// The members; the first is member 1, and so on.
    #[serde(rename = "member")]
    pub members: Vec<FileMember>,
    /// In a resharing, the federation whose key this one takes over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<PreviousFederation>,
}

/// The federation a resharing takes the key of: what its members deal, and what checks them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviousFederation {
    /// The session of its federation file, hex: its members' shares name it.
    pub session: String,
    /// Its threshold: at least that many of its members must deal.
    pub threshold: usize,
    /// The commitments to its key's polynomial (`GET /federation` of its members); the first
    /// is the federation key, which stays.
    pub commitments: Vec<PublicKey>,
    /// The commitments to its secp256k1 key's polynomial (`GET /federation`'s
    /// `secp256k1_commitments`), 33-byte compressed points in hex; the first is the key, which
    /// stays. Empty for a federation made before federations had one: the resharing makes one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secp256k1_commitments: Vec<String>,
    /// Its members, each of which deals its share unless it is absent.
    #[serde(rename = "member")]
    pub members: Vec<FileMember>,
    /// Its members that do not deal (down for good, or without their share), by index: at
    /// least its threshold of the others must.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub absent: Vec<u32>,
    /// The machines whose own keys its members hold, each reshared with the federation key so
    /// that it stays the same (`GET /federation/machine-keys` of its members), in order of id.
    #[serde(default, rename = "machine", skip_serializing_if = "Vec::is_empty")]
    pub machines: Vec<CarriedMachine>,
}

/// A machine whose own key a resharing carries over: its id and its key's commitments.
pub use carol_core::federation::MachineKey as CarriedMachine;

/// The polynomial a carried machine's key commits to.
pub fn carried_public(carried: &CarriedMachine) -> Option<PublicPoly> {
    commitments_poly(&carried.commitments)
}

impl PreviousFederation {
    /// Its session, as bytes.
    pub fn session(&self) -> Option<[u8; 32]> {
        hex::decode(&self.session).ok()?.try_into().ok()
    }

    /// Its commitments, as a polynomial's.
    pub fn public(&self) -> Option<PublicPoly> {
        commitments_poly(&self.commitments)
    }

    /// Its secp256k1 key's commitments, as a polynomial's: `None` if it lists none.
    pub fn secp256k1_public(&self) -> Option<PublicPoly<Secp256k1>> {
        commitments_from_hex("federation file", &self.secp256k1_commitments).ok()
    }

    /// The group its members made machines' keys in ([`carol_federation::machine_key::group`]
    /// of it): what their records of those keys are of.
    pub fn own_group(&self) -> Option<Group> {
        Some(Group {
            session: self.session()?,
            threshold: self.threshold,
            members: points(&self.members),
            previous: None,
        })
    }

    fn check(&self) -> Result<(), Problem> {
        let bad = |why| Err(Problem::BadPrevious(why));
        if self.session().is_none() {
            return bad("its session is not 32 bytes of hex");
        }
        let (threshold, members) = (self.threshold, self.members.len());
        if threshold > members || threshold <= members / 2 {
            return bad("its threshold is not a majority of its members");
        }
        if self.commitments.len() != threshold || self.public().is_none() {
            return bad("it needs as many commitments as its threshold, each a G1 point");
        }
        let secp256k1 = self.secp256k1_commitments.len();
        if secp256k1 != 0 && (secp256k1 != threshold || self.secp256k1_public().is_none()) {
            return bad(
                "its secp256k1_commitments must be as many as its threshold, each a compressed \
                 secp256k1 point in hex, or none",
            );
        }
        let ordered = self.absent.windows(2).all(|w| w[0] < w[1]);
        if !ordered || self.absent.iter().any(|&i| i == 0 || i as usize > members) {
            return bad("its absent members must be its members' indices, in order");
        }
        if members - self.absent.len() < threshold {
            return bad("fewer of its members deal than its threshold");
        }
        if !self
            .machines
            .windows(2)
            .all(|w| w[0].machine < w[1].machine)
        {
            return bad("its machines must be distinct, in order of id");
        }
        let whole =
            |m: &CarriedMachine| m.commitments.len() == threshold && carried_public(m).is_some();
        if !self.machines.iter().all(whole) {
            return bad("each machine needs as many commitments as its threshold, each a G1 point");
        }
        check_members(&self.members)
    }
}

impl FederationFile {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<Self, FileError> {
        let text = std::fs::read_to_string(path).map_err(|source| FileError::Read {
            path: path.to_owned(),
            source,
        })?;
        let file: Self = toml::from_str(&text).map_err(|e| FileError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        file.check().map_err(|problem| FileError::Invalid {
            path: path.to_owned(),
            problem,
        })?;
        Ok(file)
    }

    /// Whether the federation can work: a majority threshold, distinct URLs and keys.
    pub fn check(&self) -> Result<(), Problem> {
        let nonce = hex::decode(&self.nonce).ok();
        if nonce.is_none_or(|n| n.len() != 32) {
            return Err(Problem::BadNonce);
        }
        let (threshold, members) = (self.threshold, self.members.len());
        if threshold > members {
            return Err(Problem::TooFewMembers { threshold, members });
        }
        if threshold <= members / 2 {
            return Err(Problem::NotAMajority { threshold, members });
        }
        check_members(&self.members)?;
        self.previous
            .as_ref()
            .map_or(Ok(()), PreviousFederation::check)
    }

    /// The file as TOML, commented, for operators to review.
    pub fn to_toml(&self) -> String {
        let mut out = format!(
            "# A Carol federation: {} of these {} members must sign together.\n\
             # Every member's operator reviews this file, then runs\n\
             #   carol run --cfg carol.toml --federation THIS_FILE\n\
             # The members make the federation key together on their first start; change nothing\n\
             # here afterwards (a changed file is another federation).\n\
             # At this threshold:\n{}\n",
            self.threshold,
            self.members.len(),
            carol_core::federation::Tolerance::of(self.threshold, self.members.len())
                .describe()
                .split("; ")
                .map(|part| format!("#   {part}\n"))
                .collect::<String>()
        );
        out.push_str(&format!("name = {}\n", toml_string(&self.name)));
        out.push_str(&format!("threshold = {}\n", self.threshold));
        out.push_str(&format!(
            "# Makes this federation's key its own: proposing the same members again makes another.\nnonce = {}\n",
            toml_string(&self.nonce)
        ));
        if let Some(previous) = &self.previous {
            out.push_str(&format!(
                "\n# This federation takes over the key of the previous one, whose members deal\n\
                 # their shares to this one's (a resharing): the federation key stays\n\
                 # {}. Every previous member runs with this file too, until it is done.\n\
                 [previous]\nsession = {}\nthreshold = {}\ncommitments = [\n",
                previous.commitments[0],
                toml_string(&previous.session),
                previous.threshold,
            ));
            for commitment in &previous.commitments {
                out.push_str(&format!("  \"{commitment}\",\n"));
            }
            out.push_str("]\n");
            if !previous.secp256k1_commitments.is_empty() {
                out.push_str("# Its secp256k1 key stays too.\nsecp256k1_commitments = [\n");
                for commitment in &previous.secp256k1_commitments {
                    out.push_str(&format!("  \"{commitment}\",\n"));
                }
                out.push_str("]\n");
            }
            if !previous.absent.is_empty() {
                out.push_str(&format!(
                    "# These previous members do not deal (down for good, or without their \
                     share).\nabsent = {:?}\n",
                    previous.absent
                ));
            }
            for (member, index) in previous.members.iter().zip(1..) {
                out.push_str(&format!(
                    "\n# Previous member {index}.\n[[previous.member]]\n"
                ));
                out.push_str(&member_toml(member));
            }
            for carried in &previous.machines {
                out.push_str(&format!(
                    "\n# Machine {}'s own key, {}, is reshared too, and stays.\n\
                     [[previous.machine]]\nmachine = \"{}\"\ncommitments = [\n",
                    carried.machine, carried.commitments[0], carried.machine
                ));
                for commitment in &carried.commitments {
                    out.push_str(&format!("  \"{commitment}\",\n"));
                }
                out.push_str("]\n");
            }
        }
        for (member, index) in self.members.iter().zip(1..) {
            out.push_str(&format!("\n# Member {index}.\n[[member]]\n"));
            out.push_str(&member_toml(member));
        }
        out
    }

    /// The digest that names this federation's key generation: of the name, the threshold,
    /// every member's URL and key, in order, and in a resharing everything of the previous
    /// federation (not of the file's text, so comments and spacing do
    /// not matter).
    pub fn session(&self) -> [u8; 32] {
        let mut hash = Sha256::new();
        hash.update(b"carol-federation/file/v1\0");
        let mut field = |bytes: &[u8]| {
            hash.update((bytes.len() as u64).to_be_bytes());
            hash.update(bytes);
        };
        field(self.name.as_bytes());
        field(self.nonce.as_bytes());
        field(&(self.threshold as u64).to_be_bytes());
        for member in &self.members {
            field(normalized(&member.url).as_bytes());
            field(&member.node_key.to_bytes());
        }
        if let Some(previous) = &self.previous {
            field(b"previous");
            field(previous.session.as_bytes());
            field(&(previous.threshold as u64).to_be_bytes());
            for commitment in &previous.commitments {
                field(&commitment.to_bytes());
            }
            for member in &previous.members {
                field(normalized(&member.url).as_bytes());
                field(&member.node_key.to_bytes());
            }
            for absent in &previous.absent {
                field(&absent.to_be_bytes());
            }
            // Only when listed, so that a file without them names the session it always did.
            if !previous.secp256k1_commitments.is_empty() {
                field(b"secp256k1");
                for commitment in &previous.secp256k1_commitments {
                    field(commitment.as_bytes());
                }
            }
            for carried in &previous.machines {
                field(carried.machine.as_bytes());
                for commitment in &carried.commitments {
                    field(&commitment.to_bytes());
                }
            }
        }
        hash.finalize().into()
    }

    /// The members' indices, 1 to n.
    pub fn indices(&self) -> impl Iterator<Item = u32> + use<> {
        1..=self.members.len() as u32
    }

    /// The member whose node key is `key`, by index from 1.
    pub fn index_of(&self, key: &PublicKey) -> Option<u32> {
        self.members
            .iter()
            .position(|m| &m.node_key == key)
            .map(|i| i as u32 + 1)
    }

    /// The group the federation's secp256k1 key is made in: the members and threshold of
    /// [`FederationFile::group`] under a session of its own, and in a resharing the previous
    /// federation's secp256k1 key, if it had one.
    pub fn secp256k1_group(&self) -> Group<Secp256k1> {
        let mut hash = Sha256::new();
        hash.update(b"carol-federation/secp256k1/v1\0");
        hash.update(self.session());
        Group {
            session: hash.finalize().into(),
            threshold: self.threshold,
            members: points(&self.members),
            previous: self.previous.as_ref().and_then(|previous| {
                Some(Previous {
                    threshold: previous.threshold,
                    members: points(&previous.members),
                    public: previous.secp256k1_public()?,
                    absent: previous.absent.clone(),
                })
            }),
        }
    }

    /// The group the key generation runs in.
    pub fn group(&self) -> Group {
        Group {
            session: self.session(),
            threshold: self.threshold,
            members: points(&self.members),
            previous: self.previous.as_ref().map(|previous| Previous {
                threshold: previous.threshold,
                members: points(&previous.members),
                public: previous
                    .public()
                    .expect("a checked file's commitments are points"),
                absent: previous.absent.clone(),
            }),
        }
    }
}

/// `commitments` as a polynomial's.
fn commitments_poly(commitments: &[PublicKey]) -> Option<PublicPoly> {
    let bytes: Vec<u8> = commitments.iter().flat_map(|c| c.to_bytes()).collect();
    PublicPoly::from_bytes(&bytes)
}

/// The members' node keys as points.
fn points(members: &[FileMember]) -> Vec<bls12_381::G1Affine> {
    members.iter().map(|m| node_point(&m.node_key)).collect()
}

/// Whether `members` have http(s) URLs, and distinct URLs and keys.
fn check_members(members: &[FileMember]) -> Result<(), Problem> {
    for (i, member) in members.iter().enumerate() {
        let index = i as u32 + 1;
        let url = url::Url::parse(&member.url).ok();
        if !url.is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some()) {
            return Err(Problem::BadUrl {
                index,
                url: member.url.clone(),
            });
        }
        for (j, earlier) in members[..i].iter().enumerate() {
            let first = j as u32 + 1;
            if normalized(&earlier.url) == normalized(&member.url) {
                return Err(Problem::SameUrl {
                    first,
                    second: index,
                    url: member.url.clone(),
                });
            }
            if earlier.node_key == member.node_key {
                return Err(Problem::SameKey {
                    first,
                    first_url: earlier.url.clone(),
                    second: index,
                    second_url: member.url.clone(),
                });
            }
        }
    }
    Ok(())
}

/// A URL without a trailing slash, so that `http://a:1` and `http://a:1/` are one member.
pub(super) fn normalized(url: &str) -> &str {
    url.trim_end_matches('/')
}

/// A member's fields, as TOML lines.
fn member_toml(member: &FileMember) -> String {
    format!(
        "url = {}\nnode_key = \"{}\"\n",
        toml_string(&member.url),
        member.node_key
    )
}

/// `text` as a TOML basic string: JSON's string escapes are all TOML's too.
fn toml_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string is JSON")
}

#[cfg(test)]
mod tests;
