//! Why a node refuses what it is asked.

use crate::admission::Busy;
use crate::runtime::{ActivationError, LoadError};
use crate::store::StoreError;
use carol_core::ids::BinaryId;

/// Why a binary cannot be added.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    /// The component cannot run on this node.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// It could not be stored.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The node is at its bounds on compiles.
    #[error(transparent)]
    Busy(#[from] crate::compiles::Busy),
    /// The operator removed it.
    #[error(
        "binary {id} was removed by this node's operator: {reason}; it cannot be uploaded again"
    )]
    Removed {
        /// Its id.
        id: BinaryId,
        /// Why.
        reason: String,
    },
    /// Storing it would pass the node's quota for binaries.
    #[error(
        "the node's quota for binaries is full: {used} of {quota} bytes held (`[limits] \
         binaries_quota_bytes`, compiled code included), and this one needs {needs}; nothing \
         was stored"
    )]
    Quota {
        /// The quota.
        quota: u64,
        /// Bytes held.
        used: u64,
        /// Bytes this one needs.
        needs: u64,
    },
}

/// Why a machine cannot be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// The binary is not on this node.
    #[error("no binary {0} on this node: upload it first with POST /binaries")]
    UnknownBinary(BinaryId),
    /// The operator removed the machine, or its binary.
    #[error("{what} was removed by this node's operator: {reason}; it cannot be created again")]
    Removed {
        /// What was removed: `machine …` or `binary …`.
        what: String,
        /// Why.
        reason: String,
    },
    /// The params are larger than the node accepts.
    #[error("params of {size} bytes exceed this node's limit of {limit} bytes")]
    ParamsTooLarge {
        /// Their size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// It could not be stored.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why an activation gave no result.
#[derive(Debug, thiserror::Error)]
pub enum ActivateError {
    /// It was refused a turn: the node is at its limits.
    #[error(transparent)]
    Busy(#[from] Busy),
    /// It ran and failed.
    #[error(transparent)]
    Failed(#[from] ActivationError),
}
