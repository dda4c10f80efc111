//! The end of a resharing for a node that only deals: it leaves the federation once every new
//! member holds the key.

use super::{KeygenError, Outcome, confirmed, gather, sent_by};
use crate::federation::Member;
use crate::federation::peers::Peers;
use crate::federation::share;
use crate::federation::transcript;
use carol_federation::dkg::Confirmation;
use tokio::time::Instant;

/// The end of a resharing for a node that deals and leaves: once every new member has confirmed
/// the same key, the previous federation's, it deletes its share. `Err(Err(waiting))`: the
/// members whose confirmations did not come in time.
pub(super) async fn leave(
    member: &Member,
    holders: &Peers,
    dir: &std::path::Path,
    deadline: Instant,
) -> Result<Outcome, Result<KeygenError, Vec<u32>>> {
    let group = &member.group;
    let previous_key = group
        .previous
        .as_ref()
        .map(|p| p.public.public_key())
        .expect("only a resharing has a node that leaves");
    tracing::info!("federation key generation: dealt; waiting for every new member to confirm");
    let all: Vec<u32> = group.indices().collect();
    let mut first: Option<Confirmation> = None;
    let mut disagree = Vec::new();
    gather(holders, "confirmation", &all, deadline, |index, json| {
        let theirs = confirmed(group, index, &json)?;
        let reference = first.get_or_insert_with(|| theirs.clone());
        if !theirs.agrees_with(reference) || theirs.public.public_key() != previous_key {
            disagree.push(index);
        }
        Ok(())
    })
    .await
    .map_err(Err)?;
    if !disagree.is_empty() {
        return Err(Ok(KeygenError::Disagreement { members: disagree }));
    }
    // Confirming is not keeping: a member that confirmed may still fail to keep its share, and
    // then this one's deal is needed again. It waits for every member's signed word that it
    // keeps its share.
    let public = first.expect("a federation has members").public;
    tracing::info!(
        "federation key generation: every new member confirmed; waiting until each keeps its share"
    );
    gather(
        holders,
        "kept",
        &all,
        deadline,
        |index, json: crate::federation::KeptJson| {
            let mut signature = [0u8; 96];
            hex::decode_to_slice(&json.signature, &mut signature).map_err(|e| e.to_string())?;
            sent_by(index, json.member, "kept").map_err(|e| e.to_string())?;
            let digest = carol_federation::dkg::kept_digest(&group.session, index, &public);
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
    member.reshared.lock().expect("member lock").take();
    tracing::info!(
        federation = %member.file.name,
        public_key = %previous_key,
        "federation key generation: the new members hold the key; this node's share of it is \
         deleted and it leaves the federation"
    );
    Ok(Outcome::Left)
}
