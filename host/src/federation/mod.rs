//! Being a member of a federation: the federation file ([`mod@file`]) and its proposal
//! ([`propose`]), the key generation run with the other members ([`keygen`]), the share kept
//! in the data directory ([`share`]), and what the member says of all that
//! (`GET /federation`).
//!
//! The key generation's messages are pulled, not pushed: each member serves the messages it
//! made under `GET /federation/keygen/{deal,response,justification,confirmation,kept}`, and fetches
//! the others' until it has them all. Its messages derive from its node key and the federation
//! file ([`carol_federation::dkg`]), so a member that restarts serves exactly what it served
//! before, and a member that is down only makes the others wait.

pub mod agreement;
mod carried;
mod copies;
mod describe;
pub mod development;
pub mod exchange;
pub mod file;
mod forward;
pub mod keygen;
pub mod machine_keys;
pub mod nonces;
mod partials;
mod peers;
pub mod propose;
mod published;
pub mod relay;
pub mod secp256k1;
pub mod share;
pub mod signing;
mod transcript;
pub mod votes;

use crate::metrics::Metrics;
use crate::store::Store;
use carol_core::bls::{PublicKey, SecretKey};
use carol_core::ids::MachineId;
use carol_federation::curve::Secp256k1;
use carol_federation::dkg::Group;
use carol_federation::identity::Identity;
use carol_federation::machine_key::{MachineDealJson, PledgeJson};
use carol_federation::poly::PublicPoly;
use carol_federation::threshold::{PartialBytes, Share};
pub use describe::KeptJson;
use file::FederationFile;
pub use forward::FORWARDED;
pub use published::{Lanes, Published, Which};
use share::{Of, ShareError};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// Why a node cannot be a member.
#[derive(Debug, thiserror::Error)]
pub enum MemberError {
    /// The federation file does not list this node's key.
    #[error(
        "this node's key {key} is not among the members of the federation file: run each member \
         with its own configuration, whose key `carol federation propose` read"
    )]
    NotListed {
        /// The node's key.
        key: PublicKey,
    },
    /// A member keeps its share in its data directory.
    #[error("a federation member needs a data directory (data_dir) to keep its share in")]
    NoDataDirectory,
    /// The share in the data directory is another member's.
    #[error(
        "the federation share in the data directory is member {kept}'s, but this node is member \
         {index}: restore this member's own share"
    )]
    OtherMembersShare {
        /// Whose share it is.
        kept: u32,
        /// This node's index.
        index: u32,
    },
    /// A member of the previous federation of a resharing has no share of it to deal.
    #[error(
        "this node is member {index} of the previous federation of this resharing, but its data \
         directory holds no share of that federation's key, which it must deal: restore its \
         share; if it already left (in this resharing or an earlier one, deleting its share), \
         run it without this federation file"
    )]
    NoPreviousShare {
        /// Its index in the previous federation.
        index: u32,
    },
    /// The share kept of the previous federation is not of the key the file reshares.
    #[error(
        "the federation share in the data directory is of the previous federation, but of other \
         commitments than the federation file's [previous]: the file does not reshare this \
         federation's key; propose it again with `carol federation propose --from`"
    )]
    OtherPreviousKey,
    /// The share could not be read.
    #[error(transparent)]
    Share(#[from] ShareError),
    /// This previous member took part in making a machine's key the resharing does not carry.
    #[error(
        "this node took part in making machine {machine}'s own key, which the federation file's \
         [previous] does not list: the resharing would leave that key behind, and the machine \
         would sign under another; propose the file again with `carol federation propose --from`, \
         which lists every machine key the previous members hold"
    )]
    MachineNotCarried {
        /// The machine.
        machine: MachineId,
    },
    /// This previous member holds no share of a machine key the resharing carries.
    #[error(
        "the federation file's [previous] lists machine {machine}'s own key, but this previous \
         member holds no share of it to deal: restore its database, or name it --absent in the \
         proposal"
    )]
    NoPreviousMachineShare {
        /// The machine.
        machine: MachineId,
    },
    /// The share of a carried machine's key is not of the listed commitments.
    #[error(
        "this previous member's share of machine {machine}'s own key is not of the commitments \
         the federation file's [previous] lists: the file does not reshare this federation's \
         machine keys; propose it again with `carol federation propose --from`"
    )]
    OtherMachineKey {
        /// The machine.
        machine: MachineId,
    },
    /// This previous member holds machines' secp256k1 keys or committed nonces, which a
    /// resharing does not carry over yet.
    #[error(
        "this node, a member of the previous federation, holds machines' own secp256k1 keys or \
         committed nonces, which this version cannot reshare: the resharing would change those \
         keys and lose every nonce announced, so it is refused; keep running the previous \
         federation"
    )]
    Secp256k1NotCarried,
    /// The records of machines' keys could not be read.
    #[error("cannot read this member's records of machines' keys: {0}")]
    Records(agreement::AgreementError),
}

/// How far a member's requests to the other members may go.
#[derive(Debug, Clone, Copy)]
pub struct Reach {
    /// How long a request it passes on may take: an activation's whole time, and then some.
    pub forward_timeout: Duration,
    /// The largest component it copies from another member.
    pub component_bytes: usize,
}

/// A member's share of the federation key, and the key's commitments.
pub struct Ready {
    /// The share.
    pub share: Share,
    /// The commitments; the first is the federation key.
    pub public: PublicPoly,
    /// The federation key, as every signature checks it.
    pub key: PublicKey,
}

impl Ready {
    /// A member's `share` of the key `public` commits to.
    pub fn new(share: Share, public: PublicPoly) -> Self {
        let key = public.public_key();
        Self { share, public, key }
    }
}

/// A member's share of a secp256k1 secret (the federation's key, a machine's, a nonce), and the
/// secret's commitments.
pub struct Secp256k1Ready {
    /// The share.
    pub share: Share<Secp256k1>,
    /// The commitments; the first is the key (or nonce) itself.
    pub public: PublicPoly<Secp256k1>,
}

impl Secp256k1Ready {
    /// A member's `share` of the key `public` commits to.
    pub fn new(share: Share<Secp256k1>, public: PublicPoly<Secp256k1>) -> Self {
        Self { share, public }
    }

    /// The key (or nonce), x-only (BIP340).
    pub fn key(&self) -> [u8; 32] {
        carol_core::bip340::x_only(&self.public.commitments()[0].to_affine())
    }
}

/// This node as a member of a federation.
pub struct Member {
    file: FederationFile,
    /// The file's group, with its session, computed once.
    group: Group,
    path: PathBuf,
    /// Where the share is kept: `None` in a development federation, whose shares need none.
    data_dir: Option<PathBuf>,
    /// Its index among the members; `None` for a node that leaves in a resharing.
    index: Option<u32>,
    identity: Identity,
    ready: RwLock<Option<Ready>>,
    /// Its share of the federation's secp256k1 key, once made; `None` too on a federation made
    /// before federations had one.
    secp256k1: RwLock<Option<Secp256k1Ready>>,
    published: Mutex<Lanes>,
    /// The BLS partial signatures it holds.
    partials: Arc<partials::Partials<PartialBytes, carol_core::bls::Signature>>,
    /// The BIP340 partial signatures it holds.
    bip340_partials: Arc<partials::Partials<nonces::HexBytes<32>, nonces::HexBytes<64>>>,
    /// Its shares of machines' nonces, by decree: a bounded number.
    nonces: Mutex<HashMap<Vec<u8>, Arc<Secp256k1Ready>>>,
    /// The members' votes on the messages committed nonces sign.
    votes: votes::Votes,
    /// Its shares of machines' own secp256k1 keys.
    secp256k1_keys: Mutex<HashMap<MachineId, Arc<Secp256k1Ready>>>,
    /// The key it shares with each other member, by index, which authenticates partials.
    pairwise: BTreeMap<u32, carol_federation::identity::PairwiseKey>,
    /// Reaches the other members for partial signatures: quickly, or not at all.
    peers: Arc<peers::Peers>,
    /// Reaches the other members with the requests it passes on, which may take as long as an
    /// activation.
    forwarder: Arc<peers::Peers>,
    /// Turns for passing activations on.
    forwards: Arc<tokio::sync::Semaphore>,
    /// Fetches the binaries and machines this member missed from the others.
    copier: peers::Peers,
    /// In a resharing, this node's share of the previous federation's key, which it deals
    /// (taken when the resharing starts).
    reshared: Mutex<Option<Share>>,
    /// In a resharing, this node's shares of the previous federation's machine keys it carries
    /// over, which it deals too.
    reshared_machines: Mutex<BTreeMap<MachineId, Share>>,
    /// In a resharing, this node's share of the previous federation's secp256k1 key, which it
    /// deals too.
    reshared_secp256k1: Mutex<Option<Share<Secp256k1>>>,
    /// Whether its keys are publicly known ([`development`]).
    development: bool,
    /// The node's database, which keeps its records of agreements with the others.
    store: Arc<Store>,
    /// What the node counts: here, the partial signatures sent, received and rejected.
    metrics: Arc<Metrics>,
    /// One change to an agreement record at a time.
    acceptor: Mutex<()>,
    /// The machines' own keys it holds a share of.
    machine_keys: Mutex<HashMap<MachineId, Arc<Ready>>>,
    /// One secret (a machine's key, a nonce) made at a time.
    making: tokio::sync::Mutex<()>,
    /// Its contributions to machines' keys and nonces, as served, by decree: a bounded number.
    deals_made: Mutex<HashMap<Vec<u8>, (MachineDealJson, PledgeJson)>>,
    /// The acceptances whose justifications this member checked, by digest of decree, ballot
    /// and value: justifications nest, and each level is checked once.
    proven: Mutex<std::collections::HashSet<[u8; 32]>>,
}

impl Member {
    /// The node with key `key` as a member of the federation of `file` (read from `path`),
    /// with the share in `data_dir` if the key generation is done; requests it passes on to the
    /// others go as far as `reach` says.
    pub fn open(
        file: FederationFile,
        path: PathBuf,
        key: &SecretKey,
        data_dir: Option<&Path>,
        reach: Reach,
        store: Arc<Store>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, MemberError> {
        let index = file.index_of(&key.public_key());
        let dealer = file.previous.as_ref().and_then(|previous| {
            let listed = previous
                .members
                .iter()
                .position(|m| m.node_key == key.public_key());
            let index = listed.map(|i| i as u32 + 1);
            index.filter(|i| !previous.absent.contains(i))
        });
        if index.is_none() && dealer.is_none() {
            return Err(MemberError::NotListed {
                key: key.public_key(),
            });
        }
        let data_dir = data_dir.ok_or(MemberError::NoDataDirectory)?.to_owned();
        let group = file.group();
        let previous_session = file.previous.as_ref().and_then(|p| p.session());
        let kept = share::load(&data_dir, &group.session, previous_session.as_ref())?;
        let mut ready = None;
        let mut reshared = None;
        let mut reshared_machines = BTreeMap::new();
        let mut reshared_secp256k1 = None;
        let mut secp256k1 = None;
        let mut published = Lanes::default();
        let mut machine_keys = HashMap::new();
        match kept {
            Some((Of::This, kept)) => {
                let Some(index) = index else {
                    return Err(MemberError::NotListed {
                        key: key.public_key(),
                    });
                };
                if kept.share.index() != index {
                    return Err(MemberError::OtherMembersShare {
                        kept: kept.share.index(),
                        index,
                    });
                }
                published.key = kept.published;
                if let Some(lane) = kept.secp256k1 {
                    published.secp256k1 = lane.published;
                    secp256k1 = Some(Secp256k1Ready::new(lane.share, lane.public));
                }
                for (machine, carried) in kept.machines {
                    published.machines.insert(machine, carried.published);
                    let key = Arc::new(Ready::new(carried.share, carried.public));
                    machine_keys.insert(machine, key);
                }
                ready = Some(Ready::new(kept.share, kept.public));
                // A resharing done: the previous federation's machine keys must not be made
                // again from their records (deleted when it finished, unless it stopped first).
                if let Some(previous) = previous_session {
                    carried::forget_records(&store, &previous).map_err(MemberError::Records)?;
                }
            }
            Some((Of::Previous, kept)) => {
                let expected = group.previous.as_ref().map(|p| &p.public);
                if Some(&kept.public) != expected {
                    return Err(MemberError::OtherPreviousKey);
                }
                let expected = file.previous.as_ref().and_then(|p| p.secp256k1_public());
                if kept.secp256k1.as_ref().map(|lane| &lane.public) != expected.as_ref() {
                    return Err(MemberError::OtherPreviousKey);
                }
                let Some(dealer) = dealer else {
                    return Err(MemberError::NotListed {
                        key: key.public_key(),
                    });
                };
                if kept.share.index() != dealer {
                    return Err(MemberError::OtherMembersShare {
                        kept: kept.share.index(),
                        index: dealer,
                    });
                }
                let identity = Identity::new(key);
                reshared_machines = carried::previous_machine_shares(
                    &file,
                    &identity,
                    &store,
                    kept.machines,
                    dealer,
                )?;
                reshared = Some(kept.share);
                reshared_secp256k1 = kept.secp256k1.map(|lane| lane.share);
            }
            None => {
                if let Some(index) = dealer {
                    return Err(MemberError::NoPreviousShare { index });
                }
            }
        }
        let mut member = Self::with(file, path, key, index, ready, (reach, store, metrics));
        member.data_dir = Some(data_dir);
        member.published = Mutex::new(published);
        member.reshared = Mutex::new(reshared);
        member.reshared_machines = Mutex::new(reshared_machines);
        member.reshared_secp256k1 = Mutex::new(reshared_secp256k1);
        member.secp256k1 = RwLock::new(secp256k1);
        member.machine_keys = Mutex::new(machine_keys);
        Ok(member)
    }

    /// The node with key `key` as member `index` of a development federation
    /// ([`development`]), with its share `ready`; nothing is kept anywhere.
    pub fn development(
        file: FederationFile,
        key: &SecretKey,
        (ready, secp256k1): (Ready, Secp256k1Ready),
        reach: Reach,
        store: Arc<Store>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, MemberError> {
        let index = ready.share.index();
        if file.members.get(index as usize - 1).map(|m| m.node_key) != Some(key.public_key()) {
            return Err(MemberError::NotListed {
                key: key.public_key(),
            });
        }
        let path = PathBuf::from("(development federation)");
        let mut member = Self::with(
            file,
            path,
            key,
            Some(index),
            Some(ready),
            (reach, store, metrics),
        );
        member.development = true;
        member.secp256k1 = RwLock::new(Some(secp256k1));
        Ok(member)
    }

    /// The addresses the members' URLs name, as far as they resolve now: the other members
    /// pass requests on from them, which rate limits leave alone.
    pub fn member_addresses(&self) -> Vec<std::net::IpAddr> {
        use std::net::ToSocketAddrs;
        let mut addresses = Vec::new();
        for member in &self.file.members {
            let Ok(uri) = member.url.parse::<axum::http::Uri>() else {
                continue;
            };
            let Some(host) = uri.host() else { continue };
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let port = uri.port_u16().unwrap_or(80);
            match (host, port).to_socket_addrs() {
                Ok(resolved) => addresses.extend(resolved.map(|a| a.ip())),
                Err(error) => {
                    tracing::warn!(url = %member.url, %error, "cannot resolve a member's address; its requests count against the rate limits")
                }
            }
        }
        addresses
    }

    /// Whether this is a member of a development federation, whose keys are publicly known.
    pub fn is_development(&self) -> bool {
        self.development
    }

    fn with(
        file: FederationFile,
        path: PathBuf,
        key: &SecretKey,
        index: Option<u32>,
        ready: Option<Ready>,
        (reach, store, metrics): (Reach, Arc<Store>, Arc<Metrics>),
    ) -> Self {
        let identity = Identity::new(key);
        let group = file.group();
        let pairwise = group
            .indices()
            .filter(|&i| Some(i) != index)
            .filter_map(|i| Some((i, identity.pairwise(&group.session, group.member(i)?))))
            .collect();
        Self {
            partials: Arc::new(partials::Partials::new(file.members.len())),
            bip340_partials: Arc::new(partials::Partials::new(file.members.len())),
            nonces: Mutex::new(HashMap::new()),
            secp256k1_keys: Mutex::new(HashMap::new()),
            votes: votes::Votes::default(),
            pairwise,
            peers: Arc::new(peers::Peers::new(&file, Duration::from_secs(2))),
            forwarder: Arc::new(peers::Peers::new(&file, reach.forward_timeout)),
            copier: peers::Peers::answering(&file, reach.forward_timeout, reach.component_bytes),
            forwards: Arc::new(tokio::sync::Semaphore::new(forward::FORWARDS_IN_FLIGHT)),
            group,
            file,
            path,
            data_dir: None,
            index,
            identity,
            ready: RwLock::new(ready),
            secp256k1: RwLock::new(None),
            published: Mutex::new(Lanes::default()),
            reshared: Mutex::new(None),
            reshared_machines: Mutex::new(BTreeMap::new()),
            reshared_secp256k1: Mutex::new(None),
            development: false,
            store,
            metrics,
            acceptor: Mutex::new(()),
            machine_keys: Mutex::new(HashMap::new()),
            making: tokio::sync::Mutex::new(()),
            deals_made: Mutex::new(HashMap::new()),
            proven: Mutex::new(std::collections::HashSet::new()),
        }
    }

    /// The federation file.
    pub fn file(&self) -> &FederationFile {
        &self.file
    }

    /// Where the federation file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The digest that names this federation (of its file).
    pub fn session(&self) -> &[u8; 32] {
        &self.group.session
    }

    /// Member `index`'s node key as a point, if there is such a member.
    pub fn member_key(&self, index: u32) -> Option<&bls12_381::G1Affine> {
        self.group.member(index)
    }

    /// The key this member shares with member `index` ([`Identity::pairwise`]), if it is another
    /// member.
    pub fn pairwise(&self, index: u32) -> Option<&carol_federation::identity::PairwiseKey> {
        self.pairwise.get(&index)
    }

    /// The signature of kind `S` made of the message whose digest is `digest`, if this member
    /// made it lately.
    pub fn made_signature<S: exchange::Scheme>(&self, digest: &[u8; 32]) -> Option<S::Signature> {
        S::store(self).made(digest)
    }

    /// This member's index; `None` for a node that leaves the federation in a resharing.
    pub fn index(&self) -> Option<u32> {
        self.index
    }

    /// Whether the key generation is done and the share kept.
    pub fn is_ready(&self) -> bool {
        self.ready.read().expect("member lock").is_some()
    }

    /// Keeps member `index`'s partial signature of kind `S` of the message whose digest is
    /// `digest`.
    pub fn offer_partial<S: exchange::Scheme>(
        &self,
        digest: [u8; 32],
        index: u32,
        signature: S::Partial,
    ) {
        S::store(self).offer(digest, index, signature);
    }

    /// The federation key, once it is made.
    pub fn public_key(&self) -> Option<PublicKey> {
        self.ready
            .read()
            .expect("member lock")
            .as_ref()
            .map(|ready| ready.key)
    }
}
