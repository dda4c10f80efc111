//! Why the store failed.

use std::path::PathBuf;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or created.
    #[error(
        "cannot open the node's database {path}: {source} (is another node using this data directory?)"
    )]
    Open {
        /// The database file.
        path: PathBuf,
        /// What went wrong.
        source: redb::DatabaseError,
    },
    /// The database file could not be created or opened.
    #[error("cannot create or open the node's database {path}: {source}")]
    Create {
        /// The database file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The data directory could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The database file could not be made readable by its owner alone.
    #[error("cannot make the node's database {path} private (mode 0600): {source}")]
    Permissions {
        /// The database file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A copy of the database could not be made.
    #[error("cannot copy the database {from} to {to}: {source}")]
    Copy {
        /// What was copied.
        from: PathBuf,
        /// Where to.
        to: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The copy to restore is not a database, or a node is using it.
    #[error(
        "cannot read {path} as a copy of a node's database: {source} (is it a copy made by \
         `carol backup`, and is no node using it?)"
    )]
    Source {
        /// The copy.
        path: PathBuf,
        /// What went wrong.
        source: redb::DatabaseError,
    },
    /// A copy said to be the latest lacks records of nonces the database it would replace
    /// signed with.
    #[error(
        "the copy is not the latest: the database it would replace recorded {missing} \
         committed nonce(s) signing since it was taken, under the same nonce secret; restore it \
         without --latest (its announcements become unattestable), or keep the database"
    )]
    NotLatest {
        /// How many records the copy lacks.
        missing: u64,
    },
    /// A file would be replaced that the operator did not say to replace.
    #[error("{0} exists: choose another path, or say to replace it")]
    Exists(PathBuf),
    /// Reading or writing failed.
    #[error("the node's database failed: {0}")]
    Database(#[from] redb::Error),
    /// The disk has too little space left for a write.
    #[error(
        "no space left on the node's disk for this write: {available} bytes free, {needs} \
         needed (the write, twice, and a margin that keeps the database whole); the operator \
         must free space"
    )]
    DiskFull {
        /// Bytes free.
        available: u64,
        /// Bytes needed.
        needs: u64,
    },
    /// A file of the compiled-code cache could not be written.
    #[error("cannot write the compiled-code cache file {path}: {source}")]
    CompiledFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The operator removed what the write would store.
    #[error("{0} was removed by this node's operator: nothing was stored")]
    Removed(String),
    /// A stored record is not what this node writes.
    #[error("the node's database holds a malformed {0} record")]
    Malformed(&'static str),
    /// `[store] postgres` is not a connection string.
    #[error(
        "`[store] postgres` is not a PostgreSQL connection string: write it as \
         `postgresql://USER@HOST:PORT/DATABASE` or `host=HOST port=PORT user=USER dbname=DATABASE`"
    )]
    PostgresUrl,
    /// The shared database cannot be reached: the connection could not be opened, or broke.
    #[error(
        "the node's shared database (PostgreSQL at {database}) cannot be reached: {source}; \
         nothing was stored, and the node connects again by itself: try again shortly"
    )]
    Unavailable {
        /// Where it is, without credentials.
        database: String,
        /// What went wrong.
        source: postgres::Error,
    },
    /// The shared database is another group's: its nodes sign with another key.
    #[error(
        "the shared database (PostgreSQL at {database}) belongs to a group of nodes whose key is \
         {group}, and this node's public key is {node}: give every node of a group the same \
         `secret_key`, or this node a database of its own"
    )]
    OtherGroup {
        /// Where it is, without credentials.
        database: String,
        /// The group's public key, in hex.
        group: String,
        /// This node's public key, in hex.
        node: String,
    },
    /// A node of a group was given a single node's data directory.
    #[error(
        "{0} holds a single node's database (binaries, machines or committed-nonce records), \
         which a node sharing PostgreSQL would ignore: move it into the shared database with \
         `carol store migrate --from-redb`, or give this node another data directory"
    )]
    SingleNodeData(PathBuf),
    /// A migration found no database to move.
    #[error(
        "{0} holds no node database (carol.redb) to migrate: give the data directory of the node to move"
    )]
    NothingToMigrate(PathBuf),
    /// A migration's source has no nonce secret of its own.
    #[error(
        "the database to migrate was made before committed nonces had a secret of their own: give \
         it one first (`carol backup`, then `carol restore --replace`; docs/operations.md), then \
         migrate"
    )]
    NoNonceSecret,
    /// A migration's target holds records already.
    #[error(
        "the shared database (PostgreSQL at {database}) already holds records ({holding}): a node's \
         database moves only into an empty one; nothing was written"
    )]
    NotEmpty {
        /// Where it is, without credentials.
        database: String,
        /// The tables that hold records.
        holding: String,
    },
    /// A migration found nodes using the database.
    #[error(
        "{nodes} other connection(s) of Carol nodes use the shared database (PostgreSQL at \
         {database}): stop every node of the group before migrating into it; nothing was written"
    )]
    GroupRunning {
        /// Where it is, without credentials.
        database: String,
        /// Connections of nodes, this migration's own left out.
        nodes: u64,
    },
    /// A statement of the shared database failed.
    #[error("the node's shared database (PostgreSQL) failed: {0}")]
    Postgres(postgres::Error),
    /// The shared database's schema could not be brought up to date.
    #[error(
        "cannot bring the shared database's schema (PostgreSQL at {database}) up to date: {why}"
    )]
    Migrate {
        /// Where it is, without credentials.
        database: String,
        /// Why.
        why: String,
    },
}

impl StoreError {
    /// Whether it failed for want of space: the disk is full, or the user's disk quota is.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::DiskFull { .. } => true,
            StoreError::Database(redb::Error::Io(error))
            | StoreError::CompiledFile { source: error, .. } => matches!(
                error.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            ),
            _ => false,
        }
    }
}

/// redb's errors of each step, as its one error type.
macro_rules! from_redb {
    ($($error:ident),*) => {$(
        impl From<redb::$error> for StoreError {
            fn from(e: redb::$error) -> Self {
                Self::Database(e.into())
            }
        }
    )*};
}

from_redb!(TransactionError, TableError, StorageError, CommitError);
