//! A member's share, kept in its data directory once the key generation is done: readable by
//! its owner alone, written whole or not at all (a new file, synced, renamed into place, the
//! directory synced), so that it survives `kill -9` and power loss, and a restart never runs
//! the key generation again.
//!
//! With the share it keeps the messages it sent in the key generation (all public), so that a
//! member that was still running it can get them from this one after it is done.

use super::published::Published;
use bls12_381::Scalar;
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

impl Drop for ShareJson {
    fn drop(&mut self) {
        self.share.zeroize();
    }
}

/// What a member keeps.
pub struct Kept {
    /// Its share.
    pub share: Share,
    /// The commitments to the federation key's polynomial.
    pub public: PublicPoly,
    /// The dealers that made the key.
    pub qualified: Vec<u32>,
    /// What it sent in the key generation.
    pub published: Published,
}

/// Writes `kept` into `dir`, readable by its owner alone, whole or not at all.
pub fn save(dir: &Path, session: &[u8; 32], kept: &Kept) -> Result<(), ShareError> {
    let path = dir.join(SHARE_FILE);
    let io = |doing| io_error(doing, &path);
    let published = &kept.published;
    // A dealer knows whether it justified; a member that joined in a resharing dealt nothing.
    let dealt = published.deal.is_none() || published.justification.is_some();
    let (Some(response), Some(confirmation), true) =
        (&published.response, &published.confirmation, dealt)
    else {
        return Err(ShareError::Damaged {
            path,
            why: "the key generation's messages are not all there",
        });
    };
    let json = ShareJson {
        session: hex::encode(session),
        member: kept.share.index(),
        share: hex::encode(kept.share.secret().to_bytes()),
        commitments: commitments_to_hex(&kept.public),
        qualified: kept.qualified.clone(),
        deal: kept.published.deal.clone(),
        response: response.clone(),
        justification: published.justification.clone().flatten(),
        confirmation: confirmation.clone(),
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
    let mut json: ShareJson = serde_json::from_slice(&text).map_err(|_| damaged("not its JSON"))?;
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
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(&json.share, bytes.as_mut())
        .map_err(|_| damaged("the share is not 32 bytes of hex"))?;
    let secret = Option::<Scalar>::from(Scalar::from_bytes(&bytes))
        .ok_or_else(|| damaged("the share is not a scalar"))?;
    let public = commitments_from_hex("federation share", &json.commitments)
        .map_err(|_| damaged("bad commitments"))?;
    if json.member == 0 || !public.verifies(json.member, &secret) {
        return Err(damaged("the share does not match the commitments"));
    }
    let kept = Kept {
        share: Share::new(json.member, secret),
        public,
        qualified: std::mem::take(&mut json.qualified),
        published: Published {
            deal: json.deal.clone(),
            response: Some(json.response.clone()),
            justification: json.deal.is_some().then(|| json.justification.take()),
            confirmation: Some(json.confirmation.clone()),
        },
    };
    Ok(Some((of, kept)))
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
