//! Why a Carol oracle gave no announcement or attestation: each failure its own case, so that a
//! wallet tells a machine it must not trust from a node that is merely down.

use carol_core::ids::{BinaryId, MachineId};

/// What went wrong talking to a Carol oracle.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A node URL that cannot be used.
    #[error("`{url}` is not a node URL (http:// or https://, host, optional port): {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No federation member URL was given.
    #[error("a federation oracle needs at least one member URL")]
    NoMembers,
    /// The node could not be reached, or broke off.
    #[error("cannot reach the node at {url}: {reason}")]
    Unreachable {
        /// The request's URL.
        url: String,
        /// What happened.
        reason: String,
    },
    /// The node did not answer in time.
    #[error("the node at {url} did not answer within {seconds} s")]
    Timeout {
        /// The request's URL.
        url: String,
        /// The time allowed.
        seconds: u64,
    },
    /// The node stayed busy (503 with `Retry-After`) through every retry.
    #[error("the node at {url} stayed busy through {retries} retries; ask again later")]
    Busy {
        /// The request's URL.
        url: String,
        /// Retries made.
        retries: u32,
    },
    /// The node answered a status this client does not expect.
    #[error("the node at {url} answered {status}: {body}")]
    Status {
        /// The request's URL.
        url: String,
        /// The status.
        status: u16,
        /// The start of its body.
        body: String,
    },
    /// The node's answer is not what the activation returns.
    #[error("the answer of the node at {url} cannot be read: {reason}")]
    BadAnswer {
        /// The request's URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The expected binary and params make another machine id than the one given.
    #[error(
        "machine {machine} is not the machine of binary {binary} with the params expected \
         (that one is {expected}): check the id, the binary and the params you were given"
    )]
    NotTheExpectedMachine {
        /// The machine id given.
        machine: MachineId,
        /// The binary expected.
        binary: BinaryId,
        /// SHA-256(binary id || params expected).
        expected: MachineId,
    },
    /// The node describes the machine with a binary and params that do not make its id, or not
    /// the expected ones.
    #[error(
        "the node at {url} describes machine {machine} wrongly: {reason}; do not use this node"
    )]
    MachineMisdescribed {
        /// The node.
        url: String,
        /// The machine.
        machine: MachineId,
        /// What does not match.
        reason: String,
    },
    /// The machine's oracle key is not the key the node holds for the machine.
    #[error(
        "the machine's `oracle-public-key` at {url} is {answered}, but the node holds {held} as \
         machine {machine}'s secp256k1 key: the machine signs with a key of its own choosing; do \
         not use it"
    )]
    NotTheMachinesKey {
        /// The node.
        url: String,
        /// The machine.
        machine: MachineId,
        /// The activation's answer, hex.
        answered: String,
        /// The node's listing, hex (`none` if it lists none).
        held: String,
    },
    /// The machine refused, with one of its errors (422).
    #[error("the machine at {url} refused `{activation}`: {error}")]
    Refused {
        /// The node.
        url: String,
        /// The activation.
        activation: String,
        /// The machine's error, as JSON text.
        error: String,
    },
    /// The machine could not be run, or a federation could not sign (503 without `Retry-After`:
    /// for a federation, too few members' runs agreed).
    #[error("the machine at {url} could not answer `{activation}` (503): {body}")]
    Unavailable {
        /// The node.
        url: String,
        /// The activation.
        activation: String,
        /// The node's explanation, as JSON text.
        body: String,
    },
    /// An announcement of another event than the one asked for.
    #[error("asked for event `{asked}`, the node at {url} answered an announcement of `{got}`")]
    OtherEvent {
        /// The node.
        url: String,
        /// The event asked for.
        asked: String,
        /// The event announced.
        got: String,
    },
    /// An announcement of other terms than the contract's.
    #[error(
        "the announcement of `{event}` from {url} is not of the terms asked for: {reason}; the \
         event was announced otherwise (an event id is announced once)"
    )]
    OtherTerms {
        /// The node.
        url: String,
        /// The event.
        event: String,
        /// What differs.
        reason: String,
    },
    /// The oracle key is not the one the party expects.
    #[error("the machine's oracle key is {got}, not the key {expected} expected")]
    NotTheExpectedKey {
        /// The key expected, hex.
        expected: String,
        /// The key the nodes hold, hex.
        got: String,
    },
    /// Federation members that do not describe one federation, or name one member twice.
    #[error(
        "the federation's members at {urls} are not one federation's distinct members: {reason}"
    )]
    NotOneFederation {
        /// The URLs asked.
        urls: String,
        /// What is wrong.
        reason: String,
    },
    /// An announcement under another key than the machine's.
    #[error("the announcement of `{event}` from {url} is not under the machine's key")]
    NotUnderTheMachinesKey {
        /// The node.
        url: String,
        /// The event.
        event: String,
    },
    /// An announcement whose signature does not verify.
    #[error(
        "the announcement of `{event}` from {url} is not validly signed ({reason}); a machine whose \
         params choose tagged hashing (`\"message_hash\": \"tagged\"`) signs what rust-dlc does \
         not verify: use one that hashes with SHA-256"
    )]
    BadAnnouncement {
        /// The node.
        url: String,
        /// The event.
        event: String,
        /// What rust-dlc found.
        reason: String,
    },
    /// An attestation that does not match its announcement.
    #[error("the attestation of `{event}` from {url} does not match its announcement: {reason}")]
    BadAttestation {
        /// The node.
        url: String,
        /// The event.
        event: String,
        /// What does not match.
        reason: String,
    },
    /// Federation members answered differently where they must answer alike.
    #[error("the federation's members answered {what} differently: {members}; do not use it")]
    MembersDisagree {
        /// What they answered.
        what: String,
        /// Which members answered what.
        members: String,
    },
    /// Fewer members than the quorum answered alike.
    #[error(
        "only {agreed} federation members answered {what} alike, fewer than the {quorum} needed: \
         {errors}"
    )]
    TooFewMembers {
        /// What was asked.
        what: String,
        /// Members that answered alike.
        agreed: usize,
        /// Members needed.
        quorum: usize,
        /// What the others answered.
        errors: String,
    },
}

impl From<Error> for dlc_manager::error::Error {
    fn from(error: Error) -> Self {
        Self::OracleError(error.to_string())
    }
}
