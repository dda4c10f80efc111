//! The end of a resharing for a node that only deals: it leaves the federation once every new
//! member holds the keys.

use super::{KeygenError, Outcome, confirmed, gather, sent_by};
use crate::federation::Member;
use crate::federation::peers::Peers;
use crate::federation::share;
use crate::federation::transcript;
use carol_federation::curve::Curve;
use carol_federation::dkg::{Confirmation, Group};
use carol_federation::poly::PublicPoly;
use tokio::time::Instant;

/// For a node that deals and leaves: waits until every new member has confirmed the same key,
/// the one `group` reshares (the federation's, or a carried machine's), fetching the
/// confirmations under `prefix`. `Err(Err(waiting))`: the members whose confirmations did not
/// come in time. Returns the commitments they confirmed.
pub(super) async fn confirmed_reshared<C: Curve>(
    group: &Group<C>,
    holders: &Peers,
    prefix: &str,
    deadline: Instant,
) -> Result<PublicPoly<C>, Result<KeygenError, Vec<u32>>> {
    let previous_key = group
        .previous
        .as_ref()
        .map(|p| p.public.commitments()[0])
        .expect("only a resharing has a node that leaves");
    tracing::info!("federation key generation: dealt; waiting for every new member to confirm");
    let all: Vec<u32> = group.indices().collect();
    let mut first: Option<Confirmation<C>> = None;
    let mut disagree = Vec::new();
    gather(
        holders,
        prefix,
        "confirmation",
        &all,
        deadline,
        |index, json| {
            let theirs = confirmed(group, index, &json)?;
            let reference = first.get_or_insert_with(|| theirs.clone());
            if !theirs.agrees_with(reference) || theirs.public.commitments()[0] != previous_key {
                disagree.push(index);
            }
            Ok(())
        },
    )
    .await
    .map_err(Err)?;
    match disagree.is_empty() {
        true => Ok(first.expect("a federation has members").public),
        false => Err(Ok(KeygenError::Disagreement { members: disagree })),
    }
}

/// The end of a resharing for a node that deals and leaves, once every new member has
/// confirmed every key ([`confirmed_reshared`]) and the federation key's commitments `public`:
/// it waits until each keeps its share, then deletes its own. `Err(Err(waiting))`: the members
/// whose word did not come in time.
pub(super) async fn leave(
    member: &Member,
    public: &PublicPoly,
    holders: &Peers,
    dir: &std::path::Path,
    deadline: Instant,
) -> Result<Outcome, Result<KeygenError, Vec<u32>>> {
    let group = &member.group;
    // Confirming is not keeping: a member that confirmed may still fail to keep its share, and
    // then this one's deal is needed again. It waits for every member's signed word that it
    // keeps its share (of every key: they are kept together).
    tracing::info!(
        "federation key generation: every new member confirmed; waiting until each keeps its share"
    );
    let all: Vec<u32> = group.indices().collect();
    gather(
        holders,
        "/federation/keygen",
        "kept",
        &all,
        deadline,
        |index, json: crate::federation::KeptJson| {
            let mut signature = [0u8; 96];
            hex::decode_to_slice(&json.signature, &mut signature).map_err(|e| e.to_string())?;
            sent_by(index, json.member, "kept").map_err(|e| e.to_string())?;
            let digest = carol_federation::dkg::kept_digest(&group.session, index, public);
            let key = group.member(index).expect("a member");
            match carol_federation::identity::verify(key, &digest, &signature) {
                true => Ok(()),
                false => {
                    Err("its word that it keeps its share is not signed by its node key".into())
                }
            }
        },
    )
    .await
    .map_err(Err)?;
    share::delete(dir).map_err(|e| Ok(e.into()))?;
    transcript::remove(dir);
    member.resharing_done();
    tracing::info!(
        federation = %member.file.name,
        public_key = %public.public_key(),
        "federation key generation: the new members hold the key; this node's share of it is \
         deleted and it leaves the federation"
    );
    Ok(Outcome::Left)
}
