//! Copies of the database: taking one, and putting one back so that it cannot sign twice.
//!
//! A restored copy holds the records of the nonces that had signed when it was taken, not of
//! those that signed since; with the same nonce secret it would derive those nonces again and
//! could sign a second message with one, which gives the machine's key away. So a restore
//! gives the database a fresh nonce secret, unless the operator states that the copy is the
//! latest: no nonce signed after it was taken. (Ethereum validator clients treat their
//! slashing-protection database the same way.)

use super::database::{DATABASE_FILE, Store};
use super::error::StoreError;
use std::path::Path;

/// What a restore did to the nonce secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restored {
    /// The copy was stated to be the latest: its nonce secret, and its announcements, stand.
    AsTheLatest,
    /// The copy got a fresh nonce secret: announcements made before cannot be attested.
    WithAFreshNonceSecret,
}

impl Store {
    /// Copies the database in `data_dir` to `to`, readable by its owner alone. The node must be
    /// stopped: the copy is taken holding the database's lock.
    pub fn backup(data_dir: &Path, to: &Path) -> Result<(), StoreError> {
        if to.exists() {
            return Err(StoreError::Exists(to.to_owned()));
        }
        let store = Self::open(Some(data_dir))?;
        copy(&data_dir.join(DATABASE_FILE), to)?;
        drop(store);
        Ok(())
    }

    /// Puts the copy `from` in place of the database in `data_dir` (which must not exist, or
    /// `replace` must be set, and no node may be using it), after giving it a fresh nonce
    /// secret unless `latest`. The copy is checked, and given its secret, beside the database
    /// before it replaces it, so a copy that cannot be read replaces nothing.
    pub fn restore(
        data_dir: &Path,
        from: &Path,
        latest: bool,
        replace: bool,
    ) -> Result<Restored, StoreError> {
        let file = data_dir.join(DATABASE_FILE);
        if file.exists() {
            if !replace {
                return Err(StoreError::Exists(file));
            }
            // Opening it is refused while a node is using it.
            drop(Self::open(Some(data_dir))?);
        }
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Directory {
            path: data_dir.to_owned(),
            source,
        })?;
        let staging = data_dir.join(format!("{DATABASE_FILE}.restoring"));
        copy(from, &staging)?;
        let restored = Self::open_file(&staging).and_then(|store| {
            if latest {
                return Ok(Restored::AsTheLatest);
            }
            store.rotate_nonce_secret()?;
            Ok(Restored::WithAFreshNonceSecret)
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
            to: file,
            source,
        })?;
        Ok(restored)
    }
}

/// Copies `from` to `to` and makes `to` private.
fn copy(from: &Path, to: &Path) -> Result<(), StoreError> {
    let error = |source| StoreError::Copy {
        from: from.to_owned(),
        to: to.to_owned(),
        source,
    };
    std::fs::copy(from, to).map_err(error)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600)).map_err(error)?;
    }
    std::fs::File::open(to)
        .and_then(|file| file.sync_all())
        .map_err(error)
}
