//! A member's share, kept in its data directory once the key generation is done: readable by
//! its owner alone, written whole or not at all (a new file, synced, renamed into place, the
//! directory synced), so that it survives `kill -9` and power loss, and a restart never runs
//! the key generation again.
//!
//! With the share it keeps the messages it sent in the key generation (all public), so that a
//! member that was still running it can get them from this one after it is done.

use super::published::Published;
use carol_core::ids::MachineId;
use carol_federation::curve::{Bls, Curve, Secp256k1};
use carol_federation::poly::PublicPoly;
use carol_federation::threshold::Share;
use carol_federation::wire::{
    ConfirmationJson, DealJson, JustificationJson, ResponseJson, commitments_from_hex,
    commitments_to_hex,
};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroize;

/// The share's file name in the data directory.
pub const SHARE_FILE: &str = "federation-share.json";

/// Why the share cannot be kept or read.
#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    /// Writing or reading the file failed.
    #[error("cannot {doing} the federation share {path}: {source}")]
    Io {
        /// What was being done.
        doing: &'static str,
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The file is not a share this node wrote. Its content is never quoted: it holds the
    /// share.
    #[error("the federation share {path} is damaged ({why}); restore it from a backup")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong, without the content.
        why: &'static str,
    },
    /// The share is of another federation than the file the node runs with.
    #[error(
        "the federation share {path} is of another federation (session {stored}) than the \
         federation file (session {expected}) and its [previous] one, if it has one: run with \
         the federation file it was made for, or a resharing of that federation"
    )]
    OtherFederation {
        /// The file.
        path: PathBuf,
        /// The session it was made in.
        stored: String,
        /// The session of the federation file.
        expected: String,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShareJson {
    session: String,
    member: u32,
    /// The federation key's.
    key: LaneJson,
    /// The federation's secp256k1 key's: `None` in a share file of an earlier version, made
    /// before federations had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secp256k1: Option<LaneJson>,
    /// Machines' own keys carried over by a resharing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    machines: Vec<MachineLaneJson>,
}

/// One key's share, and the messages this member sent while it was made.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LaneJson {
    share: String,
    commitments: Vec<String>,
    qualified: Vec<u32>,
    /// `None` for a member that joined in a resharing, and dealt nothing (nor justified).
    #[serde(default)]
    deal: Option<DealJson>,
    response: ResponseJson,
    justification: Option<JustificationJson>,
    confirmation: ConfirmationJson,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MachineLaneJson {
    machine: MachineId,
    key: LaneJson,
}

/// A share file of an earlier version: the federation key's fields at the top, no machines.
#[derive(Deserialize)]
struct LegacyShareJson {
    session: String,
    member: u32,
    #[serde(flatten)]
    key: LaneJson,
}

impl From<LegacyShareJson> for ShareJson {
    fn from(legacy: LegacyShareJson) -> Self {
        Self {
            session: legacy.session,
            member: legacy.member,
            key: legacy.key,
            secp256k1: None,
            machines: Vec::new(),
        }
    }
}

impl Drop for LaneJson {
    fn drop(&mut self) {
        self.share.zeroize();
    }
}

/// What a member keeps of one key: the federation's, or a machine's carried over by a
/// resharing.
pub struct Kept {
    /// Its share.
    pub share: Share,
    /// The commitments to the key's polynomial.
    pub public: PublicPoly,
    /// The dealers that made the key.
    pub qualified: Vec<u32>,
    /// What it sent in the key generation.
    pub published: Published,
    /// With the federation key's share: the machines' own keys a resharing carried over, each
    /// kept the same way (with none of their own).
    pub machines: Vec<(MachineId, Kept)>,
    /// With the federation key's share: its share of the federation's secp256k1 key, unless
    /// the federation was made before federations had one.
    pub secp256k1: Option<KeptLane<Secp256k1>>,
}

/// What a member keeps of one key in curve `C`.
pub struct KeptLane<C: Curve> {
    /// Its share.
    pub share: Share<C>,
    /// The commitments to the key's polynomial.
    pub public: PublicPoly<C>,
    /// The dealers that made the key.
    pub qualified: Vec<u32>,
    /// What it sent in the key generation.
    pub published: Published,
}

impl<C: Curve> KeptLane<C> {
    /// `self` as JSON, or what is missing.
    fn lane(&self, path: &Path) -> Result<LaneJson, ShareError> {
        let published = &self.published;
        // A dealer knows whether it justified; a member that joined in a resharing dealt nothing.
        let dealt = published.deal.is_none() || published.justification.is_some();
        let (Some(response), Some(confirmation), true) =
            (&published.response, &published.confirmation, dealt)
        else {
            return Err(ShareError::Damaged {
                path: path.to_owned(),
                why: "the key generation's messages are not all there",
            });
        };
        Ok(LaneJson {
            share: hex::encode(C::scalar_to_bytes(self.share.secret())),
            commitments: commitments_to_hex(&self.public),
            qualified: self.qualified.clone(),
            deal: published.deal.clone(),
            response: response.clone(),
            justification: published.justification.clone().flatten(),
            confirmation: confirmation.clone(),
        })
    }
}

impl Kept {
    /// The federation key's part of `self`.
    fn key_lane(&self) -> KeptLane<Bls> {
        KeptLane {
            share: self.share.clone(),
            public: self.public.clone(),
            qualified: self.qualified.clone(),
            published: self.published.clone(),
        }
    }

    /// `self` as JSON, or what is missing.
    fn lane(&self, path: &Path) -> Result<LaneJson, ShareError> {
        self.key_lane().lane(path)
    }
}

/// Writes `kept` into `dir`, readable by its owner alone, whole or not at all.
pub fn save(dir: &Path, session: &[u8; 32], kept: &Kept) -> Result<(), ShareError> {
    let path = dir.join(SHARE_FILE);
    let io = |doing| io_error(doing, &path);
    let mut machines = Vec::with_capacity(kept.machines.len());
    for (machine, lane) in &kept.machines {
        machines.push(MachineLaneJson {
            machine: *machine,
            key: lane.lane(&path)?,
        });
    }
    let json = ShareJson {
        session: hex::encode(session),
        member: kept.share.index(),
        key: kept.lane(&path)?,
        secp256k1: match &kept.secp256k1 {
            Some(lane) => Some(lane.lane(&path)?),
            None => None,
        },
        machines,
    };
    let text = zeroize::Zeroizing::new(serde_json::to_vec_pretty(&json).expect("JSON"));
    drop(json);
    let staging = dir.join(format!("{SHARE_FILE}.new"));
    let _ = std::fs::remove_file(&staging);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&staging).map_err(io("create"))?;
    file.write_all(&text).map_err(io("write"))?;
    file.sync_all().map_err(io("sync"))?;
    std::fs::rename(&staging, &path).map_err(io("rename"))?;
    sync_dir(dir, &path)
}

/// Which federation a kept share is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Of {
    /// The federation of the file the member runs with.
    This,
    /// The previous federation of that file, whose key a resharing takes over.
    Previous,
}

/// Reads the share in `dir`, if there is one, and checks it matches its commitments and is of
/// the federation `session` names, or of `previous` (in a resharing, the federation whose key is
/// reshared).
pub fn load(
    dir: &Path,
    session: &[u8; 32],
    previous: Option<&[u8; 32]>,
) -> Result<Option<(Of, Kept)>, ShareError> {
    let path = dir.join(SHARE_FILE);
    let text = match std::fs::read(&path) {
        Ok(text) => zeroize::Zeroizing::new(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ShareError::Io {
                doing: "read",
                path,
                source,
            });
        }
    };
    let damaged = |why| ShareError::Damaged {
        path: path.clone(),
        why,
    };
    let mut json = match serde_json::from_slice::<ShareJson>(&text) {
        Ok(json) => json,
        Err(_) => serde_json::from_slice::<LegacyShareJson>(&text)
            .map(ShareJson::from)
            .map_err(|_| damaged("not its JSON"))?,
    };
    let of = if json.session == hex::encode(session) {
        Of::This
    } else if previous.is_some_and(|p| json.session == hex::encode(p)) {
        Of::Previous
    } else {
        return Err(ShareError::OtherFederation {
            path: path.clone(),
            stored: std::mem::take(&mut json.session),
            expected: hex::encode(session),
        });
    };
    let mut machines = Vec::with_capacity(json.machines.len());
    for carried in &mut json.machines {
        let kept = lane(json.member, &mut carried.key).map_err(damaged)?;
        machines.push((carried.machine, kept));
    }
    let mut kept = lane(json.member, &mut json.key).map_err(damaged)?;
    kept.machines = machines;
    if let Some(secp256k1) = &mut json.secp256k1 {
        kept.secp256k1 = Some(key_lane(json.member, secp256k1).map_err(damaged)?);
    }
    Ok(Some((of, kept)))
}

/// Member `member`'s share of one BLS key, as kept, checked against its commitments.
fn lane(member: u32, json: &mut LaneJson) -> Result<Kept, &'static str> {
    let KeptLane {
        share,
        public,
        qualified,
        published,
    } = key_lane::<Bls>(member, json)?;
    Ok(Kept {
        share,
        public,
        qualified,
        published,
        machines: Vec::new(),
        secp256k1: None,
    })
}

/// Member `member`'s share of one key in curve `C`, as kept, checked against its commitments.
fn key_lane<C: Curve>(member: u32, json: &mut LaneJson) -> Result<KeptLane<C>, &'static str> {
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(&json.share, bytes.as_mut())
        .map_err(|_| "the share is not 32 bytes of hex")?;
    let secret =
        zeroize::Zeroizing::new(C::scalar_from_bytes(&bytes).ok_or("the share is not a scalar")?);
    let public = commitments_from_hex::<C>("federation share", &json.commitments)
        .map_err(|_| "bad commitments")?;
    if member == 0 || !public.verifies(member, &secret) {
        return Err("the share does not match the commitments");
    }
    Ok(KeptLane {
        share: Share::new(member, *secret),
        public,
        qualified: std::mem::take(&mut json.qualified),
        published: Published {
            deal: json.deal.clone(),
            response: Some(json.response.clone()),
            justification: json.deal.is_some().then(|| json.justification.take()),
            confirmation: Some(json.confirmation.clone()),
        },
    })
}

/// Deletes the share in `dir` (a member that left in a resharing), and syncs the directory.
pub fn delete(dir: &Path) -> Result<(), ShareError> {
    let path = dir.join(SHARE_FILE);
    let io = |doing| io_error(doing, &path);
    std::fs::remove_file(&path).map_err(io("delete"))?;
    sync_dir(dir, &path)
}

/// The error of `doing` something to the share file `path`.
fn io_error(doing: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ShareError {
    let path = path.to_owned();
    move |source| ShareError::Io {
        doing,
        path,
        source,
    }
}

/// Syncs `dir`, so that a file `path` renamed into it, or removed from it, stays so.
fn sync_dir(dir: &Path, path: &Path) -> Result<(), ShareError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error("sync the directory of", path))
}
