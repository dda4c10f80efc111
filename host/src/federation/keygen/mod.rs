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
use super::share::{self, Kept, ShareError};
use super::transcript::{self, Transcript};
use super::{Member, MemberError, Ready};
use carol_federation::dkg::{
    Confirmation, DealBundle, Dkg, DkgError, Group, JustificationBundle, ResponseBundle,
};
use carol_federation::wire::{ConfirmationJson, DealJson, JustificationJson, ResponseJson};
use leave::leave;
use serde::de::DeserializeOwned;
use std::collections::BTreeSet;
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
         {phase} of member(s) {waiting:?} (are they running with this federation file?); \
         nothing was kept, start the node again to retry"
    )]
    TimedOut {
        /// The phase.
        phase: &'static str,
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
/// resharing, deletes its share.
pub async fn run(member: Arc<Member>, limit: Duration) -> Result<Outcome, KeygenError> {
    let deadline = Instant::now() + limit;
    let file = &member.file;
    let group = member.group.clone();
    let session = group.session;
    let holder = member.index;
    let holders = Peers::new(file, Duration::from_secs(5));
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
    let (mut dkg, deal) = match holder.filter(|_| group.previous.is_none()) {
        Some(me) => {
            let (dkg, deal) = Dkg::new(group.clone(), me, member.identity.clone())?;
            (dkg, Some(deal))
        }
        None => {
            let reshared = member.reshared.lock().expect("member lock");
            Dkg::reshare(group.clone(), member.identity.clone(), reshared.as_ref())?
        }
    };
    let dealer = dkg.dealer();
    tracing::info!(
        federation = %file.name,
        member = ?holder,
        dealer = ?dealer,
        members = group.size(),
        threshold = group.threshold,
        resharing = group.previous.is_some(),
        "federation key generation: dealing"
    );
    member.published.lock().expect("member lock").deal = deal.as_ref().map(DealJson::from);
    let timed_out = |phase, waiting| KeygenError::TimedOut {
        phase,
        waiting,
        limit,
    };
    let dir = member
        .data_dir
        .as_deref()
        .ok_or(MemberError::NoDataDirectory)?;
    let keep = |transcript: &Transcript| {
        transcript::save(dir, transcript).map_err(|source| KeygenError::Transcript {
            path: dir.to_owned(),
            source,
        })
    };
    // What an earlier run of this member received goes in first: it answers the same again.
    let mut kept = transcript::load(dir, &session);
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
    gather(
        &dealers,
        "deal",
        &without(&other_dealers, &dealt),
        deadline,
        |index, json: DealJson| {
            take_deal(&mut dkg, index, &json).map_err(|e| e.to_string())?;
            kept.deals.push(json);
            Ok(())
        },
    )
    .await
    .map_err(|waiting| timed_out("deal bundle", waiting))?;
    keep(&kept)?;

    if holder.is_some() {
        let response = dkg.response()?;
        member.published.lock().expect("member lock").response =
            Some(ResponseJson::from(&response));
    }
    tracing::info!(
        member = ?holder,
        "federation key generation: every deal is in; responding"
    );
    let responded: Vec<u32> = kept.responses.iter().map(|r| r.holder).collect();
    gather(
        &holders,
        "response",
        &without(&other_holders, &responded),
        deadline,
        |index, json: ResponseJson| {
            take_response(&mut dkg, index, &json).map_err(|e| e.to_string())?;
            kept.responses.push(json);
            Ok(())
        },
    )
    .await
    .map_err(|waiting| timed_out("response bundle", waiting))?;
    keep(&kept)?;

    let complained: BTreeSet<u32> = dkg.complained_against()?;
    let justification = dkg.justification()?;
    if dealer.is_some() {
        member.published.lock().expect("member lock").justification =
            Some(justification.as_ref().map(JustificationJson::from));
    }
    if !complained.is_empty() {
        tracing::warn!(
            member = ?holder,
            dealers = ?complained,
            "federation key generation: members complained of these dealers' shares; waiting for \
             their justifications"
        );
    }
    // Every dealer takes part, so each one complained against is waited for until it answers
    // (its justification, or that it has none), as long as the key generation may take.
    let justified: Vec<u32> = kept.justifications.iter().map(|(d, _)| *d).collect();
    let awaited: Vec<u32> = complained
        .iter()
        .copied()
        .filter(|d| Some(*d) != dealer && !justified.contains(d))
        .collect();
    gather(
        &dealers,
        "justification",
        &awaited,
        deadline,
        |index, json: Option<JustificationJson>| {
            take_justification(&mut dkg, index, json.as_ref()).map_err(|e| e.to_string())?;
            kept.justifications.push((index, json));
            Ok(())
        },
    )
    .await
    .map_err(|waiting| timed_out("justification", waiting))?;
    keep(&kept)?;

    let Some(me) = holder else {
        return leave(&member, &holders, dir, deadline)
            .await
            .map_err(|e| e.unwrap_or_else(|waiting| timed_out("confirmation", waiting)));
    };
    let output = dkg.finish()?;
    let confirmation = output.confirmation(&session, &member.identity);
    member.published.lock().expect("member lock").confirmation =
        Some(ConfirmationJson::from(&confirmation));
    tracing::info!(
        member = me,
        qualified = ?output.qualified,
        "federation key generation: key made; comparing it with every member's"
    );
    let mut disagree = Vec::new();
    gather(
        &holders,
        "confirmation",
        &other_holders,
        deadline,
        |index, json: ConfirmationJson| {
            if !confirmed(&group, index, &json)?.agrees_with(&confirmation) {
                disagree.push(index);
            }
            Ok(())
        },
    )
    .await
    .map_err(|waiting| timed_out("confirmation", waiting))?;
    if !disagree.is_empty() {
        return Err(KeygenError::Disagreement { members: disagree });
    }

    let published = member.published.lock().expect("member lock").clone();
    let kept = Kept {
        share: output.share,
        public: output.public,
        qualified: output.qualified,
        published,
    };
    // In a resharing this replaces the share of the previous key.
    share::save(dir, &session, &kept)?;
    transcript::remove(dir);
    member.reshared.lock().expect("member lock").take();
    tracing::info!(
        federation = %file.name,
        member = me,
        public_key = %kept.public.public_key(),
        "federation key generation: done; the share is kept and this member is ready"
    );
    *member.ready.write().expect("member lock") = Some(Ready::new(kept.share, kept.public));
    Ok(Outcome::Ready)
}

/// Member `index`'s confirmation, checked to be its own and signed by it.
fn confirmed(group: &Group, index: u32, json: &ConfirmationJson) -> Result<Confirmation, String> {
    let theirs = Confirmation::try_from(json).map_err(|e| e.to_string())?;
    sent_by(index, theirs.member, "confirmation").map_err(|e| e.to_string())?;
    let key = group.member(index).expect("a member");
    if !theirs.signed_by(&group.session, key) {
        return Err("its confirmation is not signed by its node key".into());
    }
    Ok(theirs)
}

fn take_deal(dkg: &mut Dkg, from: u32, json: &DealJson) -> Result<(), DkgError> {
    let bundle = DealBundle::try_from(json).map_err(|_| malformed("deal bundle", from))?;
    sent_by(from, bundle.dealer, "deal bundle")?;
    dkg.receive_deal(&bundle)
}

fn take_response(dkg: &mut Dkg, from: u32, json: &ResponseJson) -> Result<(), DkgError> {
    let bundle = ResponseBundle::try_from(json).map_err(|_| malformed("response bundle", from))?;
    sent_by(from, bundle.holder, "response bundle")?;
    dkg.receive_response(&bundle)
}

/// A dealer that says it needs no justification has justified nothing.
fn take_justification(
    dkg: &mut Dkg,
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

/// Fetches `GET /federation/keygen/{phase}` from each member of `from` until `take` has taken
/// each one's, or `deadline` passes: then the members still missing are the error.
async fn gather<T: DeserializeOwned>(
    peers: &Peers,
    phase: &'static str,
    from: &[u32],
    deadline: Instant,
    mut take: impl FnMut(u32, T) -> Result<(), String>,
) -> Result<(), Vec<u32>> {
    let mut missing: BTreeSet<u32> = from.iter().copied().collect();
    let mut last_progress = Instant::now();
    let path = format!("/federation/keygen/{phase}");
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
