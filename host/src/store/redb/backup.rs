//! Copies of the database: taking one, and putting one back so that it cannot sign twice.
//!
//! A restored copy holds the records of the nonces that had signed when it was taken, not of
//! those that signed since; with the same nonce secret it would derive those nonces again and
//! could sign a second message with one, which gives the machine's key away. So a restore
//! gives the database a fresh nonce secret, unless the operator states that the copy is the
//! latest: no nonce signed after it was taken. (Ethereum validator clients treat their
//! slashing-protection database the same way.)

use super::tables::NONCES;
use super::{DATABASE_FILE, Redb, private_dir};
use crate::store::StoreError;
#[cfg(test)]
use crate::store::records::NonceBinding;
use redb::{DatabaseError, ReadOnlyDatabase, ReadableDatabase, ReadableTable};
use std::path::Path;

/// What a restore did to the nonce secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restored {
    /// The copy was stated to be the latest: its nonce secret, and its announcements, stand.
    AsTheLatest,
    /// The copy got a fresh nonce secret: announcements made before cannot be attested.
    WithAFreshNonceSecret,
}

impl Redb {
    /// Copies the database in `data_dir` to `to`, readable by its owner alone. The node must be
    /// stopped: the copy is taken holding the database's lock.
    pub fn backup(data_dir: &Path, to: &Path) -> Result<(), StoreError> {
        if to.exists() {
            return Err(StoreError::Exists(to.to_owned()));
        }
        let file = data_dir.join(DATABASE_FILE);
        // Opening it is refused while a node uses it; closing it leaves it whole (repaired if
        // a node was killed), so the copy opens without repair, even read-only.
        drop(Self::open(Some(data_dir))?);
        // Held while copying, so that no node starts on it meanwhile.
        let _lock = ReadOnlyDatabase::open(&file).map_err(|source| StoreError::Open {
            path: file.clone(),
            source,
        })?;
        copy(&file, to)
    }

    /// Puts the copy `from` in place of the database in `data_dir` (which must not exist, or
    /// `replace` must be set, and no node may be using it), after giving it a fresh nonce
    /// secret unless `latest`. The copy is checked, and given its secret, beside the database
    /// before it replaces it, so a copy that cannot be read replaces nothing; the database it
    /// replaces stays locked until then, so no node can start on it meanwhile.
    pub fn restore(
        data_dir: &Path,
        from: &Path,
        latest: bool,
        replace: bool,
    ) -> Result<Restored, StoreError> {
        let file = data_dir.join(DATABASE_FILE);
        let existing = if file.exists() {
            if !replace {
                return Err(StoreError::Exists(file));
            }
            // Opening it is refused while a node is using it.
            Some(Self::open(Some(data_dir))?)
        } else {
            private_dir(data_dir)?;
            None
        };
        let staging = data_dir.join(format!("{DATABASE_FILE}.restoring"));
        // What an earlier restore that stopped half-way left.
        remove_if_there(&staging)?;
        {
            // Held while copying: a copy no node is writing to, and one that is a database.
            let _source = match ReadOnlyDatabase::open(from) {
                Ok(source) => Some(source),
                // Not in use (it was locked first), only not closed whole, as a copy of a
                // database in use is: the staging copy is repaired when it is opened.
                Err(DatabaseError::RepairAborted) => None,
                Err(source) => {
                    return Err(StoreError::Source {
                        path: from.to_owned(),
                        source,
                    });
                }
            };
            copy(from, &staging)?;
        }
        let restored = Self::open_file(&staging).and_then(|store| {
            if !latest {
                store.rotate_nonce_secret()?;
                return Ok(Restored::WithAFreshNonceSecret);
            }
            if let Some(existing) = &existing {
                existing.signed_no_more_than(&store)?;
            }
            Ok(Restored::AsTheLatest)
        });
        let restored = match restored {
            Ok(restored) => restored,
            Err(error) => {
                let _ = std::fs::remove_file(&staging);
                return Err(error);
            }
        };
        std::fs::rename(&staging, &file).map_err(|source| StoreError::Copy {
            from: staging,
            to: file.clone(),
            source,
        })?;
        // The rename is durable once the directory is.
        std::fs::File::open(data_dir)
            .and_then(|dir| dir.sync_all())
            .map_err(|source| StoreError::Directory {
                path: data_dir.to_owned(),
                source,
            })?;
        drop(existing);
        Ok(restored)
    }

    /// Refuses to be replaced by `copy` as the latest while it holds records of nonces, under
    /// the secret they share, that `copy` lacks: those nonces would sign again.
    fn signed_no_more_than(&self, copy: &Redb) -> Result<(), StoreError> {
        if self.nonce_secret() != copy.nonce_secret() {
            return Ok(());
        }
        let ours = self.db.begin_read()?;
        let theirs = copy.db.begin_read()?;
        let theirs = theirs.open_table(NONCES)?;
        let mut missing = 0u64;
        for entry in ours.open_table(NONCES)?.iter()? {
            let (key, message) = entry?;
            if theirs.get(key.value())?.map(|m| *m.value()) != Some(*message.value()) {
                missing += 1;
            }
        }
        match missing {
            0 => Ok(()),
            missing => Err(StoreError::NotLatest { missing }),
        }
    }
}

fn remove_if_there(path: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(StoreError::Copy {
            from: path.to_owned(),
            to: path.to_owned(),
            source: error,
        }),
        _ => Ok(()),
    }
}

/// Copies `from` to `to`, a new file readable by its owner alone from its creation on, and
/// syncs it.
fn copy(from: &Path, to: &Path) -> Result<(), StoreError> {
    let error = |source| StoreError::Copy {
        from: from.to_owned(),
        to: to.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut source = std::fs::File::open(from).map_err(error)?;
    let mut target = options.open(to).map_err(error)?;
    std::io::copy(&mut source, &mut target).map_err(error)?;
    target.sync_all().map_err(error)
}

#[cfg(test)]
mod tests;
