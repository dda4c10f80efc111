//! Running the key generation with the other members (drand's specification, "Distributed key
//! generation": deal, response, justification, finish), over their HTTP APIs: each phase's
//! message is made, served, and the others' fetched until every member's is in. Then every
//! member's signed confirmation of the key it made is fetched and compared, and only when all
//! agree is the share kept. Nothing is kept before that: a run that stops leaves nothing, and
//! runs again exactly as before.
//!
//! A resharing runs the same way with the previous federation's members as the dealers (their
//! messages fetched from their URLs in the file's `[previous]`); a dealer that is no member of
//! the new federation waits for every new member's confirmation, then deletes its share.

mod leave;

use super::peers::{Answer, Peers};
use super::share::{self, Kept, KeptLane, ShareError};
use super::transcript::{self, Transcript};
use super::{Member, MemberError, Published, Ready, Secp256k1Ready, Which};
use carol_federation::curve::Curve;
use carol_federation::dkg::{
    Confirmation, DealBundle, Dkg, DkgError, Group, JustificationBundle, Output, ResponseBundle,
};
use carol_federation::poly::PublicPoly;
use carol_federation::threshold::Share;
use carol_federation::wire::{ConfirmationJson, DealJson, JustificationJson, ResponseJson};
use leave::{confirmed_reshared, leave};
use serde::de::DeserializeOwned;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How long between rounds of asking the members that have not answered yet.
const POLL: Duration = Duration::from_millis(200);
/// How often the log says who is still awaited.
const PROGRESS: Duration = Duration::from_secs(5);

/// Why the key generation failed. Nothing was kept; starting the node again runs it again.
#[derive(Debug, thiserror::Error)]
pub enum KeygenError {
    /// The protocol could not go on.
    #[error("the federation key generation failed: {0}")]
    Protocol(#[from] DkgError),
    /// Members did not answer in time.
    #[error(
        "the federation key generation did not finish within {limit:?}: still waiting for the \
         {phase}{of} of member(s) {waiting:?} (are they running with this federation file?); \
         nothing was kept, start the node again to retry"
    )]
    TimedOut {
        /// The phase.
        phase: &'static str,
        /// Which key's, when it is a machine's carried over by a resharing: ` for machine …`.
        of: String,
        /// Who was awaited.
        waiting: Vec<u32>,
        /// The time allowed (`[federation] keygen_timeout_ms`).
        limit: Duration,
    },
    /// Members ended with different keys.
    #[error(
        "members {members:?} made a different federation key or qualified other dealers than \
         this member: a member sent different messages to different members; nothing was kept"
    )]
    Disagreement {
        /// Who disagrees.
        members: Vec<u32>,
    },
    /// The share could not be kept.
    #[error(transparent)]
    Share(#[from] ShareError),
    /// There is nowhere to keep it.
    #[error(transparent)]
    Member(#[from] MemberError),
    /// What was received could not be kept before answering.
    #[error("cannot keep the key generation's transcript in {path}: {source}")]
    Transcript {
        /// The data directory.
        path: std::path::PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// How a key generation ended for this node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It keeps its share and serves as a member.
    Ready,
    /// It dealt its share of the previous federation's key in a resharing, saw every new
    /// member confirm the same key, and deleted its share: it is no member any more.
    Left,
}

/// Runs the key generation (or resharing) for `member` with the other members, within
/// `limit`; keeps the share and makes the member ready, or, for a node that leaves in a
/// resharing, deletes its share. A resharing reshares every machine key the file carries over
/// too, one after another (the `carried` module), and keeps their shares with the federation
/// key's.
pub async fn run(member: Arc<Member>, limit: Duration) -> Result<Outcome, KeygenError> {
    let file = &member.file;
    let dealers = match &file.previous {
        Some(previous) => {
            // A previous member that stays is where the new file says, which may have moved.
            let urls: Vec<String> = previous
                .members
                .iter()
                .map(|m| {
                    let staying = file.members.iter().find(|n| n.node_key == m.node_key);
                    staying.unwrap_or(m).url.clone()
                })
                .collect();
            Peers::for_urls(&urls, Duration::from_secs(5))
        }
        None => Peers::new(file, Duration::from_secs(5)),
    };
    let lanes = member.lanes();
    let secp256k1 = member.file.secp256k1_group();
    let mut sessions: Vec<[u8; 32]> = lanes.iter().map(|lane| lane.group.session).collect();
    sessions.push(secp256k1.session);
    let run = Run {
        member: &member,
        holders: Peers::new(file, Duration::from_secs(5)),
        dealers,
        deadline: Instant::now() + limit,
        limit,
        dir: member
            .data_dir
            .as_deref()
            .ok_or(MemberError::NoDataDirectory)?,
        sessions,
    };
    tracing::info!(
        federation = %file.name,
        member = ?member.index,
        members = member.group.size(),
        threshold = member.group.threshold,
        resharing = member.group.previous.is_some(),
        machine_keys = lanes.len() - 1,
        "federation key generation: starting"
    );
    let mut made = Vec::with_capacity(lanes.len());
    for lane in &lanes {
        let reshared = match lane.machine {
            None => member.reshared.lock().expect("member lock").clone(),
            Some(machine) => member
                .reshared_machines
                .lock()
                .expect("member lock")
                .get(&machine)
                .cloned(),
        };
        let which = lane.machine.map_or(Which::Key, Which::Machine);
        made.push(run.lane(which, &lane.group, reshared.as_ref()).await?);
    }
    // The secp256k1 key, made beside the BLS key; a node that leaves a federation whose
    // previous members made none deals nothing for it.
    let secp256k1 = match member.index.is_some() || secp256k1.previous.is_some() {
        true => {
            let reshared = member
                .reshared_secp256k1
                .lock()
                .expect("member lock")
                .clone();
            Some(
                run.lane(Which::Secp256k1, &secp256k1, reshared.as_ref())
                    .await?,
            )
        }
        false => None,
    };
    let mut made = made.into_iter();
    let output = match made.next().expect("the federation key is made first") {
        Made::Share(output) => output,
        Made::Confirmed(public) => {
            return leave(&member, &public, &run.holders, run.dir, run.deadline)
                .await
                .map_err(|e| e.unwrap_or_else(|waiting| run.timed_out("kept", "", waiting)));
        }
    };
    let me = output.share.index();
    let made = made.map(|made| match made {
        Made::Share(output) => output,
        Made::Confirmed(_) => unreachable!("a member that holds one key holds them all"),
    });
    let kept = {
        let mut published = member.published.lock().expect("member lock");
        let machines = lanes[1..]
            .iter()
            .zip(made)
            .map(|(lane, output)| {
                let machine = lane.machine.expect("a machine's lane");
                (
                    machine,
                    kept(output, published.lane(Which::Machine(machine)).clone()),
                )
            })
            .collect();
        let secp256k1 = match secp256k1 {
            Some(Made::Share(output)) => Some(KeptLane {
                share: output.share,
                public: output.public,
                qualified: output.qualified,
                published: published.secp256k1.clone(),
            }),
            _ => unreachable!("a member makes the secp256k1 key"),
        };
        Kept {
            machines,
            secp256k1,
            ..kept(output, published.key.clone())
        }
    };
    // In a resharing this replaces the share of the previous key.
    share::save(run.dir, member.session(), &kept)?;
    transcript::remove(run.dir);
    member.resharing_done();
    tracing::info!(
        federation = %file.name,
        member = me,
        public_key = %kept.public.public_key(),
        machine_keys = kept.machines.len(),
        "federation key generation: done; the share is kept and this member is ready"
    );
    let mut machine_keys = member.machine_keys.lock().expect("member lock");
    for (machine, carried) in kept.machines {
        machine_keys.insert(machine, Arc::new(Ready::new(carried.share, carried.public)));
    }
    drop(machine_keys);
    let secp256k1 = kept
        .secp256k1
        .map(|lane| Secp256k1Ready::new(lane.share, lane.public));
    *member.secp256k1.write().expect("member lock") = secp256k1;
    *member.ready.write().expect("member lock") = Some(Ready::new(kept.share, kept.public));
    Ok(Outcome::Ready)
}

/// What a node ends a key's generation with.
enum Made<C: Curve = carol_federation::curve::Bls> {
    /// A member: its share.
    Share(Output<C>),
    /// A node that only deals: the commitments every member confirmed.
    Confirmed(PublicPoly<C>),
}

/// What a member keeps of a key it made, with the messages it sent making it.
fn kept(output: Output, published: Published) -> Kept {
    Kept {
        share: output.share,
        public: output.public,
        qualified: output.qualified,
        published,
        machines: Vec::new(),
        secp256k1: None,
    }
}

/// One member's run of a key generation, across the keys it makes.
struct Run<'a> {
    member: &'a Member,
    holders: Peers,
    dealers: Peers,
    deadline: Instant,
    limit: Duration,
    dir: &'a Path,
    /// Every key's session, the federation key's first.
    sessions: Vec<[u8; 32]>,
}

impl Run<'_> {
    fn timed_out(&self, phase: &'static str, of: &str, waiting: Vec<u32>) -> KeygenError {
        KeygenError::TimedOut {
            phase,
            of: of.to_owned(),
            waiting,
            limit: self.limit,
        }
    }

    /// Makes key `which` (in `group`) with the others: this member's share, or for a node that
    /// only deals, what every member confirmed it made. In a resharing, this node deals
    /// `reshared`, its share of the previous key, if it is a previous member.
    async fn lane<C: Curve>(
        &self,
        which: Which,
        group: &Group<C>,
        reshared: Option<&Share<C>>,
    ) -> Result<Made<C>, KeygenError> {
        let member = self.member;
        let of = which.of();
        let path = which.path();
        let holder = member.index;
        let (mut dkg, deal) = match holder.filter(|_| group.previous.is_none()) {
            Some(me) => {
                let (dkg, deal) = Dkg::new(group.clone(), me, member.identity.clone())?;
                (dkg, Some(deal))
            }
            None => Dkg::reshare(group.clone(), member.identity.clone(), reshared)?,
        };
        let dealer = dkg.dealer();
        tracing::info!(member = ?holder, dealer = ?dealer, key = ?which, "federation key generation: dealing");
        let publish = |change: &dyn Fn(&mut Published)| {
            change(member.published.lock().expect("member lock").lane(which));
        };
        publish(&|p| p.deal = deal.as_ref().map(DealJson::from));
        let keep = |transcript: &Transcript| {
            transcript::save(self.dir, transcript, &self.sessions).map_err(|source| {
                KeygenError::Transcript {
                    path: self.dir.to_owned(),
                    source,
                }
            })
        };
        // What an earlier run of this member received goes in first: it answers the same again.
        let mut kept = transcript::load(self.dir, &group.session);
        for json in &kept.deals {
            take_deal(&mut dkg, json.dealer, json)?;
        }
        for json in &kept.responses {
            take_response(&mut dkg, json.holder, json)?;
        }
        for (dealer, json) in &kept.justifications {
            take_justification(&mut dkg, *dealer, json.as_ref())?;
        }
        let other_dealers: Vec<u32> = group
            .dealer_indices()
            .filter(|&i| Some(i) != dealer)
            .collect();
        let other_holders: Vec<u32> = group.indices().filter(|&i| Some(i) != holder).collect();
        let without = |all: &[u32], have: &[u32]| -> Vec<u32> {
            all.iter().copied().filter(|i| !have.contains(i)).collect()
        };

        let dealt: Vec<u32> = kept.deals.iter().map(|d| d.dealer).collect();
        let awaited = without(&other_dealers, &dealt);
        gather(
            &self.dealers,
            &path,
            "deal",
            &awaited,
            self.deadline,
            |index, json: DealJson| {
                take_deal(&mut dkg, index, &json).map_err(|e| e.to_string())?;
                kept.deals.push(json);
                Ok(())
            },
        )
        .await
        .map_err(|waiting| self.timed_out("deal bundle", &of, waiting))?;
        keep(&kept)?;

        if holder.is_some() {
            let response = ResponseJson::from(&dkg.response()?);
            publish(&|p| p.response = Some(response.clone()));
        }
        tracing::info!(member = ?holder, key = ?which, "federation key generation: every deal is in; responding");
        let responded: Vec<u32> = kept.responses.iter().map(|r| r.holder).collect();
        let awaited = without(&other_holders, &responded);
        gather(
            &self.holders,
            &path,
            "response",
            &awaited,
            self.deadline,
            |index, json: ResponseJson| {
                take_response(&mut dkg, index, &json).map_err(|e| e.to_string())?;
                kept.responses.push(json);
                Ok(())
            },
        )
        .await
        .map_err(|waiting| self.timed_out("response bundle", &of, waiting))?;
        keep(&kept)?;

        let complained: BTreeSet<u32> = dkg.complained_against()?;
        let justification = dkg.justification()?;
        if dealer.is_some() {
            let json = justification.as_ref().map(JustificationJson::from);
            publish(&|p| p.justification = Some(json.clone()));
        }
        if !complained.is_empty() {
            tracing::warn!(
                member = ?holder,
                key = ?which,
                dealers = ?complained,
                "federation key generation: members complained of these dealers' shares; waiting \
                 for their justifications"
            );
        }
        // Every dealer takes part, so each one complained against is waited for until it
        // answers (its justification, or that it has none), as long as the key generation may
        // take.
        let justified: Vec<u32> = kept.justifications.iter().map(|(d, _)| *d).collect();
        let awaited: Vec<u32> = complained
            .iter()
            .copied()
            .filter(|d| Some(*d) != dealer && !justified.contains(d))
            .collect();
        gather(
            &self.dealers,
            &path,
            "justification",
            &awaited,
            self.deadline,
            |index, json: Option<JustificationJson>| {
                take_justification(&mut dkg, index, json.as_ref()).map_err(|e| e.to_string())?;
                kept.justifications.push((index, json));
                Ok(())
            },
        )
        .await
        .map_err(|waiting| self.timed_out("justification", &of, waiting))?;
        keep(&kept)?;

        let Some(me) = holder else {
            let public = confirmed_reshared(group, &self.holders, &path, self.deadline)
                .await
                .map_err(|e| {
                    e.unwrap_or_else(|waiting| self.timed_out("confirmation", &of, waiting))
                })?;
            return Ok(Made::Confirmed(public));
        };
        let output = dkg.finish()?;
        let confirmation = output.confirmation(&group.session, &member.identity);
        let json = ConfirmationJson::from(&confirmation);
        publish(&|p| p.confirmation = Some(json.clone()));
        tracing::info!(
            member = me,
            key = ?which,
            qualified = ?output.qualified,
            "federation key generation: key made; comparing it with every member's"
        );
        let mut disagree = Vec::new();
        gather(
            &self.holders,
            &path,
            "confirmation",
            &other_holders,
            self.deadline,
            |index, json: ConfirmationJson| {
                if !confirmed(group, index, &json)?.agrees_with(&confirmation) {
                    disagree.push(index);
                }
                Ok(())
            },
        )
        .await
        .map_err(|waiting| self.timed_out("confirmation", &of, waiting))?;
        if !disagree.is_empty() {
            return Err(KeygenError::Disagreement { members: disagree });
        }
        Ok(Made::Share(output))
    }
}

/// Member `index`'s confirmation, checked to be its own and signed by it.
fn confirmed<C: Curve>(
    group: &Group<C>,
    index: u32,
    json: &ConfirmationJson,
) -> Result<Confirmation<C>, String> {
    let theirs = Confirmation::try_from(json).map_err(|e| e.to_string())?;
    sent_by(index, theirs.member, "confirmation").map_err(|e| e.to_string())?;
    let key = group.member(index).expect("a member");
    if !theirs.signed_by(&group.session, key) {
        return Err("its confirmation is not signed by its node key".into());
    }
    Ok(theirs)
}

fn take_deal<C: Curve>(dkg: &mut Dkg<C>, from: u32, json: &DealJson) -> Result<(), DkgError> {
    let bundle = DealBundle::try_from(json).map_err(|_| malformed("deal bundle", from))?;
    sent_by(from, bundle.dealer, "deal bundle")?;
    dkg.receive_deal(&bundle)
}

fn take_response<C: Curve>(
    dkg: &mut Dkg<C>,
    from: u32,
    json: &ResponseJson,
) -> Result<(), DkgError> {
    let bundle = ResponseBundle::try_from(json).map_err(|_| malformed("response bundle", from))?;
    sent_by(from, bundle.holder, "response bundle")?;
    dkg.receive_response(&bundle)
}

/// A dealer that says it needs no justification has justified nothing.
fn take_justification<C: Curve>(
    dkg: &mut Dkg<C>,
    from: u32,
    json: Option<&JustificationJson>,
) -> Result<(), DkgError> {
    let Some(json) = json else { return Ok(()) };
    let bundle =
        JustificationBundle::try_from(json).map_err(|_| malformed("justification bundle", from))?;
    sent_by(from, bundle.dealer, "justification bundle")?;
    dkg.receive_justification(&bundle)
}

fn malformed(kind: &'static str, from: u32) -> DkgError {
    DkgError::Malformed {
        kind,
        from,
        why: "its JSON does not hold valid points, scalars and signatures",
    }
}

/// Refuses a member's message that names another sender.
fn sent_by(asked: u32, named: u32, kind: &'static str) -> Result<(), DkgError> {
    match asked == named {
        true => Ok(()),
        false => Err(DkgError::Malformed {
            kind,
            from: asked,
            why: "it names another member as its sender",
        }),
    }
}

/// Fetches `GET {prefix}/{phase}` (`/federation/keygen`, or a machine key's in a resharing) from
/// each member of `from` until `take` has taken
/// each one's, or `deadline` passes: then the members still missing are the error.
async fn gather<T: DeserializeOwned>(
    peers: &Peers,
    prefix: &str,
    phase: &'static str,
    from: &[u32],
    deadline: Instant,
    mut take: impl FnMut(u32, T) -> Result<(), String>,
) -> Result<(), Vec<u32>> {
    let mut missing: BTreeSet<u32> = from.iter().copied().collect();
    let mut last_progress = Instant::now();
    let path = format!("{prefix}/{phase}");
    let mut complaints = std::collections::BTreeMap::new();
    while !missing.is_empty() {
        for index in missing.clone() {
            let problem = match peers.get::<T>(index, &path).await {
                Answer::Got(message) => match take(index, message) {
                    Ok(()) => {
                        missing.remove(&index);
                        None
                    }
                    Err(why) => Some(why),
                },
                Answer::NotYet => None,
                Answer::Failed(why) => Some(why),
            };
            if let Some(why) = problem
                && complaints.insert(index, why.clone()).as_ref() != Some(&why)
            {
                tracing::warn!(member = index, phase, %why, "federation key generation: cannot take a member's message yet");
            }
        }
        if missing.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            return Err(missing.into_iter().collect());
        }
        if last_progress.elapsed() >= PROGRESS {
            last_progress = Instant::now();
            tracing::info!(phase, waiting = ?missing, "federation key generation: waiting for members");
        }
        tokio::time::sleep(POLL).await;
    }
    Ok(())
}
