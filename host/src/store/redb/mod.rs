//! The embedded database (redb) in the node's data directory, or in memory: everything a
//! single node keeps, and on a node of a group sharing PostgreSQL its compiled-code cache alone.

mod agreements;
mod backup;
mod binaries;
mod compiled;
mod export;
mod keys;
mod removals;
mod state;
mod tables;

pub use backup::Restored;
pub use compiled::CompiledCode;

use self::tables::{
    AGREEMENTS, BINARIES, COMPILED, MACHINES, META, NONCE_COUNTS, NONCE_SECRET, NONCES, REMOVED,
    STATE, STATE_BYTES, USED_KEYS,
};
use crate::store::StoreError;
use crate::store::records::UsedKeys;
use carol_core::ids::MachineId;
use redb::backends::{FileBackend, InMemoryBackend};
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

/// The database's file name in the data directory.
pub const DATABASE_FILE: &str = "carol.redb";

/// The embedded database. Binaries and machines are never replaced: an id names its content.
pub struct Redb {
    pub(super) db: Database,
    /// The durable `used_keys` table, mirrored so that each bit is written once.
    pub(super) used_keys: RwLock<BTreeMap<MachineId, UsedKeys>>,
    /// The secret committed nonces derive from; `None` for a database made before there was
    /// one whose machines may have published nonces (see [`Redb::nonce_secret`]).
    nonce_secret: RwLock<Option<[u8; 32]>>,
    /// The directory of its file, whose free space each write checks; `None` in memory, when
    /// the database does not outlive the node.
    pub(super) dir: Option<PathBuf>,
}

/// Opens, creating it if needed, a file that holds a database: readable and writable by its
/// owner alone from its creation on, as it holds every machine's state and the records of which
/// message each committed nonce signed. One made before, with a wider mode, is narrowed.
pub(super) fn private_file(path: &Path) -> Result<std::fs::File, StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let permissions = |source| StoreError::Permissions {
        path: path.to_owned(),
        source,
    };
    let file = options.open(path).map_err(|source| StoreError::Create {
        path: path.to_owned(),
        source,
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(permissions)?;
    }
    Ok(file)
}

/// Creates the data directory, if needed, readable by its owner alone.
pub(super) fn private_dir(dir: &Path) -> Result<(), StoreError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|source| StoreError::Directory {
        path: dir.to_owned(),
        source,
    })
}

/// Memory redb may keep of the database's pages. Its default, 1 GiB, kept every binary read at
/// start resident, in a buffer of the next power of two (32 MiB for an 18 MB Python component),
/// for as long as the node ran; the node reads binaries only at start, and state, nonce and key
/// records are small, so a little holds what is read again.
const CACHE_BYTES: usize = 64 * 1024 * 1024;

impl Redb {
    /// Opens (creating it if needed) the store in `data_dir`, or one in memory.
    pub fn open(data_dir: Option<&Path>) -> Result<Self, StoreError> {
        match data_dir {
            Some(dir) => {
                private_dir(dir)?;
                Self::open_file(&dir.join(DATABASE_FILE))
            }
            None => {
                let db = Database::builder()
                    .create_with_backend(InMemoryBackend::new())
                    .map_err(|source| StoreError::Open {
                        path: "(memory)".into(),
                        source,
                    })?;
                Self::with_database(db, None)
            }
        }
    }

    /// Opens (creating it if needed) the database file at `path`, readable by its owner alone.
    pub(super) fn open_file(path: &Path) -> Result<Self, StoreError> {
        let open_error = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        let backend = FileBackend::new(private_file(path)?).map_err(open_error)?;
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create_with_backend(backend)
            .map_err(open_error)?;
        Self::with_database(db, path.parent().map(Path::to_owned))
    }

    fn with_database(db: Database, dir: Option<PathBuf>) -> Result<Self, StoreError> {
        // Create the tables, so that reading an empty store finds them.
        let txn = db.begin_write()?;
        txn.open_table(BINARIES)?;
        txn.open_table(MACHINES)?;
        txn.open_table(COMPILED)?;
        txn.open_table(STATE)?;
        txn.open_table(STATE_BYTES)?;
        txn.open_table(REMOVED)?;
        txn.open_table(NONCES)?;
        txn.open_table(NONCE_COUNTS)?;
        txn.open_table(USED_KEYS)?;
        txn.open_table(AGREEMENTS)?;
        let nonce_secret = {
            let mut meta = txn.open_table(META)?;
            let stored = meta
                .get(NONCE_SECRET)?
                .map(|secret| secret.value().to_vec());
            match stored {
                Some(secret) => Some(
                    <[u8; 32]>::try_from(secret.as_slice())
                        .map_err(|_| StoreError::Malformed("nonce secret"))?,
                ),
                // A database that has none yet gets one, unless a machine of it may have
                // published nonces derived without one (it used its secp256k1 key, before
                // there were secrets): those must stay attestable.
                None if txn.open_table(USED_KEYS)?.is_empty()? => {
                    let secret = fresh_secret();
                    meta.insert(NONCE_SECRET, secret.as_slice())?;
                    Some(secret)
                }
                None => None,
            }
        };
        txn.commit()?;
        let mut used_keys = BTreeMap::new();
        let txn = db.begin_read()?;
        for entry in txn.open_table(USED_KEYS)?.iter()? {
            let (id, bits) = entry?;
            used_keys.insert(MachineId::from_bytes(*id.value()), UsedKeys(bits.value()));
        }
        drop(txn);
        let store = Self {
            db,
            used_keys: RwLock::new(used_keys),
            nonce_secret: RwLock::new(nonce_secret),
            dir,
        };
        store.sweep_compiled_files()?;
        Ok(store)
    }

    /// The secret this database's committed nonces derive from. `None` for a database made
    /// before there were secrets, whose machines had used their keys: its nonces derive from
    /// the node's key alone, as then, until a restore without `latest` ([`Redb::restore`]) gives it one.
    pub fn nonce_secret(&self) -> Option<[u8; 32]> {
        *self.nonce_secret.read().expect("store lock")
    }

    /// Gives the database a fresh nonce secret, as a restored copy needs: every committed
    /// nonce derives anew, so none that an earlier copy (or the original) signed with can sign
    /// again, and announcements made before cannot be attested. The records of what the old
    /// nonces signed go with them: no nonce this database can derive has signed yet. Syncs to
    /// disk.
    pub(in crate::store) fn rotate_nonce_secret(&self) -> Result<(), StoreError> {
        let secret = fresh_secret();
        let txn = self.begin_write(0)?;
        txn.open_table(META)?
            .insert(NONCE_SECRET, secret.as_slice())?;
        txn.open_table(NONCES)?.retain(|_, _| false)?;
        txn.open_table(NONCE_COUNTS)?.retain(|_, _| false)?;
        txn.commit()?;
        *self.nonce_secret.write().expect("store lock") = Some(secret);
        Ok(())
    }

    /// A write transaction of about `bytes`, unless the disk has too little space left for it
    /// with [`SPACE_MARGIN`] to spare: refusing then keeps the database from running out of
    /// space in the middle of a commit (after which redb takes no more writes until it is
    /// opened again), so that a full disk costs the writes alone.
    pub(super) fn begin_write(&self, bytes: u64) -> Result<redb::WriteTransaction, StoreError> {
        if let Some(available) = self.dir.as_deref().and_then(free_bytes) {
            let needs = SPACE_MARGIN.saturating_add(bytes.saturating_mul(2));
            if available < needs {
                return Err(StoreError::DiskFull { available, needs });
            }
        }
        Ok(self.db.begin_write()?)
    }

    /// A write transaction that only frees space (a removal, deletions): taken however full the
    /// disk is, so that space can always be freed.
    pub(super) fn begin_freeing(&self) -> Result<redb::WriteTransaction, StoreError> {
        Ok(self.db.begin_write()?)
    }

    /// Whether it holds binaries, machines or records of committed nonces: a single node's
    /// database, not only a compiled-code cache.
    pub(in crate::store) fn holds_records(&self) -> Result<bool, StoreError> {
        let txn = self.db.begin_read()?;
        Ok(!txn.open_table(BINARIES)?.is_empty()?
            || !txn.open_table(MACHINES)?.is_empty()?
            || !txn.open_table(NONCES)?.is_empty()?)
    }

    /// Whether the database outlives the node: it is in a data directory, not in memory.
    pub fn is_durable(&self) -> bool {
        self.dir.is_some()
    }
}

/// Space a write leaves free on the database's disk at least, besides twice its own size (a
/// commit writes new pages before it frees the old ones).
const SPACE_MARGIN: u64 = 8 << 20;

/// Bytes free for an unprivileged user on the file system of `dir`.
#[cfg(unix)]
fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs writes the struct it is given and reads the NUL-terminated path.
    let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
    match unsafe { libc::statvfs(path.as_ptr(), &mut stats) } {
        0 => Some((stats.f_bavail as u64).saturating_mul(stats.f_frsize as u64)),
        _ => None,
    }
}

/// Elsewhere the space is not checked before writing; a write that finds none fails.
#[cfg(not(unix))]
fn free_bytes(_dir: &Path) -> Option<u64> {
    None
}

pub(in crate::store) fn fresh_secret() -> [u8; 32] {
    let mut secret = [0; 32];
    getrandom::fill(&mut secret).expect("the operating system's random source failed");
    secret
}
