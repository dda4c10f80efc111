//! The compiled-code cache: wasmtime's serialized code of each binary, by cache key.
//!
//! In a data directory each entry's code is a file of its own, `compiled/KEY.cwasm`, which the
//! engine maps instead of copying it into the node's memory (`Component::deserialize_file`):
//! a Python or JavaScript machine's code is tens of megabytes, and mapped it is shared with the
//! page cache and given back under memory pressure. The database holds the file's SHA-256 and
//! length, and the file is synced before the record commits, so a record always names a whole
//! file. In memory the database holds the code itself.

use super::Redb;
use super::tables::COMPILED;
use crate::store::StoreError;
use redb::ReadableDatabase;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::PathBuf;

/// The directory of the cache's files, in the data directory.
const DIRECTORY: &str = "compiled";

/// A record that names a file: the code's SHA-256, then its length (8 bytes, big-endian).
const FILE_RECORD: usize = 32 + 8;

/// Cached compiled code, intact.
pub enum CompiledCode {
    /// In a file of the data directory, for the engine to map.
    File(PathBuf),
    /// In memory, for the engine to copy.
    Bytes(Vec<u8>),
}

/// The length of the code a `COMPILED` record stands for.
pub(super) fn code_length(record: &[u8]) -> u64 {
    match record.split_first_chunk::<32>() {
        Some((_, length)) if length.len() == 8 => {
            u64::from_be_bytes(length.try_into().expect("8 bytes"))
        }
        Some((_, code)) => code.len() as u64,
        None => 0,
    }
}

impl Redb {
    /// The file of the entry under `key`, when the store is in a data directory (whether or
    /// not it is there).
    pub fn compiled_file(&self, key: &[u8; 32]) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?.join(DIRECTORY);
        Some(dir.join(format!("{}.cwasm", hex::encode(key))))
    }

    /// The compiled code stored under `key`, if it is there and intact: compiled code is run as
    /// is, so a damaged entry must never reach the engine.
    pub fn compiled(&self, key: &[u8; 32]) -> Result<Option<CompiledCode>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(COMPILED)?;
        let Some(record) = table.get(key)? else {
            return Ok(None);
        };
        let record = record.value();
        let Some((sum, rest)) = record.split_first_chunk::<32>() else {
            return Ok(None);
        };
        if let (FILE_RECORD, Some(path)) = (record.len(), self.compiled_file(key)) {
            // Only this node writes the data directory, which is its owner's alone: the file
            // read here is the one the engine maps next.
            let intact = file_digest(&path)
                .is_ok_and(|(digest, length)| digest == *sum && length == code_length(record));
            return Ok(intact.then_some(CompiledCode::File(path)));
        }
        Ok((Sha256::digest(rest).as_slice() == sum.as_slice())
            .then(|| CompiledCode::Bytes(rest.to_vec())))
    }

    /// Stores compiled code under `key`, replacing what was there.
    pub fn put_compiled(&self, key: &[u8; 32], code: &[u8]) -> Result<(), StoreError> {
        let txn = self.begin_write(code.len() as u64)?;
        let record = self.compiled_record(key, code)?;
        txn.open_table(COMPILED)?.insert(key, record.as_slice())?;
        txn.commit()?;
        Ok(())
    }

    /// The `COMPILED` record of `code` under `key`: in a data directory, the code is written to
    /// its file first, synced, and the record names it.
    pub(super) fn compiled_record(
        &self,
        key: &[u8; 32],
        code: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        let mut record = Sha256::digest(code).to_vec();
        match self.compiled_file(key) {
            Some(path) => {
                // An intact file of the same code stays: it may be mapped already.
                let digest: [u8; 32] = record.as_slice().try_into().expect("a SHA-256");
                let length = code.len() as u64;
                if file_digest(&path).ok() != Some((digest, length)) {
                    write_synced(&path, code).map_err(|source| StoreError::CompiledFile {
                        path: path.clone(),
                        source,
                    })?;
                }
                record.extend_from_slice(&length.to_be_bytes());
            }
            None => record.extend_from_slice(code),
        }
        Ok(record)
    }

    /// Removes the entries whose key is not among `keys`, the current engine's keys of the
    /// binaries served: code compiled by another wasmtime or configuration, which no node of
    /// this build can use, and which would count against the binaries quota for nothing.
    pub fn retain_compiled(&self, keys: &[[u8; 32]]) -> Result<(), StoreError> {
        let txn = self.begin_freeing()?;
        let mut removed = Vec::new();
        txn.open_table(COMPILED)?.retain(|key, _| {
            let keep = keys.contains(key);
            if !keep {
                removed.push(*key);
            }
            keep
        })?;
        txn.commit()?;
        for key in &removed {
            self.remove_compiled_file(key);
        }
        Ok(())
    }

    /// Removes the cache's files that no record names: a write or a removal cut off by a crash
    /// left them (`*.partial`, or a file whose record went).
    pub(super) fn sweep_compiled_files(&self) -> Result<(), StoreError> {
        let Some(dir) = self.dir.as_ref().map(|dir| dir.join(DIRECTORY)) else {
            return Ok(());
        };
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(());
        };
        let txn = self.db.begin_read()?;
        let table = txn.open_table(COMPILED)?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let key = name
                .to_str()
                .and_then(|name| name.strip_suffix(".cwasm"))
                .and_then(|hex| <[u8; 32]>::try_from(hex::decode(hex).ok()?).ok());
            let named = match key {
                Some(key) => table.get(&key)?.is_some(),
                None => false,
            };
            if !named {
                let path = entry.path();
                if let Err(error) = std::fs::remove_file(&path) {
                    tracing::warn!(file = %path.display(), %error, "cannot remove a stray compiled-code file");
                }
            }
        }
        Ok(())
    }

    /// Removes the file of the entry under `key`, after its record went (a crash in between
    /// leaves the file to [`Redb::sweep_compiled_files`]).
    pub(super) fn remove_compiled_file(&self, key: &[u8; 32]) {
        if let Some(path) = self.compiled_file(key)
            && let Err(error) = std::fs::remove_file(&path)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(file = %path.display(), %error, "cannot remove a compiled-code file");
        }
    }
}

/// The SHA-256 and length of the file at `path`, read in pieces.
fn file_digest(path: &std::path::Path) -> std::io::Result<([u8; 32], u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1 << 16];
    let mut length = 0u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            return Ok((hasher.finalize().into(), length));
        }
        hasher.update(&buffer[..read]);
        length += read as u64;
    }
}

/// Writes `bytes` to `path` whole or not at all: to a file beside it, synced, then renamed into
/// place, and the directory synced, so that the name survives a crash.
fn write_synced(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("a cache file is in its directory");
    if !dir.is_dir() {
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)?;
        // The directory's own name, in the data directory, must survive a crash too.
        let data_dir = dir.parent().expect("the cache is in the data directory");
        std::fs::File::open(data_dir)?.sync_all()?;
    }
    let staging = path.with_extension(format!("{}.partial", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&staging).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(error) = written.and_then(|()| std::fs::rename(&staging, path)) {
        let _ = std::fs::remove_file(&staging);
        return Err(error);
    }
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::{CompiledCode, Redb, code_length};
    use crate::store::redb::tables::COMPILED;
    use sha2::{Digest, Sha256};

    #[test]
    fn entries_in_the_database_and_in_files_are_read_only_when_intact() {
        let dir = std::env::temp_dir().join(format!("carol-compiled-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Redb::open(Some(&dir)).unwrap();
        let key = [7; 32];
        let code = b"compiled".repeat(100);
        // As a node before the files kept it: the code in the record.
        let mut record = Sha256::digest(&code).to_vec();
        record.extend_from_slice(&code);
        let txn = store.db.begin_write().unwrap();
        txn.open_table(COMPILED)
            .unwrap()
            .insert(&key, record.as_slice())
            .unwrap();
        txn.commit().unwrap();
        assert_eq!(code_length(&record), 800);
        assert!(matches!(store.compiled(&key).unwrap(), Some(CompiledCode::Bytes(b)) if b == code));

        store.put_compiled(&key, &code).unwrap();
        let Some(CompiledCode::File(path)) = store.compiled(&key).unwrap() else {
            panic!("a file in a data directory");
        };
        assert_eq!(std::fs::read(&path).unwrap(), code);
        assert_eq!(store.binaries_bytes().unwrap(), 800);
        // Shortened, or changed at the same length: not intact.
        std::fs::write(&path, &code[..799]).unwrap();
        assert!(store.compiled(&key).unwrap().is_none());
        let mut changed = code.clone();
        changed[400] ^= 0x80;
        std::fs::write(&path, &changed).unwrap();
        assert!(store.compiled(&key).unwrap().is_none());
        store.remove_compiled_file(&key);
        assert!(!path.exists());
        assert!(store.compiled(&key).unwrap().is_none());

        // What a crash leaves is swept when the store opens; what another engine compiled
        // goes when the node says which keys it uses.
        store.put_compiled(&key, &code).unwrap();
        let other = [8; 32];
        store.put_compiled(&other, &code).unwrap();
        let partial = path.with_extension("123.partial");
        let stray = path.with_file_name(format!("{}.cwasm", hex::encode([9; 32])));
        std::fs::write(&partial, b"cut off").unwrap();
        std::fs::write(&stray, b"its record went").unwrap();
        drop(store);
        let store = Redb::open(Some(&dir)).unwrap();
        assert!(!partial.exists() && !stray.exists());
        assert!(path.exists());
        store.retain_compiled(&[key]).unwrap();
        assert!(store.compiled(&other).unwrap().is_none());
        assert!(
            !path
                .with_file_name(format!("{}.cwasm", hex::encode(other)))
                .exists()
        );
        assert!(matches!(
            store.compiled(&key).unwrap(),
            Some(CompiledCode::File(_))
        ));
        assert_eq!(store.binaries_bytes().unwrap(), 800);
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();

        // In memory the code stays in the database.
        let store = Redb::open(None).unwrap();
        store.put_compiled(&key, &code).unwrap();
        assert!(matches!(store.compiled(&key).unwrap(), Some(CompiledCode::Bytes(b)) if b == code));
    }
}
